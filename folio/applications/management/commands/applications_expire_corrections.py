from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from folio.applications.services import applications_expire_corrections


class Command(BaseCommand):
    help = ("Declare abandoned (desistimiento, Ley 19.880 art. 31) every online application whose correction "
            "deadline has passed without an answer. Run it daily.")

    def handle(self, *args: Any, **options: Any) -> None:
        done = applications_expire_corrections()
        for app in done:
            self.stdout.write(f"{app.organization.code} {app.number}: abandoned")
        self.stdout.write(f"{len(done)} application(s) abandoned")
