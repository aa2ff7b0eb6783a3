"""Copias autorizadas (DS 10 art. 35): a certified PDF of one document or of the whole expediente.

The PDF has a cover (organization, IUIe, title, subject, parties as the access level allows, the verification
code and its QR), the electronic index (whole-expediente copies) and then every document with its folio
stamped on each page: PDF pages are stamped with a small overlay drawn with reportlab; images become pages;
office and text files, paper items, accumulated expedientes and documents the requester may not open become
one placeholder page each that names them and their folios. Each copy gets a ``VerificationRecord``
(kind ``authorized_copy``) that ``/verificar/<code>`` shows, with the copy to download.

Memory stays bounded whatever the size of the expediente: ``PdfStreamWriter`` writes every object to the
output file as soon as it is read, one source document at a time (the xref offsets go to a scratch file),
and the index is drawn a page at a time from an iterator over the database. What is kept in memory is the
objects of the one document being copied and one page-tree node number per document.

A copy of the whole expediente is built in the background (``tasks.build_case_file_copy``); the
``AuthorizedCopy`` row shows its progress. A copy of one document is built within the request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import logging
import math
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pikepdf
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen import canvas

from folio.case_files import permissions as perms
from folio.case_files import selectors
from folio.case_files.exports import index_hash
from folio.case_files.models import AuthorizedCopy, CaseFile, CaseFileState, CopyStatus, IndexEntry
from folio.files.services import atomic_with_files, file_open, file_store_path
from folio.registry.models import AccessLevel, DocumentType
from folio.verification.models import VerificationKind
from folio.verification.services import new_code, verification_attach_document, verification_issue, verification_url

log = logging.getLogger(__name__)

BLUE = (0x0F / 255, 0x69 / 255, 0xC4 / 255)
RED = (0xE2 / 255, 0x2C / 255, 0x2C / 255)
INDEX_ROWS_PER_PAGE = 18
STAMP_BATCH = 10  # stamps drawn per reportlab document: bounds memory for long documents
PROGRESS_EVERY = 25  # pages between progress updates inside one document


# --- streaming PDF writer ------------------------------------------------------------------------------

def _real(value: Decimal | float) -> bytes:
    text = format(Decimal(value).normalize(), "f") if isinstance(value, Decimal) else f"{value:.6f}".rstrip("0")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return (text or "0").encode()


class _Document:
    """The objects of one source PDF being copied: its objects get new numbers on first reference and are
    written once each; references to its page tree nodes or catalog become null (the writer has its own)."""

    def __init__(self, writer: PdfStreamWriter) -> None:
        self.writer = writer
        self.numbers: dict[tuple[int, int], int] = {}
        self.queue: deque[tuple[int, Any]] = deque()

    def ref(self, obj: Any) -> bytes:
        key = obj.objgen
        number = self.numbers.get(key)
        if number is None:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") in (pikepdf.Name.Pages, pikepdf.Name.Catalog):
                return b"null"
            number = self.writer.reserve()
            self.numbers[key] = number
            self.queue.append((number, obj))
        return b"%d 0 R" % number

    def value(self, obj: Any) -> bytes:
        if obj is None:
            return b"null"
        if isinstance(obj, bool):
            return b"true" if obj else b"false"
        if isinstance(obj, int):
            return b"%d" % obj
        if isinstance(obj, (Decimal, float)):
            return _real(obj)
        if obj.is_indirect:
            return self.ref(obj)
        return self.direct(obj)

    def direct(self, obj: Any) -> bytes:
        if isinstance(obj, (pikepdf.Name, pikepdf.String)):
            return bytes(obj.unparse())
        if isinstance(obj, pikepdf.Array):
            return b"[" + b" ".join(self.value(item) for item in obj) + b"]"
        if isinstance(obj, pikepdf.Stream):
            return self.dictionary(obj.stream_dict, skip=("/Length",))
        if isinstance(obj, pikepdf.Dictionary):
            return self.dictionary(obj)
        return bytes(obj.unparse())

    def dictionary(self, obj: Any, *, skip: tuple[str, ...] = (), extra: dict[str, bytes] | None = None) -> bytes:
        parts = [b"<<"]
        for key in obj.keys():  # noqa: SIM118 - a pikepdf Dictionary, not a dict
            if key in skip:
                continue
            parts.append(bytes(pikepdf.Name(key).unparse()) + b" " + self.value(obj.get(key)))
        for key, raw in (extra or {}).items():
            parts.append(bytes(pikepdf.Name(key).unparse()) + b" " + raw)
        parts.append(b">>")
        return b" ".join(parts)

    def write_object(self, number: int, obj: Any) -> None:
        if isinstance(obj, pikepdf.Stream):
            raw = obj.read_raw_bytes()
            head = self.dictionary(obj.stream_dict, skip=("/Length",), extra={"/Length": b"%d" % len(raw)})
            self.writer.write_object(number, head + b"\nstream\n", raw, b"\nendstream")
        else:
            self.writer.write_object(number, self.direct(obj))

    def drain(self) -> None:
        while self.queue:
            number, obj = self.queue.popleft()
            self.write_object(number, obj)


INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _inherited(page: Any, key: str) -> Any:
    node, depth = page, 0
    while node is not None and depth < 64:
        if key in node:
            return node.get(key)
        node = node.get("/Parent")
        depth += 1
    return None


class PdfStreamWriter:
    """Writes a PDF to ``out`` incrementally: pages are appended one source document at a time and every
    object goes to disk when it is read. Object offsets are kept in a scratch file, not in memory."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.offsets = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.next_number = 1
        self.kids: list[int] = []  # one page-tree node per source document
        self.page_count = 0
        self.out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.root_pages = self.reserve()
        self.catalog = self.reserve()

    def reserve(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def write_object(self, number: int, *parts: bytes) -> None:
        self.offsets.seek((number - 1) * 10)
        self.offsets.write(b"%010d" % self.out.tell())
        self.out.write(b"%d 0 obj\n" % number)
        for part in parts:
            self.out.write(part)
        self.out.write(b"\nendobj\n")

    def add_pdf(self, pdf: pikepdf.Pdf, on_page: Callable[[int, Any], None] | None = None) -> int:
        """Append every page of ``pdf``; ``on_page(index, page)`` may change a page (stamp it) first."""
        doc = _Document(self)
        node = self.reserve()
        numbers = []
        for page in pdf.pages:
            number = self.reserve()
            doc.numbers[page.obj.objgen] = number
            numbers.append(number)
        for index, page in enumerate(pdf.pages):
            if on_page is not None:
                on_page(index, page)
            obj = page.obj
            extra = {"/Parent": b"%d 0 R" % node}
            for key in INHERITABLE:
                if key not in obj:
                    value = _inherited(obj, key)
                    if value is not None:
                        extra[key] = doc.value(value)
            if "/MediaBox" not in obj and "/MediaBox" not in extra:
                extra["/MediaBox"] = b"[0 0 612 792]"
            self.write_object(numbers[index], doc.dictionary(obj, skip=("/Parent",), extra=extra))
            doc.drain()
        kids = b" ".join(b"%d 0 R" % n for n in numbers)
        self.write_object(node, b"<< /Type /Pages /Parent %d 0 R /Kids [%s] /Count %d >>"
                          % (self.root_pages, kids, len(numbers)))
        self.kids.append(node)
        self.page_count += len(numbers)
        return len(numbers)

    def add_bytes(self, data: bytes) -> int:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return self.add_pdf(pdf)

    def close(self, *, title: str, author: str) -> None:
        kids = b" ".join(b"%d 0 R" % n for n in self.kids)
        self.write_object(self.root_pages, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, self.page_count))
        self.write_object(self.catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % self.root_pages)
        info = self.reserve()
        now = timezone.now().astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%SZ")
        self.write_object(info, b"<< /Title %s /Author %s /Producer (Folio) /CreationDate (%s) >>" % (
            bytes(pikepdf.String(title).unparse()), bytes(pikepdf.String(author).unparse()), now.encode()))
        xref_at = self.out.tell()
        size = self.next_number
        self.out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        self.offsets.seek(0)
        for _number in range(1, size):
            offset = self.offsets.read(10)
            self.out.write(offset + b" 00000 n \n" if len(offset) == 10 else b"0000000000 00000 f \n")
        file_id = uuid.uuid4().hex.encode()
        self.out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
                       % (size, self.catalog, info, file_id, file_id, xref_at))
        self.offsets.close()


