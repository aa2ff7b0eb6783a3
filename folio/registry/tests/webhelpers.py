"""Small helpers shared by the UI, API, bad-input, e-mail and OCR tests (not a test module)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from folio.registry import services
from folio.registry.models import Registration

VALID_RUT = "12.345.678-5"


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def incoming(actor: Any, *, subject: str = "Solicita certificado de número", documents: list[bytes] | None = None,
             **overrides: Any) -> Registration:
    """An incoming registration made through the real service (physical, no files, unless given)."""
    fields: dict[str, Any] = {
        "document_type": 40, "subject": subject, "party_kind": "citizen", "party_name": "Juan Pérez Soto",
        "party_rut": VALID_RUT, "mechanism": 1 if not documents else 2, "channel": "paper",
    }
    fields.update(overrides)
    data = services.RegistrationInput(**fields)
    data.documents = [services.UploadedDoc(name=f"doc{i}.pdf", data=d) for i, d in enumerate(documents or [])]
    return services.registration_create_incoming(actor=actor, data=data)


def media_files() -> list[Path]:
    """Every file under MEDIA_ROOT (the conftest points it at a per-test temporary directory)."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file())


@dataclass(frozen=True)
class Snapshot:
    registrations: int
    stored_files: int
    documents: int
    audit_events: int
    counters: tuple[tuple[int, str, int, int], ...]
    routings: int
    verification_records: int
    files_on_disk: tuple[str, ...]


def snapshot() -> Snapshot:
    """Everything a failed request must leave untouched."""
    from folio.audit.models import AuditEvent
    from folio.files.models import StoredFile
    from folio.registry.models import Counter, RegistrationDocument, Routing
    from folio.verification.models import VerificationRecord

    return Snapshot(
        registrations=Registration.objects.count(),
        stored_files=StoredFile.objects.count(),
        documents=RegistrationDocument.objects.count(),
        audit_events=AuditEvent.objects.count(),
        counters=tuple(Counter.objects.order_by("pk").values_list("organization_id", "book", "year", "last_value")),
        routings=Routing.objects.count(),
        verification_records=VerificationRecord.objects.count(),
        files_on_disk=tuple(str(p) for p in media_files()),
    )


def pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return "\n".join(pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf)))
    finally:
        pdf.close()


def encrypted_pdf(plain: bytes) -> bytes:
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(plain)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="x", user="y"))
    return out.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 4


def body_text(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()
