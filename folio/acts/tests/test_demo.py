"""The demo data: Lota's templates and acts in every state of the circuit, made through the real services."""

from __future__ import annotations

from typing import Any

from folio.acts.models import Act, ActTemplate
from folio.audit.selectors import verify_chains


def test_demo_acts(db: Any) -> None:
    from folio.core import demo

    logins = demo.load(registrations=30)
    acts = Act.objects.filter(organization__slug="lota")
    states = sorted(acts.values_list("state", flat=True))
    assert states == ["distributed", "distributed", "draft", "in_endorsement", "in_signature", "in_signature"]
    assert ActTemplate.objects.filter(organization__slug="lota").count() == 5
    certificate = acts.get(kind="certificado")
    assert certificate.steps.get().capacity_label == "Por orden del Alcalde"
    assert certificate.outgoing_registration is not None
    decree = acts.get(state="distributed", kind="decreto_exento")
    assert decree.number == 1 and decree.steps.filter(kind="sign", status="done").count() == 2
    assert any(line[0] == "(firma)" for line in logins)
    demo.load(registrations=30)  # idempotent
    assert acts.count() == 6
    assert verify_chains()[1] == []


def test_demo_signers_sign_with_firmagob_and_with_the_demo_passphrase(db: Any, live_server: Any,
                                                                       monkeypatch: Any) -> None:
    """load_demo points Lota at the FirmaGob sandbox (where the app is served: $PORT) and gives the demo signers
    valid RUNs, so the advanced signature with the sandbox's OTP works; the simple one takes Firma-Lota-2026."""
    import time
    from urllib.parse import urlsplit

    from folio.accounts.models import User
    from folio.acts import demo as acts_demo
    from folio.acts import selectors, services
    from folio.acts.tests.conftest import signed_bytes
    from folio.audit.models import AuditEvent
    from folio.core import demo
    from folio.core.rut import check_digit
    from folio.signatures import sandbox
    from folio.signatures.models import SignatureConfig
    from folio.signatures.tests.conftest import stamp_text

    port = urlsplit(live_server.url).port
    monkeypatch.setenv("PORT", str(port))
    logins = demo.load(registrations=10)
    config = SignatureConfig.objects.get(organization__slug="lota")
    assert config.firmagob_endpoint == f"http://127.0.0.1:{port}/sandbox/firmagob" and config.firmagob_secret_sealed
    assert any(line[0] == "(firmagob)" and "/sandbox/firmagob/otp" in line[2] for line in logins)
    signers = {u.username: u for u in User.objects.filter(username__in=acts_demo.SIGNERS)}
    assert len({u.run_number for u in signers.values()}) == 3
    for user in signers.values():
        assert user.run_number and check_digit(user.run_number) == user.run_dv
        assert not User.objects.filter(run_number=user.run_number).exclude(pk=user.pk).exists()
    enabled = AuditEvent.objects.filter(action="signature.firmagob_sandbox_enabled").count()
    demo.load(registrations=10)  # idempotent: nothing re-registered
    assert AuditEvent.objects.filter(action="signature.firmagob_sandbox_enabled").count() == enabled == 1

    mayor, secretary = signers["alcalde"], signers["secmun"]
    pending = list(selectors.signature_inbox(mayor).order_by("pk"))
    assert len(pending) == 2
    otp = sandbox.current_otp(str(mayor.run_number), time.time())
    advanced = services.act_sign(actor=mayor, act=pending[0], method="advanced", otp=otp)
    step = advanced.steps.get(kind="sign", user=mayor)
    assert advanced.number is not None and step.provider == "firmagob"
    assert step.signer_run == mayor.run_display.replace(".", "")
    advanced = services.act_sign(actor=secretary, act=advanced, passphrase=acts_demo.SIGNING_PASSPHRASE)
    assert advanced.state == "numbered"
    simple = services.act_sign(actor=mayor, act=pending[1], passphrase=acts_demo.SIGNING_PASSPHRASE)
    assert simple.steps.get(kind="sign", user=mayor).provider == "folio"
    assert "Firma electrónica simple" in stamp_text(signed_bytes(simple))
