from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from folio.files.models import StoredFile


class Command(BaseCommand):
    help = "Re-hash every stored file and compare with the SHA-256 and size recorded for it."

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        checked = 0
        for stored in StoredFile.objects.order_by("pk").iterator(chunk_size=2000):
            checked += 1
            digest = hashlib.sha256()
            size = 0
            try:
                with default_storage.open(stored.storage_name, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                        digest.update(chunk)
                        size += len(chunk)
            except FileNotFoundError:
                problems.append(f"file {stored.pk} ({stored.storage_name}): missing from storage")
                continue
            if digest.hexdigest() != stored.sha256 or size != stored.size:
                problems.append(
                    f"file {stored.pk} ({stored.storage_name}): SHA-256 {digest.hexdigest()} size {size} "
                    f"differs from recorded {stored.sha256} size {stored.size}"
                )
        for line in problems:
            self.stderr.write(line)
        if problems:
            raise CommandError(f"integrity check FAILED: {len(problems)} of {checked} files differ")
        self.stdout.write(f"integrity OK: {checked} files verified")
