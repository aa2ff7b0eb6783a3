from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from folio.files.models import StoredFile


class Command(BaseCommand):
    help = "Delete stored files that no row refers to (left by a transaction rolled back after the upload)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-minutes", type=int, default=60)
        parser.add_argument("--dry-run", action="store_true")

    def _walk(self, path: str) -> list[str]:
        dirs, files = default_storage.listdir(path)
        out = [f"{path}/{f}" if path else f for f in files]
        for d in dirs:
            out.extend(self._walk(f"{path}/{d}" if path else d))
        return out

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - dt.timedelta(minutes=options["older_than_minutes"])
        # Bytes of a purged row (eliminated under a final disposition) count as orphans too.
        known = set(StoredFile.objects.filter(purged_at__isnull=True).values_list("storage_name", flat=True))
        removed = 0
        for name in self._walk(""):
            if name in known:
                continue
            try:
                modified = default_storage.get_modified_time(name)
            except (NotImplementedError, OSError):
                continue
            if modified > cutoff:
                continue
            removed += 1
            self.stdout.write(f"orphan: {name}")
            if not options["dry_run"]:
                default_storage.delete(name)
        self.stdout.write(f"{removed} orphan file(s) {'found' if options['dry_run'] else 'removed'}")
