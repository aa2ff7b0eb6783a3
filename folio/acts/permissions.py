"""Who may do what with official documents. Reads are decided in selectors (querysets); these are the
write rules, checked by services so that UI and API obey the same ones.

- Drafting: municipal staff with a working role (officials, heads, signers, CTD, Oficina de Partes, admin).
- Editing, submitting, cancelling a draft: its author, the staff of its drafting unit and admins.
- Endorsing and signing: only the designated endorser or signer whose turn it is.
- Sending back (with comments): the endorser or signer whose turn it is, or the author (recalling it).
- Distributing a numbered act: its author, the staff of its unit and the Oficina de Partes.
- Templates, signature policy, delegations and acting appointments: the organization's administrators.
"""

from __future__ import annotations

from typing import Any

from folio.accounts.models import RoleCode
from folio.acts.models import Act, ActState, StepKind
from folio.registry.permissions import REGISTRARS, UNIT_STAFF, is_staff_of, user_unit_ids

__all__ = ["REGISTRARS", "UNIT_STAFF", "can_administer", "can_distribute", "can_draft", "can_edit", "can_endorse",
           "can_send_back", "can_sign", "is_staff_of"]


def can_draft(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id and user.has_role(*UNIT_STAFF))


def can_administer(user: Any, organization_id: int | None = None) -> bool:
    org = organization_id if organization_id is not None else getattr(user, "organization_id", None)
    return bool(is_staff_of(user, org) and user.has_role(RoleCode.ADMIN))


def _of_unit(user: Any, act: Act) -> bool:
    return act.unit_id in user_unit_ids(user) and user.has_role(*UNIT_STAFF)


def can_edit(user: Any, act: Act) -> bool:
    """May change, submit or cancel the act while it is a draft."""
    if not is_staff_of(user, act.organization_id) or act.state != ActState.DRAFT:
        return False
    return act.created_by_id == user.pk or _of_unit(user, act) or user.has_role(RoleCode.ADMIN)


def _current(user: Any, act: Act, kind: str) -> bool:
    step = act.current_step
    return bool(is_staff_of(user, act.organization_id) and step is not None and step.kind == kind
                and step.user_id == user.pk)


def can_endorse(user: Any, act: Act) -> bool:
    return act.state == ActState.IN_ENDORSEMENT and _current(user, act, StepKind.ENDORSE)


def can_sign(user: Any, act: Act) -> bool:
    return act.state == ActState.IN_SIGNATURE and _current(user, act, StepKind.SIGN)


def can_send_back(user: Any, act: Act) -> bool:
    if act.state not in (ActState.IN_ENDORSEMENT, ActState.IN_SIGNATURE) or not is_staff_of(user, act.organization_id):
        return False
    return act.created_by_id == user.pk or (act.current_step is not None and act.current_step.user_id == user.pk)


def can_distribute(user: Any, act: Act) -> bool:
    if act.state != ActState.NUMBERED or not is_staff_of(user, act.organization_id):
        return False
    return act.created_by_id == user.pk or _of_unit(user, act) or user.has_role(*REGISTRARS)
