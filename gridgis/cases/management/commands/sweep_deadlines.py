"""python manage.py sweep_deadlines: mark overdue cases and escalate them (run it every minute, e.g. cron)."""

from django.core.management.base import BaseCommand

from gridgis.cases.sweep import sweep_deadlines


class Command(BaseCommand):
    help = "Marks cases past their deadline as overdue and escalates them by GRIDGIS['ESCALATION_RULES']."

    def handle(self, *args, **options):
        result = sweep_deadlines()
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"overdue: {len(result.marked)} marked; escalated: {len(result.escalated)}; "
                f"cannot escalate: {len(result.stuck)}"
            )
        if options["verbosity"] >= 2:
            for number, from_tier, to_tier in result.escalated:
                self.stdout.write(f"  {number}: {from_tier} → {to_tier}")
            for number, why in result.stuck:
                self.stdout.write(f"  {number}: {why}")
