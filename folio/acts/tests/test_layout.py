"""An act is laid out once when it is submitted (``ActLayout``); its first signature writes the number, the date
and the verification code into that layout (embedded Roboto, PDF/A kept) instead of rendering it again — and
renders the whole document whenever the layout no longer shows exactly what the act shows."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
from pypdf import PdfReader

from folio.acts import rendering, services
from folio.acts.models import ActKind, ActLayout, ActTemplate
from folio.acts.rendering import spanish_date
from folio.acts.tests.conftest import DOM_PASSPHRASE, PASSPHRASE, signed_bytes, submitted
from folio.acts.tests.test_rendering import fonts_of, violations
from folio.signatures.services import validate_pdf
from folio.signatures.tests.conftest import VALID_LINE, pdfsig, pdfsig_blocks, stamp_fonts


def _spy(monkeypatch: Any) -> dict[str, int]:
    calls = {"render_act": 0, "fill_layout": 0, "filled": 0}
    real_render, real_fill = services.render_act, services.fill_layout

    def render(data: Any) -> Any:
        calls["render_act"] += 1
        return real_render(data)

    def fill(layout: Any, data: Any) -> Any:
        calls["fill_layout"] += 1
        result = real_fill(layout, data)
        calls["filled"] += result is not None
        return result

    monkeypatch.setattr(services, "render_act", render)
    monkeypatch.setattr(services, "fill_layout", fill)
    return calls


def _pages_text(data: bytes) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages]


def test_the_first_signature_fills_the_layout_prepared_at_submission(
        world: Any, templates: Any, alcaldesa: Any, monkeypatch: Any, tmp_path: Any) -> None:
    act = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[alcaldesa],
                    subject="Aprueba convenio con la Junta de Vecinos Ñuble", body="\n\n".join(
                        ["Considerando que es necesario ordenar el uso de los espacios públicos. " * 12] * 6))
    layout = ActLayout.objects.get(act=act)
    assert layout.pages >= 2 and {s["name"] for s in layout.slots} == {"number", "date", "verification"}
    # The layout itself prints none of the three: they are laid out, not drawn.
    blank = " ".join(_pages_text(bytes(layout.pdf)))
    assert "N° 0000" not in blank and "WWWW" not in blank and "septiembre" not in blank

    calls = _spy(monkeypatch)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert calls == {"render_act": 0, "fill_layout": 1, "filled": 1}
    assert not ActLayout.objects.filter(act=act).exists()  # a cache: gone once the signed PDF is stored

    data = signed_bytes(act)
    pages = _pages_text(data)
    assert len(pages) == layout.pages
    assert act.number_display in pages[0] and f"LOTA, {spanish_date(act.document_date)}" in pages[0]
    for text in pages:  # the verification line is in every page's footer
        assert f"con el código {act.verification_code}." in text, text
        assert f"/verificar/{act.verification_code}" in text
    # PDF/A-2b: still valid, every font embedded (WeasyPrint's and the one the slots are written with).
    assert violations(data, tmp_path) == []
    fonts = fonts_of(data)
    assert all(fonts.values()) and sum("Roboto-Bold" in name for name in fonts) >= 2, fonts
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "2B"
        assert act.number_display in str(pdf.docinfo["/Title"]) and act.number_display in meta["dc:title"]
        assert rendering.TITLE_SLOT not in str(pdf.docinfo["/Title"])
    # The signature: valid for poppler and for Folio (pyHanko), its stamp in an embedded font too.
    assert pdfsig(data, tmp_path).count(VALID_LINE) == 1
    report = validate_pdf(pdf=data, organization=world.lota)
    assert report.intact and [s["valid"] and s["trusted"] for s in report.signatures] == [True]
    assert stamp_fonts(data) and all(stamp_fonts(data).values())


def test_what_the_layout_shows_must_still_hold_at_signing(world: Any, templates: Any, alcaldesa: Any,
                                                         monkeypatch: Any) -> None:
    """The signer's post changed after submission: the layout is not used, the document is rendered again."""
    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa])
    assert ActLayout.objects.filter(act=act).exists()
    alcaldesa.position = "Alcaldesa subrogante"
    alcaldesa.save(update_fields=["position"])
    calls = _spy(monkeypatch)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert calls == {"render_act": 1, "fill_layout": 0, "filled": 0}
    text = " ".join(_pages_text(signed_bytes(act)))
    assert "Alcaldesa subrogante" in text and act.number_display in text and act.verification_code in text


def test_a_number_too_wide_for_its_slot_renders_the_whole_document(world: Any, templates: Any, alcaldesa: Any,
                                                                   monkeypatch: Any) -> None:
    template = templates[ActKind.RESOLUTION]
    act = submitted(world.dom, template, signers=[alcaldesa])
    ActTemplate.objects.filter(pk=template.pk).update(
        numbering_scheme="Resolución Exenta de la Dirección de Administración y Finanzas N° {n}/{year}")
    calls = _spy(monkeypatch)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert calls == {"render_act": 1, "fill_layout": 1, "filled": 0}
    text = " ".join(_pages_text(signed_bytes(act)))
    assert "Dirección de Administración y Finanzas N° 1/" in text


def test_without_a_layout_the_signature_renders_the_document(world: Any, templates: Any, alcaldesa: Any,
                                                             monkeypatch: Any) -> None:
    act = submitted(world.dom, templates[ActKind.MEMORANDUM], signers=[alcaldesa])
    ActLayout.objects.filter(act=act).delete()
    calls = _spy(monkeypatch)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert calls["render_act"] == 1 and calls["fill_layout"] == 0
    assert act.number_display in " ".join(_pages_text(signed_bytes(act)))


def test_preparing_a_layout_never_breaks_a_submission(world: Any, templates: Any, alcaldesa: Any,
                                                      monkeypatch: Any) -> None:
    def broken(data: Any) -> Any:
        raise RuntimeError("WeasyPrint is having a bad day")

    monkeypatch.setattr(services, "render_layout", broken)
    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa])
    assert act.state == "in_signature" and not ActLayout.objects.filter(act=act).exists()
    monkeypatch.undo()
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert act.number == 1


def test_a_second_signer_signs_the_filled_layout_and_both_signatures_hold(
        world: Any, templates: Any, alcaldesa: Any, director: Any, tmp_path: Any) -> None:
    act = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[director, alcaldesa])
    assert ActLayout.objects.filter(act=act).exists()
    act = services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert act.state == "numbered"
    data = signed_bytes(act)
    blocks = pdfsig_blocks(pdfsig(data, tmp_path))
    assert len(blocks) == 2 and all(VALID_LINE in block for block in blocks), blocks
    report = validate_pdf(pdf=data, organization=world.lota)
    assert report.intact and not report.modified_after_signing and len(report.signatures) == 2
    assert act.number_display in " ".join(_pages_text(data)) and violations(data, tmp_path) == []
