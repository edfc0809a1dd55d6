"""Benchmark: the vectorised GCJ-02 → WGS84 inverse beside a plain pyproj transform of the same points.

    .venv/bin/python bench/china_coords.py [--points N] [--repeat R] [--region anshan|china]

GCJ-02 has no closed-form inverse: ours iterates the forward transform (to 1e-9°). The yardstick is
what a "fast per-point transform" costs: pyproj's Transformer doing EPSG:4326 → EPSG:4550 (CGCS2000
Gauss-Krüger, CM 123°E, the Anshan survey zone) on the same points, in the same run. Both are
single-threaded; times are CPU seconds of this process (time.process_time), runs are interleaved and
the best of R is kept for each, so that load from other processes distorts neither.
Also printed: the forward transforms, BD-09 → WGS84, the per-call cost of the scalar API, and the
round-trip error on the sample.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from pyproj import Geod, Transformer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geodata import china_coords as cc  # noqa: E402

REGIONS = {
    # EPSG:4550's zone, kept north of the Yalu so every point is in China: the demo city's surroundings.
    "anshan": (121.5, 124.5, 40.5, 42.5),
    # The whole country (rejection-sampled against the outline): includes points near the outline,
    # which take the exact point-in-polygon test.
    "china": (73.0, 135.5, 18.0, 53.6),
}


def sample(region: str, n: int, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    """n WGS84 points, uniform over the region and inside China."""
    west, east, south, north = REGIONS[region]
    rng = np.random.default_rng(seed)
    lons, lats, have = [], [], 0
    while have < n:
        lon = rng.uniform(west, east, 2 * n)
        lat = rng.uniform(south, north, 2 * n)
        keep = cc.in_china_array(lon, lat)
        lons.append(lon[keep])
        lats.append(lat[keep])
        have += int(keep.sum())
    return np.concatenate(lons)[:n], np.concatenate(lats)[:n]


def best_of(repeat: int, jobs: dict) -> dict[str, float]:
    """Best CPU time of each job over `repeat` interleaved rounds."""
    best = dict.fromkeys(jobs, float("inf"))
    for _ in range(repeat):
        for name, job in jobs.items():
            start = time.process_time()
            job()
            best[name] = min(best[name], time.process_time() - start)
    return best


def scalar_call_us(lon: np.ndarray, lat: np.ndarray, calls: int = 20000) -> float:
    points = list(zip(lon[:calls].tolist(), lat[:calls].tolist(), strict=True))
    start = time.process_time()
    for x, y in points:
        cc.gcj02_to_wgs84(x, y)
    return (time.process_time() - start) / len(points) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--region", choices=sorted(REGIONS), default="anshan")
    args = parser.parse_args()
    n = args.points

    wgs_lon, wgs_lat = sample(args.region, n)
    gcj_lon, gcj_lat = cc.wgs84_to_gcj02_array(wgs_lon, wgs_lat)  # what phones would send
    bd_lon, bd_lat = cc.wgs84_to_bd09_array(wgs_lon, wgs_lat)
    to_4550 = Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True)
    to_4550.transform(gcj_lon[:10], gcj_lat[:10])  # PROJ sets up lazily: not part of the timing

    times = best_of(
        args.repeat,
        {
            "pyproj EPSG:4326->EPSG:4550": lambda: to_4550.transform(gcj_lon, gcj_lat),
            "ours gcj02_to_wgs84_array": lambda: cc.gcj02_to_wgs84_array(gcj_lon, gcj_lat),
            "ours wgs84_to_gcj02_array": lambda: cc.wgs84_to_gcj02_array(wgs_lon, wgs_lat),
            "ours bd09_to_wgs84_array": lambda: cc.bd09_to_wgs84_array(bd_lon, bd_lat),
        },
    )
    yardstick = times["pyproj EPSG:4326->EPSG:4550"]
    print(f"{n:,} points, region {args.region}, best of {args.repeat}")
    for name, seconds in times.items():
        rate, ratio = n / seconds, yardstick / seconds
        print(f"  {name:30s} {seconds * 1e3:8.1f} ms  {rate:12,.0f} points/s  {ratio:5.2f}x pyproj")

    # Points whose shifted position left the outline come back unshifted (the documented border band).
    geod = Geod(ellps="WGS84")
    for name, (lon, lat), inverse in (
        ("GCJ-02", (gcj_lon, gcj_lat), cc.gcj02_to_wgs84_array),
        ("BD-09", (bd_lon, bd_lat), cc.bd09_to_wgs84_array),
    ):
        back_lon, back_lat = inverse(lon, lat)
        _, _, error = geod.inv(wgs_lon, wgs_lat, back_lon, back_lat)
        kept = cc.in_china_array(lon, lat)
        print(
            f"  round trip {name}: max error {error[kept].max() * 1e3:.3g} mm"
            f" ({(~kept).sum():,} points within the shift of the outline left out)"
        )
    print(f"  scalar gcj02_to_wgs84: {scalar_call_us(gcj_lon, gcj_lat):.1f} µs per call")


if __name__ == "__main__":
    main()
