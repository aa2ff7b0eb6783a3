from __future__ import annotations

import hashlib
from typing import Any

from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from folio.files.models import StoredFile


class Command(BaseCommand):
    help = ("Re-hash every stored file and compare with the SHA-256 and size recorded for it; check every index "
            "entry against its file and the index hash of every closed expediente.")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        checked = 0
        purged = 0
        for stored in StoredFile.objects.order_by("pk").iterator(chunk_size=2000):
            if stored.purged_at is not None:  # eliminated under a final disposition: the bytes must be gone
                purged += 1
                if default_storage.exists(stored.storage_name):
                    problems.append(f"file {stored.pk} ({stored.storage_name}): removed under "
                                    f"{stored.purge_reference!r} but its bytes are still stored")
                continue
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
        file_problems = len(problems)
        failed_ids = {int(line.split(" ", 2)[1]) for line in problems}
        extra: list[str] = []
        summary = ""
        if apps.is_installed("folio.case_files"):  # the electronic index and the hashes of closed expedientes
            from folio.case_files.selectors import integrity_problems

            extra, summary = integrity_problems(failed_ids)
        problems += extra
        for line in problems:
            self.stderr.write(line)
        if problems:
            raise CommandError(f"integrity check FAILED: {file_problems} of {checked} files differ"
                               + (f"; {len(extra)} index problems" if extra else ""))
        self.stdout.write(f"integrity OK: {checked} files verified" + (f", {summary}" if summary else "")
                          + (f"; {purged} removed under a final disposition" if purged else ""))
