"""reassign_cases [--dry-run]: the assignment rules run again for every open case (after boundary changes)."""

from django.core.management.base import BaseCommand

from gridgis.cases.bulk.reassign import reassign_open_cases


class Command(BaseCommand):
    help = ("Places every open case with a point again by the assignment rules, against the grids as they are "
            "now (run it after importing changed boundaries or editing grids): grid, community, street, "
            "territory code, assignee, rule and distance. A case that gets another grid or assignee gets a "
            "timeline entry. Closed and voided cases keep their grid; cases assigned by hand are left alone. "
            "One transaction.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="do everything and report, then roll back: nothing is written")

    def handle(self, *args, dry_run, verbosity, **options):
        report = reassign_open_cases(dry_run=dry_run)
        if verbosity >= 1:
            self.stdout.write("\n".join(report.lines()))
