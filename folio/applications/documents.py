"""The PDFs an online application produces: the rendered form (the expediente's first document), the
certificado de presentación (DS 10 art. 30) with its verification code and QR, and the text documents of each
step (correction request and answer, report, resolution, withdrawal, desistimiento, e-mail notification).

Rendered with reportlab in the look of the registry's receipt (gob.cl colour band); every text the applicant or
an official typed is escaped before it reaches the PDF.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

BLUE = (0x0F / 255, 0x69 / 255, 0xC4 / 255)
RED = (0xE2 / 255, 0x2C / 255, 0x2C / 255)

_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("folio-title", parent=_styles["Title"], fontName="Helvetica-Bold", fontSize=16, leading=20,
                       alignment=0, spaceAfter=4)
SUBTITLE = ParagraphStyle("folio-subtitle", parent=_styles["Normal"], fontName="Helvetica", fontSize=11, leading=14,
                          spaceAfter=10)
HEADING = ParagraphStyle("folio-heading", parent=_styles["Heading3"], fontName="Helvetica-Bold", fontSize=11,
                         leading=14, spaceBefore=8, spaceAfter=4)
BODY = ParagraphStyle("folio-body", parent=_styles["Normal"], fontName="Helvetica", fontSize=10, leading=13)
LABEL = ParagraphStyle("folio-label", parent=BODY, fontName="Helvetica-Bold")
SMALL = ParagraphStyle("folio-small", parent=BODY, fontSize=8, leading=10)


def text(value: Any) -> str:
    """Escape a value for a Paragraph, keeping its line breaks."""
    return escape(str(value)).replace("\r\n", "\n").replace("\n", "<br/>")


def _frame(organization_name: str) -> Any:
    def on_page(canvas: Any, doc: Any) -> None:
        width, height = LETTER
        canvas.saveState()
        canvas.setFillColorRGB(*BLUE)
        canvas.rect(0, height - 1.2 * cm, width * 0.6, 0.3 * cm, stroke=0, fill=1)
        canvas.setFillColorRGB(*RED)
        canvas.rect(width * 0.6, height - 1.2 * cm, width * 0.4, 0.3 * cm, stroke=0, fill=1)
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont("Helvetica-Bold", 12)
        canvas.drawString(2 * cm, height - 2.0 * cm, organization_name)
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(width - 2 * cm, 1.2 * cm, _("Page %(n)s") % {"n": doc.page})
        canvas.restoreState()

    return on_page


def _rows(rows: Sequence[tuple[str, Any]]) -> Table:
    data = [[Paragraph(text(label), LABEL), Paragraph(text(value), BODY)] for label, value in rows]
    table = Table(data, colWidths=[5.2 * cm, 11.3 * cm])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, (0.83, 0.86, 0.89)),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table


def qr_code(url: str, size: float = 3.5 * cm) -> Drawing:
    widget = QrCodeWidget(url)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def render(*, organization_name: str, title: str, subtitle: str = "", rows: Sequence[tuple[str, Any]] = (),
           sections: Sequence[tuple[str, str]] = (), footer: Sequence[str] = (), extra: Sequence[Any] = ()) -> bytes:
    """A document: title, subtitle, a table of (label, value), sections of (heading, text), extra flowables and
    small footer lines."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=LETTER, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2.6 * cm,
                            bottomMargin=2 * cm, title=title, author=organization_name, invariant=True)
    story: list[Any] = [Paragraph(text(title), TITLE)]
    if subtitle:
        story.append(Paragraph(text(subtitle), SUBTITLE))
    if rows:
        story.append(_rows(rows))
    for heading, body in sections:
        story.append(Paragraph(text(heading), HEADING))
        story.append(Paragraph(text(body) if body else "—", BODY))
    story.extend(extra)
    if footer:
        story.append(Spacer(1, 0.5 * cm))
        story.extend(Paragraph(text(line), SMALL) for line in footer)
    frame = _frame(organization_name)
    doc.build(story, onFirstPage=frame, onLaterPages=frame)
    return buf.getvalue()


def utc_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_certificate(*, organization_name: str, number: str, rows: Sequence[tuple[str, Any]], code: str,
                       url: str, issued_at: dt.datetime) -> bytes:
    """The certificado de presentación: the facts of the filing, the verification code and a QR to /verificar/."""
    qr = Table([[qr_code(url), [
        Paragraph(text(_("Verification code: %(code)s") % {"code": code}), HEADING),
        Paragraph(text(_("Verify this certificate at:")), BODY),
        Paragraph(text(url), BODY),
    ]]], colWidths=[4 * cm, 12.5 * cm])
    qr.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return render(
        organization_name=organization_name,
        title=_("Filing certificate"),
        subtitle=_("Application %(number)s — certificate issued automatically by the receiving platform (DS 10 "
                   "of 2023, art. 30)") % {"number": number},
        rows=rows,
        extra=[Spacer(1, 0.6 * cm), qr],
        footer=[_("Issued %(date)s by Folio. The verification code and the SHA-256 of this PDF are recorded by the "
                  "platform: the page above shows whether this document is genuine.")
                % {"date": utc_stamp(issued_at)}],
    )
