"""Rendering an act to PDF/A-2b with WeasyPrint: embedded Roboto from Folio's own static files, no network.

The signature block reserves one empty box per signer; WeasyPrint reports where each box landed (the
anchors of its ``id``), and those boxes are where the signing engine draws each visible stamp. Later signers
sign the file of the first signature (incremental updates), never a new rendering.

The number, the date and the verification code are only known at the first signature. So that signing does
not pay a WeasyPrint rendering, the document is laid out once when its content is frozen (``render_layout``,
at submission): the same document with those three texts laid out but not drawn ("slots": the position, size,
weight and colour of each, read from WeasyPrint's layout). At the first signature ``fill_layout`` writes the
real texts into the slots — a small content stream with an embedded Roboto subset (``core.pdffonts``) added
with pikepdf, plus the title in the document information and XMP metadata — which keeps the file PDF/A-2b.
A layout belongs to exactly what it shows: ``layout_fingerprint`` covers everything but the three texts, and
a text that would not fit its slot (or a character Roboto lacks) makes the caller render the whole document
instead (``render_act``), so the signed PDF always reads as a full rendering would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
import threading
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext

PX_TO_PT = 0.75  # WeasyPrint lays out in CSS pixels (1/96 in); PDF user space is in points (1/72 in).
FONT_DIR = Path(settings.BASE_DIR) / "folio" / "static" / "vendor" / "fonts"
_local = threading.local()
# WeasyPrint reports every layout step, and fontTools every font it decodes, at INFO: keep them quiet.
for _name in ("weasyprint.progress", "fontTools", "fontTools.merge", "fontTools.subset"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass
class SignerLine:
    position: int
    name: str
    post: str
    capacity_label: str = ""


@dataclass
class RenderInput:
    """Everything the document shows. ``number_display`` empty prints "S/N"; ``draft`` adds a watermark."""

    organization_name: str
    commune: str
    letterhead: list[str]
    kind_label: str
    number_display: str
    antecedents_label: str
    antecedents: str
    subject: str
    body: str
    closing: str
    distribution: str
    show_from_to: bool
    from_lines: list[str]
    to_lines: list[str]
    date: dt.date | None
    signers: list[SignerLine]
    endorsements: list[str] = field(default_factory=list)
    verification_code: str = ""
    verification_url: str = ""
    draft: bool = False
    identifier: str = ""


@dataclass
class RenderedPdf:
    pdf: bytes
    pages: int
    # step position -> (page index, (llx, lly, urx, ury) in PDF points)
    boxes: dict[int, tuple[int, tuple[float, float, float, float]]]


class _LocalFilesOnly:
    """A WeasyPrint URL fetcher that only opens Folio's bundled fonts (and data: URIs): rendering never
    touches the network nor any other file, whatever the text of an act contains."""

    def __init__(self) -> None:
        from weasyprint import URLFetcher

        self._inner = URLFetcher(allowed_protocols={"file", "data"})
        self._root = FONT_DIR.resolve()

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("file://"):
            from urllib.parse import unquote, urlparse

            path = Path(unquote(urlparse(url).path)).resolve()
            if self._root not in path.parents:
                raise ValueError(f"refused: {url}")
        elif not url.startswith("data:"):
            raise ValueError(f"refused: {url}")
        return self._inner.fetch(url, headers)

    def __call__(self, url: str) -> Any:
        return self.fetch(url)


def _font_config() -> Any:
    # FontConfiguration is not thread-safe; one per thread, reused (font loading is most of the cost).
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


def spanish_date(day: dt.date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return date_format(day, r"j \d\e F \d\e Y")


def _document(data: RenderInput, slots: dict[str, str] | None = None) -> Any:
    from weasyprint import CSS, HTML

    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("acts/pdf/act.html", {
            "d": data,
            "slots": slots,
            "date_text": spanish_date(data.date) if data.date else "",
            "body_paragraphs": _paragraphs(data.body),
            "antecedents_lines": [line for line in data.antecedents.splitlines() if line.strip()],
            "distribution_lines": [line for line in data.distribution.splitlines() if line.strip()],
            "closing_lines": [line for line in data.closing.splitlines() if line.strip()],
        })
    css = render_to_string("acts/pdf/act.css", {"font_dir": FONT_DIR.resolve().as_uri()})
    fetcher = _LocalFilesOnly()
    config = _font_config()
    return HTML(string=html, base_url=FONT_DIR.resolve().as_uri() + "/", url_fetcher=fetcher).render(
        stylesheets=[CSS(string=css, font_config=config, url_fetcher=fetcher)], font_config=config)


def _boxes(document: Any) -> dict[int, tuple[int, tuple[float, float, float, float]]]:
    boxes: dict[int, tuple[int, tuple[float, float, float, float]]] = {}
    for index, page in enumerate(document.pages):
        height_pt = page.height * PX_TO_PT
        for name, (x1, y1, x2, y2) in page.anchors.items():
            if name.startswith("firma-"):
                position = int(name.removeprefix("firma-"))
                boxes[position] = (index, (round(x1 * PX_TO_PT, 2), round(height_pt - y2 * PX_TO_PT, 2),
                                           round(x2 * PX_TO_PT, 2), round(height_pt - y1 * PX_TO_PT, 2)))
    return boxes


def _write(document: Any, identifier: str) -> bytes:
    digest = hashlib.md5(identifier.encode(), usedforsecurity=False).hexdigest().encode()
    return bytes(document.write_pdf(pdf_variant="pdf/a-2b", pdf_identifier=digest))


def render_act(data: RenderInput) -> RenderedPdf:
    document = _document(data)
    return RenderedPdf(pdf=_write(document, data.identifier), pages=len(document.pages), boxes=_boxes(document))


# --- the layout of a frozen act, and the texts written into it at the first signature -------------------------

LAYOUT_VERSION = "1"
SLOT_NAMES = ("number", "date", "verification")
TITLE_SLOT = "FOLIO-SLOT-NUMBER"  # stands for the number in the document title until it is known
PLACEHOLDER_CODE = "WWWW-WWWW-WWWW"  # as wide as any verification code


@dataclass
class Slot:
    """Where one text goes on one page, in PDF points (``baseline``: of its first line)."""

    name: str
    page: int
    x: float
    width: float
    baseline: float
    pitch: float  # line to line
    lines: int  # lines of the laid-out placeholder
    size: float
    weight: int
    color: list[float]
    align: str  # left | right | center
    centered: bool  # in a page-margin box (vertically centred): fewer or more lines move the first one


@dataclass
class Layout:
    pdf: bytes
    pages: int
    boxes: dict[int, tuple[int, tuple[float, float, float, float]]]
    slots: list[Slot]
    fingerprint: str


@lru_cache(maxsize=1)
def _sources_digest() -> str:
    import weasyprint

    digest = hashlib.sha256(f"{LAYOUT_VERSION}:{weasyprint.__version__}".encode())
    for name in ("acts/pdf/act.html", "acts/pdf/act.css"):
        digest.update(get_template(name).template.source.encode())  # type: ignore[attr-defined]
    return digest.hexdigest()


def layout_fingerprint(data: RenderInput) -> str:
    """What a layout shows: everything of ``data`` except the number, the date and the verification code."""
    shown = dataclasses.asdict(dataclasses.replace(data, number_display="", date=None, verification_code="",
                                                   verification_url="", identifier="", draft=False))
    payload = json.dumps([_sources_digest(), settings.LANGUAGE_CODE, _verification_sentence(PLACEHOLDER_CODE),
                          shown], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _verification_sentence(code: str) -> str:
    from folio.verification.services import verification_url

    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Electronically signed document. Verify it at %(url)s with the code %(code)s.") % {
            "url": verification_url(code), "code": code}


def _collapse(text: str) -> str:
    return " ".join(text.split())


def slot_texts(data: RenderInput) -> dict[str, str]:
    """The three texts as the full rendering prints them (whitespace collapsed as HTML does)."""
    date_text = spanish_date(data.date) if data.date else ""
    return {
        "number": _collapse(data.number_display),
        "date": _collapse(f"{data.commune.upper()}, {date_text}"),
        "verification": _collapse(_verification_sentence(data.verification_code)),
    }


def _rgb(color: Any) -> list[float]:
    try:
        return [round(float(c), 4) for c in color.to("srgb").coordinates]
    except (AttributeError, TypeError, ValueError):
        return [0.0, 0.0, 0.0]


def _align(style: Any) -> str:
    value = str(style["text_align_all"])
    return {"right": "right", "end": "right", "center": "center"}.get(value, "left")


def _slots(document: Any) -> list[Slot]:
    from weasyprint.formatting_structure import boxes as wp

    found: list[Slot] = []

    def walk(box: Any, page: int, height_pt: float, in_margin: bool) -> None:
        element = getattr(box, "element", None)
        name = (element.get("id") or "") if element is not None else ""
        if isinstance(box, wp.BlockBox) and name.startswith("slot-"):
            lines = [line for line in box.descendants() if isinstance(line, wp.LineBox)
                     and any(isinstance(t, wp.TextBox) for t in line.descendants())]
            if not lines:
                return
            first = next(t for t in lines[0].descendants() if isinstance(t, wp.TextBox))
            style = first.style
            found.append(Slot(
                name=name.removeprefix("slot-"), page=page, x=round(box.content_box_x() * PX_TO_PT, 3),
                width=round(box.width * PX_TO_PT, 3),
                baseline=round(height_pt - (first.position_y + first.baseline) * PX_TO_PT, 3),
                pitch=round(lines[0].height * PX_TO_PT, 3), lines=len(lines),
                size=round(style["font_size"] * PX_TO_PT, 4), weight=700 if style["font_weight"] >= 600 else 400,
                color=_rgb(style["color"]), align=_align(box.style), centered=in_margin))
            return
        in_margin = in_margin or isinstance(box, wp.MarginBox)
        for child in getattr(box, "children", None) or []:
            walk(child, page, height_pt, in_margin)

    for index, page in enumerate(document.pages):
        walk(page._page_box, index, page.height * PX_TO_PT, False)
    return found


def render_layout(data: RenderInput) -> Layout:
    """The document with room for the number, the date and the verification code (see the module's doc)."""
    placeholder_date = dt.date(2026, 9, 30)  # "septiembre": the longest month
    slots = {
        "title": TITLE_SLOT,
        "number": "N° 0000/0000",
        "date": f"{data.commune.upper()}, {spanish_date(placeholder_date)}",
        "verification": _verification_sentence(PLACEHOLDER_CODE),
    }
    document = _document(dataclasses.replace(data, draft=False), slots)
    found = _slots(document)
    if {s.name for s in found} != set(SLOT_NAMES):
        raise RuntimeError(f"act layout without its slots: {sorted(s.name for s in found)}")
    pdf = _write(document, data.identifier)
    return Layout(pdf=pdf, pages=len(document.pages), boxes=_boxes(document), slots=found,
                  fingerprint=layout_fingerprint(data))


def _wrap(font: Any, text: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and font.width(candidate, size) > width + 0.01:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def fill_layout(layout: Layout, data: RenderInput) -> RenderedPdf | None:
    """``layout`` with the number, date and verification code of ``data`` written in; None when a text does not
    fit its slot as laid out (or uses a character Roboto lacks): then render the whole document instead."""
    import pikepdf
    from pikepdf import Name

    from folio.core import pdffonts

    texts = slot_texts(data)
    fonts = {weight: pdffonts.Font(weight) for weight in pdffonts.WEIGHTS}
    used: dict[int, list[str]] = {weight: [] for weight in fonts}
    ops: dict[int, list[bytes]] = {}
    for slot in layout.slots:
        font, text = fonts[slot.weight], texts[slot.name]
        if not text or not font.covers(text):
            return None
        if slot.centered:
            lines = _wrap(font, text, slot.size, slot.width)
        else:
            if font.width(text, slot.size) > slot.width + 0.01:
                return None
            lines = [text]
        # A vertically centred box (the page margin) with more or fewer lines than laid out moves its first line.
        top = slot.baseline - (slot.lines - len(lines)) * slot.pitch / 2 if slot.centered else slot.baseline
        out = ops.setdefault(slot.page, [])
        out.append(b"%.4f %.4f %.4f rg" % tuple(slot.color))
        for index, line in enumerate(lines):
            line_width = font.width(line, slot.size)
            x = slot.x
            if slot.align == "right":
                x = slot.x + slot.width - line_width
            elif slot.align == "center":
                x = slot.x + (slot.width - line_width) / 2
            out.append(b"BT /FolioSlot%d %.4f Tf 1 0 0 1 %.3f %.3f Tm %s Tj ET" % (
                slot.weight, slot.size, x, top - index * slot.pitch, font.encode(line)))
            used[slot.weight].append(line)
    with pikepdf.open(io.BytesIO(layout.pdf)) as pdf:
        resources = {weight: pdffonts.add_to_pikepdf(pdf, fonts[weight].subset_for(texts_used))
                     for weight, texts_used in used.items() if texts_used}
        for page_index, page_ops in ops.items():
            page = pdf.pages[page_index]
            page_fonts = page.Resources.get("/Font")
            if page_fonts is None:
                page.Resources.Font = page_fonts = pikepdf.Dictionary()
            for weight, ref in resources.items():
                page_fonts[f"/FolioSlot{weight}"] = ref
            page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
            page.contents_add(pikepdf.Stream(pdf, b"\nQ\nq\n" + b"\n".join(page_ops) + b"\nQ\n"))
        number = texts["number"]
        info = pdf.docinfo
        if "/Title" in info:
            info[Name.Title] = pikepdf.String(str(info[Name.Title]).replace(TITLE_SLOT, number))
        metadata = pdf.Root.get("/Metadata")
        if metadata is not None:
            xmp = metadata.read_bytes().replace(TITLE_SLOT.encode(), xml_escape(number).encode())
            if metadata.get("/Filter") == Name.FlateDecode:
                metadata.write(zlib.compress(xmp), filter=Name.FlateDecode)
            else:
                metadata.write(xmp)
        out_buffer = io.BytesIO()
        pdf.save(out_buffer)
    return RenderedPdf(pdf=out_buffer.getvalue(), pages=layout.pages, boxes=layout.boxes)


def _paragraphs(text: str) -> list[list[str]]:
    """Blank lines separate paragraphs; single line breaks stay inside one."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line.rstrip())
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs
