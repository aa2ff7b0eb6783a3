"""Register an organization in the local ClaveÚnica sandbox and point its configuration there:

    python manage.py claveunica_sandbox lota [--base-url http://127.0.0.1:8000]

Development and demos only: refused where the sandboxes are off (production)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from folio.claveunica import services
from folio.organizations.models import Organization


class Command(BaseCommand):
    help = "Register an organization in the ClaveÚnica sandbox and configure it to sign citizens in there."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="slug of the organization")
        parser.add_argument("--base-url", default=None,
                            help="where this Folio answers, e.g. http://127.0.0.1:8000 (default FOLIO_PUBLIC_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"no organization with slug {options['organization']!r}")
        base_url = options["base_url"] or settings.FOLIO_PUBLIC_URL
        try:
            config = services.claveunica_sandbox_enable(organization=organization, base_url=base_url, actor=None)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{organization.name}: ClaveÚnica sandbox at {config.base_url} (client_id "
                          f"{config.client_id}, redirect_uri {config.redirect_uri}). Test RUNs 44.444.444-4, "
                          f"55.555.555-5, 88.888.888-8, 99.999.999-9; password: testing")