# --- drawing ---------------------------------------------------------------------------------------------

def _utc(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _local(value: dt.datetime, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%d-%m-%Y %H:%M")


def _folios(first: int, last: int) -> str:
    return _("Folio %(n)s") % {"n": first} if first == last else _("Folios %(a)s–%(b)s") % {"a": first, "b": last}


def _band(c: canvas.Canvas, width: float, height: float) -> None:
    c.setFillColorRGB(*BLUE)
    c.rect(0, height - 1.2 * cm, width * 0.6, 0.3 * cm, stroke=0, fill=1)
    c.setFillColorRGB(*RED)
    c.rect(width * 0.6, height - 1.2 * cm, width * 0.4, 0.3 * cm, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)


def _stamp_text(copy: AuthorizedCopy, folio: str) -> tuple[str, str]:
    return folio, _("Authorized copy %(code)s · %(iuie)s") % {"code": copy.code, "iuie": copy.case_file.iuie}


def _draw_stamp(c: canvas.Canvas, width: float, height: float, lines: tuple[str, str]) -> None:
    """The folio stamp in the top right corner of a page of ``width`` x ``height``."""
    c.saveState()
    big, small = lines
    box_w = max(c.stringWidth(big, "Helvetica-Bold", 10), c.stringWidth(small, "Helvetica", 6.5)) + 10
    x, y = width - box_w - 12, height - 32
    c.setFillColorRGB(1, 1, 1)
    c.setStrokeColorRGB(*BLUE)
    c.setLineWidth(0.6)
    c.rect(x, y, box_w, 24, stroke=1, fill=1)
    c.setFillColorRGB(*BLUE)
    c.setFont("Helvetica-Bold", 10)
    c.drawRightString(x + box_w - 5, y + 13, big)
    c.setFont("Helvetica", 6.5)
    c.drawRightString(x + box_w - 5, y + 4, small)
    c.restoreState()


def _new_canvas(buf: io.BytesIO, copy: AuthorizedCopy, pagesize: tuple[float, float] = LETTER) -> canvas.Canvas:
    c = canvas.Canvas(buf, pagesize=pagesize, invariant=True)
    c.setAuthor(copy.organization.name)
    return c


def _wrapped(c: canvas.Canvas, text: str, x: float, y: float, width: float, font: str = "Helvetica",
             size: float = 10, leading: float | None = None, max_lines: int = 6) -> float:
    leading = leading or size * 1.3
    c.setFont(font, size)
    lines = simpleSplit(text or "—", font, size, width)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1][:-1] + "…"]
    for line in lines:
        c.drawString(x, y, line)
        y -= leading
    return y


