from __future__ import annotations

from folio.verification.models import VerificationRecord
from folio.verification.services import normalize_code


def verification_get(code: str) -> VerificationRecord | None:
    return (
        VerificationRecord.objects.select_related("organization", "document", "public_original")
        .filter(code=normalize_code(code))
        .first()
    )


def verification_by_sha256(sha256: str) -> VerificationRecord | None:
    """The record of the document Folio issued with exactly these bytes, if any (and not voided)."""
    return VerificationRecord.objects.filter(sha256=sha256, revoked_at__isnull=True).order_by("-issued_at").first()
