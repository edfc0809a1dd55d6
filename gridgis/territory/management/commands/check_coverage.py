"""check_coverage: do the grids of each community tile it — no gaps, no overlaps (无缝拼接)?

Prints one line per problem (gaps, overlaps, grids reaching outside their community, buildings split
between grids, invalid geometry) and a summary with the number of problems. Problems are findings for
the planner, not a failure of the command: it exits 0 unless --strict is given, then it fails (status 1)
when anything is found — for CI and scripts. --html FILE writes a map of the problems that opens offline.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from geodata.coverage import CoverageReport, check_coverage
from geodata.coverage_map import write_coverage_map
from gridgis.territory.selectors import coverage_frames


class Command(BaseCommand):
    help = "Checks that the grids of each community tile it: gaps, overlaps, grids outside, split buildings."

    def add_arguments(self, parser):
        parser.add_argument("--community", action="append", dest="communities", metavar="CODE",
                            help="check only this community (12-digit code); repeat for several")
        parser.add_argument("--tolerance", type=float, metavar="M2",
                            default=settings.GRIDGIS["COVERAGE_TOLERANCE_M2"],
                            help="ignore problems smaller than this many m² (default %(default)s)")
        parser.add_argument("--html", type=Path, metavar="FILE", help="write a map of the problems")
        parser.add_argument("--strict", action="store_true", help="exit with status 1 if problems are found")

    def handle(self, *args, communities, tolerance, html, strict, **options):
        if tolerance < 0:
            raise CommandError(f"--tolerance must not be negative, got {tolerance}")
        frames = coverage_frames(communities)
        _require_known(communities, frames[0])
        report = check_coverage(*frames, tolerance_m2=tolerance)
        for line in report.lines():
            self.stdout.write(line)
        if html:
            self._write_map(report, frames, html)
        self.stdout.write(self.style.SUCCESS(report.summary()) if report.ok else report.summary())
        if strict and not report.ok:
            raise CommandError(f"{len(report.problems)} coverage problems")

    def _write_map(self, report: CoverageReport, frames, path: Path) -> None:
        leaflet_dir = Path(settings.BASE_DIR) / "node_modules" / "leaflet" / "dist"
        if not (leaflet_dir / "leaflet.js").exists():
            raise CommandError(f"Leaflet is missing from {leaflet_dir}: run `npm ci` (make run does it)")
        communities, grids, _ = frames
        write_coverage_map(report, communities, grids, path, leaflet_dir=leaflet_dir)
        self.stdout.write(f"Map of the problems written to {path}")


def _require_known(requested: list[str] | None, communities) -> None:
    missing = sorted(set(requested or ()) - set(communities["code"]))
    if missing:
        raise CommandError(f"unknown community code(s): {', '.join(missing)}")
