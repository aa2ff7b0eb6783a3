"""Firma electrónica simple: certificates from the organization's CA, PAdES signatures that poppler's pdfsig
and pyHanko accept, incremental second signatures, tampering, and every refusal."""

from __future__ import annotations

import io
import re
from typing import Any

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from folio.audit.models import AuditEvent
from folio.signatures import pki, services
from folio.signatures.models import OrganizationCA, SignerCertificate
from folio.signatures.sealing import UnsealError, unseal, unseal_with_passphrase
from folio.signatures.tests.conftest import (
    OTHER_PASSPHRASE,
    PASSPHRASE,
    VALID_LINE,
    flip_signed_byte,
    pdfsig,
    pdfsig_blocks,
    sign_request,
    stamp_fonts,
    stamp_text,
)


def _pyhanko(data: bytes, org: Any) -> list[Any]:
    ca = pki.to_asn1(pki.certificate_from_pem(OrganizationCA.objects.get(organization=org).certificate_pem))
    reader = PdfFileReader(io.BytesIO(data))
    return [validate_pdf_signature(emb, ValidationContext(trust_roots=[ca], allow_fetching=False))
            for emb in reader.embedded_signatures]


def test_simple_signature_of_a_ten_page_pdf(signer: Any, world: Any, pdf_bytes: Any, tmp_path: Any) -> None:
    pdf = pdf_bytes("Decreto alcaldicio", 10)
    signed = services.sign_pdf(sign_request(pdf, signer, stamp_lines=["Alicia Castro Pinto", "Alcaldesa",
                                                                       "Por orden del Alcalde"]))
    assert signed.provider == "folio" and signed.signer_name == "Alicia Castro"
    assert signed.signer_run == "12345678-5"
    assert signed.certificate_serial == SignerCertificate.objects.get(user=signer).serial
    assert signed.pdf.startswith(pdf), "an incremental update: the original bytes are untouched"

    out = pdfsig(signed.pdf, tmp_path)
    assert out.count(VALID_LINE) == 1, out
    assert "Total document signed" in out and "Signature Field Name: Firma1" in out
    assert "serialNumber=12345678-5" in out and "Signing Hash Algorithm: SHA-256" in out
    assert "ETSI.CAdES.detached" in out  # PAdES
    # The signed ranges cover the whole file but the signature's own /Contents hole.
    ranges = re.search(r"Signed Ranges: \[(\d+) - (\d+)\], \[(\d+) - (\d+)\]", out)
    assert ranges is not None
    start, hole_start, hole_end, end = (int(v) for v in ranges.groups())
    assert start == 0 and end == len(signed.pdf) and hole_end - hole_start < 20_000
    assert b"/Version /2.0" not in signed.pdf and signed.pdf[:8] == pdf[:8]  # RSA: no PDF 2.0 bump (PDF/A)

    (status,) = _pyhanko(signed.pdf, world.lota)
    assert status.intact and status.valid and status.trusted and status.bottom_line

    report = services.validate_pdf(pdf=signed.pdf, organization=None)
    assert report.intact and not report.modified_after_signing
    (sig,) = report.signatures
    assert sig["valid"] and sig["intact"] and sig["trusted"] and not sig["timestamped"]
    assert sig["field"] == "Firma1" and sig["signer_name"] == "Alicia Castro" and sig["signer_run"] == "12345678-5"
    assert "CA Folio I. Municipalidad de Lota" in sig["chain"][-1] and len(sig["chain"]) == 2

    # The visible stamp sits on the last page and carries the lines, the code and the QR's URL.
    reader = PdfFileReader(io.BytesIO(signed.pdf))
    last_page = reader.root["/Pages"]["/Kids"][-1].get_object()
    widget = last_page["/Annots"][0].get_object()
    assert widget["/T"] == "Firma1" and float(widget["/Rect"][1]) < 120
    appearance = widget["/AP"]["/N"].get_object().data
    assert b"/QR Do" in appearance
    text = stamp_text(signed.pdf)
    assert "Por orden del Alcalde" in text and "Código de verificación: ABCD-EFGH-JKMN" in text
    assert AuditEvent.objects.filter(action="signature.signed", object_id="ABCD-EFGH-JKMN").count() == 1


