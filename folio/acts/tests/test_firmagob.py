"""Advanced signature of acts through FirmaGob: the real client over HTTP, to the sandbox Folio serves
(live_server) or to loopback servers that answer an error, stay silent or send garbage. Every failure leaves
the act unsigned and unnumbered, takes no number, and the signature can be retried."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from folio.acts import services
from folio.acts.models import Act, ActCounter, ActKind, ActState
from folio.acts.tests.conftest import signed_bytes, submitted
from folio.audit.models import AuditEvent
from folio.files.models import StoredFile


@pytest.fixture
def fea(world: Any, live_server: Any, alcaldesa: Any, templates: Any) -> Any:
    """Lota registered in the FirmaGob sandbox served by the live server; oficios require the advanced
    signature."""
    from folio.signatures import services as signatures

    signatures.firmagob_sandbox_enable(organization=world.lota, actor=world.admin, base_url=live_server.url)
    services.policy_save(actor=world.admin, kind=ActKind.OFFICIAL_LETTER, requires_advanced=True, own_signer_ids=[])
    return alcaldesa


def otp_now(user: Any, shift: float = 0) -> str:
    from folio.signatures import sandbox

    return sandbox.current_otp(str(user.run_number), time.time() + shift)


def point_firmagob_at(world: Any, url: str, timeout: int = 30) -> None:
    from folio.signatures.models import SignatureConfig

    config = SignatureConfig.objects.get(organization=world.lota)
    config.firmagob_endpoint = url.rstrip("/") + "/sandbox/firmagob"
    config.firmagob_timeout = timeout
    config.save()


def nothing_taken(act: Act, files_before: int) -> None:
    act.refresh_from_db()
    assert act.state == ActState.IN_SIGNATURE and act.number is None and act.number_display == ""
    assert act.signed_file is None and StoredFile.objects.count() == files_before
    assert list(ActCounter.objects.values_list("last_value", "lease_token")) == [(0, "")]


def test_expired_otp_then_a_fresh_one(world: Any, templates: Any, fea: Any) -> None:
    from folio.signatures.services import SignatureError

    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[fea])
    files = StoredFile.objects.count()
    with pytest.raises(SignatureError) as caught:
        services.act_sign(actor=fea, act=act, otp=otp_now(fea, -300))
    assert caught.value.code == "otp_expired"
    nothing_taken(act, files)
    with pytest.raises(SignatureError) as caught:
        services.act_sign(actor=fea, act=act, otp="12345")
    assert caught.value.code == "otp_invalid"
    nothing_taken(act, files)
    with pytest.raises(ValidationError):
        services.act_sign(actor=fea, act=act, method="simple", passphrase="clave-alcaldesa-2026")
    act = services.act_sign(actor=fea, act=act, otp=otp_now(fea))
    assert act.state == ActState.NUMBERED and act.number == 1
    assert act.steps.get().method == "advanced"
    assert [e.data["code"] for e in AuditEvent.objects.filter(action="act.signature_failed")] == [
        "otp_expired", "otp_invalid"]


@pytest.mark.parametrize(("status", "body", "delay", "code"), [
    (500, json.dumps({"error": "Error interno"}).encode(), 0, "provider_error"),
    (200, b"<html>mantenimiento</html>", 0, "provider_garbage"),
    (200, json.dumps({"files": [{"status": "OK", "content": "bm8gZXMgdW4gUERG"}],
                      "metadata": {"otpExpired": False, "filesSigned": 1}}).encode(), 0, "provider_garbage"),
    (200, b"", 3, "provider_timeout"),
])
def test_firmagob_failures_leave_it_unsigned_and_retryable(
        world: Any, templates: Any, fea: Any, live_server: Any, fake_provider: Any,
        status: int, body: bytes, delay: float, code: str) -> None:
    from folio.signatures.services import SignatureError

    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[fea])
    files = StoredFile.objects.count()
    point_firmagob_at(world, fake_provider(status, body, delay=delay), timeout=1)
    with pytest.raises(SignatureError) as caught:
        services.act_sign(actor=fea, act=act, otp=otp_now(fea))
    assert caught.value.code == code
    nothing_taken(act, files)
    # Through the page: a clear message, a 5xx (the provider failed, not the signer), nothing changed.
    client = Client()
    client.force_login(fea)
    response = client.post(f"/actos/{act.pk}/firmar/", {"method": "advanced", "otp": otp_now(fea)})
    assert response.status_code in (502, 504)
    assert caught.value.message in response.content.decode()
    nothing_taken(act, files)
    # FirmaGob is back: the same act is signed and takes number 1.
    point_firmagob_at(world, live_server.url)
    act = services.act_sign(actor=fea, act=act, otp=otp_now(fea))
    assert act.state == ActState.NUMBERED and act.number == 1 and signed_bytes(act)


def test_api_reports_the_signature_error(world: Any, templates: Any, fea: Any) -> None:
    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[fea])
    client = Client()
    client.force_login(fea)
    response = client.post(f"/api/v1/acts/{act.pk}/sign/", {"otp": otp_now(fea, -300)},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "otp_expired"
    response = client.post(f"/api/v1/acts/{act.pk}/sign/", {"otp": otp_now(fea)}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "numbered" and response.json()["number"] == 1
