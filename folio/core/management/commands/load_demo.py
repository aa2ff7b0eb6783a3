from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from folio.core import demo


class Command(BaseCommand):
    help = "Load (idempotently) the I. Municipalidad de Lota demo data and print the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--registrations", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        logins = demo.load(registrations=options["registrations"])
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD})\n")
        for username, _password, role in logins:
            self.stdout.write(f"  {username:<16} {role}")
        self.stdout.write("")
