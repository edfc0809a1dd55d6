"""export_territory PATH: writes the whole territory in the interchange format."""

from pathlib import Path

from django.core.management.base import BaseCommand

from gridgis.territory.exporting import export_territory

HELP = """Exports districts, streets, communities, grids, buildings, workers and departments
(shared/docs/interchange.md §1) in WGS84: to one GeoPackage when PATH ends in .gpkg (replaced if it
exists), else to a folder with one GeoJSON per layer plus workers.csv and departments.csv.
import_territory reads the result back unchanged."""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="a .gpkg file or a folder")

    def handle(self, *args, path, verbosity, **options):
        counts = export_territory(path=path)
        if verbosity >= 1:
            self.stdout.write(f"Exported to {path}:")
            self.stdout.write("\n".join(f"  {layer:<12} {n}" for layer, n in counts.items()) or "  (nothing)")
