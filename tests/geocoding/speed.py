"""Throughput of normalize+parse on noisy hotline addresses (one core, pure Python).

    .venv/bin/python -m tests.geocoding.speed [--count 20000] [--known]

Addresses are standard ones of the demo city's shape, each with every noise kind and two mixes.
Reports the best of several passes (the machine is shared) and the CPU-time rate.
"""

from __future__ import annotations

import argparse
import random
import time

from gridgis.geocoding import normalize as module
from gridgis.geocoding.noise import noisy_variants
from gridgis.geocoding.normalize import KnownNames, parse

STREETS = ["站前街道", "解放街道", "山南街道", "园林街道", "胜利街道", "对炉街道", "长甸街道", "东长甸街道"]
COMMUNITIES = ["明达社区", "建国社区", "光明社区", "育才社区", "铁路社区", "五一社区", "二一九社区", "丽园社区"]
ROADS = ["建国路", "胜利路", "二一九路", "园林大道", "五一路", "湖南街", "解放路", "人民路", "和平路", "东山街",
         "山南路", "千山路", "建设二道街", "南胜利路", "站前街", "青年巷", "铁路街"]


def addresses(count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        building = rng.choice(["", f"{rng.randint(1, 30)}号楼"])
        out.append(f"辽宁省鞍山市铁东区{rng.choice(STREETS)}{rng.choice(COMMUNITIES)}{rng.choice(ROADS)}"
                   f"{rng.randint(1, 999)}号{building}")
    return out


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("--count", type=int, default=2000, help="standard addresses (×10 variants)")
    args.add_argument("--known", action="store_true", help="parse with the gazetteer's names")
    args.add_argument("--cold", action="store_true", help="without the cache of name pieces")
    opts = args.parse_args()
    if opts.cold:
        module._segments = module._segments.__wrapped__
    rng = random.Random(1)
    texts = [text for a in addresses(opts.count, rng) for _, text in noisy_variants(a, rng)]
    known = KnownNames(provinces=["辽宁省"], cities=["鞍山市"], districts=["铁东区"], streets=STREETS,
                       communities=COMMUNITIES, roads=ROADS) if opts.known else None
    best = 0.0
    for _ in range(5):
        wall, cpu = time.perf_counter(), time.process_time()
        for text in texts:
            parse(text, known)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best = max(best, len(texts) / wall)
        print(f"{len(texts)} addresses: {len(texts) / wall:,.0f}/s wall, {len(texts) / cpu:,.0f}/s CPU")
    print(f"best: {best:,.0f} addresses/s (normalize+parse{', with known names' if known else ''}"
          f"{', no cache' if opts.cold else ''})")


if __name__ == "__main__":
    main()