def _qr(c: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    widget = QrCodeWidget(url)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, x, y)


def _parties_shown(copy: AuthorizedCopy) -> tuple[bool, bool]:
    """Whether the cover names the parties, and whether with their RUN/RUT: the requester's own view of
    the expediente (privileged readers see everything; others only the names of a public expediente)."""
    cf = copy.case_file
    privileged = selectors.sees_restricted_metadata(copy.requested_by, cf)
    public = cf.access_level == AccessLevel.PUBLIC and not cf.sensitive_data
    return public or privileged, privileged


def render_cover(copy: AuthorizedCopy, *, included: int, total_entries: int, total_folios: int) -> bytes:
    cf, org = copy.case_file, copy.organization
    buf = io.BytesIO()
    c = _new_canvas(buf, copy)
    width, height = LETTER
    _band(c, width, height)
    c.setTitle(_("Authorized copy %(code)s") % {"code": copy.code})
    c.setFont("Helvetica-Bold", 14)
    c.drawString(2 * cm, height - 2.3 * cm, org.name)
    c.setFont("Helvetica", 10)
    c.drawString(2 * cm, height - 2.9 * cm, _("State code: %(code)s") % {"code": org.code})
    c.setFont("Helvetica-Bold", 18)
    heading = _("Authorized copy of the electronic expediente") if copy.is_whole else \
        _("Authorized copy of a document of the electronic expediente")
    c.drawString(2 * cm, height - 4.2 * cm, heading)
    c.setFont("Helvetica-Bold", 24)
    c.drawString(2 * cm, height - 5.4 * cm, cf.iuie)
    y = height - 6.5 * cm
    label_x, value_x, value_w = 2 * cm, 7.0 * cm, width - 9.0 * cm

    def row(label: str, value: str, font: str = "Helvetica", size: float = 10) -> None:
        nonlocal y
        c.setFont("Helvetica-Bold", 10)
        c.drawString(label_x, y, f"{label}:")
        y = _wrapped(c, value, value_x, y, value_w, font=font, size=size, max_lines=4) - 3

    row(_("Title"), cf.title)
    row(_("Subject"), cf.subject)
    if cf.procedure_code:
        row(_("CPAT procedure"), f"{cf.procedure_code} · {cf.procedure_name}")
    row(_("Responsible unit"), cf.unit.name)
    row(_("State"), str(cf.get_state_display()))
    row(_("Opened"), f"{_utc(cf.created_at)} UTC ({_local(cf.created_at, org.time_zone)} {org.time_zone})")
    if cf.closed_at:
        row(_("Closed"), f"{_utc(cf.closed_at)} UTC")
    show, with_rut = _parties_shown(copy)
    if show:
        parties = [f"{p.name}{f' ({p.rut})' if p.rut and with_rut else ''} — {p.get_relation_display()}"
                   for p in cf.parties.all()]
        row(_("Parties"), "; ".join(parties) or "—")
    else:
        row(_("Parties"), _("Reserved (access level: %(level)s)") % {"level": cf.get_access_level_display()})
    if copy.entry is not None:
        entry = copy.entry
        row(_("Document"), f"{entry.identifier} · {entry.title}")
        row(_("Type"), str(DocumentType(entry.document_type).label))
        row(_("Incorporated (UTC)"), _utc(entry.incorporated_at))
        row(_("Folios"), entry.folios)
        row(_("SHA-256 of the original"), entry.sha256, font="Courier", size=8)
    else:
        row(_("Documents"), _("%(n)s of %(total)s documents of the index are reproduced in this copy.") % {
            "n": included, "total": total_entries})
        row(_("Folios"), str(total_folios))
    row(_("Certified at"), f"{_utc(copy.requested_at)} UTC ({_local(copy.requested_at, org.time_zone)})")
    row(_("Index hash (SHA-256)"), copy.index_hash, font="Courier", size=8)
    y -= 6
    statement = _(
        "%(org)s certifies, through Folio, that this is a faithful copy of the electronic expediente %(iuie)s "
        "as its electronic index stood on %(date)s UTC. Each page carries its folio. Documents the requester "
        "may not read are not reproduced; their place in the foliation is kept."
    ) % {"org": org.name, "iuie": cf.iuie, "date": _utc(copy.requested_at)}
    _wrapped(c, statement, 2 * cm, y, width - 4 * cm, size=9, max_lines=8)
    url = verification_url(copy.code)
    _qr(c, url, 2 * cm, 2 * cm, 3.6 * cm)
    c.setFont("Helvetica-Bold", 12)
    c.drawString(6.2 * cm, 4.8 * cm, _("Verification code: %(code)s") % {"code": copy.code})
    c.setFont("Helvetica", 9)
    c.drawString(6.2 * cm, 4.2 * cm, _("Verify this copy at:"))
    c.drawString(6.2 * cm, 3.7 * cm, url)
    c.showPage()
    c.save()
    return buf.getvalue()


