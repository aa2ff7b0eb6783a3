"""REST API of the signature engine: validation of an uploaded PDF and the caller's certificate."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command
from rest_framework.test import APIClient

from folio.signatures import services
from folio.signatures.models import SignatureConfig
from folio.signatures.tests.conftest import flip_signed_byte, sign_request


def _file(data: bytes) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = "documento.pdf"
    return upload


def test_validate_and_certificate_endpoints(signer: Any, world: Any, pdf_bytes: Any) -> None:
    api = APIClient()
    signed = services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer)).pdf
    assert api.post("/api/v1/signatures/validate", {"file": _file(signed)}, format="multipart").status_code in (
        401, 403)
    api.force_authenticate(world.clerk)
    ok = api.post("/api/v1/signatures/validate", {"file": _file(signed)}, format="multipart")
    assert ok.status_code == 200
    body = ok.json()
    assert body["intact"] is True and body["modified_after_signing"] is False
    assert body["signatures"][0]["signer_run"] == "12345678-5" and body["signatures"][0]["trusted"] is True
    bad = api.post("/api/v1/signatures/validate", {"file": _file(flip_signed_byte(signed))}, format="multipart")
    assert bad.status_code == 200 and bad.json()["modified_after_signing"] is True
    unsigned = api.post("/api/v1/signatures/validate", {"file": _file(pdf_bytes("x", 1))}, format="multipart")
    assert unsigned.status_code == 400 and unsigned.json()["error"]["code"] == "no_signatures"
    assert api.post("/api/v1/signatures/validate", {}, format="multipart").status_code == 400
    assert api.get("/api/v1/signatures/certificate").status_code == 404  # the clerk has none
    api.force_authenticate(signer)
    mine = api.get("/api/v1/signatures/certificate")
    assert mine.status_code == 200 and "BEGIN CERTIFICATE" in mine.json()["certificate_pem"]


def test_sandbox_command(world: Any) -> None:
    out = io.StringIO()
    call_command("firmagob_sandbox", "lota", "--base-url", "http://127.0.0.1:9999", stdout=out)
    config = SignatureConfig.objects.get(organization=world.lota)
    assert config.firmagob_endpoint == "http://127.0.0.1:9999/sandbox/firmagob"
    assert config.firmagob_secret_sealed and b"sandbox" not in bytes(config.firmagob_secret_sealed)
    assert "sandbox-lota" in out.getvalue()
