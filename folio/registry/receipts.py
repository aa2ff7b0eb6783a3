"""The comprobante de ingreso: a one-page PDF with folio, date, unit and a verification code + QR."""

from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas

from folio.files.models import StoredFile
from folio.files.services import atomic_with_files, file_store
from folio.registry.models import DocumentRole, Registration, RegistrationDocument
from folio.verification.models import VerificationRecord
from folio.verification.services import verification_attach_document, verification_url

BLUE = (0x0F / 255, 0x69 / 255, 0xC4 / 255)
RED = (0xE2 / 255, 0x2C / 255, 0x2C / 255)


def render_receipt(reg: Registration, record: VerificationRecord) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=LETTER, invariant=True)
    c.setTitle(f"{_('Receipt')} {reg.folio}")
    c.setAuthor(reg.organization.name)
    width, height = LETTER
    c.setFillColorRGB(*BLUE)
    c.rect(0, height - 2.2 * cm, width * 0.6, 0.35 * cm, stroke=0, fill=1)
    c.setFillColorRGB(*RED)
    c.rect(width * 0.6, height - 2.2 * cm, width * 0.4, 0.35 * cm, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.setFont("Helvetica-Bold", 15)
    c.drawString(2 * cm, height - 3.3 * cm, reg.organization.name)
    c.setFont("Helvetica", 12)
    title = _("Registration receipt") if reg.is_incoming else _("Dispatch record")
    c.drawString(2 * cm, height - 4.0 * cm, f"{title} — Oficina de Partes")
    c.setFont("Helvetica-Bold", 26)
    c.drawString(2 * cm, height - 5.6 * cm, reg.folio)
    y = height - 7.0 * cm
    for label, value in record.facts:
        c.setFont("Helvetica-Bold", 10)
        c.drawString(2 * cm, y, f"{label}:")
        c.setFont("Helvetica", 10)
        text = str(value)
        while text:
            c.drawString(6.5 * cm, y, text[:80])
            text = text[80:]
            y -= 0.55 * cm
        y -= 0.1 * cm
    url = verification_url(record.code)
    widget = QrCodeWidget(url)
    x0, y0, x1, y1 = widget.getBounds()
    size = 4 * cm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, 2 * cm, 3 * cm)
    c.setFont("Helvetica-Bold", 12)
    c.drawString(6.5 * cm, 5.6 * cm, _("Verification code: %(code)s") % {"code": record.code})
    c.setFont("Helvetica", 9)
    c.drawString(6.5 * cm, 5.0 * cm, _("Verify this receipt at:"))
    c.drawString(6.5 * cm, 4.5 * cm, url)
    c.drawString(6.5 * cm, 3.6 * cm, _("Issued %(date)s UTC by Folio.") % {
        "date": record.issued_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")})
    c.showPage()
    c.save()
    return buf.getvalue()


def receipt_get_or_create(reg: Registration) -> StoredFile:
    """The receipt is rendered once, on first request, and then kept: what was verified stays what
    was printed."""
    with atomic_with_files():
        record = VerificationRecord.objects.select_for_update().get(code=reg.receipt_code)
        if record.document_id:
            return StoredFile.objects.get(pk=record.document_id)
        data = render_receipt(reg, record)
        stored = file_store(organization=reg.organization, name=f"comprobante-{reg.folio}.pdf", data=data)
        RegistrationDocument.objects.create(registration=reg, file=stored, role=DocumentRole.RECEIPT, position=999)
        verification_attach_document(record=record, document=stored)
        return stored
