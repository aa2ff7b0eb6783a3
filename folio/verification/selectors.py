from __future__ import annotations

from folio.verification.models import VerificationRecord
from folio.verification.services import normalize_code


def verification_get(code: str) -> VerificationRecord | None:
    return (
        VerificationRecord.objects.select_related("organization", "document", "public_original")
        .filter(code=normalize_code(code))
        .first()
    )
