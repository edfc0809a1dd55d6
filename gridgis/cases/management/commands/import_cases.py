"""import_cases FILE.csv [--crs NAME] [--batch N] [...]: historical cases, assigned in bulk."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geodata.china_coords import CRS_NAMES
from gridgis.cases.bulk.csvfile import CasesRejected
from gridgis.cases.bulk.importing import import_cases
from gridgis.cases.bulk.rebuild import REBUILD_MIN_ROWS

HELP = f"""Imports historical cases from a CSV file (UTF-8, header row; column names in any case and order):

  number          optional. The case number; when absent one is made as for new cases (reception date +
                  the next value of the number sequence). Re-importing a file never duplicates a case: rows
                  whose number exists are skipped, and rows without one are skipped when a case with the
                  same reception time, description, address, coordinates, CRS, category, channel and
                  reporter exists. Give numbers when you have them.
  received_at     required. ISO 8601 (2024-03-01 08:15:00, 2024-03-01T08:15:00+08:00); Asia/Shanghai when
                  no offset is given.
  description     required, at most 4,000 characters.
  category        optional. A category code, inactive ones included (the admin lists them).
  channel         optional: hotline, app, patrol, open311, other (default other).
  lon, lat        optional, together. Degrees in the row's CRS; checked as the API checks them.
  crs             optional: wgs84, gcj02, bd09, cgcs2000 (default: --crs).
  address         optional. Rows without coordinates are geocoded against the building gazetteer; an
                  address not found still makes a case, flagged "needs location".
  status          optional: received, registered, voided, dispatched, accepted, in_progress, handled,
                  verified, closed (default received).
  reporter_name, reporter_phone   optional (phone: digits, +, - and spaces).

Every row is checked before anything is written; problems are listed by row (as a spreadsheet numbers
them: the header is row 1) and column, and then nothing is written. Each case is placed as a new report
would be: the grid covering its point (lowest code on a shared boundary), else the nearest grid within
settings.GRIDGIS["ASSIGN_MAX_DISTANCE_M"], else unassigned; assignee, territory code, warnings and
deadline as for a new report; duplicates are not linked and no timeline entry is written.

All in one transaction. For big files (from {REBUILD_MIN_ROWS:,} new cases and 10% of the table) the cases table's
secondary indexes and foreign keys are dropped for the load and rebuilt after it: much faster, but the
table is locked meanwhile, so intake waits until the import commits (--rebuild-indexes no avoids that).
"""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument("--crs", choices=CRS_NAMES, default="wgs84",
                            help="CRS of rows that do not name one (default wgs84)")
        parser.add_argument("--batch", type=int, default=100_000, metavar="N",
                            help="rows per COPY block (memory and progress steps; default 100000)")
        parser.add_argument("--jurisdiction", default="", metavar="CODE",
                            help="territory code for cases outside every district (so a command centre sees them)")
        parser.add_argument("--rebuild-indexes", choices=["auto", "yes", "no"], default="auto",
                            help="drop and rebuild the cases table's indexes around the load (default: by size)")
        parser.add_argument("--encoding", default="utf-8-sig", help="the file's encoding (e.g. gb18030)")

    def handle(self, *args, file, crs, batch, jurisdiction, rebuild_indexes, encoding, verbosity, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        rebuild = {"auto": None, "yes": True, "no": False}[rebuild_indexes]
        try:
            report = import_cases(path=file, crs=crs, batch=batch, jurisdiction=jurisdiction,
                                  rebuild_indexes=rebuild, encoding=encoding, progress=verbosity >= 1)
        except CasesRejected as exc:
            raise CommandError(exc.report()) from exc
        if verbosity >= 1:
            self.stdout.write("\n".join(report.lines()))
        if verbosity >= 2:
            self.stdout.write("\n".join(f"  {step}: {seconds:.2f} s" for step, seconds in report.timings.items()))