def _index_rows(copy: AuthorizedCopy) -> Iterator[IndexEntry]:
    return (IndexEntry.objects.filter(case_file_id=copy.case_file_id, position__lte=copy.last_position)
            .select_related("nested_case_file").order_by("position").iterator(chunk_size=200))


def index_page_count(entries: int) -> int:
    return max(1, math.ceil(entries / INDEX_ROWS_PER_PAGE))


def render_index_pages(copy: AuthorizedCopy) -> Iterator[bytes]:
    """The electronic index, one PDF page at a time (titles the requester may not see are redacted)."""
    rows: list[IndexEntry] = []
    page_number = 0
    for entry in _index_rows(copy):
        rows.append(entry)
        if len(rows) == INDEX_ROWS_PER_PAGE:
            page_number += 1
            yield _render_index_page(copy, rows, page_number)
            rows = []
    if rows or page_number == 0:
        yield _render_index_page(copy, rows, page_number + 1)


def _render_index_page(copy: AuthorizedCopy, rows: list[IndexEntry], page_number: int) -> bytes:
    redacted = set(copy.redacted_positions)
    included = set(copy.included_positions)
    width, height = LETTER
    buf = io.BytesIO()
    c = _new_canvas(buf, copy)
    _band(c, width, height)
    c.setFont("Helvetica-Bold", 13)
    c.drawString(2 * cm, height - 2.2 * cm, _("Electronic index — %(iuie)s") % {"iuie": copy.case_file.iuie})
    c.setFont("Helvetica", 8)
    c.drawRightString(width - 2 * cm, height - 2.2 * cm, _("Page %(n)s of the index · times in UTC") % {
        "n": page_number})
    y = height - 3.1 * cm
    cols = [(2 * cm, "#"), (2.9 * cm, _("Document")), (11.6 * cm, _("Type")), (14.6 * cm, _("Incorporated (UTC)")),
            (18.2 * cm, _("Folios"))]
    c.setFont("Helvetica-Bold", 8)
    for x, label in cols:
        c.drawString(x, y, label)
    y -= 4
    c.line(2 * cm, y, width - 1.5 * cm, y)
    y -= 11
    for entry in rows:
        title = _("Restricted document") if entry.position in redacted else entry.title
        if entry.position not in included and entry.position not in redacted and entry.file_id:
            title = _("%(title)s [not reproduced]") % {"title": title}
        c.setFont("Helvetica", 8)
        c.drawString(2 * cm, y, str(entry.position))
        lines = simpleSplit(title, "Helvetica", 8, 8.4 * cm)[:2]
        for i, line in enumerate(lines):
            c.drawString(2.9 * cm, y - 9 * i, line)
        c.drawString(11.6 * cm, y, str(DocumentType(entry.document_type).label)[:18])
        c.drawString(14.6 * cm, y, _utc(entry.incorporated_at))
        c.drawString(18.2 * cm, y, entry.folios)
        c.setFont("Courier", 6.5)
        c.drawString(2.9 * cm, y - 9 * len(lines), f"SHA-256 {entry.sha256 or '—'}")
        y -= 9 * (len(lines) + 1) + 6
    if not rows:
        c.setFont("Helvetica", 10)
        c.drawString(2 * cm, y, _("The index is empty."))
    c.showPage()
    c.save()
    return buf.getvalue()


