"""Reads of official documents, always limited to what the asking user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from folio.accounts.models import RoleCode, User
from folio.acts.models import (
    Act,
    ActDistribution,
    ActState,
    ActStep,
    ActTemplate,
    Delegation,
    SignaturePolicy,
    Substitution,
)
from folio.audit.models import AuditEvent
from folio.audit.selectors import events_for_object
from folio.registry.models import AccessLevel
from folio.registry.permissions import REGISTRARS, user_unit_ids

OBJECT_TYPE = "acts.act"
FINAL_STATES = (ActState.NUMBERED, ActState.DISTRIBUTED)


def org_today(organization: Any) -> dt.date:
    return timezone.localdate(timezone=ZoneInfo(organization.time_zone))


def acts_visible_to(user: Any) -> QuerySet[Act]:
    """Drafts and acts in circuit: their author, their drafting unit, their endorsers and signers, the
    Oficina de Partes, admins and auditors. Numbered acts also to everyone in the organization when public,
    and to the units they were distributed to."""
    if not user.is_authenticated or not user.organization_id:
        return Act.objects.none()
    qs = Act.objects.filter(organization_id=user.organization_id)
    if user.has_role(*REGISTRARS, RoleCode.AUDITOR):
        return qs
    units = user_unit_ids(user)
    participant = ActStep.objects.filter(act=OuterRef("pk"), user_id=user.pk)
    distributed = ActDistribution.objects.filter(act=OuterRef("pk"), unit_id__in=units)
    return qs.filter(
        Q(created_by_id=user.pk) | Q(unit_id__in=units) | Exists(participant)
        | Q(state__in=FINAL_STATES, access_level=AccessLevel.PUBLIC) | Exists(distributed)
    )


def act_get(user: Any, pk: int) -> Act | None:
    """Fetch-and-authorise in one step: None (a 404 for the caller) when it does not exist *or* the user
    may not see it, so ids of other organizations reveal nothing."""
    return (
        acts_visible_to(user)
        .select_related("organization", "template", "unit", "created_by", "answers", "case_file", "signed_file",
                        "current_step__user", "outgoing_registration", "case_file_entry")
        .prefetch_related("steps__user", "distribution_units", "distributions__unit")
        .filter(pk=pk)
        .first()
    )


@dataclass
class ActFilters:
    q: str = ""
    state: str = ""
    kind: str = ""
    mine: bool = False


def act_search(user: Any, filters: ActFilters) -> QuerySet[Act]:
    qs = acts_visible_to(user)
    if filters.q.strip():
        q = filters.q.strip()
        qs = qs.filter(Q(subject__icontains=q) | Q(number_display__icontains=q) | Q(recipient_name__icontains=q))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.mine:
        qs = qs.filter(Q(created_by_id=user.pk) | Q(unit_id__in=user_unit_ids(user)))
    return qs.select_related("unit", "current_step__user").order_by("-id")


def endorsement_inbox(user: Any) -> QuerySet[Act]:
    """Acts waiting for the user's visación (it is their turn)."""
    return (acts_visible_to(user).filter(state=ActState.IN_ENDORSEMENT, current_step__user_id=user.pk)
            .select_related("unit", "created_by").order_by("updated_at", "id"))


def signature_inbox(user: Any) -> QuerySet[Act]:
    """Acts waiting for the user's signature (it is their turn)."""
    return (acts_visible_to(user).filter(state=ActState.IN_SIGNATURE, current_step__user_id=user.pk)
            .select_related("unit", "created_by", "current_step").order_by("updated_at", "id"))


def templates_for(user: Any, *, active_only: bool = True) -> QuerySet[ActTemplate]:
    if not user.is_authenticated or not user.organization_id:
        return ActTemplate.objects.none()
    qs = ActTemplate.objects.filter(organization_id=user.organization_id)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("kind", "name")


def template_get(user: Any, pk: int, *, active_only: bool = False) -> ActTemplate | None:
    return templates_for(user, active_only=active_only).prefetch_related("steps__user").filter(pk=pk).first()


def policy_for(organization_id: int, kind: str) -> SignaturePolicy | None:
    return SignaturePolicy.objects.filter(organization_id=organization_id, kind=kind).first()


def policies_for(organization_id: int) -> dict[str, SignaturePolicy]:
    return {p.kind: p for p in SignaturePolicy.objects.filter(organization_id=organization_id)
            .prefetch_related("own_signers")}


def _valid_on(day: dt.date) -> Q:
    return Q(is_active=True, valid_from__lte=day) & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))


def active_delegation(user: Any, kind: str, day: dt.date) -> Delegation | None:
    for delegation in Delegation.objects.filter(_valid_on(day), organization_id=user.organization_id,
                                                delegate_id=user.pk).order_by("-valid_from", "-id"):
        if kind in (delegation.kinds or []):
            return delegation
    return None


def active_substitution(user: Any, day: dt.date) -> Substitution | None:
    return (Substitution.objects.filter(_valid_on(day), organization_id=user.organization_id, acting_id=user.pk)
            .order_by("-valid_from", "-id").first())


def delegations_for(organization_id: int) -> QuerySet[Delegation]:
    return Delegation.objects.filter(organization_id=organization_id).select_related("delegate").order_by("-id")


def substitutions_for(organization_id: int) -> QuerySet[Substitution]:
    return Substitution.objects.filter(organization_id=organization_id).select_related("acting").order_by("-id")


def staff_of(organization_id: int) -> QuerySet[User]:
    return (User.objects.filter(organization_id=organization_id, is_active=True).select_related("unit")
            .order_by("last_name", "first_name"))


def signers_of(organization_id: int) -> QuerySet[User]:
    return staff_of(organization_id).filter(roles__code=RoleCode.SIGNER).distinct()


def act_timeline(act: Act) -> QuerySet[AuditEvent]:
    return events_for_object(object_type=OBJECT_TYPE, object_id=act.pk)
