"""Who may do what in the Oficina de Partes. Reads are decided in selectors (querysets); these are the
write rules, checked by services so that UI and API obey the same ones."""

from __future__ import annotations

from typing import Any

from folio.accounts.models import RoleCode
from folio.registry.models import OPEN_ROUTING, Registration, Routing

REGISTRARS = (RoleCode.ADMIN, RoleCode.REGISTRY)
UNIT_STAFF = (RoleCode.OFFICIAL, RoleCode.HEAD, RoleCode.SIGNER, RoleCode.DIGITAL_COORDINATOR, RoleCode.ADMIN,
              RoleCode.REGISTRY)


def is_staff_of(user: Any, organization_id: int | None) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.organization_id == organization_id)


def user_unit_ids(user: Any) -> list[int]:
    return [user.unit_id] if getattr(user, "unit_id", None) else []


def can_register(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.has_role(*REGISTRARS))


def can_register_outgoing(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.has_role(*UNIT_STAFF))


def open_routings_for_user(user: Any, registration: Registration) -> list[Routing]:
    """The open routings of ``registration`` that reach ``user`` (by name, to their unit, or as unit head)."""
    units = set(user_unit_ids(user))
    is_head = user.has_role(RoleCode.HEAD)
    return [
        r for r in registration.routings.all()
        if r.status in OPEN_ROUTING
        and (r.to_user_id == user.pk or (r.to_unit_id in units and (r.to_user_id is None or is_head)))
    ]


def can_route(user: Any, registration: Registration) -> bool:
    if not is_staff_of(user, registration.organization_id) or not registration.is_incoming or not registration.is_open:
        return False
    return user.has_role(*REGISTRARS) or bool(open_routings_for_user(user, registration))


def can_close(user: Any, registration: Registration) -> bool:
    return can_route(user, registration)


def can_void(user: Any, registration: Registration) -> bool:
    return is_staff_of(user, registration.organization_id) and user.has_role(*REGISTRARS) and registration.is_open


def can_acknowledge(user: Any, routing: Routing) -> bool:
    if not is_staff_of(user, routing.organization_id) or routing.status != "pending":
        return False
    if routing.to_user_id:
        in_unit = routing.to_unit_id in user_unit_ids(user)
        return routing.to_user_id == user.pk or (in_unit and user.has_role(RoleCode.HEAD))
    return routing.to_unit_id in user_unit_ids(user)


def can_dispatch(user: Any, registration: Registration) -> bool:
    if not is_staff_of(user, registration.organization_id) or registration.is_incoming:
        return False
    if registration.status != "registered":
        return False
    return user.has_role(*REGISTRARS) or registration.unit_id in user_unit_ids(user)
