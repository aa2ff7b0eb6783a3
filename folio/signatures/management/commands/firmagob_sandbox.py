"""Register an organization in the local FirmaGob sandbox and point its configuration there:

    python manage.py firmagob_sandbox lota [--base-url http://127.0.0.1:8000]

Development and demos only: refused where the sandboxes are off (production)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from folio.organizations.models import Organization
from folio.signatures import services


class Command(BaseCommand):
    help = "Register an organization in the FirmaGob sandbox and configure it to sign there."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organization", help="slug of the organization")
        parser.add_argument("--base-url", default=None, help="where this Folio answers (default FOLIO_PUBLIC_URL)")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"no organization with slug {options['organization']!r}")
        try:
            config = services.firmagob_sandbox_enable(organization=organization, actor=None,
                                                      base_url=options["base_url"])
        except services.SignatureError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"{organization.name}: FirmaGob sandbox at {config.firmagob_endpoint} "
                          f"(api_token_key {config.firmagob_api_token_key}); OTPs at /sandbox/firmagob/otp")