def test_the_stamp_is_drawn_with_embedded_fonts_only(signer: Any, second_signer: Any, pdf_bytes: Any,
                                                     tmp_path: Any) -> None:
    """PDF/A: the visible stamp's text uses an embedded Roboto subset (no standard-14 Courier), stays
    extractable (ToUnicode), and poppler still validates every signature."""
    first = services.sign_pdf(sign_request(pdf_bytes("Decreto", 2), signer,
                                           stamp_lines=["Łucja Ñúñez Göransson", "Alcaldesa (S)", "漢"]))
    second = services.sign_pdf(sign_request(first.pdf, second_signer, passphrase=OTHER_PASSPHRASE))
    fonts = stamp_fonts(second.pdf)
    assert fonts and all(fonts.values()), fonts
    assert all(re.fullmatch(r"/[A-Z]{6}\+Roboto-Regular", name) for name in fonts), fonts
    text = stamp_text(second.pdf)
    for line in ("Firma electrónica simple", "Łucja Ñúñez Göransson", "Alcaldesa (S)", "Fecha: ",
                 "Código de verificación: ABCD-EFGH-JKMN", "Jorge Fuentealba"):
        assert line in text, text
    assert "漢" not in text and "\n?\n" in f"\n{text}\n"  # a character Roboto lacks prints as "?"
    with pikepdf.open(io.BytesIO(second.pdf)) as pdf:
        assert not any(isinstance(obj, pikepdf.Dictionary) and obj.get("/BaseFont") == "/Courier"
                       for obj in pdf.objects)
    blocks = pdfsig_blocks(pdfsig(second.pdf, tmp_path))
    assert len(blocks) == 2 and all(VALID_LINE in b for b in blocks), blocks


def test_a_second_signer_signs_the_signed_pdf_and_both_stay_valid(
        signer: Any, second_signer: Any, world: Any, pdf_bytes: Any, tmp_path: Any) -> None:
    first = services.sign_pdf(sign_request(pdf_bytes("Decreto", 2), signer))
    second = services.sign_pdf(sign_request(first.pdf, second_signer, passphrase=OTHER_PASSPHRASE))
    assert second.pdf.startswith(first.pdf)
    out = pdfsig(second.pdf, tmp_path)
    blocks = pdfsig_blocks(out)
    assert len(blocks) == 2 and all(VALID_LINE in b for b in blocks), out
    assert "Not total document signed" in blocks[0] and "Total document signed" in blocks[1]
    assert [s.bottom_line for s in _pyhanko(second.pdf, world.lota)] == [True, True]
    report = services.validate_pdf(pdf=second.pdf, organization=world.lota)
    assert report.intact and not report.modified_after_signing
    assert [s["field"] for s in report.signatures] == ["Firma1", "Firma2"]
    assert [s["signer_name"] for s in report.signatures] == ["Alicia Castro", "Jorge Fuentealba"]
    # Two signatures on the same page do not overlap.
    reader = PdfFileReader(io.BytesIO(second.pdf))
    rects = [[float(v) for v in a.get_object()["/Rect"]] for a in reader.root["/Pages"]["/Kids"][-1]
             .get_object()["/Annots"]]
    assert rects[0][2] <= rects[1][0] or rects[1][2] <= rects[0][0] or rects[0][3] <= rects[1][1]


def test_one_byte_changed_fails_pdfsig_pyhanko_and_folio(
        signer: Any, second_signer: Any, world: Any, pdf_bytes: Any, tmp_path: Any) -> None:
    signed = services.sign_pdf(sign_request(pdf_bytes("Decreto", 3), signer)).pdf
    signed = services.sign_pdf(sign_request(signed, second_signer, passphrase=OTHER_PASSPHRASE)).pdf
    tampered = flip_signed_byte(signed)
    assert len(tampered) == len(signed) and sum(a != b for a, b in zip(tampered, signed, strict=True)) == 1
    out = pdfsig(tampered, tmp_path, "tampered.pdf")
    assert VALID_LINE not in out and "Digest Mismatch" in out, out
    assert not any(s.intact for s in _pyhanko(tampered, world.lota))
    report = services.validate_pdf(pdf=tampered, organization=None)
    assert not report.intact and report.modified_after_signing
    assert not any(s["valid"] or s["intact"] for s in report.signatures)


def test_changes_appended_after_the_last_signature_are_reported(signer: Any, pdf_bytes: Any) -> None:
    signed = services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer)).pdf
    # Someone edits the signed file (an incremental update that rewrites the page's content).
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        pdf.pages[0].Contents = pdf.make_stream(b"BT /F1 24 Tf 72 700 Td (Decreto ANULADO) Tj ET")
        out = io.BytesIO()
        pdf.save(out)
    edited = out.getvalue()
    report = services.validate_pdf(pdf=edited, organization=None)
    assert report.modified_after_signing and not report.intact