def render_placeholder(copy: AuthorizedCopy, entry: IndexEntry, reason: str) -> bytes:
    """One page standing for a document that is not reproduced page by page."""
    buf = io.BytesIO()
    c = _new_canvas(buf, copy)
    width, height = LETTER
    c.setFont("Helvetica-Bold", 13)
    redacted = entry.position in set(copy.redacted_positions)
    title = _("Restricted document") if redacted else entry.title
    y = _wrapped(c, f"{entry.position}. {title}", 2 * cm, height - 3.4 * cm, width - 6 * cm,
                 font="Helvetica-Bold", size=13, max_lines=3) - 8
    y = _wrapped(c, reason, 2 * cm, y, width - 4 * cm, size=10, max_lines=6) - 8
    facts: list[tuple[str, str]] = [(_("Folios"), entry.folios), (_("Incorporated (UTC)"), _utc(entry.incorporated_at))]
    if entry.file_id and not redacted:
        stored = entry.file
        assert stored is not None
        facts += [(_("File name"), stored.original_name), (_("Type"), stored.content_type),
                  (_("Size"), _("%(n)s bytes") % {"n": stored.size})]
    if entry.is_paper and not redacted:
        facts += [(_("Description"), entry.description), (_("Physical location"), entry.physical_location)]
    if entry.nested_case_file_id and entry.nested_case_file is not None:
        facts.append((_("Accumulated expediente"), entry.nested_case_file.iuie))
    if entry.sha256:
        facts.append((_("SHA-256"), entry.sha256))
    for label, value in facts:
        c.setFont("Helvetica-Bold", 10)
        c.drawString(2 * cm, y, f"{label}:")
        font, size = ("Courier", 8) if label == _("SHA-256") else ("Helvetica", 10)
        y = _wrapped(c, value, 6.2 * cm, y, width - 8.2 * cm, font=font, size=size, max_lines=4) - 3
    _draw_stamp(c, width, height, _stamp_text(copy, _folios(entry.first_page, entry.last_page)))
    c.showPage()
    c.save()
    return buf.getvalue()


def render_image_pages(copy: AuthorizedCopy, entry: IndexEntry, path: Path) -> Iterator[bytes]:
    """Each frame of an image becomes one page, fitted into a letter page, stamped with its folio."""
    with Image.open(path) as img:
        frames = getattr(img, "n_frames", 1)
        for index in range(frames):
            img.seek(index)
            frame = img.convert("RGB")
            landscape = frame.width > frame.height
            width, height = (LETTER[1], LETTER[0]) if landscape else LETTER
            buf = io.BytesIO()
            c = _new_canvas(buf, copy, (width, height))
            margin = 1.2 * cm
            scale = min((width - 2 * margin) / frame.width, (height - 2 * margin - 1 * cm) / frame.height)
            w, h = frame.width * scale, frame.height * scale
            c.drawImage(ImageReader(frame), (width - w) / 2, margin, w, h)
            folio = entry.first_page + index
            _draw_stamp(c, width, height, _stamp_text(copy, _folios(folio, folio)))
            c.showPage()
            c.save()
            frame.close()
            yield buf.getvalue()


def _render_stamps(copy: AuthorizedCopy, pages: list[tuple[float, float, int]]) -> bytes:
    """One stamp page per (width, height, folio), drawn with reportlab."""
    buf = io.BytesIO()
    c = _new_canvas(buf, copy)
    for width, height, folio in pages:
        c.setPageSize((width, height))
        _draw_stamp(c, width, height, _stamp_text(copy, _folios(folio, folio)))
        c.showPage()
    c.save()
    return buf.getvalue()


def _box(page: Any) -> pikepdf.Rectangle:
    box = _inherited(page.obj, "/CropBox") or _inherited(page.obj, "/MediaBox") or pikepdf.Array([0, 0, 612, 792])
    return pikepdf.Rectangle(box)


