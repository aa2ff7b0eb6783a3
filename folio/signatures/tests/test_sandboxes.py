"""The FirmaGob and RFC 3161 sandboxes Folio serves for development, demos and tests: what they check, and that
they are never there in production."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from asn1crypto import tsp
from django.test import Client

from folio.signatures import firmagob, sandbox, services
from folio.signatures.tests.conftest import VALID_LINE, pdfsig, sign_request

TICKETS = "/sandbox/firmagob/firma/v2/files/tickets"


@pytest.fixture
def app(world: Any) -> tuple[str, str, str]:
    """(api_token_key, entity, secret) of Lota in the sandbox."""
    from folio.signatures.selectors import firmagob_credentials

    services.firmagob_sandbox_enable(organization=world.lota, actor=world.admin)
    creds = firmagob_credentials(world.lota)
    assert creds is not None
    return creds.api_token_key, creds.entity, creds.secret


def _token(secret: str, **claims: Any) -> str:
    header = firmagob.b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = firmagob.b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{firmagob.b64url(signature)}"


def _post(client: Client, app: tuple[str, str, str], pdf: bytes, *, otp: str | None = None,
          checksum: str | None = None, **claims: Any) -> tuple[int, dict[str, Any]]:
    key, entity, secret = app
    values = {"entity": entity, "run": "12345678", "purpose": "Desatendido",
              "expiration": firmagob.expiration_text()}
    values.update(claims)
    content = base64.b64encode(pdf).decode()
    body = {"api_token_key": key, "token": _token(secret, **values),
            "files": [{"content-type": "application/pdf", "description": "a.pdf",
                       "checksum": checksum or firmagob.checksum(content), "content": content}]}
    headers = {"HTTP_OTP": otp} if otp is not None else {}
    response = client.post(TICKETS, data=json.dumps(body), content_type="application/json", **headers)
    return response.status_code, response.json()


def test_the_sandbox_signs_and_answers_the_official_shape(app: Any, client: Client, pdf_bytes: Any,
                                                          tmp_path: Any) -> None:
    status, payload = _post(client, app, pdf_bytes("Decreto", 1))
    assert status == 200, payload
    assert set(payload) == {"files", "metadata", "idSolicitud"}
    assert payload["metadata"] == {"otpExpired": False, "filesSigned": 1, "signedFailed": 0, "objectsReceived": 1}
    (item,) = payload["files"]
    assert item["status"] == "OK" and item["contentType"] == "application/pdf" and item["checksum_original"]
    signed = base64.b64decode(item["content"])
    assert VALID_LINE in pdfsig(signed, tmp_path)
    # The hex SHA-256 of the raw file, which some clients send, is accepted too (chile-norms §2.3).
    raw = pdf_bytes("Decreto", 1)
    assert _post(client, app, raw, checksum=hashlib.sha256(raw).hexdigest())[0] == 200


def test_the_sandbox_checks_token_otp_checksum_and_size(app: Any, client: Client, pdf_bytes: Any) -> None:
    pdf = pdf_bytes("Decreto", 1)
    now = dt.datetime.now(dt.UTC)
    later = firmagob.expiration_text(now, dt.timedelta(minutes=45))
    past = firmagob.expiration_text(now, dt.timedelta(minutes=-1))
    assert _post(client, app, pdf, expiration=later)[0] == 401  # more than 30 minutes ahead
    assert _post(client, app, pdf, expiration=past)[0] == 401
    assert _post(client, app, pdf, expiration="mañana")[0] == 401
    assert _post(client, app, pdf, entity="Otra Municipalidad")[0] == 401
    assert _post(client, app, pdf, purpose="Cualquiera")[0] == 401
    assert _post(client, app, pdf, run="12.345.678-5")[0] == 401
    assert _post(client, ("sandbox-nadie", app[1], app[2]), pdf)[0] == 401
    assert _post(client, (app[0], app[1], "otro-secreto"), pdf)[0] == 401
    assert _post(client, app, pdf, otp="123456")[0] == 400  # Desatendido takes no OTP
    status, payload = _post(client, app, pdf, purpose="Propósito General")
    assert status == 401 and payload["metadata"]["otpExpired"] is False  # OTP missing
    old = sandbox.current_otp("12345678", now.timestamp() - 240)
    status, payload = _post(client, app, pdf, purpose="Propósito General", otp=old)
    assert status == 401 and payload["metadata"]["otpExpired"] is True and payload["error"] == "OTP expirado"
    fresh = sandbox.current_otp("12345678")
    assert _post(client, app, pdf, purpose="Propósito General", otp=fresh)[0] == 200
    status, payload = _post(client, app, pdf, checksum="AAAA")
    assert status == 200 and payload["files"][0]["status"] == "error" and payload["metadata"]["signedFailed"] == 1
    big = client.post(TICKETS, data=b"{" + b" " * (5 * 1024 * 1024 + 10) + b"}", content_type="application/json")
    assert big.status_code == 400 and "5 MB" in big.json()["error"]
    assert client.post(TICKETS, data=b"{nope", content_type="application/json").status_code == 400
    assert client.get(TICKETS).status_code == 405
    # A token with alg "none" is refused whatever it claims.
    key, entity, _secret = app
    unsigned = firmagob.b64url(b'{"alg":"none"}') + "." + firmagob.b64url(json.dumps(
        {"entity": entity, "run": "12345678", "purpose": "Desatendido",
         "expiration": firmagob.expiration_text()}).encode()) + "."
    response = client.post(TICKETS, data=json.dumps({"api_token_key": key, "token": unsigned, "files": []}),
                           content_type="application/json")
    assert response.status_code == 401


def test_totp_windows() -> None:
    at = 1_800_000_000.0
    code = sandbox.current_otp("12345678", at)
    assert len(code) == 6 and code.isdigit()
    assert sandbox.otp_check("12345678", code, at) == "ok"
    assert sandbox.otp_check("12345678", code, at + 30) == "ok"  # one step of clock drift
    assert sandbox.otp_check("12345678", code, at + 300) == "expired"
    assert sandbox.otp_check("12345678", code, at + 3600) == "invalid"
    assert sandbox.otp_check("12345678", "abc", at) == "invalid"
    assert sandbox.current_otp("87654321", at) != code or sandbox.current_otp("87654321", at + 30) != code


@pytest.mark.django_db
def test_tsa_sandbox_answers_rfc3161(client: Client) -> None:
    query = tsp.TimeStampReq({"version": 1, "message_imprint": {
        "hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashlib.sha256(b"folio").digest()},
        "nonce": 42, "cert_req": True})
    response = client.post("/sandbox/tsa", data=query.dump(), content_type="application/timestamp-query")
    assert response.status_code == 200 and response["Content-Type"] == "application/timestamp-reply"
    reply = tsp.TimeStampResp.load(response.content)
    assert reply["status"]["status"].native == "granted"
    info = reply["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(b"folio").digest()
    assert info["nonce"].native == 42
    assert client.post("/sandbox/tsa", data=b"garbage", content_type="application/timestamp-query").status_code == 400
    assert client.post("/sandbox/tsa", data=query.dump(), content_type="text/plain").status_code == 415
    assert client.get("/sandbox/tsa").status_code == 405


def test_pades_b_t_with_the_sandbox_tsa_over_http(signer: Any, world: Any, live_server: Any, pdf_bytes: Any,
                                                  tmp_path: Any) -> None:
    from folio.signatures.models import SignatureConfig

    SignatureConfig.objects.create(organization=world.lota, tsa_url=live_server.url + "/sandbox/tsa")
    signed = services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer, timestamp=True))
    out = pdfsig(signed.pdf, tmp_path)
    assert VALID_LINE in out
    (sig,) = services.validate_pdf(pdf=signed.pdf, organization=world.lota).signatures
    assert sig["timestamped"] and sig["valid"] and sig["trusted"]


def test_an_unreachable_tsa_leaves_the_document_unsigned(signer: Any, world: Any, fake_provider: Any,
                                                         pdf_bytes: Any) -> None:
    from folio.audit.models import AuditEvent
    from folio.signatures.models import SignatureConfig

    silent = fake_provider(200, b"", delay=3, content_type="application/timestamp-reply")
    config = SignatureConfig.objects.create(organization=world.lota, tsa_url=silent.url, tsa_timeout=1)
    with pytest.raises(services.SignatureError) as slow:
        services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer, timestamp=True))
    assert slow.value.code == "provider_timeout"
    broken = fake_provider(500, b"boom", content_type="text/plain")
    config.tsa_url = broken.url
    config.save()
    with pytest.raises(services.SignatureError) as failed:
        services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer, timestamp=True))
    assert failed.value.code == "provider_error"
    assert not AuditEvent.objects.filter(action="signature.signed").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("posture", ["production", "sandboxes_off"])
def test_sandboxes_are_404_in_production_settings(settings: Any, client: Client, posture: str) -> None:
    if posture == "production":
        settings.FOLIO_ENV = "production"
        settings.FOLIO_SANDBOXES = True  # even if someone turns them on
    else:
        settings.FOLIO_SANDBOXES = False
    assert client.post("/sandbox/tsa", data=b"x", content_type="application/timestamp-query").status_code == 404
    assert client.post(TICKETS, data=b"{}", content_type="application/json").status_code == 404
    assert client.get("/sandbox/firmagob/otp", {"run": "12345678"}).status_code == 404
    assert not sandbox.enabled()
    from folio.organizations.models import Organization

    with pytest.raises(services.SignatureError):
        services.firmagob_sandbox_enable(organization=Organization(name="x", slug="x"), actor=None)


def test_sandbox_otp_page(client: Client, db: Any) -> None:
    before = sandbox.current_otp("12345678")
    page = client.get("/sandbox/firmagob/otp", {"run": "12.345.678"})
    after = sandbox.current_otp("12345678")
    assert page.status_code == 200
    assert before in page.content.decode() or after in page.content.decode()
    assert client.get("/sandbox/firmagob/otp", {"run": "abc"}).status_code == 400