def test_wrong_passphrase_is_refused_audited_and_leaves_no_output(signer: Any, pdf_bytes: Any) -> None:
    pdf = pdf_bytes("Decreto", 1)
    with pytest.raises(services.SignatureError) as caught:
        services.sign_pdf(sign_request(pdf, signer, passphrase="no-es-la-clave"))
    error = caught.value
    assert error.code == "wrong_passphrase" and error.message
    failed = AuditEvent.objects.get(action="signature.failed")
    assert failed.data["code"] == "wrong_passphrase" and failed.actor_id == signer.pk
    assert not AuditEvent.objects.filter(action="signature.signed").exists()
    with pytest.raises(services.SignatureError) as empty:
        services.sign_pdf(sign_request(pdf, signer, passphrase=None))
    assert empty.value.code == "wrong_passphrase"
    # The right passphrase still works afterwards (no lock-out, no half state).
    assert services.sign_pdf(sign_request(pdf, signer)).pdf


@pytest.mark.django_db(transaction=True)
def test_a_failure_inside_the_callers_rolled_back_transaction_can_be_audited_afterwards(
        signer: Any, pdf_bytes: Any) -> None:
    with pytest.raises(services.SignatureError) as outside:
        services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer, passphrase="equivocada-123"))
    assert outside.value.audited  # committed on its own
    before = AuditEvent.objects.filter(action="signature.failed").count()
    error = None
    try:
        with transaction.atomic():
            services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer, passphrase="equivocada-123"))
    except services.SignatureError as exc:
        error = exc
    assert error is not None and not error.audited
    assert AuditEvent.objects.filter(action="signature.failed").count() == before  # rolled back with the caller
    services.signature_failure_record(error)
    services.signature_failure_record(error)  # idempotent
    assert AuditEvent.objects.filter(action="signature.failed").count() == before + 1


def test_refusals(world: Any, signer: Any, pdf_bytes: Any) -> None:
    pdf = pdf_bytes("Decreto", 1)

    def code(**kwargs: Any) -> str:
        user = kwargs.pop("user", signer)
        data = kwargs.pop("pdf", pdf)
        with pytest.raises(services.SignatureError) as caught:
            services.sign_pdf(sign_request(data, user, **kwargs))
        assert caught.value.message
        return caught.value.code

    assert code(user=world.dom) == "not_allowed"  # not a signer
    assert code(user=world.dom_head) == "not_enrolled"  # a signer without certificate
    assert code(method="magic") == "not_allowed"
    assert code(purpose="whenever") == "not_allowed"
    assert code(verification_code="") == "not_allowed"
    assert code(pdf=b"not a pdf") == "not_allowed"
    assert code(pdf=b"%PDF-1.7\n garbage") == "not_allowed"
    assert code(page=5) == "not_allowed"
    encrypted = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(encrypted, encryption=pikepdf.Encryption(owner="dueño", user="lector"))
    assert code(pdf=encrypted.getvalue()) == "not_allowed"
    signed = services.sign_pdf(sign_request(pdf, signer, field_name="FirmaAlcaldesa")).pdf
    assert code(pdf=signed, field_name="FirmaAlcaldesa") == "not_allowed"  # already signed
    assert AuditEvent.objects.filter(action="signature.failed").count() == 10


def test_enrolment_rules(world: Any, pdf_bytes: Any) -> None:
    with pytest.raises(services.SignatureError) as not_signer:
        services.signer_enroll(signer=world.dom, passphrase=PASSPHRASE, actor=world.dom)
    assert not_signer.value.code == "not_allowed"
    with pytest.raises(services.SignatureError) as someone_else:
        services.signer_enroll(signer=world.signer, passphrase=PASSPHRASE, actor=world.clerk)
    assert someone_else.value.code == "not_allowed"
    with pytest.raises(ValidationError):
        services.signer_enroll(signer=world.signer, passphrase="corta", actor=world.signer)
    assert not SignerCertificate.objects.exists()
    # The organization's administrator may issue it (onboarding); a renewal revokes the previous one.
    first = services.signer_enroll(signer=world.signer, passphrase=PASSPHRASE, actor=world.admin)
    second = services.signer_enroll(signer=world.signer, passphrase=OTHER_PASSPHRASE, actor=world.signer)
    first.refresh_from_db()
    assert first.revoked_at is not None and first.revoked_reason == "renewed" and second.revoked_at is None
    assert OrganizationCA.objects.filter(organization=world.lota).count() == 1
    assert second.ca.organization == world.lota
    with pytest.raises(services.SignatureError) as old_passphrase:
        services.sign_pdf(sign_request(pdf_bytes("x", 1), world.signer, passphrase=PASSPHRASE))
    assert old_passphrase.value.code == "wrong_passphrase"
    assert services.sign_pdf(sign_request(pdf_bytes("x", 1), world.signer, passphrase=OTHER_PASSPHRASE)).pdf
    assert AuditEvent.objects.filter(action="signature.certificate_issued").count() == 2
    assert AuditEvent.objects.filter(action="signature.certificate_revoked").count() == 1


