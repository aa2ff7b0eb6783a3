"""Numbers per type, organization and year, taken at signing from a locked counter: unique, gap-free, the one
printed in the PDF is the one recorded, and a failed signature consumes none — also under concurrency."""

from __future__ import annotations

import datetime as dt
import random
import threading
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from folio.acts import services
from folio.acts.models import Act, ActCounter, ActKind, ActState, ActTemplate
from folio.acts.tests.conftest import DOM_PASSPHRASE, PASSPHRASE, pdf_text, signed_bytes, submitted


def test_numbers_per_type_organization_and_year(world: Any, templates: Any, alcaldesa: Any) -> None:
    from folio.accounts.models import RoleCode
    from folio.acts.tests.conftest import enroll, with_run
    from folio.core import demo

    year = timezone.localdate().year
    signed = []
    for kind in (ActKind.OFFICIAL_LETTER, ActKind.EXEMPT_DECREE, ActKind.OFFICIAL_LETTER, ActKind.CERTIFICATE,
                 ActKind.EXEMPT_DECREE, ActKind.OFFICIAL_LETTER):
        act = submitted(world.dom, templates[kind], signers=[alcaldesa])
        signed.append(services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE))
    assert [a.number_display for a in signed] == [
        f"Oficio Ord. N° 1/{year}", f"Decreto Exento N° 1/{year}", f"Oficio Ord. N° 2/{year}",
        f"Certificado N° 1/{year}", f"Decreto Exento N° 2/{year}", f"Oficio Ord. N° 3/{year}"]
    for act in signed:
        assert act.number_display in pdf_text(signed_bytes(act))
    # Coronel numbers its own acts from 1.
    mayor = demo.ensure_user(world.coronel, "alcalde.coronel", "Boris", "Chamorro", "OP", [RoleCode.SIGNER],
                             "Alcalde")
    enroll(with_run(mayor, 11111111, "1"), "clave-coronel-2026")
    coronel_oficio = ActTemplate.objects.get(organization=world.coronel, kind=ActKind.OFFICIAL_LETTER)
    act = submitted(world.other_clerk, coronel_oficio, signers=[mayor])
    act = services.act_sign(actor=mayor, act=act, passphrase="clave-coronel-2026")
    assert act.number_display == f"Oficio Ord. N° 1/{year}"
    # A new year starts again at 1 (the counter is per year).
    ActCounter.objects.create(organization=world.lota, kind=ActKind.OFFICIAL_LETTER, year=year + 1, last_value=0)
    assert ActCounter.objects.get(organization=world.lota, kind=ActKind.OFFICIAL_LETTER, year=year).last_value == 3


