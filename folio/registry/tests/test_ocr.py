"""OCR of scans: an image registered as a scan is recognised by the background task (tesseract through
ocrmypdf, Spanish), and its words become searchable."""

from __future__ import annotations

import io
import shutil
from typing import Any

import pytest
from django.test import Client

from folio.files.models import OcrStatus, StoredFile, TextSource
from folio.registry.models import Registration
from folio.registry.tests.webhelpers import VALID_RUT, upload

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")


def scanned_page(lines: list[str], *, fmt: str = "PNG") -> bytes:
    """A letter-size page at 300 dpi with black text, as a scanner would produce it."""
    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (2550, 3300), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=64)
    y = 300
    for line in lines:
        draw.text((250, y), line, fill=0, font=font)
        y += 120
    out = io.BytesIO()
    page.save(out, fmt, dpi=(300, 300))
    return out.getvalue()


def _search(client: Client, q: str) -> list[str]:
    response = client.get("/partes/", {"q": q})
    assert response.status_code == 200
    return [r.folio for r in response.context["page"].results]


def _register_scan(client: Client, world: Any, image: bytes, name: str) -> Any:
    return client.post("/partes/ingreso/nuevo/", {
        "document_type": 40, "subject": "Documento recibido en ventanilla", "party_kind": "citizen",
        "party_name": "Almacén Don Lucho", "party_rut": VALID_RUT, "mechanism": 3, "access_level": 1,
        "files": [upload(name, image)],
    })


@needs_tesseract
def test_scanned_image_is_ocrd_and_becomes_searchable(world: Any, settings: Any,
                                                      django_capture_on_commit_callbacks: Any) -> None:
    settings.FOLIO_OCR_ENABLED = True
    client = Client()
    client.force_login(world.clerk)
    image = scanned_page(["Solicitud de patente comercial Lota", "Almacen de barrio en calle Carrera"])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _register_scan(client, world, image, "escaneo.png")
    assert response.status_code == 302, response.content.decode()[:1500]
    reg = Registration.objects.get()
    stored = reg.documents.get().file
    assert stored.content_type == "image/png"
    assert stored.ocr_status == OcrStatus.PENDING and stored.text == ""
    # Before the task runs, the scan's words are not searchable...
    assert _search(client, "patente") == []

    for callback in callbacks:  # ...the commit enqueues the OCR task (run immediately under tests)
        callback()

    stored = StoredFile.objects.get(pk=stored.pk)
    assert stored.ocr_status == OcrStatus.DONE
    assert stored.text_source == TextSource.OCR
    text = stored.text.lower()
    assert "patente" in text and "comercial" in text
    # The original bytes are untouched; OCR text is search data only.
    from folio.files.services import file_open

    with file_open(stored) as fh:
        assert fh.read() == image
    assert _search(client, "patente comercial") == [reg.folio]
    api_hit = client.get("/api/v1/registrations/", {"q": "patente"}).json()
    assert [r["folio"] for r in api_hit["results"]] == [reg.folio]


@needs_tesseract
def test_scanned_pdf_without_text_is_ocrd(world: Any, settings: Any,
                                          django_capture_on_commit_callbacks: Any) -> None:
    from PIL import Image

    settings.FOLIO_OCR_ENABLED = True
    client = Client()
    client.force_login(world.clerk)
    pdf = io.BytesIO()
    Image.open(io.BytesIO(scanned_page(["Reclamo por luminaria apagada"]))).save(pdf, "PDF", resolution=300.0)
    with django_capture_on_commit_callbacks(execute=True):
        assert _register_scan(client, world, pdf.getvalue(), "escaneo.pdf").status_code == 302
    stored = Registration.objects.get().documents.get().file
    assert stored.content_type == "application/pdf"
    assert stored.ocr_status == OcrStatus.DONE
    assert "luminaria" in stored.text.lower()
    assert _search(client, "luminaria") == [Registration.objects.get().folio]


def test_ocr_disabled_marks_scans_and_stores_them(world: Any, settings: Any,
                                                  django_capture_on_commit_callbacks: Any) -> None:
    settings.FOLIO_OCR_ENABLED = False
    client = Client()
    client.force_login(world.clerk)
    with django_capture_on_commit_callbacks(execute=True):
        assert _register_scan(client, world, scanned_page(["Sin OCR"]), "escaneo.png").status_code == 302
    stored = Registration.objects.get().documents.get().file
    assert stored.ocr_status == OcrStatus.DISABLED and stored.text == ""
    assert stored.text_source == TextSource.NONE