def test_private_keys_are_encrypted_at_rest(signer: Any, world: Any, settings: Any) -> None:
    cert = SignerCertificate.objects.get(user=signer)
    ca = OrganizationCA.objects.get(organization=world.lota)
    for blob in (bytes(cert.key_sealed), bytes(ca.key_sealed)):
        assert b"PRIVATE KEY" not in blob and not blob.startswith(b"\x30\x82")
    der = unseal_with_passphrase(bytes(cert.key_sealed), passphrase=PASSPHRASE, aad=f"signer:{cert.serial}")
    assert pki.key_from_der(der).key_size == 2048
    with pytest.raises(UnsealError):
        unseal_with_passphrase(bytes(cert.key_sealed), passphrase="otra", aad=f"signer:{cert.serial}")
    assert pki.key_from_der(unseal(bytes(ca.key_sealed), purpose="organization-ca",
                                   aad=f"ca:{world.lota.pk}")).key_size == 3072
    settings.FOLIO_KEY_ENCRYPTION_KEY = "another installation's key"
    with pytest.raises(UnsealError):
        unseal(bytes(ca.key_sealed), purpose="organization-ca", aad=f"ca:{world.lota.pk}")


def test_a_second_organization_cannot_use_the_first_ones_ca(
        signer: Any, coronel_signer: Any, world: Any, pdf_bytes: Any) -> None:
    lota_ca = OrganizationCA.objects.get(organization=world.lota)
    cert = services.signer_enroll(signer=coronel_signer, passphrase=PASSPHRASE, actor=coronel_signer)
    assert cert.ca.organization == world.coronel and cert.ca != lota_ca
    assert "Coronel" in pki.certificate_from_pem(cert.certificate_pem).issuer.rfc4514_string()
    # A Lota document is trusted in Lota's context, not in Coronel's.
    lota_doc = services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer)).pdf
    assert services.validate_pdf(pdf=lota_doc, organization=world.lota).signatures[0]["trusted"]
    assert not services.validate_pdf(pdf=lota_doc, organization=world.coronel).signatures[0]["trusted"]
    # A certificate row pointing at Lota's CA for a Coronel signer is refused at signing time …
    SignerCertificate.objects.filter(pk=cert.pk).update(ca=lota_ca)
    with pytest.raises(services.SignatureError) as caught:
        services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), coronel_signer))
    assert caught.value.code == "not_allowed"
    # … and Lota's sealed CA key does not open as Coronel's.
    coronel_ca = OrganizationCA.objects.get(organization=world.coronel)
    with pytest.raises(services.SignatureError):
        services._ca_issuer(lota_ca, world.coronel)
    OrganizationCA.objects.filter(pk=coronel_ca.pk).update(key_sealed=lota_ca.key_sealed)
    coronel_ca.refresh_from_db()
    with pytest.raises(services.SignatureError):
        services._ca_issuer(coronel_ca, world.coronel)


def test_a_revoked_certificate_no_longer_signs_and_its_untimestamped_signatures_lose_trust(
        signer: Any, world: Any, pdf_bytes: Any) -> None:
    signed = services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer)).pdf
    cert = SignerCertificate.objects.get(user=signer)
    with pytest.raises(services.SignatureError):
        services.signer_certificate_revoke(certificate=cert, actor=world.clerk, reason="x")
    services.signer_certificate_revoke(certificate=cert, actor=world.admin, reason="Cese de funciones")
    with pytest.raises(services.SignatureError) as caught:
        services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer))
    assert caught.value.code == "not_enrolled"
    (sig,) = services.validate_pdf(pdf=signed, organization=None).signatures
    assert sig["valid"] and sig["revoked"] and not sig["trusted"]
