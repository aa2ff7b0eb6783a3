from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from folio.verification.models import VerificationRecord

# No 0/O, 1/I/L: codes are read aloud over the phone and typed from paper.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    if len(raw) != 12:
        return code.strip().upper()
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def verification_url(code: str) -> str:
    return settings.FOLIO_PUBLIC_URL + reverse("verification:detail", args=[code])


def verification_issue(
    *,
    organization: Any,
    kind: str,
    obj: models.Model,
    title: str,
    facts: list[tuple[str, str]],
    code: str | None = None,
    public_original: Any | None = None,
) -> VerificationRecord:
    """Reserve a code for a document about to be generated (the PDF carries the code)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("verification_issue must run inside a transaction")
    return VerificationRecord.objects.create(
        code=code or new_code(),
        organization=organization,
        kind=kind,
        title=title,
        facts=[[str(label), str(value)] for label, value in facts],
        object_type=f"{obj._meta.app_label}.{obj._meta.model_name}",
        object_id=str(obj.pk),
        public_original=public_original,
        issued_at=timezone.now(),
    )


def verification_attach_document(*, record: VerificationRecord, document: Any) -> None:
    record.document = document
    record.sha256 = document.sha256
    record.save(update_fields=["document", "sha256"])


def verification_revoke(*, record: VerificationRecord, reason: str) -> None:
    record.revoked_at = timezone.now()
    record.revoked_reason = reason
    record.save(update_fields=["revoked_at", "revoked_reason"])