def add_stamped_pdf(writer: PdfStreamWriter, copy: AuthorizedCopy, entry: IndexEntry, pdf: pikepdf.Pdf,
                    progress: Callable[[int], None]) -> int:
    """Copy a PDF document page by page into ``writer``, overlaying its folio on each page."""
    stamps: pikepdf.Pdf | None = None
    batch_start = -1

    def stamp(index: int, page: Any) -> None:
        nonlocal stamps, batch_start
        if stamps is None or index >= batch_start + STAMP_BATCH:
            if stamps is not None:
                stamps.close()
            batch_start = index
            specs = []
            for i in range(index, min(index + STAMP_BATCH, len(pdf.pages))):
                box = _box(pdf.pages[i])
                # pikepdf turns the overlay with the page's /Rotate: draw it at the size the page is shown
                rotate = int(_inherited(pdf.pages[i].obj, "/Rotate") or 0) % 180
                width, height = (box.height, box.width) if rotate else (box.width, box.height)
                specs.append((float(width), float(height), entry.first_page + i))
            stamps = pikepdf.open(io.BytesIO(_render_stamps(copy, specs)))
        page.add_overlay(stamps.pages[index - batch_start], _box(page))
        if index and index % PROGRESS_EVERY == 0:
            progress(index)

    try:
        return writer.add_pdf(pdf, stamp)
    finally:
        if stamps is not None:
            stamps.close()


class DocumentAltered(Exception):
    """A stored document no longer matches the SHA-256 of its index entry: it must not be certified."""


@contextlib.contextmanager
def verified_copy(entry: IndexEntry, tmp: Path) -> Iterator[Path]:
    """A path to the document's bytes (the storage's own path when it has one, else a chunked copy), after
    checking them against the SHA-256 of the index entry."""
    stored = entry.file
    assert stored is not None
    digest = hashlib.sha256()
    try:
        path = Path(default_storage.path(stored.storage_name))
    except NotImplementedError:
        path = tmp / f"src-{stored.pk}"
        with file_open(stored) as src, path.open("wb") as dst:
            for chunk in iter(partial(src.read, 256 * 1024), b""):
                digest.update(chunk)
                dst.write(chunk)
        copied = True
    else:
        with path.open("rb") as src:
            for chunk in iter(partial(src.read, 256 * 1024), b""):
                digest.update(chunk)
        copied = False
    try:
        if digest.hexdigest() != entry.sha256:
            raise DocumentAltered(f"document {entry.position} of {entry.case_file_id} differs from its SHA-256")
        yield path
    finally:
        if copied:
            path.unlink(missing_ok=True)


# --- planning and building ---------------------------------------------------------------------------

def _reproduced(entry: IndexEntry, included: set[int]) -> bool:
    return entry.position in included and entry.file is not None and (entry.file.is_pdf or entry.file.is_image)


def _copy_entries(copy: AuthorizedCopy) -> Iterator[IndexEntry]:
    qs = IndexEntry.objects.filter(case_file_id=copy.case_file_id).select_related("file", "nested_case_file")
    if copy.entry_id:
        return qs.filter(pk=copy.entry_id).iterator()
    return qs.filter(position__lte=copy.last_position).order_by("position").iterator(chunk_size=200)


def plan_pages(copy: AuthorizedCopy) -> int:
    """How many pages the copy will have (the progress bar's total)."""
    included = set(copy.included_positions)
    total = 1 if copy.entry_id else 1 + index_page_count(copy.last_position)
    for entry in _copy_entries(copy):
        total += entry.pages if _reproduced(entry, included) else 1
    return total


def _placeholder_reason(entry: IndexEntry, included: set[int]) -> str:
    if entry.nested_case_file_id:
        return _("Accumulated expediente: its documents are certified in a copy of that expediente. Its index "
                 "hash is given below.")
    if entry.is_paper:
        return _("Paper item of this hybrid expediente: it has no digital content. It is kept at the physical "
                 "location given below.")
    if entry.position not in included:
        return _("This document is not reproduced: the access level does not allow the requester to read it. "
                 "Its folios are kept.")
    return _("This file is not a PDF or an image, so it cannot be reproduced as pages. The original is kept "
             "byte for byte and identified by the SHA-256 below.")


