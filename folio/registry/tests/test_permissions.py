"""Who may do what in the Oficina de Partes, role by role, and the other municipality: registering,
seeing restricted registrations, routing, acknowledging, re-routing, closing, voiding, correcting and
dispatching. A refused attempt raises PermissionDenied and leaves no row and no audit event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from folio.accounts.models import RoleCode
from folio.audit.models import AuditEvent
from folio.core import demo
from folio.registry import selectors, services
from folio.registry.models import AccessLevel, Registration, Routing
from folio.registry.tests.servicehelpers import incoming, outgoing, routed, state

LOTA_STAFF = ["admin", "clerk", "dom", "dom_head", "legal", "dideco", "signer", "ctd", "auditor"]
OUTSIDERS = ["other_clerk", "other_dom", "citizen"]
EVERYONE = LOTA_STAFF + OUTSIDERS


def users(world: Any, names: list[str]) -> list[tuple[str, Any]]:
    return [(name, getattr(world, name)) for name in names]


def check(world: Any, allowed: set[str], attempt: Callable[[Any], Any], *, prepare: Callable[[], Any] | None = None,
          action: str | None = None) -> None:
    """Run ``attempt(user)`` for every persona (on a fresh ``prepare()`` target when given): the
    allowed ones succeed and write an audit row; the others get PermissionDenied and change nothing."""
    for name, user in users(world, EVERYONE):
        target = prepare() if prepare else None
        before = state()
        audit_before = AuditEvent.objects.count()
        if name in allowed:
            attempt(user) if target is None else attempt((user, target))
            assert AuditEvent.objects.count() > audit_before, name
            if action:
                last = AuditEvent.objects.order_by("-pk").first()
                assert (last.action, last.actor_id) == (action, user.pk), name
        else:
            with pytest.raises(PermissionDenied):
                attempt(user) if target is None else attempt((user, target))
            assert state() == before, f"{name} changed something while being refused"


# --- registering --------------------------------------------------------------------------------

def test_who_registers_incoming(world: Any) -> None:
    check(world, {"admin", "clerk", "other_clerk"}, lambda u: incoming(u), action="registration.create")
    assert set(Registration.objects.values_list("organization_id", "registered_by_id")) == {
        (world.lota.pk, world.admin.pk), (world.lota.pk, world.clerk.pk), (world.coronel.pk, world.other_clerk.pk)}


def test_who_registers_outgoing(world: Any) -> None:
    allowed = {"admin", "clerk", "dom", "dom_head", "legal", "dideco", "signer", "ctd", "other_clerk", "other_dom"}
    check(world, allowed, lambda u: outgoing(u), action="registration.create")
    # Staff outside the Oficina de Partes send only on behalf of their own unit.
    from django.core.exceptions import ValidationError

    before = state()
    with pytest.raises(ValidationError):
        outgoing(world.dom, unit_id=world.units["AJ"].pk)
    assert state() == before
    assert outgoing(world.clerk, unit_id=world.units["AJ"].pk).unit_id == world.units["AJ"].pk


# --- seeing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("level", [AccessLevel.RESTRICTED, AccessLevel.SECRET, AccessLevel.RESERVED])
def test_who_sees_a_restricted_registration(world: Any, level: int) -> None:
    public, _ = routed(world.clerk, world.units["DOM"], subject="Solicitud pública")
    hidden, _ = routed(world.clerk, world.units["DOM"], subject="Sumario administrativo", access_level=level)
    coronel = incoming(world.other_clerk, subject="Solicitud pública de Coronel")
    sees_hidden = {"admin", "clerk", "dom", "dom_head"}
    for name, user in users(world, EVERYONE):
        visible = set(selectors.registrations_visible_to(user).values_list("pk", flat=True))
        expected = set()
        if name in LOTA_STAFF:
            expected.add(public.pk)
        if name in sees_hidden:
            expected.add(hidden.pk)
        if name == "other_clerk" or name == "other_dom":
            expected.add(coronel.pk)
        assert visible == expected, name
        assert (selectors.registration_get(user, hidden.pk) is not None) is (name in sees_hidden), name
        assert (selectors.registration_get(user, public.pk) is not None) is (name in LOTA_STAFF), name


def test_the_auditor_sees_a_restricted_registration_only_when_routed_to_control(world: Any) -> None:
    hidden, _ = routed(world.clerk, world.units["DOM"], access_level=AccessLevel.RESERVED)
    assert selectors.registration_get(world.auditor, hidden.pk) is None
    services.registration_route(actor=world.clerk, registration=hidden, to_unit_ids=[world.units["CONTROL"].pk],
                                instruction="information", business_days=None)
    assert selectors.registration_get(world.auditor, hidden.pk) is not None
    assert selectors.registration_get(world.legal, hidden.pk) is None


def test_a_unit_sees_restricted_registrations_addressed_to_it(world: Any) -> None:
    reg = incoming(world.clerk, access_level=AccessLevel.SECRET, unit_id=world.units["AJ"].pk)
    assert selectors.registration_get(world.legal, reg.pk) is not None
    assert selectors.registration_get(world.dom, reg.pk) is None


def test_a_routing_to_one_official_is_seen_by_them_and_their_head_only(world: Any) -> None:
    colleague = demo.ensure_user(world.lota, "dom2.lota", "Dora", "Mella", "DOM", [RoleCode.OFFICIAL], "Inspectora")
    reg = incoming(world.clerk, access_level=AccessLevel.RESTRICTED)
    [routing] = services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                            to_user_id=world.dom.pk, instruction="response", business_days=5)
    assert selectors.registration_get(world.dom, reg.pk) is not None
    assert selectors.registration_get(world.dom_head, reg.pk) is not None
    assert selectors.registration_get(colleague, reg.pk) is None
    assert selectors.routing_get(colleague, routing.pk) is None
    assert [r.pk for r in selectors.inbox_routings(world.dom).routings] == [routing.pk]
    assert selectors.inbox_routings(colleague).routings == []
    before = state()
    with pytest.raises(PermissionDenied):
        services.routing_acknowledge(actor=colleague, routing=routing)
    assert state() == before
    services.routing_acknowledge(actor=world.dom_head, routing=routing)


def test_the_other_municipality_gets_nothing_by_id_or_folio(world: Any) -> None:
    lota = incoming(world.clerk, subject="Carta de Lota")
    coronel = incoming(world.other_clerk, subject="Carta de Coronel")
    assert lota.folio == coronel.folio  # both books start at 1
    assert selectors.registration_get(world.other_clerk, lota.pk) is None
    assert selectors.registration_get(world.other_dom, lota.pk) is None
    assert selectors.registration_by_folio(world.other_clerk, lota.folio).pk == coronel.pk
    assert selectors.registration_by_folio(world.clerk, lota.folio).pk == lota.pk
    _reg, routing = routed(world.clerk, world.units["DOM"])
    assert selectors.routing_get(world.other_dom, routing.pk) is None
    assert selectors.inbox_routings(world.other_dom).routings == []
    assert selectors.registration_get(world.citizen, lota.pk) is None


# --- acting -------------------------------------------------------------------------------------

def test_who_routes_a_new_registration(world: Any) -> None:
    check(world, {"admin", "clerk"}, lambda ut: services.registration_route(
        actor=ut[0], registration=ut[1], to_unit_ids=[world.units["DOM"].pk], instruction="response",
        business_days=10), prepare=lambda: incoming(world.clerk), action="registration.route")


def test_who_routes_on_a_routed_registration(world: Any) -> None:
    # The unit that received it may send it on (e.g. asks Jurídica for a report); other units may not.
    check(world, {"admin", "clerk", "dom", "dom_head"}, lambda ut: services.registration_route(
        actor=ut[0], registration=ut[1], to_unit_ids=[world.units["AJ"].pk], instruction="report", business_days=5),
        prepare=lambda: routed(world.clerk, world.units["DOM"])[0], action="registration.route")


def test_who_acknowledges(world: Any) -> None:
    check(world, {"dom", "dom_head"}, lambda ut: services.routing_acknowledge(actor=ut[0], routing=ut[1]),
          prepare=lambda: routed(world.clerk, world.units["DOM"])[1], action="routing.acknowledge")


def test_who_reroutes(world: Any) -> None:
    check(world, {"admin", "clerk", "dom", "dom_head"}, lambda ut: services.routing_reroute(
        actor=ut[0], routing=ut[1], to_unit_id=world.units["DIDECO"].pk, instruction="response", business_days=10),
        prepare=lambda: routed(world.clerk, world.units["DOM"])[1], action="registration.route")


def test_who_closes(world: Any) -> None:
    check(world, {"admin", "clerk", "dom", "dom_head"}, lambda ut: services.registration_close(
        actor=ut[0], registration=ut[1], note="Resuelto por la unidad"),
        prepare=lambda: routed(world.clerk, world.units["DOM"])[0], action="registration.close")


def test_who_voids(world: Any) -> None:
    check(world, {"admin", "clerk"}, lambda ut: services.registration_void(
        actor=ut[0], registration=ut[1], reason="Ingresado por error"),
        prepare=lambda: routed(world.clerk, world.units["DOM"])[0], action="registration.void")


def test_who_corrects_metadata(world: Any) -> None:
    check(world, {"admin", "clerk"}, lambda ut: services.registration_update(
        actor=ut[0], registration=ut[1], expected_version=ut[1].version, subject="Asunto corregido", summary="",
        keywords="", access_level=AccessLevel.RESTRICTED, sensitive_data=False),
        prepare=lambda: routed(world.clerk, world.units["DOM"])[0], action="registration.update")


def test_who_dispatches(world: Any) -> None:
    check(world, {"admin", "clerk", "dom", "dom_head"}, lambda ut: services.registration_dispatch(
        actor=ut[0], registration=ut[1], method="by_hand", reference="Recibido conforme"),
        prepare=lambda: outgoing(world.dom), action="registration.dispatch")


def test_the_other_municipalitys_clerk_cannot_touch_a_lota_routing_in_any_state(world: Any) -> None:
    reg, routing = routed(world.clerk, world.units["DOM"])
    services.routing_acknowledge(actor=world.dom, routing=routing)
    services.registration_close(actor=world.dom, registration=reg, note="Resuelto")
    for user in (world.other_clerk, world.other_dom):
        before = state()
        with pytest.raises(PermissionDenied):
            services.routing_acknowledge(actor=user, routing=routing)
        with pytest.raises(PermissionDenied):
            services.routing_reroute(actor=user, routing=routing, to_unit_id=world.units["AJ"].pk,
                                     instruction="response", business_days=3)
        assert state() == before
    assert Routing.objects.filter(registration=reg).count() == 1
