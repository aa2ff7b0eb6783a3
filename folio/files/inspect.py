"""Recognising and checking uploaded files by their bytes, never by the name the client sent."""

from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError


class FileRejected(ValueError):
    """An upload Folio refuses; the message is Spanish and safe to show."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Inspection:
    content_type: str
    extension: str
    pages: int | None
    text: str


# What Folio accepts, by family. Office files are kept as records; only PDF and text are indexed.
ALLOWED = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "text/plain": ".txt",
    "application/xml": ".xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.oasis.opendocument.text": ".odt",
}
MAX_TEXT_CHARS = 200_000


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-") or (b"%PDF-" in head[:1024]):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml"):
        return "application/xml"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # A cut in the middle of a multi-byte character at the end of the sample is fine.
        try:
            head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if b"\x00" in head:
        return None
    return "text/plain"


def _office_type(data: bytes | Path) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                mime = zf.read("mimetype").decode("ascii", "replace").strip()
                if mime == "application/vnd.oasis.opendocument.text":
                    return mime
            if "word/document.xml" in names:
                return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            if "xl/workbook.xml" in names:
                return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    except zipfile.BadZipFile:
        raise FileRejected(_("The file is damaged and cannot be read."), "corrupt") from None
    return None


# PDFium is not thread-safe (pypdfium2: "do not call it from several threads at the same time"); the web server
# runs threads (gunicorn --threads) and submissions inspect PDFs concurrently, which crashed the process. Every
# use of PDFium in this module holds this lock; other modules may take it too.
PDFIUM_LOCK = threading.RLock()


def render_pdf_page(data: bytes, page_no: int, *, scale: float) -> Any | None:
    """One page of a PDF as a PIL image for on-screen previews; None when the page does not exist."""
    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)
        try:
            if not 0 <= page_no < len(pdf):
                return None
            return pdf[page_no].render(scale=scale).to_pil()
        finally:
            pdf.close()


def _pdf(data: bytes | Path) -> tuple[int, str]:
    with PDFIUM_LOCK:
        return _pdf_unlocked(data)


def _pdf_unlocked(data: bytes | Path) -> tuple[int, str]:
    try:
        pdf = pdfium.PdfDocument(data if isinstance(data, bytes) else str(data))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise FileRejected(
                _("The PDF is password-protected. Upload it without encryption."), "encrypted"
            ) from None
        raise FileRejected(_("The PDF is damaged and cannot be read."), "corrupt") from None
    try:
        pages = len(pdf)
        if pages == 0:
            raise FileRejected(_("The PDF has no pages."), "corrupt")
        parts: list[str] = []
        size = 0
        for index in range(pages):
            page = pdf[index]
            textpage = page.get_textpage()
            chunk = textpage.get_text_bounded()
            textpage.close()
            page.close()
            parts.append(chunk)
            size += len(chunk)
            if size >= MAX_TEXT_CHARS:
                break
        return pages, "\n".join(parts)[:MAX_TEXT_CHARS]
    finally:
        pdf.close()


def inspect_bytes(data: bytes, *, max_bytes: int) -> Inspection:
    if not data:
        raise FileRejected(_("The file is empty."), "empty")
    if len(data) > max_bytes:
        raise FileRejected(
            _("The file exceeds the maximum size of %(mb)s MB.") % {"mb": max_bytes // (1024 * 1024)}, "too_large"
        )
    kind = sniff(data[:2048])
    if kind == "application/zip":
        kind = _office_type(data)
    if kind is None or kind not in ALLOWED:
        raise FileRejected(
            _("Unsupported file type. Accepted: PDF, PNG, JPEG, TIFF, TXT, XML, DOCX, XLSX and ODT."), "unsupported"
        )
    pages: int | None = None
    text = ""
    if kind == "application/pdf":
        pages, text = _pdf(data)
    elif kind.startswith("image/"):
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                pages = getattr(img, "n_frames", 1)
        except (UnidentifiedImageError, OSError, SyntaxError):
            raise FileRejected(_("The image is damaged and cannot be read."), "corrupt") from None
    elif kind in ("text/plain", "application/xml"):
        text = data.decode("utf-8", errors="replace")[:MAX_TEXT_CHARS]
    # Null bytes break some databases' text columns and add nothing to search.
    return Inspection(kind, ALLOWED[kind], pages, text.replace("\x00", " "))


def inspect_file(path: Path, *, max_bytes: int | None, with_text: bool = True) -> Inspection:
    """``inspect_bytes`` for a file on disk, read in pieces (PDF and office files are opened by path, text
    is read up to the indexing limit), so that large generated or imported files never sit whole in memory.
    ``max_bytes`` None: no size limit (files Folio generates itself); ``with_text`` False: no text is
    extracted (files that are not searched, such as authorized copies)."""
    size = path.stat().st_size
    if not size:
        raise FileRejected(_("The file is empty."), "empty")
    if max_bytes is not None and size > max_bytes:
        raise FileRejected(
            _("The file exceeds the maximum size of %(mb)s MB.") % {"mb": max_bytes // (1024 * 1024)}, "too_large"
        )
    with path.open("rb") as fh:
        head = fh.read(2048)
    kind = sniff(head)
    if kind == "application/zip":
        kind = _office_type(path)
    if kind is None or kind not in ALLOWED:
        raise FileRejected(
            _("Unsupported file type. Accepted: PDF, PNG, JPEG, TIFF, TXT, XML, DOCX, XLSX and ODT."), "unsupported"
        )
    pages: int | None = None
    text = ""
    if kind == "application/pdf" and not with_text:
        with PDFIUM_LOCK:
            try:
                pdf = pdfium.PdfDocument(str(path))
            except pdfium.PdfiumError:
                raise FileRejected(_("The PDF is damaged and cannot be read."), "corrupt") from None
            pages = len(pdf)
            pdf.close()
    elif kind == "application/pdf":
        pages, text = _pdf(path)
    elif kind.startswith("image/"):
        try:
            with Image.open(path) as img:
                img.verify()
            with Image.open(path) as img:
                pages = getattr(img, "n_frames", 1)
        except (UnidentifiedImageError, OSError, SyntaxError):
            raise FileRejected(_("The image is damaged and cannot be read."), "corrupt") from None
    elif kind in ("text/plain", "application/xml") and with_text:
        with path.open("rb") as fh:
            text = fh.read(MAX_TEXT_CHARS * 4).decode("utf-8", errors="replace")[:MAX_TEXT_CHARS]
    return Inspection(kind, ALLOWED[kind], pages, text.replace("\x00", " "))
