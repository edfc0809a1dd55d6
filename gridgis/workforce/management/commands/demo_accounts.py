from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from gridgis.workforce.services import demo_accounts_create


class Command(BaseCommand):
    help = "Creates the demo accounts (command centre, planner, grid workers) once and prints their passwords."

    def handle(self, *args, **options):
        accounts = demo_accounts_create()
        record = Path(settings.BASE_DIR) / "var" / "demo-accounts.txt"
        if not accounts:
            if record.exists():
                self.stdout.write(f"    demo accounts exist (passwords were printed once; copy in {record})")
            return
        lines = [f"{a.username:<16} {a.password:<16} {a.description}" for a in accounts]
        record.parent.mkdir(parents=True, exist_ok=True)
        with record.open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        record.chmod(0o600)
        heading = "==> Demo accounts created (shown once; also kept in var/demo-accounts.txt):"
        self.stdout.write(self.style.SUCCESS(heading))
        for line in lines:
            self.stdout.write("    " + line)
