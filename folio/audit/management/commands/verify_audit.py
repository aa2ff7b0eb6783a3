from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from folio.audit.selectors import verify_chains


class Command(BaseCommand):
    help = "Verify the SHA-256 chain of the audit trail; exit non-zero naming every broken row."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, problems = verify_chains()
        for p in problems:
            where = f"chain {p.chain}" + (f", seq {p.seq}" if p.seq is not None else "")
            self.stderr.write(f"{where}: {p.message}")
        if problems:
            raise CommandError(f"audit trail verification FAILED: {len(problems)} problem(s) in {checked} rows")
        self.stdout.write(f"audit trail OK: {checked} rows verified")