def test_a_failed_signature_consumes_no_number(world: Any, templates: Any, alcaldesa: Any,
                                               monkeypatch: Any) -> None:
    from folio.signatures import services as signatures

    decree = templates[ActKind.EXEMPT_DECREE]
    real = signatures.sign_pdf
    calls = {"n": 0}

    def first_two_fail(request: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise signatures.SignatureError("provider_error")
        return real(request)

    monkeypatch.setattr(signatures, "sign_pdf", first_two_fail)
    first = submitted(world.dom, decree, signers=[alcaldesa])
    second = submitted(world.dom, decree, signers=[alcaldesa])
    for act in (first, second):
        with pytest.raises(signatures.SignatureError):
            services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert Act.objects.filter(number__isnull=False).count() == 0
    third = services.act_sign(actor=alcaldesa, act=submitted(world.dom, decree, signers=[alcaldesa]),
                              passphrase=PASSPHRASE)
    assert third.number == 1
    # The two that failed are retried and take 2 and 3: no gap, no duplicate.
    assert services.act_sign(actor=alcaldesa, act=first, passphrase=PASSPHRASE).number == 2
    assert services.act_sign(actor=alcaldesa, act=second, passphrase=PASSPHRASE).number == 3


def test_an_expired_lease_is_taken_over_and_its_late_holder_records_nothing(
        world: Any, templates: Any, alcaldesa: Any) -> None:
    """A process that took the number and died (or hung) blocks the counter only until its lease expires; if
    it wakes up after someone else took the number over, its commit is refused."""
    from folio.signatures.services import SignRequest, sign_pdf

    decree = templates[ActKind.EXEMPT_DECREE]
    slow = submitted(world.dom, decree, signers=[alcaldesa])
    plan = services._prepare(alcaldesa, slow, None)
    assert plan.number == 1 and plan.lease_token
    fresh = Act.objects.select_related("organization", "template", "unit", "created_by", "current_step__user").get(
        pk=slow.pk)
    services._document(fresh, plan)
    late_signature = sign_pdf(SignRequest(pdf=plan.pdf, signer=alcaldesa, method="simple",
                                          verification_code=plan.code, stamp_lines=plan.stamp_lines,
                                          passphrase=PASSPHRASE, page=plan.page, box=plan.box,
                                          field_name="Firma1"))
    ActCounter.objects.filter(pk=plan.counter_id).update(
        lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    fast = services.act_sign(actor=alcaldesa, act=submitted(world.dom, decree, signers=[alcaldesa]),
                             passphrase=PASSPHRASE)
    assert fast.number == 1
    with pytest.raises(services.ConflictError):
        services._commit(alcaldesa, slow, plan, late_signature, None)
    slow.refresh_from_db()
    assert slow.number is None and slow.state == ActState.IN_SIGNATURE
    assert services.act_sign(actor=alcaldesa, act=slow, passphrase=PASSPHRASE).number == 2


def test_while_a_lease_is_held_others_wait_then_give_up(world: Any, templates: Any, alcaldesa: Any,
                                                        settings: Any) -> None:
    settings.FOLIO_ACTS_NUMBER_WAIT_SECONDS = 0.3
    decree = templates[ActKind.EXEMPT_DECREE]
    holder = submitted(world.dom, decree, signers=[alcaldesa])
    plan = services._prepare(alcaldesa, holder, None)
    other = submitted(world.dom, decree, signers=[alcaldesa])
    with pytest.raises(services.ConflictError, match=r"numerando|numbered"):
        services.act_sign(actor=alcaldesa, act=other, passphrase=PASSPHRASE)
    services._release_lease(plan.counter_id, plan.lease_token)
    assert services.act_sign(actor=alcaldesa, act=other, passphrase=PASSPHRASE).number == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_signatures_take_unique_gap_free_numbers(world: Any, templates: Any, alcaldesa: Any,
                                                            director: Any, monkeypatch: Any) -> None:
    """Eight acts of the same type signed at the same time by two signers in several threads, a third of the
    signatures failing at the provider after a delay: the successful ones hold exactly 1..k, each printed in
    its own PDF; the failed ones hold none; the counter says k and no lease is left."""
    from folio.signatures import services as signatures

    decree = templates[ActKind.EXEMPT_DECREE]
    acts = [submitted(world.dom, decree, signers=[alcaldesa if i % 2 else director]) for i in range(8)]
    doomed = {a.pk for a in acts[::3]}
    real = signatures.sign_pdf
    rng = random.Random(5)
    by_code: dict[str, int] = {}
    lock = threading.Lock()

    def slow_and_flaky(request: Any) -> Any:
        import time

        time.sleep(rng.uniform(0.01, 0.05))
        with lock:
            act_id = by_code.get(request.verification_code)
        if act_id in doomed:
            raise signatures.SignatureError("provider_timeout")
        return real(request)

    original_document = services._document

    def remember(act: Act, plan: Any) -> None:
        original_document(act, plan)
        with lock:
            by_code[plan.code] = act.pk

    monkeypatch.setattr(signatures, "sign_pdf", slow_and_flaky)
    monkeypatch.setattr(services, "_document", remember)
    errors: list[BaseException] = []
    outcomes: dict[int, str] = {}
    barrier = threading.Barrier(len(acts))

    def sign(act: Act) -> None:
        try:
            barrier.wait(timeout=20)
            user = alcaldesa if act.current_step.user_id == alcaldesa.pk else director
            passphrase = PASSPHRASE if user == alcaldesa else DOM_PASSPHRASE
            services.act_sign(actor=user, act=act, passphrase=passphrase)
            outcomes[act.pk] = "signed"
        except signatures.SignatureError:
            outcomes[act.pk] = "failed"
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=sign, args=(a,)) for a in acts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert {pk for pk, o in outcomes.items() if o == "failed"} == doomed
    numbered = list(Act.objects.filter(number__isnull=False).order_by("number"))
    k = len(acts) - len(doomed)
    assert [a.number for a in numbered] == list(range(1, k + 1))
    assert set(Act.objects.filter(pk__in=doomed).values_list("number", flat=True)) == {None}
    counter = ActCounter.objects.get(organization=world.lota, kind=ActKind.EXEMPT_DECREE)
    assert counter.last_value == k and counter.lease_token == ""
    for act in numbered:
        assert act.number_display in pdf_text(signed_bytes(act))


def test_cancelling_a_draft_that_holds_a_number_voids_it(world: Any, templates: Any, director: Any,
                                                         alcaldesa: Any) -> None:
    decree = templates[ActKind.EXEMPT_DECREE]
    act = submitted(world.dom, decree, signers=[director, alcaldesa])
    act = services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    act = services.act_send_back(actor=alcaldesa, act=act, comment="No procede dictar este decreto")
    act = services.act_cancel(actor=world.dom, act=act, reason="Se desiste del trámite")
    assert act.state == ActState.CANCELLED and act.number == 1
    from folio.audit.models import AuditEvent

    assert AuditEvent.objects.get(action="act.cancel").data["voided_number"] == act.number_display
    # The voided number stays in the book and is never reused.
    nxt = services.act_sign(actor=director, act=submitted(world.dom, decree, signers=[director]),
                            passphrase=DOM_PASSPHRASE)
    assert nxt.number == 2