def render_copy(copy: AuthorizedCopy, out_path: Path, progress: Callable[[int], None]) -> int:
    """Write the copy's PDF to ``out_path``; ``progress(pages_done)`` is called as pages are written."""
    included = set(copy.included_positions)
    total_entries = copy.last_position if copy.is_whole else 1
    total_folios = (IndexEntry.objects.filter(case_file_id=copy.case_file_id, position=copy.last_position)
                    .values_list("last_page", flat=True).first() or 0)
    with tempfile.TemporaryDirectory(prefix="folio-copy-") as scratch, out_path.open("wb") as out:
        tmp = Path(scratch)
        writer = PdfStreamWriter(out)
        writer.add_bytes(render_cover(copy, included=len(included), total_entries=total_entries,
                                      total_folios=total_folios))
        progress(writer.page_count)
        if copy.is_whole:
            for page in render_index_pages(copy):
                writer.add_bytes(page)
            progress(writer.page_count)
        for entry in _copy_entries(copy):
            done_before = writer.page_count
            if _reproduced(entry, included):
                assert entry.file is not None
                with verified_copy(entry, tmp) as path:
                    if entry.file.is_pdf:
                        try:
                            pdf = pikepdf.open(path)
                        except pikepdf.PdfError as exc:
                            log.warning("copy %s: document %s cannot be opened: %s", copy.code, entry.pk, exc)
                            writer.add_bytes(render_placeholder(copy, entry, _(
                                "The content of this document could not be reproduced as pages. The original is "
                                "kept byte for byte and identified by the SHA-256 below.")))
                        else:
                            def doc_progress(n: int, base: int = done_before) -> None:
                                progress(base + n)

                            with pdf:
                                add_stamped_pdf(writer, copy, entry, pdf, doc_progress)
                    else:
                        for page in render_image_pages(copy, entry, path):
                            writer.add_bytes(page)
            else:
                writer.add_bytes(render_placeholder(copy, entry, _placeholder_reason(entry, included)))
            progress(writer.page_count)
        title = _("Authorized copy %(code)s") % {"code": copy.code}
        writer.close(title=f"{title} — {copy.case_file.iuie}", author=copy.organization.name)
        return writer.page_count


# --- services: request, build, finish -------------------------------------------------------------------

def _facts(copy: AuthorizedCopy, pages: int) -> list[tuple[str, str]]:
    cf, org = copy.case_file, copy.organization
    public_cf = cf.access_level == AccessLevel.PUBLIC and not cf.sensitive_data
    facts: list[tuple[str, str]] = [
        (_("Organization"), f"{org.name} ({org.code})"),
        (_("Expediente (IUIe)"), cf.iuie),
    ]
    if public_cf:
        facts.append((_("Title"), cf.title))
    if copy.entry is not None:
        entry = copy.entry
        public_doc = entry.access_level == AccessLevel.PUBLIC and not entry.sensitive_data
        facts += [(_("What was certified"), _("Document %(id)s of the expediente") % {"id": entry.identifier})]
        if public_doc:
            facts.append((_("Document"), entry.title))
        facts += [(_("Folios"), entry.folios), (_("SHA-256 of the original"), entry.sha256)]
    else:
        facts += [(_("What was certified"), _("The whole expediente: cover, electronic index and documents")),
                  (_("Documents reproduced"), _("%(n)s of %(total)s") % {
                      "n": len(copy.included_positions), "total": copy.last_position})]
    facts += [
        (_("Certified at (UTC)"), _utc(copy.requested_at)),
        (_("Index hash (SHA-256)"), copy.index_hash),
        (_("Pages of the copy"), str(pages)),
        (_("Requested by"), copy.requested_by.display_name),
    ]
    return facts


def _finish(copy: AuthorizedCopy, path: Path, pages: int) -> AuthorizedCopy:
    """Store the PDF and issue its verification record; one transaction with its audit row."""
    from folio.case_files.services import _audit

    cf = copy.case_file
    suffix = f"-{copy.entry.identifier}" if copy.entry is not None else ""
    with atomic_with_files():
        stored = file_store_path(organization=copy.organization, name=f"copia-autorizada-{cf.iuie}{suffix}.pdf",
                                 path=path, actor=copy.requested_by, with_text=False)
        public_original = None
        if copy.entry is not None and copy.entry.access_level == AccessLevel.PUBLIC \
                and not copy.entry.sensitive_data and cf.access_level == AccessLevel.PUBLIC:
            public_original = copy.entry.file
        title = (_("Authorized copy of document %(id)s") % {"id": copy.entry.identifier} if copy.entry is not None
                 else _("Authorized copy of expediente %(iuie)s") % {"iuie": cf.iuie})
        record = verification_issue(organization=copy.organization, kind=VerificationKind.AUTHORIZED_COPY, obj=copy,
                                    title=title, facts=_facts(copy, pages), code=copy.code,
                                    public_original=public_original)
        verification_attach_document(record=record, document=stored)
        copy.file, copy.verification, copy.status = stored, record, CopyStatus.DONE
        copy.pages_done = copy.pages_total = pages
        copy.finished_at = timezone.now()
        copy.error = ""
        copy.save(update_fields=["file", "verification", "status", "pages_done", "pages_total", "finished_at",
                                 "error"])
        _audit("case_file.copy_ready", None, cf, None, code=copy.code, pages=pages, sha256=stored.sha256,
               document=copy.entry.position if copy.entry is not None else None)
    return copy


