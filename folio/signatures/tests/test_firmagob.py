"""Firma electrónica avanzada through FirmaGob API v2: the client speaks real HTTP to the sandbox Folio serves
(live_server), or to tiny loopback servers that answer 500, stay silent or send garbage."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from defusedxml import ElementTree

from folio.audit.models import AuditEvent
from folio.signatures import firmagob, sandbox, services
from folio.signatures.models import SignatureConfig
from folio.signatures.tests.conftest import VALID_LINE, pdfsig, pdfsig_blocks, sign_request, with_run


@pytest.fixture
def fea(world: Any, live_server: Any) -> Any:
    """Lota registered in the FirmaGob sandbox served by the live server; the Alcaldesa has her RUN."""
    services.firmagob_sandbox_enable(organization=world.lota, actor=world.admin, base_url=live_server.url)
    return with_run(world.signer, 12345678, "5")


def advanced(pdf: bytes, user: Any, **kwargs: Any) -> Any:
    values = {"method": "advanced", "passphrase": None, "otp": sandbox.current_otp(str(user.run_number))}
    values.update(kwargs)
    return sign_request(pdf, user, **values)


def test_attended_signature_through_the_sandbox(fea: Any, world: Any, pdf_bytes: Any, tmp_path: Any) -> None:
    pdf = pdf_bytes("Oficio ordinario", 3)
    signed = services.sign_pdf(advanced(pdf, fea, stamp_lines=["Alicia Castro Pinto", "Alcaldesa"]))
    assert signed.provider == "firmagob" and signed.signer_run == "12345678-5"
    assert signed.signer_name == "Alicia Castro" and signed.pdf.startswith(pdf)
    out = pdfsig(signed.pdf, tmp_path)
    assert VALID_LINE in out and "Total document signed" in out, out
    report = services.validate_pdf(pdf=signed.pdf, organization=world.lota)
    assert report.intact and not report.modified_after_signing
    (sig,) = report.signatures
    assert sig["valid"] and sig["trusted"] and "FirmaGob test CA" in sig["chain"][-1]
    event = AuditEvent.objects.get(action="signature.signed")
    assert event.data["provider"] == "firmagob" and event.data["purpose"] == "attended"


def test_unattended_signature_and_a_simple_one_on_the_same_document(
        fea: Any, world: Any, pdf_bytes: Any, tmp_path: Any) -> None:
    from folio.signatures.tests.conftest import OTHER_PASSPHRASE, with_run

    with_run(world.dom_head, 9876543, "3")
    services.signer_enroll(signer=world.dom_head, passphrase=OTHER_PASSPHRASE, actor=world.dom_head)
    first = services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), world.dom_head, passphrase=OTHER_PASSPHRASE))
    second = services.sign_pdf(advanced(first.pdf, fea, purpose="unattended", otp=None))
    blocks = pdfsig_blocks(pdfsig(second.pdf, tmp_path))
    assert len(blocks) == 2 and all(VALID_LINE in b for b in blocks)
    report = services.validate_pdf(pdf=second.pdf, organization=world.lota)
    assert report.intact and [s["trusted"] for s in report.signatures] == [True, True]


def test_expired_wrong_and_missing_otps(fea: Any, pdf_bytes: Any) -> None:
    pdf = pdf_bytes("Decreto", 1)
    five_minutes_ago = sandbox.current_otp("12345678", time.time() - 300)
    cases = [(five_minutes_ago, "otp_expired"), ("000000", "otp_invalid"), ("", "otp_invalid"),
             (None, "otp_invalid")]
    for otp, expected in cases:
        if otp == "000000" and sandbox.otp_check("12345678", otp) != "invalid":
            continue  # one chance in a million that 000000 is the code of the moment
        with pytest.raises(services.SignatureError) as caught:
            services.sign_pdf(advanced(pdf, fea, otp=otp))
        assert caught.value.code == expected, otp
    assert not AuditEvent.objects.filter(action="signature.signed").exists()
    assert AuditEvent.objects.filter(action="signature.failed").count() == len(cases)


def test_what_goes_over_the_wire(world: Any, fake_provider: Any, pdf_bytes: Any) -> None:
    """The request is exactly chile-norms.md §2: JWT HS256 claims, OTP header only when attended, official
    checksum, AgileSignerConfig layout; an answer without files is garbage."""
    provider = fake_provider(200, b'{"files": [], "metadata": {"otpExpired": false}}')
    config = SignatureConfig.objects.create(organization=world.lota, firmagob_endpoint=provider.url + "/api/",
                                            firmagob_entity="Ilustre Municipalidad de Lota",
                                            firmagob_api_token_key="app-lota", firmagob_timeout=5)
    services.signature_config_save(config=config, actor=world.admin, firmagob_secret="s3cr3t-de-prueba")
    signer = with_run(world.signer, 12345678, "5")
    pdf = pdf_bytes("Decreto", 2)
    for purpose, otp in (("attended", "123456"), ("unattended", None)):
        with pytest.raises(services.SignatureError) as caught:
            services.sign_pdf(advanced(pdf, signer, purpose=purpose, otp=otp))
        assert caught.value.code == "provider_garbage"
    attended, unattended = provider.requests
    assert attended["path"] == "/api/firma/v2/files/tickets"
    assert attended["headers"]["Content-Type"] == "application/json"
    assert attended["headers"]["OTP"] == "123456" and "OTP" not in unattended["headers"]
    body = json.loads(attended["body"])
    assert set(body) == {"api_token_key", "token", "files"} and body["api_token_key"] == "app-lota"
    header_b64, claims_b64, signature_b64 = body["token"].split(".")
    assert json.loads(firmagob.b64url_decode(header_b64))["alg"] == "HS256"
    expected = hmac.new(b"s3cr3t-de-prueba", f"{header_b64}.{claims_b64}".encode(), hashlib.sha256).digest()
    assert firmagob.b64url_decode(signature_b64) == expected
    claims = json.loads(firmagob.b64url_decode(claims_b64))
    assert claims["entity"] == "Ilustre Municipalidad de Lota" and claims["run"] == "12345678"
    assert claims["purpose"] == "Propósito General"
    assert json.loads(firmagob.b64url_decode(json.loads(unattended["body"])["token"].split(".")[1]))[
        "purpose"] == "Desatendido"
    expiration = dt.datetime.strptime(claims["expiration"], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=firmagob.CHILE)
    assert dt.timedelta(minutes=4) < expiration - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=5, seconds=5)
    (item,) = body["files"]
    assert item["content-type"] == "application/pdf" and item["description"] == "ABCD-EFGH-JKMN.pdf"
    assert base64.b64decode(item["content"]) == pdf
    assert item["checksum"] == base64.b64encode(hashlib.sha256(item["content"].encode()).digest()).decode()
    layout = ElementTree.fromstring(item["layout"])
    visible = layout.find("./Application/Signature/Visible")
    assert layout.tag == "AgileSignerConfig" and visible.get("active") == "true"
    llx, lly, urx, ury = (int(visible.findtext(t)) for t in ("llx", "lly", "urx", "ury"))
    assert 0 <= llx < urx and 0 <= lly < ury and visible.findtext("page") == "LAST"
    assert base64.b64decode(visible.findtext("BASE64VALUE")).startswith(b"\x89PNG")


@pytest.mark.parametrize(("status", "body", "delay", "expected"), [
    (500, b'{"error": "Internal Server Error"}', 0, "provider_error"),
    (503, b"<html>Service Unavailable</html>", 0, "provider_error"),
    (200, b"<html>not json</html>", 0, "provider_garbage"),
    (200, b'{"files": [{"status": "OK", "content": "bm8gZXMgdW4gcGRm"}]}', 0, "provider_garbage"),
    (200, b'{"files": [{"status": "OK", "content": "%%%"}]}', 0, "provider_garbage"),
    (200, b'{"files": [{"status": "error", "documentStatus": "Certificado no vigente"}]}', 0, "provider_error"),
    (401, b'{"error": "OTP expirado", "metadata": {"OTP_expired": true, "files_signed": 0}}', 0, "otp_expired"),
    (401, b'{"error": "OTP invalido", "metadata": {"otpExpired": false}}', 0, "otp_invalid"),
    (200, b'{"files": []}', 3, "provider_timeout"),
])
def test_provider_failures_leave_the_document_unsigned(
        world: Any, fake_provider: Any, pdf_bytes: Any, status: int, body: bytes, delay: float,
        expected: str) -> None:
    provider = fake_provider(status, body, delay=delay)
    config = SignatureConfig(organization=world.lota, firmagob_endpoint=provider.url, firmagob_entity="Lota",
                             firmagob_api_token_key="app", firmagob_timeout=1)
    services.signature_config_save(config=config, actor=world.admin, firmagob_secret="secreto")
    signer = with_run(world.signer, 12345678, "5")
    started = time.monotonic()
    with pytest.raises(services.SignatureError) as caught:
        services.sign_pdf(advanced(pdf_bytes("Decreto", 1), signer, otp="123456"))
    assert caught.value.code == expected and caught.value.message
    assert time.monotonic() - started < 2.5  # the timeout is honoured
    assert not AuditEvent.objects.filter(action="signature.signed").exists()


def test_a_provider_that_returns_the_document_unsigned_or_signed_by_someone_else(
        world: Any, fake_provider: Any, pdf_bytes: Any, fea: Any, live_server: Any) -> None:
    pdf = pdf_bytes("Decreto", 1)
    # Sign for another RUN through the sandbox, then have a fake FirmaGob hand that back.
    with_run(world.dom_head, 9876543, "3")
    from folio.accounts.models import Role, RoleCode

    world.dom_head.roles.add(Role.objects.get(code=RoleCode.SIGNER))
    other = services.sign_pdf(advanced(pdf, world.dom_head, purpose="unattended", otp=None)).pdf
    for answer in (pdf, other):
        reply = {"files": [{"status": "OK", "content": base64.b64encode(answer).decode()}],
                 "metadata": {"otpExpired": False, "filesSigned": 1}}
        provider = fake_provider(200, json.dumps(reply).encode())
        SignatureConfig.objects.filter(organization=world.lota).update(firmagob_endpoint=provider.url)
        with pytest.raises(services.SignatureError) as caught:
            services.sign_pdf(advanced(pdf, fea, purpose="unattended", otp=None))
        assert caught.value.code == "provider_garbage"


def test_advanced_signature_needs_configuration_and_a_run(world: Any, pdf_bytes: Any, live_server: Any) -> None:
    with pytest.raises(services.SignatureError) as unconfigured:
        services.sign_pdf(advanced(pdf_bytes("x", 1), with_run(world.signer, 12345678, "5")))
    assert unconfigured.value.code == "not_allowed"
    services.firmagob_sandbox_enable(organization=world.lota, actor=world.admin, base_url=live_server.url)
    world.signer.run_number = None
    world.signer.save()
    with pytest.raises(services.SignatureError) as no_run:
        services.sign_pdf(advanced(pdf_bytes("x", 1), world.signer, otp="123456"))
    assert no_run.value.code == "not_enrolled"


def test_the_response_parser_reads_both_naming_styles() -> None:
    pdf = b"%PDF-1.7\n%fake\n"
    camel = {"files": [{"content": base64.b64encode(pdf).decode(), "status": "OK", "contentType": "application/pdf",
                        "documentStatus": "Firmado", "checksum_original": "x"}],
             "metadata": {"otpExpired": False, "filesSigned": 1, "signedFailed": 0, "objectsReceived": 1},
             "idSolicitud": 7}
    assert firmagob.parse_response(200, json.dumps(camel).encode(), attended=True) == pdf
    snake = {"files": [{"content": base64.b64encode(pdf).decode(), "status": "OK"}],
             "metadata": {"OTP_expired": False, "files_signed": 1, "signed_failed": 0}}
    assert firmagob.parse_response(200, json.dumps(snake).encode(), attended=True) == pdf
    assert firmagob.metadata_of(snake)["files_signed"] == 1
    expired = {"files": [], "metadata": {"OTP_expired": "true"}}
    with pytest.raises(firmagob.ProviderError) as caught:
        firmagob.parse_response(200, json.dumps(expired).encode(), attended=True)
    assert caught.value.code == "otp_expired"
