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
