"""The life of a registration and of its routings: the allowed path, and every transition that no
longer applies refused with the right exception, changing nothing and auditing nothing. Also the
optimistic concurrency of edits (a stale version is refused, never silently overwritten)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from folio.audit.models import AuditEvent
from folio.registry import services
from folio.registry.models import Registration, RegistrationStatus, Routing, RoutingStatus
from folio.registry.tests.servicehelpers import incoming, outgoing, routed, state, text_doc


def refused(exc: type[Exception], call: Callable[[], Any]) -> None:
    """``call`` raises ``exc`` and leaves every row (and the audit trail) as it was."""
    before = state()
    with pytest.raises(exc):
        call()
    assert state() == before


def actions(reg: Registration) -> list[str]:
    return list(AuditEvent.objects.filter(object_type="registry.registration", object_id=str(reg.pk))
                .order_by("seq").values_list("action", flat=True))


def test_incoming_lifecycle(world: Any) -> None:
    reg = incoming(world.clerk)
    assert (reg.status, reg.version) == (RegistrationStatus.REGISTERED, 1)
    [routing] = services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                            instruction="response", business_days=10, expected_version=1)
    reg.refresh_from_db()
    assert (reg.status, reg.version) == (RegistrationStatus.ROUTED, 2)
    assert routing.status == RoutingStatus.PENDING and routing.due_date is not None
    services.routing_acknowledge(actor=world.dom, routing=routing)
    reg.refresh_from_db()
    routing.refresh_from_db()
    assert (reg.status, routing.status, routing.acknowledged_by_id) == (
        RegistrationStatus.IN_PROGRESS, RoutingStatus.ACKNOWLEDGED, world.dom.pk)
    services.registration_close(actor=world.dom, registration=reg, note="Se entregó el certificado en mesón.",
                                expected_version=reg.version)
    reg.refresh_from_db()
    routing.refresh_from_db()
    assert reg.status == RegistrationStatus.CLOSED and reg.closed_at is not None
    assert routing.status == RoutingStatus.COMPLETED and routing.completed_by_id == world.dom.pk
    assert actions(reg) == ["registration.create", "registration.route", "routing.acknowledge", "registration.close"]


def test_reroute_and_answer_close_the_registration(world: Any) -> None:
    reg, routing = routed(world.clerk, world.units["DAF"])
    child = services.routing_reroute(actor=world.clerk, routing=routing, to_unit_id=world.units["DOM"].pk,
                                     instruction="response", business_days=5, note="Corresponde a la DOM")
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.REROUTED and child.parent_id == routing.pk
    assert child.to_unit_id == world.units["DOM"].pk and child.status == RoutingStatus.PENDING
    services.routing_acknowledge(actor=world.dom, routing=child)
    answer = outgoing(world.dom, answers_id=reg.pk)
    reg.refresh_from_db()
    child.refresh_from_db()
    assert reg.status == RegistrationStatus.CLOSED
    assert (child.status, child.response_id) == (RoutingStatus.COMPLETED, answer.pk)
    assert actions(reg) == ["registration.create", "registration.route", "registration.route",
                            "routing.acknowledge", "registration.answered", "registration.close"]
    rerouted = AuditEvent.objects.filter(action="registration.route", object_id=str(reg.pk)).order_by("seq").last()
    assert rerouted.data["rerouted_from"] == routing.pk


def test_outgoing_lifecycle(world: Any) -> None:
    out = outgoing(world.dom, party_email="vecino@example.cl")
    assert out.status == RegistrationStatus.REGISTERED and out.book == "S"
    services.registration_dispatch(actor=world.dom, registration=out, method="by_hand",
                                   reference="Recibido por el vecino, firma en copia")
    out.refresh_from_db()
    assert out.status == RegistrationStatus.DISPATCHED and out.dispatched_at is not None
    assert actions(out) == ["registration.create", "registration.dispatch"]


def test_close_a_voided_registration_is_refused(world: Any) -> None:
    reg, _routing = routed(world.clerk, world.units["DOM"])
    services.registration_void(actor=world.clerk, registration=reg, reason="Duplicado del folio anterior")
    refused(PermissionDenied, lambda: services.registration_close(actor=world.clerk, registration=reg, note="Cerrado"))


def test_acknowledge_twice_is_a_conflict(world: Any) -> None:
    _reg, routing = routed(world.clerk, world.units["DOM"])
    services.routing_acknowledge(actor=world.dom, routing=routing)
    refused(services.ConflictError, lambda: services.routing_acknowledge(actor=world.dom, routing=routing))
    refused(services.ConflictError, lambda: services.routing_acknowledge(actor=world.dom_head, routing=routing))


def test_acknowledge_a_cancelled_routing_is_a_conflict(world: Any) -> None:
    reg, routing = routed(world.clerk, world.units["DOM"])
    services.registration_void(actor=world.clerk, registration=reg, reason="Anulado por error de ingreso")
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.CANCELLED
    refused(services.ConflictError, lambda: services.routing_acknowledge(actor=world.dom, routing=routing))
    refused(services.ConflictError, lambda: services.routing_reroute(
        actor=world.clerk, routing=routing, to_unit_id=world.units["AJ"].pk, instruction="response",
        business_days=None))


def test_route_a_closed_registration_is_refused(world: Any) -> None:
    reg, _routing = routed(world.clerk, world.units["DOM"])
    services.registration_close(actor=world.clerk, registration=reg, note="Resuelto")
    for user in (world.clerk, world.dom):
        refused(PermissionDenied, lambda u=user: services.registration_route(
            actor=u, registration=reg, to_unit_ids=[world.units["AJ"].pk], instruction="report", business_days=3))
    refused(PermissionDenied, lambda: services.registration_void(actor=world.clerk, registration=reg,
                                                                 reason="Anular lo ya cerrado"))
    refused(PermissionDenied, lambda: services.registration_close(actor=world.clerk, registration=reg, note="Otra vez"))
    version = Registration.objects.get(pk=reg.pk).version
    refused(PermissionDenied, lambda: services.registration_update(
        actor=world.clerk, registration=reg, expected_version=version, subject="Nuevo asunto", summary="",
        keywords="", access_level=1, sensitive_data=False))


def test_reroute_a_completed_routing_is_a_conflict(world: Any) -> None:
    reg, routing = routed(world.clerk, world.units["DOM"])
    services.registration_close(actor=world.clerk, registration=reg, note="Resuelto")
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.COMPLETED
    refused(services.ConflictError, lambda: services.routing_reroute(
        actor=world.clerk, routing=routing, to_unit_id=world.units["AJ"].pk, instruction="response", business_days=5))


def test_dispatch_an_incoming_registration_is_refused(world: Any) -> None:
    reg = incoming(world.clerk)
    refused(PermissionDenied, lambda: services.registration_dispatch(
        actor=world.clerk, registration=reg, method="by_hand", reference="Entregado"))


def test_dispatch_twice_is_refused(world: Any) -> None:
    out = outgoing(world.dom)
    services.registration_dispatch(actor=world.dom, registration=out, method="certified_mail", reference="RR123456CL")
    refused(PermissionDenied, lambda: services.registration_dispatch(
        actor=world.dom, registration=out, method="certified_mail", reference="RR999999CL"))
    refused(PermissionDenied, lambda: services.registration_void(actor=world.clerk, registration=out,
                                                                 reason="Ya despachado"))


def test_void_twice_is_refused(world: Any) -> None:
    reg = incoming(world.clerk)
    services.registration_void(actor=world.clerk, registration=reg, reason="Ingreso duplicado")
    refused(PermissionDenied, lambda: services.registration_void(actor=world.clerk, registration=reg,
                                                                 reason="Ingreso duplicado otra vez"))


def test_bad_routing_input_is_refused(world: Any) -> None:
    reg = incoming(world.clerk)
    dom = world.units["DOM"].pk
    bad: list[dict[str, Any]] = [
        {"to_unit_ids": []},
        {"instruction": "whatever"},
        {"business_days": 0},
        {"business_days": 366},
        {"to_unit_ids": [world.coronel_units["DOM"].pk]},       # a unit of the other municipality
        {"to_unit_ids": [dom, world.coronel_units["AJ"].pk]},
        {"to_unit_ids": [999_999]},
        {"to_user_id": world.legal.pk},                         # not a member of the DOM
        {"to_user_id": world.other_dom.pk},
        {"to_unit_ids": [dom, world.units["AJ"].pk], "to_user_id": world.dom.pk},
    ]
    for overrides in bad:
        kwargs: dict[str, Any] = {"to_unit_ids": [dom], "instruction": "response", "business_days": 10, **overrides}
        refused(ValidationError, lambda k=kwargs: services.registration_route(actor=world.clerk, registration=reg, **k))
    refused(ValidationError, lambda: services.registration_close(actor=world.clerk, registration=reg, note="  "))
    out = outgoing(world.dom)
    refused(ValidationError, lambda: services.registration_close(actor=world.clerk, registration=reg, note="",
                                                                 response_id=reg.pk))
    refused(ValidationError, lambda: services.registration_dispatch(actor=world.dom, registration=out,
                                                                    method="pigeon"))
    refused(ValidationError, lambda: services.registration_dispatch(actor=world.dom, registration=out,
                                                                    method="certified_mail"))
    refused(ValidationError, lambda: services.registration_dispatch(actor=world.dom, registration=out,
                                                                    method="email"))  # no e-mail address


# --- optimistic concurrency ----------------------------------------------------------------------

def test_update_with_a_stale_version_is_a_conflict(world: Any) -> None:
    reg = incoming(world.clerk, subject="Asunto original")
    loaded_by_a = Registration.objects.get(pk=reg.pk)
    loaded_by_b = Registration.objects.get(pk=reg.pk)
    services.registration_update(actor=world.clerk, registration=loaded_by_a, expected_version=loaded_by_a.version,
                                 subject="Asunto corregido por A", summary="", keywords="", access_level=1,
                                 sensitive_data=False)
    refused(services.ConflictError, lambda: services.registration_update(
        actor=world.admin, registration=loaded_by_b, expected_version=loaded_by_b.version,
        subject="Asunto de B", summary="", keywords="", access_level=2, sensitive_data=True))
    reg.refresh_from_db()
    assert (reg.subject, reg.access_level, reg.version) == ("Asunto corregido por A", 1, 2)
    event = AuditEvent.objects.get(action="registration.update", object_id=str(reg.pk))
    assert event.data["changes"] == {"subject": ["Asunto original", "Asunto corregido por A"]}


def test_route_close_and_void_with_a_stale_version_are_conflicts(world: Any) -> None:
    reg = incoming(world.clerk)
    stale = reg.version
    services.registration_update(actor=world.clerk, registration=reg, expected_version=stale, subject="Otro asunto",
                                 summary="", keywords="", access_level=1, sensitive_data=False)
    refused(services.ConflictError, lambda: services.registration_route(
        actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk], instruction="response",
        business_days=10, expected_version=stale))
    refused(services.ConflictError, lambda: services.registration_close(
        actor=world.clerk, registration=reg, note="Resuelto", expected_version=stale))
    refused(services.ConflictError, lambda: services.registration_void(
        actor=world.clerk, registration=reg, reason="Duplicado", expected_version=stale))
    assert not Routing.objects.filter(registration=reg).exists()
    # With the current version the same route goes through.
    services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                instruction="response", business_days=10, expected_version=stale + 1)
    assert Routing.objects.filter(registration=reg).count() == 1


def test_documents_added_on_dispatch_are_kept(world: Any) -> None:
    out = outgoing(world.dom)
    services.registration_dispatch(actor=world.clerk, registration=out, method="by_hand",
                                   evidence=text_doc("Recibí conforme, Juan Pérez", "acuse.txt"))
    roles = list(out.documents.order_by("position").values_list("role", flat=True))
    assert roles == ["main", "delivery_evidence"]
