"""Rendering an act to PDF/A-2b with WeasyPrint: embedded Roboto from Folio's own static files, no network.

The signature block reserves one empty box per signer; WeasyPrint reports where each box landed (the
anchors of its ``id``), and those boxes are where the signing engine draws each visible stamp. A PDF is
rendered once with its number, at the first signature; later signers sign that same file (incremental
updates), never a new rendering.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format

PX_TO_PT = 0.75  # WeasyPrint lays out in CSS pixels (1/96 in); PDF user space is in points (1/72 in).
FONT_DIR = Path(settings.BASE_DIR) / "folio" / "static" / "vendor" / "fonts"
_local = threading.local()
# WeasyPrint reports every layout step, and fontTools every font it decodes, at INFO: keep them quiet.
for _name in ("weasyprint.progress", "fontTools"):
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


def render_act(data: RenderInput) -> RenderedPdf:
    from weasyprint import CSS, HTML

    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string("acts/pdf/act.html", {
            "d": data,
            "date_text": spanish_date(data.date) if data.date else "",
            "body_paragraphs": _paragraphs(data.body),
            "antecedents_lines": [line for line in data.antecedents.splitlines() if line.strip()],
            "distribution_lines": [line for line in data.distribution.splitlines() if line.strip()],
            "closing_lines": [line for line in data.closing.splitlines() if line.strip()],
        })
    css = render_to_string("acts/pdf/act.css", {"font_dir": FONT_DIR.resolve().as_uri()})
    fetcher = _LocalFilesOnly()
    config = _font_config()
    document = HTML(string=html, base_url=FONT_DIR.resolve().as_uri() + "/", url_fetcher=fetcher).render(
        stylesheets=[CSS(string=css, font_config=config, url_fetcher=fetcher)], font_config=config)
    boxes: dict[int, tuple[int, tuple[float, float, float, float]]] = {}
    for index, page in enumerate(document.pages):
        height_pt = page.height * PX_TO_PT
        for name, (x1, y1, x2, y2) in page.anchors.items():
            if name.startswith("firma-"):
                position = int(name.removeprefix("firma-"))
                boxes[position] = (index, (round(x1 * PX_TO_PT, 2), round(height_pt - y2 * PX_TO_PT, 2),
                                           round(x2 * PX_TO_PT, 2), round(height_pt - y1 * PX_TO_PT, 2)))
    identifier = hashlib.md5(data.identifier.encode(), usedforsecurity=False).hexdigest().encode()
    pdf = document.write_pdf(pdf_variant="pdf/a-2b", pdf_identifier=identifier)
    return RenderedPdf(pdf=pdf, pages=len(document.pages), boxes=boxes)


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
