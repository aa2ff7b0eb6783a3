from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from folio.accounts.models import RoleCode, User
from folio.case_files import services
from folio.organizations.models import Organization


class Command(BaseCommand):
    help = ("Import a BagIt archival package of Folio (one expediente, or a series bag of bags) into an "
            "organization: a directory, .tar, .tar.gz or .zip. All or nothing; exits non-zero on refusal.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--organization", required=True, help="slug of the receiving organization")
        parser.add_argument("--user", default="", help="username of an administrator of that organization "
                                                      "(default: its first active administrator)")
        parser.add_argument("--unit", default="", help="code of the unit made responsible, when the package's "
                                                      "unit does not exist in the organization")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"organization {options['organization']!r} does not exist")
        admins = User.objects.filter(organization=organization, is_active=True, roles__code=RoleCode.ADMIN)
        actor = (admins.filter(username=options["user"]) if options["user"] else admins.order_by("pk")).first()
        if actor is None:
            raise CommandError(f"no active administrator {options['user'] or ''} in {organization.slug}: "
                               "create one or pass --user".replace("  ", " "))
        try:
            imported = services.archive_import(actor=actor, organization=organization, path=Path(options["path"]),
                                               unit_code=options["unit"])
        except ValidationError as exc:
            raise CommandError("import refused: " + " ".join(exc.messages)) from None
        except (PermissionDenied, services.ConflictError) as exc:
            raise CommandError(f"import refused: {exc}") from None
        for cf in imported:
            count = cf.entries.count()
            self.stdout.write(f"imported {cf.iuie} into {organization.slug}: {count} index entries, "
                              f"index hash {cf.index_hash or '-'}")
