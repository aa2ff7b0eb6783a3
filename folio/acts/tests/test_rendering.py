"""Acts rendered to PDF/A-2b with WeasyPrint: embedded Roboto, a document identifier, no network, "S/N" until
signed; the signed file keeps PDF/A-2b (RSA signatures do not bump the PDF version)."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
import pytest
from pikepdf import pdfa

from folio.acts import rendering, services
from folio.acts.models import ActKind
from folio.acts.tests.conftest import PASSPHRASE, draft, pdf_text, signed_bytes, submitted


def fonts_of(data: bytes) -> dict[str, bool]:
    """Every font of the document → whether its program is embedded."""
    found: dict[str, bool] = {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                found[str(obj.get("/FontName"))] = any(k in obj for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return found


def violations(data: bytes, tmp_path: Any) -> list[Any]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    report = pdfa.validate_written(path, "2b")
    return [f for f in report.findings if f.kind == "violation"]


def test_draft_preview_is_pdfa_2b_with_embedded_roboto_and_no_number(world: Any, templates: Any, alcaldesa: Any,
                                                                     tmp_path: Any) -> None:
    act = draft(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa],
                subject="Solicitud de información ñandú", recipient_name="Juan Pérez")
    data = services.act_preview(act).pdf
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        assert pdf.pdf_version in ("1.7", "1.6", "1.5", "1.4")
        assert len(pdf.trailer["/ID"]) == 2
    fonts = fonts_of(data)
    assert fonts and all(fonts.values()) and any("Roboto" in name for name in fonts)
    assert violations(data, tmp_path) == []
    text = pdf_text(data)
    assert "N° S/N" in text and "BORRADOR" in text and "ñandú" in text and "[fecha de la firma]" in text


def test_signed_act_keeps_pdfa_2b(world: Any, templates: Any, alcaldesa: Any, tmp_path: Any) -> None:
    act = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[alcaldesa])
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    data = signed_bytes(act)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        assert str(pdf.Root.get("/Version", "")) in ("", "/1.7")
    assert violations(data, tmp_path) == []
    text = pdf_text(data)
    assert "BORRADOR" not in text and act.number_display in text and act.verification_code.replace("-", "") in (
        text.replace("-", "").replace("\x02", ""))


def test_rendering_never_fetches_anything(world: Any, templates: Any, alcaldesa: Any, monkeypatch: Any) -> None:
    """Text that looks like markup is printed as text; no URL is ever opened while rendering."""
    opened: list[str] = []
    real = rendering._LocalFilesOnly.fetch

    def spy(self: Any, url: str, headers: Any = None) -> Any:
        opened.append(url)
        return real(self, url, headers)

    monkeypatch.setattr(rendering._LocalFilesOnly, "fetch", spy)
    act = draft(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa],
                body='<img src="http://198.51.100.7/x.png"><link rel="stylesheet" href="file:///etc/passwd"> hola',
                subject="<b>Materia</b>")
    text = pdf_text(services.act_preview(act).pdf)
    assert '<img src="http://198.51.100.7/x.png">' in text.replace("\r\n", "") or "198.51.100.7" in text
    assert "<b>Materia</b>" in text
    assert all(url.startswith("file://") and "/static/vendor/fonts/" in url for url in opened), opened
    fetcher = rendering._LocalFilesOnly()
    for url in ("http://198.51.100.7/x.png", "file:///etc/passwd", "https://example.org/f.css"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_signature_boxes_follow_the_signers(world: Any, templates: Any, alcaldesa: Any, director: Any) -> None:
    act = draft(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[director, alcaldesa],
                body="\n\n".join(["Considerando largo. " * 30] * 6))
    rendered = services.act_preview(act)
    assert set(rendered.boxes) == {1, 2}
    (page1, box1), (page2, box2) = rendered.boxes[1], rendered.boxes[2]
    assert page1 == page2 == rendered.pages - 1 >= 1  # a long decreto: the signatures are on its last page
    assert box1[2] <= box2[0] and box1[1] == box2[1] and box1[3] - box1[1] > 50
