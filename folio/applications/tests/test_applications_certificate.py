"""The certificado de presentación (DS 10 art. 30): the data it must carry, printed in the PDF, and its
verification at /verificar/<code> with the same SHA-256."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from django.test import Client
from pypdf import PdfReader

from folio.applications import services
from folio.applications.tests.apphelpers import answers, make_definition, submit, uploads
from folio.files.services import file_open
from folio.verification.models import VerificationKind


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_certificate_carries_what_ds10_art30_requires_and_verifies(world: Any, pdf_bytes: Any) -> None:
    app = submit(world, make_definition(world), pdf_bytes)
    record = app.certificate
    assert record.kind == VerificationKind.FILING_CERTIFICATE
    with file_open(record.document) as fh:
        data = fh.read()
    assert hashlib.sha256(data).hexdigest() == record.sha256
    text = _text(data)
    local = app.submitted_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Santiago"))
    for expected in (app.number, app.case_file.iuie, world.lota.name, world.lota.code, "Ana Pérez",
                     "55.555.555-5", f"Folio — {world.lota.name}", local.strftime("%d-%m-%Y %H:%M"),
                     app.submitted_at.astimezone(__import__("datetime").UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                     record.code, f"/verificar/{record.code}", "Permiso de obra menor"):
        assert expected in text, expected
    assert "digital" in text.lower()  # the origin: the web form

    page = Client().get(f"/verificar/{record.code}")
    assert page.status_code == 200
    body = page.content.decode()
    assert app.number in body and app.case_file.iuie in body and record.sha256 in body
    assert "55.555.555-5" not in body and "**.***.555-5" in body  # the public page masks the RUN
    download = Client().get(f"/verificar/{record.code}/document")
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == record.sha256


def test_a_counter_certificate_names_the_clerk_and_the_channel(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    app = services.application_file_at_counter(
        actor=world.clerk, definition=definition, channel="presencial", data=answers(correo="bruno@example.cl", rut="88.888.888-8"),
        files=uploads(pdf_bytes), citizen=services.CitizenInput(run="88.888.888-8",
                                                                first_name="Bruno", last_name="Díaz",
                                                                email="bruno@example.cl"))
    with file_open(app.certificate.document) as fh:
        text = _text(fh.read())
    assert "Patricia Soto" in text and "88.888.888-8" in text
    assert app.contact_email == "bruno@example.cl"
