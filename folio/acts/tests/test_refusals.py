"""Every refusal of the circuit: out of turn, not the designated person, wrong passphrase, invalid state; each
is refused with a clear message, recorded in the audit trail, and leaves the act as it was (unsigned,
unnumbered, retryable)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from folio.acts import services
from folio.acts.models import Act, ActCounter, ActKind, ActState, ActTemplate, StepStatus
from folio.acts.tests.conftest import DOM_PASSPHRASE, PASSPHRASE, SECMUN_PASSPHRASE, draft, signed_bytes, submitted
from folio.audit.models import AuditEvent
from folio.files.models import StoredFile
from folio.verification.models import VerificationRecord


def untouched(act: Act) -> dict[str, Any]:
    """What a refused signature must leave as it was."""
    act.refresh_from_db()
    return {"state": act.state, "number": act.number, "signed_file": act.signed_file_id, "version": act.version,
            "files": StoredFile.objects.count(), "counters": list(ActCounter.objects.values_list("last_value",
                                                                                                 "lease_token")),
            "verification": VerificationRecord.objects.count(),
            "steps": list(act.steps.values_list("status", flat=True))}


def test_signing_out_of_turn_is_refused_and_recorded(world: Any, templates: Any, director: Any,
                                                     alcaldesa: Any) -> None:
    act = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[director, alcaldesa])
    before = untouched(act)
    with pytest.raises(PermissionDenied, match=r"turno|turn"):
        services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert untouched(act) == before
    refusal = AuditEvent.objects.get(action="act.denied", object_id=str(act.pk))
    assert refusal.actor_id == alcaldesa.pk and refusal.data["attempted"] == "sign"
    # In turn, it works.
    services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert act.state == ActState.NUMBERED


def test_someone_who_is_not_the_designated_signer_is_refused(world: Any, templates: Any, alcaldesa: Any,
                                                              secmun: Any) -> None:
    act = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[alcaldesa])
    before = untouched(act)
    for intruder in (secmun, world.dom, world.admin):
        with pytest.raises(PermissionDenied):
            services.act_sign(actor=intruder, act=act, passphrase=SECMUN_PASSPHRASE)
    assert untouched(act) == before
    assert AuditEvent.objects.filter(action="act.denied", object_id=str(act.pk)).count() == 3


def test_endorsements_in_order_and_only_by_the_designated(world: Any, templates: Any, alcaldesa: Any) -> None:
    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], endorsers=[world.dom_head, world.legal],
                    signers=[alcaldesa])
    assert act.state == ActState.IN_ENDORSEMENT
    with pytest.raises(PermissionDenied):
        services.act_endorse(actor=world.legal, act=act)  # out of turn
    with pytest.raises(PermissionDenied):
        services.act_endorse(actor=world.dideco, act=act)  # not an endorser
    with pytest.raises(services.ConflictError):
        services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)  # not in signature yet
    act = services.act_endorse(actor=world.dom_head, act=act, comment="Conforme")
    assert act.state == ActState.IN_ENDORSEMENT and act.current_step.user == world.legal
    act = services.act_endorse(actor=world.legal, act=act)
    assert act.state == ActState.IN_SIGNATURE and act.current_step.user == alcaldesa
    assert AuditEvent.objects.filter(action="act.denied", object_id=str(act.pk)).count() == 2
    assert AuditEvent.objects.filter(action="act.refused", object_id=str(act.pk)).count() == 1


def test_wrong_passphrase_leaves_it_unsigned_unnumbered_and_retryable(world: Any, templates: Any,
                                                                        alcaldesa: Any) -> None:
    from folio.signatures.services import SignatureError

    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa])
    before = untouched(act)
    with pytest.raises(SignatureError) as caught:
        services.act_sign(actor=alcaldesa, act=act, passphrase="no-es-mi-clave")
    assert caught.value.code == "wrong_passphrase" and caught.value.message
    after = untouched(act)
    assert after == {**before, "counters": [(0, "")]}  # the counter row exists now, nothing taken, no lease
    failure = AuditEvent.objects.get(action="act.signature_failed")
    assert failure.data["code"] == "wrong_passphrase" and failure.data["number_released"]
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert act.state == ActState.NUMBERED and act.number == 1


def test_sending_back_with_comments_from_any_step(world: Any, templates: Any, director: Any,
                                                  alcaldesa: Any) -> None:
    act = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], endorsers=[world.legal],
                    signers=[director, alcaldesa])
    with pytest.raises(ValidationError):
        services.act_send_back(actor=world.legal, act=act, comment="no")  # comment required
    with pytest.raises(PermissionDenied):
        services.act_send_back(actor=world.dideco, act=act, comment="No me corresponde pero devuelvo")
    act = services.act_send_back(actor=world.legal, act=act, comment="Falta citar el decreto de nombramiento")
    assert act.state == ActState.DRAFT and act.returned_comment.startswith("Falta")
    act = services.act_submit(actor=world.dom, act=act)
    act = services.act_endorse(actor=world.legal, act=act)
    # The first signer signs: the act takes its number; the second sends it back.
    act = services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    code, number = act.verification_code, act.number
    assert number == 1 and act.state == ActState.IN_SIGNATURE
    act = services.act_send_back(actor=alcaldesa, act=act, comment="Corregir el considerando segundo")
    assert act.state == ActState.DRAFT and act.number == 1 and act.signed_file is None
    assert VerificationRecord.objects.get(code=code).revoked_at is not None
    assert set(act.steps.values_list("status", flat=True)) == {StepStatus.PENDING}
    # Corrected and signed again, it keeps its number: none is consumed twice, none skipped.
    services.act_update(actor=world.dom, act=act, data=services.ActInput(body="Texto corregido.\n\nDECRETO: 1."))
    act = services.act_submit(actor=world.dom, act=act)
    act = services.act_endorse(actor=world.legal, act=act)
    act = services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert act.state == ActState.NUMBERED and act.number == 1 and act.verification_code != code
    assert ActCounter.objects.get(kind=ActKind.EXEMPT_DECREE).last_value == 1
    other = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[director])
    assert services.act_sign(actor=director, act=other, passphrase=DOM_PASSPHRASE).number == 2


def test_the_author_recalls_it_but_others_cannot(world: Any, templates: Any, alcaldesa: Any) -> None:
    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa])
    with pytest.raises(PermissionDenied):
        services.act_send_back(actor=world.legal, act=act, comment="Quiero devolverlo")
    act = services.act_send_back(actor=world.dom, act=act, comment="Me equivoqué de destinatario")
    assert act.state == ActState.DRAFT


def test_nothing_half_signed_is_ever_distributed(world: Any, templates: Any, director: Any,
                                                 alcaldesa: Any) -> None:
    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[director, alcaldesa],
                    recipient_name="Juan Pérez", recipient_kind="citizen")
    with pytest.raises(services.ConflictError):
        services.act_distribute(actor=world.dom, act=act)
    act = services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    assert act.state == ActState.IN_SIGNATURE
    for who in (world.dom, world.clerk):
        with pytest.raises(services.ConflictError):
            services.act_distribute(actor=who, act=act, delivery_method="by_hand", reference="Entregado")
    from folio.registry.models import Registration

    assert not Registration.objects.filter(book="S").exists()
    assert AuditEvent.objects.filter(action="act.refused", data__attempted="distribute").count() == 3


def test_state_machine_refuses_what_does_not_apply(world: Any, templates: Any, alcaldesa: Any) -> None:
    act = draft(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa])
    with pytest.raises(services.ConflictError):
        services.act_endorse(actor=world.dom_head, act=act)
    with pytest.raises(services.ConflictError):
        services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    act = services.act_submit(actor=world.dom, act=act)
    with pytest.raises(services.ConflictError):
        services.act_submit(actor=world.dom, act=act)
    with pytest.raises(services.ConflictError):
        services.act_update(actor=world.dom, act=act, data=services.ActInput(subject="Otra materia"))
    with pytest.raises(services.ConflictError):
        services.act_cancel(actor=world.dom, act=act, reason="Ya no corresponde")
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    with pytest.raises(services.ConflictError):
        services.act_send_back(actor=world.dom, act=act, comment="Demasiado tarde para esto")
    act = services.act_distribute(actor=world.dom, act=act)
    with pytest.raises(services.ConflictError, match=r"already|ya fue"):
        services.act_distribute(actor=world.dom, act=act)
    # A stale version is refused, never silently overwritten.
    other = draft(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa])
    services.act_update(actor=world.dom, act=other, data=services.ActInput(subject="Primera"))
    with pytest.raises(services.ConflictError):
        services.act_update(actor=world.dom, act=other, data=services.ActInput(subject="Segunda"),
                            expected_version=1)


def test_bad_drafts_are_refused_with_nothing_saved(world: Any, templates: Any, alcaldesa: Any) -> None:
    oficio = templates[ActKind.OFFICIAL_LETTER]
    cases = [
        ({"signers": [world.dom]}, "signers"),  # not a signer
        ({"signers": [alcaldesa, alcaldesa], "capacities": ["own", "own"]}, "signers"),  # twice
        ({"recipient_rut": "12.345.678-9"}, "recipient_rut"),
        ({"recipient_email": "no-es-correo"}, "recipient_email"),
        ({"access_level": 9}, "access_level"),
        ({"distribution_unit_ids": [world.coronel_units["DOM"].pk]}, "distribution_unit_ids"),
    ]
    for fields, key in cases:
        with pytest.raises(ValidationError) as caught:
            draft(world.dom, oficio, **fields)
        assert key in caught.value.message_dict, (fields, caught.value)
    with pytest.raises(ValidationError):
        services.act_create(actor=world.dom, data=services.ActInput(template_id=None))
    coronel_template = ActTemplate.objects.filter(organization=world.coronel).first()
    assert coronel_template is not None
    with pytest.raises(ValidationError):
        services.act_create(actor=world.dom, data=services.ActInput(template_id=coronel_template.pk))
    with pytest.raises(PermissionDenied):
        services.act_create(actor=world.auditor, data=services.ActInput(template_id=oficio.pk))
    assert not Act.objects.exists()
    # Submitting without a subject, without signers, or with a delegation that does not exist, is refused.
    act = draft(world.dom, oficio, body="Texto")
    with pytest.raises(ValidationError):
        services.act_submit(actor=world.dom, act=act)
    act = draft(world.dom, oficio, signers=[alcaldesa], subject="")
    with pytest.raises(ValidationError) as caught:
        services.act_submit(actor=world.dom, act=act)
    assert "subject" in caught.value.message_dict
    act = draft(world.dom, oficio, signers=[alcaldesa], capacities=["delegated"])
    with pytest.raises(ValidationError, match="delega"):
        services.act_submit(actor=world.dom, act=act)
    assert set(Act.objects.values_list("state", flat=True)) == {ActState.DRAFT}


def test_a_failed_commit_releases_the_number(world: Any, templates: Any, alcaldesa: Any, monkeypatch: Any) -> None:
    """If storing the signed PDF fails after a good signature, nothing is kept and the number is released."""
    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa])

    def broken_store(**kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(services, "file_store", broken_store)
    with pytest.raises(OSError):
        services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    act.refresh_from_db()
    assert act.state == ActState.IN_SIGNATURE and act.number is None
    assert list(ActCounter.objects.values_list("last_value", "lease_token")) == [(0, "")]
    monkeypatch.undo()
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert act.number == 1 and signed_bytes(act)