def build(copy_id: int) -> AuthorizedCopy | None:
    """Build a requested copy (the background task's body). Idempotent: a finished copy is left alone."""
    copy = (AuthorizedCopy.objects.select_related("case_file__organization", "case_file__unit", "organization",
                                                  "requested_by", "entry__file")
            .filter(pk=copy_id).first())
    if copy is None or copy.status == CopyStatus.DONE:
        return copy
    with translation.override(settings.LANGUAGE_CODE):
        try:
            copy.pages_total = plan_pages(copy)
            copy.status, copy.started_at, copy.pages_done = CopyStatus.RUNNING, timezone.now(), 0
            copy.save(update_fields=["pages_total", "status", "started_at", "pages_done"])

            def progress(done: int) -> None:
                AuthorizedCopy.objects.filter(pk=copy.pk).update(pages_done=min(done, copy.pages_total))

            with tempfile.TemporaryDirectory(prefix="folio-copy-out-") as tmp:
                out = Path(tmp) / "copia.pdf"
                pages = render_copy(copy, out, progress)
                return _finish(copy, out, pages)
        except Exception as exc:
            log.exception("authorized copy %s failed", copy.code)
            _fail(copy, exc)
            if copy.entry_id:
                raise
            return copy


def _fail(copy: AuthorizedCopy, exc: Exception) -> None:
    from folio.case_files.services import _audit

    message = _("The copy could not be built. Request it again; if it fails again, tell the administrator.")
    AuthorizedCopy.objects.filter(pk=copy.pk).update(status=CopyStatus.FAILED, error=message[:500],
                                                     finished_at=timezone.now())
    copy.status, copy.error = CopyStatus.FAILED, message
    if not copy.entry_id:
        with transaction.atomic():
            _audit("case_file.copy_failed", None, copy.case_file, None, code=copy.code,
                   error=f"{type(exc).__name__}: {exc}"[:300])


def request_copy(*, actor: Any, case_file: CaseFile, entry: IndexEntry | None = None,
                 ip: str | None = None) -> AuthorizedCopy:
    """Ask for a copia autorizada of ``entry`` (built now) or of the whole expediente (built in the
    background: returns the queued row). ``case_file`` must come from ``selectors.case_file_get`` for
    ``actor``. Only what ``actor`` may read is reproduced; a document they may not read is refused."""
    from folio.case_files.services import _audit, _recording_refusals, case_file_access_record

    with _recording_refusals(actor, case_file, "copy", ip):
        if case_file.state == CaseFileState.ELIMINATED:
            from folio.case_files.services import ConflictError

            raise ConflictError(_("The documents of an eliminated expediente were removed: there is nothing to "
                                  "certify."))
        if not perms.can_request_copy(actor, case_file):
            raise PermissionDenied(_("You cannot request authorized copies of this expediente."))
        views = selectors.index_entries_for(actor, case_file)
        if entry is not None:
            view = next((v for v in views if v.entry.pk == entry.pk), None)
            if view is None:
                raise ValidationError({"entry_id": [_("The document is not in this expediente.")]})
            if view.entry.nested_case_file_id:
                raise ValidationError({"entry_id": [_(
                    "An accumulated expediente is certified from its own page.")]})
            if view.entry.is_paper:
                raise ValidationError({"entry_id": [_("A paper item has no digital content to certify.")]})
            if not view.can_open:
                raise PermissionDenied(_("You may not read this document, so you cannot get a copy of it."))
            chosen = [view]
        else:
            if not views:
                from folio.case_files.services import ConflictError

                raise ConflictError(_("The index is empty: there is nothing to certify."))
            chosen = views
    included = [v.entry.position for v in chosen if v.can_open and v.entry.file_id]
    redacted = [v.entry.position for v in views if v.redacted]
    whole_hash = index_hash(case_file, selectors.all_entries(case_file))
    if entry is not None:
        entry = chosen[0].entry
    with atomic_with_files():
        copy = AuthorizedCopy.objects.create(
            organization_id=case_file.organization_id, case_file=case_file, entry=entry, requested_by=actor,
            code=new_code(), status=CopyStatus.QUEUED, included_positions=included, redacted_positions=redacted,
            last_position=views[-1].entry.position, index_hash=whole_hash, requested_at=timezone.now())
        _audit("case_file.copy", actor, case_file, ip, code=copy.code,
               scope="document" if entry is not None else "expediente",
               document=entry.position if entry is not None else None, included=len(included),
               index_hash=whole_hash)
        for view in chosen:  # DS 10 art. 37: reading restricted or sensitive documents is logged
            if view.entry.position in included:
                case_file_access_record(actor=actor, case_file=case_file, entry=view.entry, what="copy", ip=ip)
        if entry is not None:
            built = build(copy.pk)
            assert built is not None
            return built
        copy_id = copy.pk
        transaction.on_commit(lambda: _enqueue(copy_id))
    return copy


def _enqueue(copy_id: int) -> None:
    from folio.case_files.tasks import build_case_file_copy

    build_case_file_copy.enqueue(copy_id)
