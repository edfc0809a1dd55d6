"""import_territory PATH [--crs EPSG:N] [--layer NAME] [--dry-run]: loads territory interchange files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geodata.crs import CRSProblem
from geodata.interchange import SourceError
from geodata.problems import ImportRejected
from gridgis.territory.importing import import_territory

HELP = """Imports districts, streets, communities, grids, buildings, workers and departments
(shared/docs/interchange.md §1) in one transaction: all or nothing, upserted by code, so that importing
the same file again changes nothing. Nothing is ever deleted: features absent from the file stay, and
optional fields absent from the file keep their stored values.

PATH is a GeoPackage (.gpkg) with layers named after the interchange layers; or a folder with one file
per layer (districts.geojson or districts.shp …, workers.csv, departments.csv); or one single-layer file
named for its layer, exactly (grids.geojson) or after a `_`/`-` (anshan_districts.geojson), or any name
with --layer. Any layer may be absent; parent codes may be omitted (the code's prefix names the parent),
and so may buildings.grid_code (the building goes to the grid it overlaps most). Workers: one row per
worker and grid (role primary or deputy); grids.worker_id names a grid's primary worker.

Coordinates are read in the CRS the file declares (GeoJSON without one is WGS84), CGCS2000 (EPSG:4490)
and its Gauss-Krüger zones (EPSG:4491-4554) included, and stored in WGS84; --crs overrides the
declaration. Invalid polygons are repaired (and listed); every other problem is listed with its layer,
feature and reason, and nothing is written. Column names are matched case-insensitively; Shapefile's
truncated names (community_) and the public-data alias adcode (for districts.code) are understood.
"""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a .gpkg file, a folder of layer files, or one layer file")
        parser.add_argument("--crs", metavar="EPSG:N", help="the CRS of the coordinates, whatever the file says")
        parser.add_argument("--layer", metavar="NAME", help="the layer a single file holds, when its name "
                                                            "does not say")
        parser.add_argument("--dry-run", action="store_true",
                            help="check and report everything, then roll back: nothing is written")

    def handle(self, *args, path, crs, layer, dry_run, verbosity, **options):
        try:
            report = import_territory(path=path, crs=crs, layer=layer, dry_run=dry_run, progress=verbosity >= 1)
        except ImportRejected as exc:
            raise CommandError(exc.report()) from exc
        except (SourceError, CRSProblem) as exc:
            raise CommandError(f"Import rejected, nothing was written: {exc}") from exc
        if verbosity >= 1:
            self.stdout.write("\n".join(report.lines()))
        if verbosity >= 2:
            self.stdout.write("\n".join(f"  {step}: {seconds:.2f} s" for step, seconds in report.timings.items()))
