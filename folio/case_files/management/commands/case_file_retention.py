from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from folio.case_files import retention
from folio.case_files import retention_selectors as rsel
from folio.organizations.models import Organization


class Command(BaseCommand):
    help = ("Apply the archival phase moves the retention schedule makes due (run it daily) and report how many "
            "expedientes are due for final disposition in each organization. Never disposes of anything: that "
            "takes an administrator's approval.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", help="only this organization (its code, e.g. MUN-8106)")

    def handle(self, *args: Any, **options: Any) -> None:
        organizations = Organization.objects.order_by("code")
        if options["organization"]:
            organizations = organizations.filter(code=options["organization"])
            if not organizations.exists():
                raise CommandError(f"no organization with code {options['organization']!r}")
        for org in organizations:
            report = retention.retention_apply_phases(organization=org)
            due, _rules = rsel.due_queryset(org)
            self.stdout.write(f"{org.code}: {len(report.archived)} to the semi-active phase, "
                              f"{len(report.historic)} to the historic phase; {due.count()} due for final disposition")
