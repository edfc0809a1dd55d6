"""issue_api_key NAME [--jurisdiction CODE]: a new API key for an integration (an Open311 client).

The key goes alone to standard output, so `KEY=$(manage.py issue_api_key app)` works; it is shown this once
(only its hash is stored). --jurisdiction files the key's unplaced reports under that territory and limits
its Open311 reads to it.
"""

from django.core.management.base import BaseCommand, CommandError

from gridgis.intake.models import ApiKey
from gridgis.intake.open311.formats import Open311Error
from gridgis.intake.open311.queries import jurisdiction_of

NAME_LENGTH = ApiKey._meta.get_field("name").max_length


class Command(BaseCommand):
    help = "Issues an API key for an integration (Open311) and prints it once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who the key is for, e.g. 'wechat-miniapp'")
        parser.add_argument("--jurisdiction", default="", metavar="CODE",
                            help="territory code (district, street, community or grid) the key works for")

    def handle(self, *args, name: str, jurisdiction: str, **options):
        name = name.strip()
        if not name or len(name) > NAME_LENGTH:
            raise CommandError(f"NAME must have 1 to {NAME_LENGTH} characters")
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"an API key named {name!r} exists already; pick another name")
        try:
            code = jurisdiction_of(jurisdiction)
        except Open311Error as error:
            raise CommandError(f"--jurisdiction {jurisdiction!r}: no such district, street, community or grid"
                               ) from error
        key, raw = ApiKey.issue(name=name, jurisdiction=code)
        self.stdout.write(raw)
        self.stderr.write(f"Issued API key {key} for {code or 'the whole city'}; it is not shown again.")
