"""Writes of official documents. Each public function is one transaction that also writes its audit row on
the act; refused attempts (permission, state machine) are recorded after the rollback.

State machine (``TRANSITIONS``): an action is allowed only from the listed states and moves the act to the
target state (None keeps it). Anything else raises ``ConflictError`` (409) and changes nothing.

Signing (``act_sign``) runs in three steps so that the external signature never runs inside a database
transaction (see ``models.ActCounter``):

1. *prepare* — one short locked transaction: it is this user's turn, the signing capacity is valid today, the
   method follows the policy; at the first signature the next number is leased from the counter.
2. *sign* — outside any transaction: the PDF is rendered with its number, date and verification code, and
   ``signatures.services.sign_pdf`` signs it (the signer authenticates again: passphrase or FirmaGob OTP).
3. *commit* — one locked transaction (with the stored file): the act has not changed meanwhile and the lease
   is still ours; the signed PDF, the number, the step, the verification record and the audit rows are
   written together. If anything fails before this commit, the lease is released: no number is consumed,
   nothing is stored, the act stays as it was and the signature can be retried.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from folio.accounts.models import RoleCode, User
from folio.acts import permissions as perms
from folio.acts import selectors
from folio.acts.defaults import DEFAULT_TEMPLATES, default_letterhead
from folio.acts.models import (
    KIND_DOCUMENT_TYPE,
    Act,
    ActCounter,
    ActDistribution,
    ActKind,
    ActLayout,
    ActState,
    ActStep,
    ActTemplate,
    Capacity,
    Delegation,
    SignatureMethod,
    SignaturePolicy,
    StepKind,
    StepStatus,
    Substitution,
    TemplateStep,
)
from folio.acts.rendering import (
    Layout,
    RenderedPdf,
    RenderInput,
    SignerLine,
    Slot,
    fill_layout,
    layout_fingerprint,
    render_act,
    render_layout,
    spanish_date,
)
from folio.audit import services as audit
from folio.core.rut import Rut
from folio.files.services import FileRejected, atomic_with_files, file_open, file_store
from folio.organizations.models import Unit
from folio.registry import services as registry_services
from folio.registry.models import AccessLevel, PartyKind
from folio.verification.models import VerificationKind, VerificationRecord
from folio.verification.services import new_code, verification_issue, verification_url

if TYPE_CHECKING:
    from folio.signatures.services import SignedPdf

log = logging.getLogger(__name__)
S = ActState
OBJECT_TYPE = selectors.OBJECT_TYPE
# SignatureError codes that concern the signer, not the document: in a batch, the rest are not attempted.
AUTHENTICATION_CODES = frozenset({"wrong_passphrase", "otp_expired", "otp_invalid", "not_enrolled"})


class ConflictError(registry_services.ConflictError):
    """The transition does not apply to the act's current state, or it changed meanwhile."""


# action: (states it is allowed from, state it leads to or None to keep the state)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "edit": (frozenset({S.DRAFT}), None),
    "submit_for_endorsement": (frozenset({S.DRAFT}), S.IN_ENDORSEMENT),
    "submit_for_signature": (frozenset({S.DRAFT}), S.IN_SIGNATURE),
    "endorse": (frozenset({S.IN_ENDORSEMENT}), None),
    "finish_endorsement": (frozenset({S.IN_ENDORSEMENT}), S.IN_SIGNATURE),
    "sign": (frozenset({S.IN_SIGNATURE}), None),
    "finish_signatures": (frozenset({S.IN_SIGNATURE}), S.SIGNED),
    "number": (frozenset({S.SIGNED}), S.NUMBERED),
    "distribute": (frozenset({S.NUMBERED}), S.DISTRIBUTED),
    "send_back": (frozenset({S.IN_ENDORSEMENT, S.IN_SIGNATURE}), S.DRAFT),
    "cancel": (frozenset({S.DRAFT}), S.CANCELLED),
}


def _refusal_message(action: str, state: str) -> str:
    messages = {
        "edit": _("Only a draft can be changed; send it back to draft first."),
        "submit_for_endorsement": _("Only a draft can be submitted."),
        "submit_for_signature": _("Only a draft can be submitted."),
        "endorse": _("This document is not waiting for endorsements."),
        "finish_endorsement": _("This document is not waiting for endorsements."),
        "sign": _("This document is not waiting for signatures."),
        "finish_signatures": _("This document is not waiting for signatures."),
        "number": _("Only a signed document can be numbered."),
        "distribute": _("Only a signed and numbered document can be distributed."),
        "send_back": _("Only a document in endorsement or in signature can be sent back."),
        "cancel": _("Only a draft can be cancelled."),
    }
    if action == "distribute" and state == S.DISTRIBUTED:
        return _("This document was already distributed.")
    return messages[action]


def allowed_actions(act: Act) -> set[str]:
    return {action for action, (states, _target) in TRANSITIONS.items() if act.state in states}


def _transition(act: Act, action: str) -> str:
    states, target = TRANSITIONS[action]
    if act.state not in states:
        raise ConflictError(_refusal_message(action, act.state))
    return target or act.state


# --- inputs ------------------------------------------------------------------------------------------

@dataclass
class StepInput:
    user_id: int
    capacity: str = Capacity.OWN


@dataclass
class ActInput:
    """The content of a draft. ``None`` leaves a field as it is (on update) or takes the template's default
    (on creation); endorsers and signers likewise."""

    template_id: int | None = None
    subject: str | None = None
    antecedents: str | None = None
    body: str | None = None
    closing: str | None = None
    distribution_text: str | None = None
    recipient_kind: str | None = None
    recipient_name: str | None = None
    recipient_position: str | None = None
    recipient_rut: str | None = None
    recipient_email: str | None = None
    recipient_address: str | None = None
    recipient_body_code: str | None = None
    distribution_unit_ids: list[int] | None = None
    access_level: int | None = None
    endorsers: list[StepInput] | None = None
    signers: list[StepInput] | None = None
    answers_id: int | None = None
    case_file_id: int | None = None


@dataclass
class TemplateInput:
    kind: str
    name: str
    letterhead: str
    numbering_scheme: str
    antecedents_label: str = "ANT.:"
    antecedents: str = ""
    subject: str = ""
    body: str = ""
    closing: str = ""
    distribution: str = ""
    show_from_to: bool = True
    access_level: int = AccessLevel.PUBLIC
    is_active: bool = True
    endorsers: list[StepInput] = field(default_factory=list)
    signers: list[StepInput] = field(default_factory=list)


# --- helpers -----------------------------------------------------------------------------------------

def _audit(action: str, actor: Any, act: Act, ip: str | None, **data: Any) -> None:
    audit.record(action=action, actor=actor, organization=act.organization, obj=act, data=data, ip=ip)


def _record_refusal(actor: Any, act: Act, action: str, exc: Exception, ip: str | None) -> None:
    kind = "act.denied" if isinstance(exc, PermissionDenied) else "act.refused"
    message = getattr(exc, "message", None) or str(exc)
    own_org = getattr(actor, "organization_id", None) == act.organization_id
    with transaction.atomic():
        if own_org:
            _audit(kind, actor, act, ip, attempted=action, state=act.state, reason=message)
        elif getattr(actor, "organization_id", None):
            # Another organization's user: recorded in their own chain, nothing about the act leaks.
            audit.record(action=kind, actor=actor, organization=actor.organization, object_type=OBJECT_TYPE,
                         object_id=str(act.pk), data={"attempted": action, "reason": message}, ip=ip)


@contextlib.contextmanager
def _recording_refusals(actor: Any, act: Act, action: str, ip: str | None) -> Iterator[None]:
    """Run a write; if it is refused (permission or state machine), record the refusal after the rollback."""
    try:
        yield
    except (PermissionDenied, ConflictError) as exc:
        _record_refusal(actor, act, action, exc, ip)
        raise


def act_record_denial(*, actor: Any, act_id: int | str, what: str, ip: str | None = None) -> None:
    """An attempt to reach an act that does not exist or that the user may not see (answered 404)."""
    if not getattr(actor, "organization_id", None):
        return
    with transaction.atomic():
        audit.record(action="act.denied", actor=actor, organization=actor.organization, object_type=OBJECT_TYPE,
                     object_id=str(act_id)[:64], data={"what": what[:200]}, ip=ip)


def _lock(act: Act, expected_version: int | None = None) -> Act:
    # of=("self",): lock the act row only, not the rows joined in (PostgreSQL).
    locked = (Act.objects.select_for_update(of=("self",))
              .select_related("organization", "template", "unit", "current_step", "created_by")
              .get(pk=act.pk))
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("Someone else changed this document while you were working. Reload and try again."))
    return locked


def _bump(act: Act, fields: list[str]) -> None:
    act.version += 1
    act.save(update_fields=[*fields, "version", "updated_at"])


def format_number(scheme: str, number: int, year: int) -> str:
    return scheme.replace("{n}", str(number)).replace("{year}", str(year))


def _validate_scheme(scheme: str, errors: dict[str, list[str]]) -> None:
    rest = scheme.replace("{n}", "").replace("{year}", "")
    if "{n}" not in scheme or "{" in rest or "}" in rest:
        errors.setdefault("numbering_scheme", []).append(
            _("The numbering scheme must contain {n} and may contain {year}, and no other braces."))


def _steps_clean(organization_id: int, steps: list[StepInput], kind: str, key: str,
                 errors: dict[str, list[str]]) -> list[tuple[User, str]]:
    """Resolve users of the organization; signers need the signer role; no one twice in the same list."""
    out: list[tuple[User, str]] = []
    ids = [s.user_id for s in steps]
    users = {u.pk: u for u in User.objects.filter(pk__in=ids, organization_id=organization_id, is_active=True)
             .prefetch_related("roles")}
    if len(set(ids)) != len(ids):
        errors.setdefault(key, []).append(_("The same person cannot appear twice."))
    for s in steps:
        user = users.get(s.user_id)
        if user is None:
            errors.setdefault(key, []).append(_("Choose staff of your organization."))
            continue
        if s.capacity not in Capacity.values:
            errors.setdefault(key, []).append(_("Choose a valid signing capacity."))
            continue
        if kind == StepKind.SIGN and not user.has_role(RoleCode.SIGNER):
            errors.setdefault(key, []).append(
                _("%(name)s is not a signer of the organization.") % {"name": user.display_name})
        if kind == StepKind.ENDORSE and s.capacity != Capacity.OWN:
            errors.setdefault(key, []).append(_("Endorsements are made in one's own capacity."))
        out.append((user, s.capacity))
    return out


@dataclass
class CapacityCheck:
    post: str
    capacity_label: str
    delegation: Delegation | None = None
    substitution: Substitution | None = None


def _capacity(user: User, capacity: str, act: Act, day: dt.date) -> CapacityCheck:
    """What the signer signs as, on ``day``; ValidationError if the policy does not allow it."""
    if capacity == Capacity.DELEGATED:
        delegation = selectors.active_delegation(user, act.kind, day)
        if delegation is None:
            raise ValidationError({"signers": [_(
                "%(name)s has no delegation in force to sign this type of document.") % {"name": user.display_name}]})
        return CapacityCheck(post=user.position, capacity_label=delegation.label, delegation=delegation)
    if capacity == Capacity.ACTING:
        substitution = selectors.active_substitution(user, day)
        if substitution is None:
            raise ValidationError({"signers": [_(
                "%(name)s has no acting appointment in force.") % {"name": user.display_name}]})
        return CapacityCheck(post=substitution.label, capacity_label=substitution.label, substitution=substitution)
    policy = selectors.policy_for(act.organization_id, act.kind)
    if policy is not None and policy.own_signers.exists() and not policy.own_signers.filter(pk=user.pk).exists():
        raise ValidationError({"signers": [_(
            "%(name)s may not sign this type of document in their own capacity; choose a delegation or an acting "
            "appointment.") % {"name": user.display_name}]})
    return CapacityCheck(post=user.position, capacity_label="")


def requires_advanced(act: Act) -> bool:
    policy = selectors.policy_for(act.organization_id, act.kind)
    return bool(policy and policy.requires_advanced)


# --- templates and policy ----------------------------------------------------------------------------

def ensure_default_templates(organization: Any, actor: Any | None = None) -> list[ActTemplate]:
    """Create the default templates (and a signature policy per type) of an organization that has none."""
    if ActTemplate.objects.filter(organization=organization).exists():
        return []
    from folio.organizations.models import Organization

    created: list[ActTemplate] = []
    with transaction.atomic():
        # The organization's row serialises concurrent first uses (there is no template row to lock yet).
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        if ActTemplate.objects.filter(organization=organization).exists():
            return []
        for spec in DEFAULT_TEMPLATES:
            created.append(ActTemplate.objects.create(organization=organization,
                                                      letterhead=default_letterhead(organization), **spec))
        for kind in ActKind.values:
            SignaturePolicy.objects.get_or_create(organization=organization, kind=kind)
        audit.record(action="act_template.defaults", actor=actor, organization=organization,
                     object_type="acts.acttemplate", data={"templates": [t.name for t in created]})
    return created


def _check_admin(actor: Any) -> None:
    if not perms.can_administer(actor):
        raise PermissionDenied(_("Only the organization's administrator can change templates and signature policy."))


def template_save(*, actor: Any, data: TemplateInput, template: ActTemplate | None = None,
                  ip: str | None = None) -> ActTemplate:
    _check_admin(actor)
    errors: dict[str, list[str]] = {}
    if data.kind not in ActKind.values:
        errors["kind"] = [_("Choose a valid document type.")]
    if not data.name.strip():
        errors["name"] = [_("The name is required.")]
    if not data.letterhead.strip():
        errors["letterhead"] = [_("The letterhead is required.")]
    if data.access_level not in AccessLevel.values:
        errors["access_level"] = [_("Choose a valid access level.")]
    _validate_scheme(data.numbering_scheme, errors)
    endorsers = _steps_clean(actor.organization_id, data.endorsers, StepKind.ENDORSE, "endorsers", errors)
    signers = _steps_clean(actor.organization_id, data.signers, StepKind.SIGN, "signers", errors)
    clash = ActTemplate.objects.filter(organization_id=actor.organization_id, name=data.name.strip())
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        errors.setdefault("name", []).append(_("Another template already has this name."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if template is None:
            template = ActTemplate(organization_id=actor.organization_id)
        elif template.organization_id != actor.organization_id:
            raise PermissionDenied(_("Only the organization's administrator can change templates and signature "
                                     "policy."))
        else:
            template = ActTemplate.objects.select_for_update().get(pk=template.pk)
        created = template.pk is None
        for name in ("kind", "letterhead", "numbering_scheme", "antecedents_label", "antecedents", "subject", "body",
                     "closing", "distribution", "show_from_to", "access_level", "is_active"):
            value = getattr(data, name)
            setattr(template, name, value.strip() if isinstance(value, str) else value)
        template.name = data.name.strip()[:150]
        template.save()
        template.steps.all().delete()
        for kind, steps in ((StepKind.ENDORSE, endorsers), (StepKind.SIGN, signers)):
            for position, (user, capacity) in enumerate(steps, start=1):
                TemplateStep.objects.create(template=template, kind=kind, position=position, user=user,
                                            capacity=capacity)
        audit.record(action="act_template.create" if created else "act_template.update", actor=actor,
                     organization=actor.organization, obj=template, ip=ip,
                     data={"name": template.name, "kind": template.kind, "numbering_scheme": template.numbering_scheme,
                           "active": template.is_active})
    return template


def policy_save(*, actor: Any, kind: str, requires_advanced: bool, own_signer_ids: list[int],
                ip: str | None = None) -> SignaturePolicy:
    _check_admin(actor)
    if kind not in ActKind.values:
        raise ValidationError({"kind": [_("Choose a valid document type.")]})
    signers = list(selectors.signers_of(actor.organization_id).filter(pk__in=own_signer_ids))
    if len(signers) != len(set(own_signer_ids)):
        raise ValidationError({"own_signers": [_("Choose signers of your organization.")]})
    with transaction.atomic():
        policy, _created = SignaturePolicy.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id, kind=kind)
        before = {"requires_advanced": policy.requires_advanced,
                  "own_signers": sorted(policy.own_signers.values_list("pk", flat=True))}
        policy.requires_advanced = requires_advanced
        policy.save()
        policy.own_signers.set(signers)
        audit.record(action="act_policy.update", actor=actor, organization=actor.organization, obj=policy, ip=ip,
                     data={"kind": kind, "before": before,
                           "after": {"requires_advanced": requires_advanced,
                                     "own_signers": sorted(u.pk for u in signers)}})
    return policy


def _dates(valid_from: dt.date | None, valid_until: dt.date | None, errors: dict[str, list[str]]) -> None:
    if valid_from is None:
        errors["valid_from"] = [_("The start date is required.")]
    elif valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = [_("The end date cannot be before the start date.")]


def delegation_create(*, actor: Any, delegate_id: int, principal_title: str, kinds: list[str],
                      valid_from: dt.date | None, valid_until: dt.date | None = None, decree_reference: str = "",
                      ip: str | None = None) -> Delegation:
    _check_admin(actor)
    errors: dict[str, list[str]] = {}
    delegate = selectors.signers_of(actor.organization_id).filter(pk=delegate_id).first()
    if delegate is None:
        errors["delegate_id"] = [_("Choose a signer of your organization.")]
    if not principal_title.strip():
        errors["principal_title"] = [_("Say on whose behalf the delegate signs.")]
    if not kinds or any(k not in ActKind.values for k in kinds):
        errors["kinds"] = [_("Choose the document types the delegation covers.")]
    _dates(valid_from, valid_until, errors)
    if errors:
        raise ValidationError(errors)
    assert valid_from is not None and delegate is not None
    with transaction.atomic():
        delegation = Delegation.objects.create(
            organization_id=actor.organization_id, delegate=delegate, principal_title=principal_title.strip()[:120],
            kinds=sorted(set(kinds)), valid_from=valid_from, valid_until=valid_until,
            decree_reference=decree_reference.strip()[:200])
        audit.record(action="act_delegation.create", actor=actor, organization=actor.organization, obj=delegation,
                     ip=ip, data={"delegate": str(delegate), "label": delegation.label, "kinds": delegation.kinds,
                                  "valid_from": valid_from, "valid_until": valid_until,
                                  "decree_reference": delegation.decree_reference})
    return delegation


def substitution_create(*, actor: Any, acting_id: int, position_title: str, valid_from: dt.date | None,
                        valid_until: dt.date | None = None, decree_reference: str = "",
                        ip: str | None = None) -> Substitution:
    _check_admin(actor)
    errors: dict[str, list[str]] = {}
    acting = selectors.signers_of(actor.organization_id).filter(pk=acting_id).first()
    if acting is None:
        errors["acting_id"] = [_("Choose a signer of your organization.")]
    if not position_title.strip():
        errors["position_title"] = [_("Say which post is held.")]
    _dates(valid_from, valid_until, errors)
    if errors:
        raise ValidationError(errors)
    assert valid_from is not None and acting is not None
    with transaction.atomic():
        substitution = Substitution.objects.create(
            organization_id=actor.organization_id, acting=acting, position_title=position_title.strip()[:120],
            valid_from=valid_from, valid_until=valid_until, decree_reference=decree_reference.strip()[:200])
        audit.record(action="act_substitution.create", actor=actor, organization=actor.organization,
                     obj=substitution, ip=ip,
                     data={"acting": str(acting), "label": substitution.label, "valid_from": valid_from,
                           "valid_until": valid_until, "decree_reference": substitution.decree_reference})
    return substitution


def delegation_end(*, actor: Any, delegation: Delegation, ip: str | None = None) -> Delegation:
    _check_admin(actor)
    if delegation.organization_id != actor.organization_id:
        raise PermissionDenied(_("Only the organization's administrator can change templates and signature policy."))
    with transaction.atomic():
        delegation.is_active = False
        delegation.save(update_fields=["is_active"])
        audit.record(action="act_delegation.end", actor=actor, organization=actor.organization, obj=delegation, ip=ip)
    return delegation


def substitution_end(*, actor: Any, substitution: Substitution, ip: str | None = None) -> Substitution:
    _check_admin(actor)
    if substitution.organization_id != actor.organization_id:
        raise PermissionDenied(_("Only the organization's administrator can change templates and signature policy."))
    with transaction.atomic():
        substitution.is_active = False
        substitution.save(update_fields=["is_active"])
        audit.record(action="act_substitution.end", actor=actor, organization=actor.organization, obj=substitution,
                     ip=ip)
    return substitution


# --- drafting ----------------------------------------------------------------------------------------

def _visible_answers(actor: Any, registration_id: int) -> Any:
    from folio.registry.models import Book
    from folio.registry.selectors import registrations_visible_to

    reg = registrations_visible_to(actor).filter(pk=registration_id, book=Book.INCOMING).first()
    if reg is None:
        raise ValidationError({"answers_id": [_("The registration being answered does not exist or you cannot see "
                                                "it.")]})
    return reg


def _visible_case_file(actor: Any, case_file_id: int) -> Any:
    from folio.case_files import permissions as cf_perms
    from folio.case_files.selectors import case_file_get

    cf = case_file_get(actor, case_file_id)
    if cf is None:
        raise ValidationError({"case_file_id": [_("The expediente does not exist or you cannot see it.")]})
    if not cf_perms.can_incorporate(actor, cf):
        raise ValidationError({"case_file_id": [_("You cannot add documents to this expediente.")]})
    if not cf.is_active:
        raise ValidationError({"case_file_id": [_("The expediente is not open: it cannot receive documents.")]})
    return cf


def _apply_content(act: Act, data: ActInput, errors: dict[str, list[str]]) -> dict[str, Any]:
    """Copy the given fields onto ``act``; returns the cleaned extras (units, RUT)."""
    extras: dict[str, Any] = {}
    text_fields = {"subject": 500, "antecedents": None, "body": None, "closing": None, "distribution_text": None,
                   "recipient_name": 200, "recipient_position": 200, "recipient_address": 250,
                   "recipient_body_code": 20, "recipient_email": 254}
    for name, limit in text_fields.items():
        value = getattr(data, name)
        if value is not None:
            value = value.strip()
            if limit and len(value) > limit:
                errors.setdefault(name, []).append(_("Too long (at most %(n)s characters).") % {"n": limit})
            setattr(act, name, value)
    if data.recipient_email:
        from django.core.validators import validate_email

        try:
            validate_email(data.recipient_email.strip())
        except ValidationError:
            errors.setdefault("recipient_email", []).append(_("Enter a valid e-mail address."))
    if data.recipient_kind is not None:
        if data.recipient_kind and data.recipient_kind not in PartyKind.values:
            errors.setdefault("recipient_kind", []).append(_("Choose a valid party type."))
        act.recipient_kind = data.recipient_kind
    if data.recipient_rut is not None:
        act.recipient_rut_number, act.recipient_rut_dv = None, ""
        if data.recipient_rut.strip():
            try:
                rut = Rut.parse(data.recipient_rut)
                act.recipient_rut_number, act.recipient_rut_dv = rut.number, rut.dv
            except ValidationError as exc:
                errors.setdefault("recipient_rut", []).extend(exc.messages)
    if data.access_level is not None:
        if data.access_level not in AccessLevel.values:
            errors.setdefault("access_level", []).append(_("Choose a valid access level."))
        else:
            act.access_level = data.access_level
    if data.distribution_unit_ids is not None:
        units = list(Unit.objects.filter(pk__in=data.distribution_unit_ids, organization_id=act.organization_id,
                                         is_active=True))
        if len(units) != len(set(data.distribution_unit_ids)):
            errors.setdefault("distribution_unit_ids", []).append(_("Choose units of your organization."))
        extras["units"] = units
    if act.recipient_name and not act.recipient_kind:
        act.recipient_kind = PartyKind.CITIZEN
    return extras


def _write_steps(act: Act, kind: str, steps: list[tuple[User, str]]) -> None:
    act.steps.filter(kind=kind).delete()
    for position, (user, capacity) in enumerate(steps, start=1):
        ActStep.objects.create(act=act, kind=kind, position=position, user=user, capacity=capacity)


def _steps_summary(act: Act) -> dict[str, list[str]]:
    steps = list(act.steps.select_related("user").order_by("kind", "position"))
    return {
        "endorsers": [s.user.display_name for s in steps if s.kind == StepKind.ENDORSE],
        "signers": [f"{s.user.display_name} ({s.capacity})" for s in steps if s.kind == StepKind.SIGN],
    }


def act_create(*, actor: Any, data: ActInput, ip: str | None = None) -> Act:
    """A new draft from a template, optionally answering a registration or inside an expediente."""
    if not perms.can_draft(actor):
        raise PermissionDenied(_("You cannot draft official documents."))
    if actor.unit_id is None:
        raise ValidationError({"unit": [_("You need a unit to draft official documents.")]})
    errors: dict[str, list[str]] = {}
    template = None
    if data.template_id:
        template = selectors.templates_for(actor).prefetch_related("steps__user").filter(pk=data.template_id).first()
    if template is None:
        raise ValidationError({"template_id": [_("Choose an active template of your organization.")]})
    answers = _visible_answers(actor, data.answers_id) if data.answers_id else None
    case_file = _visible_case_file(actor, data.case_file_id) if data.case_file_id else None
    act = Act(organization_id=actor.organization_id, template=template, kind=template.kind, unit_id=actor.unit_id,
              created_by=actor, subject=template.subject, antecedents=template.antecedents, body=template.body,
              closing=template.closing, distribution_text=template.distribution, access_level=template.access_level,
              answers=answers, case_file=case_file)
    if answers is not None:
        act.recipient_kind = answers.party_kind
        act.recipient_name = answers.party_name
        act.recipient_rut_number, act.recipient_rut_dv = answers.party_rut_number, answers.party_rut_dv
        act.recipient_email, act.recipient_address = answers.party_email, answers.party_address
        act.recipient_body_code = answers.party_body_code
        act.subject = f"Responde presentación {answers.folio}: {answers.subject}"[:500]
        received = timezone.localtime(answers.received_at).date()
        act.antecedents = f"Su presentación ingresada con folio {answers.folio}, de fecha {spanish_date(received)}."
        act.access_level = max(act.access_level, answers.access_level)
    if case_file is not None:
        act.subject = act.subject or case_file.subject
        line = f"Expediente {case_file.iuie}: {case_file.title}"
        act.antecedents = f"{act.antecedents}\n{line}".strip()
        act.access_level = max(act.access_level, case_file.access_level)
    extras = _apply_content(act, data, errors)
    default_steps = list(template.steps.all())
    endorsers_in = data.endorsers if data.endorsers is not None else [
        StepInput(s.user_id, s.capacity) for s in default_steps if s.kind == StepKind.ENDORSE]
    signers_in = data.signers if data.signers is not None else [
        StepInput(s.user_id, s.capacity) for s in default_steps if s.kind == StepKind.SIGN]
    endorsers = _steps_clean(actor.organization_id, endorsers_in, StepKind.ENDORSE, "endorsers", errors)
    signers = _steps_clean(actor.organization_id, signers_in, StepKind.SIGN, "signers", errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        act.save(force_insert=True)
        if "units" in extras:
            act.distribution_units.set(extras["units"])
        _write_steps(act, StepKind.ENDORSE, endorsers)
        _write_steps(act, StepKind.SIGN, signers)
        _audit("act.create", actor, act, ip, kind=act.kind, template=template.name, subject=act.subject,
               answers=answers.folio if answers else None, case_file=case_file.iuie if case_file else None,
               **_steps_summary(act))
    return act


def act_update(*, actor: Any, act: Act, data: ActInput, expected_version: int | None = None,
               ip: str | None = None) -> Act:
    """Change a draft (content, recipient, distribution, endorsers and signers)."""
    errors: dict[str, list[str]] = {}
    with _recording_refusals(actor, act, "edit", ip), transaction.atomic():
        locked = _lock(act, expected_version)
        _transition(locked, "edit")
        if not perms.can_edit(actor, locked):
            raise PermissionDenied(_("You cannot change this document."))
        extras = _apply_content(locked, data, errors)
        endorsers = (_steps_clean(locked.organization_id, data.endorsers, StepKind.ENDORSE, "endorsers", errors)
                     if data.endorsers is not None else None)
        signers = (_steps_clean(locked.organization_id, data.signers, StepKind.SIGN, "signers", errors)
                   if data.signers is not None else None)
        if errors:
            raise ValidationError(errors)
        _bump(locked, ["subject", "antecedents", "body", "closing", "distribution_text", "recipient_kind",
                       "recipient_name", "recipient_position", "recipient_rut_number", "recipient_rut_dv",
                       "recipient_email", "recipient_address", "recipient_body_code", "access_level"])
        if "units" in extras:
            locked.distribution_units.set(extras["units"])
        if endorsers is not None:
            _write_steps(locked, StepKind.ENDORSE, endorsers)
        if signers is not None:
            _write_steps(locked, StepKind.SIGN, signers)
        _audit("act.update", actor, locked, ip, subject=locked.subject, **_steps_summary(locked))
    return locked


def act_submit(*, actor: Any, act: Act, expected_version: int | None = None, ip: str | None = None) -> Act:
    """Send the draft into its circuit: endorsements in order, then signatures in order."""
    with _recording_refusals(actor, act, "submit", ip), transaction.atomic():
        locked = _lock(act, expected_version)
        _transition(locked, "submit_for_signature")
        if not perms.can_edit(actor, locked):
            raise PermissionDenied(_("You cannot submit this document."))
        errors: dict[str, list[str]] = {}
        if not locked.subject.strip():
            errors["subject"] = [_("The subject (materia) is required.")]
        if not locked.body.strip():
            errors["body"] = [_("The body of the document is required.")]
        steps = list(locked.steps.select_related("user").order_by("kind", "position"))
        signers = [s for s in steps if s.kind == StepKind.SIGN]
        if not signers:
            errors["signers"] = [_("Choose at least one signer.")]
        if errors:
            raise ValidationError(errors)
        today = selectors.org_today(locked.organization)
        for step in signers:
            _capacity(step.user, step.capacity, locked, today)
        ActStep.objects.filter(act=locked).update(status=StepStatus.PENDING, done_at=None, comment="")
        endorse_steps = [s for s in steps if s.kind == StepKind.ENDORSE]
        first = endorse_steps[0] if endorse_steps else signers[0]
        locked.state = _transition(locked, "submit_for_endorsement" if endorse_steps else "submit_for_signature")
        locked.current_step = first
        locked.round += 1
        locked.returned_comment = ""
        _bump(locked, ["state", "current_step", "round", "returned_comment"])
        _audit("act.submit", actor, locked, ip, state=locked.state, round=locked.round, next=first.user.display_name,
               **_steps_summary(locked))
    act_prepare_layout(locked)
    return locked


def _next_step(act: Act, kind: str) -> ActStep | None:
    return act.steps.filter(kind=kind, status=StepStatus.PENDING).select_related("user").order_by("position").first()


def _turn(actor: Any, act: Act, kind: str) -> ActStep:
    step = act.current_step
    if step is None or step.kind != kind:
        raise ConflictError(_refusal_message("endorse" if kind == StepKind.ENDORSE else "sign", act.state))
    if step.user_id != actor.pk:
        if act.steps.filter(kind=kind, user_id=actor.pk, status=StepStatus.PENDING).exists():
            raise PermissionDenied(_("It is not your turn yet: %(name)s must act first.")
                                   % {"name": step.user.display_name})
        raise PermissionDenied(_("You are not a designated endorser of this document.") if kind == StepKind.ENDORSE
                               else _("You are not a designated signer of this document."))
    return step


def act_endorse(*, actor: Any, act: Act, comment: str = "", expected_version: int | None = None,
                ip: str | None = None) -> Act:
    """The visación of the endorser whose turn it is."""
    with _recording_refusals(actor, act, "endorse", ip), transaction.atomic():
        locked = _lock(act, expected_version)
        _transition(locked, "endorse")
        step = _turn(actor, locked, StepKind.ENDORSE)
        step.status, step.done_at, step.comment = StepStatus.DONE, timezone.now(), comment.strip()
        step.save(update_fields=["status", "done_at", "comment"])
        following = _next_step(locked, StepKind.ENDORSE)
        if following is None:
            locked.state = _transition(locked, "finish_endorsement")
            following = _next_step(locked, StepKind.SIGN)
        locked.current_step = following
        _bump(locked, ["state", "current_step"])
        _audit("act.endorse", actor, locked, ip, position=step.position, comment=step.comment, state=locked.state,
               next=following.user.display_name if following else None)
    return locked


def _revoke_partial(act: Act, reason: str) -> None:
    if act.verification_code:
        VerificationRecord.objects.filter(code=act.verification_code, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason=reason[:255])


def act_send_back(*, actor: Any, act: Act, comment: str, expected_version: int | None = None,
                  ip: str | None = None) -> Act:
    """Back to draft with comments, from any step of the circuit. Partial signatures are discarded (their PDF
    stays stored, its verification code is revoked); a number already taken stays with the act."""
    if len(comment.strip()) < 5:
        raise ValidationError({"comment": [_("Explain what must be corrected (at least 5 characters).")]})
    with _recording_refusals(actor, act, "send_back", ip), transaction.atomic():
        locked = _lock(act, expected_version)
        _transition(locked, "send_back")
        if not perms.can_send_back(actor, locked):
            raise PermissionDenied(_("Only the endorser or signer whose turn it is, or the author, can send it back."))
        old_state = locked.state
        step = locked.current_step
        discarded = list(locked.steps.filter(kind=StepKind.SIGN, status=StepStatus.DONE)
                         .values_list("signer_name", flat=True))
        _revoke_partial(locked, _("Returned to draft before all signatures: %(comment)s") % {
            "comment": comment.strip()})
        ActStep.objects.filter(act=locked).update(status=StepStatus.PENDING, done_at=None)
        locked.state = _transition(locked, "send_back")
        locked.current_step = None
        locked.returned_comment = comment.strip()
        locked.signed_file = None
        locked.signature_boxes = []
        locked.verification_code = ""
        ActLayout.objects.filter(act_id=locked.pk).delete()  # laid out again when it is submitted again
        _bump(locked, ["state", "current_step", "returned_comment", "signed_file", "signature_boxes",
                       "verification_code"])
        _audit("act.send_back", actor, locked, ip, comment=locked.returned_comment, from_state=old_state,
               step=[step.kind, step.position] if step else None, discarded_signatures=discarded,
               number_kept=locked.number_display or None)
    return locked


def act_cancel(*, actor: Any, act: Act, reason: str, expected_version: int | None = None,
               ip: str | None = None) -> Act:
    """Discard a draft. A number it already holds is voided: it stays in the book, never reused."""
    if len(reason.strip()) < 5:
        raise ValidationError({"reason": [_("Give the reason for cancelling (at least 5 characters).")]})
    with _recording_refusals(actor, act, "cancel", ip), transaction.atomic():
        locked = _lock(act, expected_version)
        _transition(locked, "cancel")
        if not perms.can_edit(actor, locked):
            raise PermissionDenied(_("You cannot cancel this document."))
        locked.state = _transition(locked, "cancel")
        locked.cancelled_at = timezone.now()
        locked.cancel_reason = reason.strip()[:500]
        _bump(locked, ["state", "cancelled_at", "cancel_reason"])
        _audit("act.cancel", actor, locked, ip, reason=locked.cancel_reason,
               voided_number=locked.number_display or None)
    return locked


# --- rendering -----------------------------------------------------------------------------------------

def _person_lines(user: User, check: CapacityCheck) -> list[str]:
    lines = [user.display_name.upper(), check.post or user.position]
    if check.capacity_label and check.capacity_label != check.post:
        lines.append(check.capacity_label)
    return [line for line in lines if line]


def _render_input(act: Act, *, number_display: str, day: dt.date | None, code: str,
                  checks: dict[int, CapacityCheck], draft: bool) -> RenderInput:
    steps = list(act.steps.select_related("user", "user__unit").order_by("kind", "position"))
    signers = [s for s in steps if s.kind == StepKind.SIGN]
    endorsers = [s for s in steps if s.kind == StepKind.ENDORSE]
    lines = []
    for s in signers:
        check = checks.get(s.position) or CapacityCheck(post=s.user.position, capacity_label="")
        post = check.post or s.user.position
        lines.append(SignerLine(position=s.position, name=s.user.display_name, post=post,
                                capacity_label=check.capacity_label if check.capacity_label != post else ""))
    first = signers[0] if signers else None
    from_lines = _person_lines(first.user, checks.get(first.position) or CapacityCheck(first.user.position, "")) \
        if first else []
    to_lines = [line for line in (act.recipient_name.upper(), act.recipient_position, act.recipient_address) if line]
    if not to_lines and act.kind == ActKind.MEMORANDUM:
        to_lines = [u.name.upper() for u in act.distribution_units.all()]
    initials = "".join(part[0] for part in act.created_by.display_name.split() if part).lower()
    endorsements = [f"{s.user.display_name} ({s.user.unit or s.user.position})" for s in endorsers]
    letterhead = [line.replace("{unit}", act.unit.name.upper()) for line in act.template.letterhead.splitlines()
                  if line.strip()]
    return RenderInput(
        organization_name=act.organization.name, commune=act.organization.commune or act.organization.short_name,
        letterhead=letterhead, kind_label=act.get_kind_display(), number_display=number_display,
        antecedents_label=act.template.antecedents_label, antecedents=act.antecedents, subject=act.subject,
        body=act.body, closing=act.closing, distribution=act.distribution_text,
        show_from_to=act.template.show_from_to, from_lines=from_lines, to_lines=to_lines, date=day,
        signers=lines, endorsements=[_("Endorsed by: %(names)s") % {"names": "; ".join(endorsements)},
                                     _("Drafted by: %(initials)s") % {"initials": initials}]
        if endorsements else [_("Drafted by: %(initials)s") % {"initials": initials}],
        verification_code=code, verification_url=verification_url(code) if code else "", draft=draft,
        identifier=f"folio:{act.organization_id}:act:{act.pk}:{act.round}:{code}",
    )


def _signing_checks(act: Act, day: dt.date, current: tuple[int, CapacityCheck] | None = None
                    ) -> dict[int, CapacityCheck]:
    """What each signer signs as on ``day`` (as printed under the signatures); signers whose capacity does not
    hold that day are printed with their own post."""
    checks = dict([current]) if current else {}
    for step in act.steps.filter(kind=StepKind.SIGN).select_related("user"):
        if step.position not in checks:
            with contextlib.suppress(ValidationError):
                checks[step.position] = _capacity(step.user, step.capacity, act, day)
    return checks


def act_prepare_layout(act: Act) -> bool:
    """Lay out a submitted act now (``ActLayout``), so that its first signature only writes the number, the
    date and the verification code in instead of rendering the document. Called after submission; never
    raises (without a layout the first signature renders the whole document). True if a layout was stored."""
    try:
        fresh = Act.objects.select_related("organization", "template", "unit", "created_by").get(pk=act.pk)
        if fresh.state not in (S.IN_ENDORSEMENT, S.IN_SIGNATURE) or fresh.signed_file_id is not None:
            return False
        day = selectors.org_today(fresh.organization)
        data = _render_input(fresh, number_display="", day=None, code="", checks=_signing_checks(fresh, day),
                             draft=False)
        layout = render_layout(data)
        ActLayout.objects.update_or_create(act_id=fresh.pk, defaults={
            "fingerprint": layout.fingerprint, "pdf": layout.pdf, "pages": layout.pages,
            "boxes": [[position, page, list(box)] for position, (page, box) in sorted(layout.boxes.items())],
            "slots": [dataclasses.asdict(slot) for slot in layout.slots]})
        return True
    except Exception:  # a cache: the signature still works without it
        log.exception("act %s: its layout could not be prepared", act.pk)
        return False


def _final_pdf(act: Act, data: RenderInput) -> RenderedPdf:
    """The PDF of the first signature: the prepared layout with the number, date and code written in, when it
    shows exactly this content; otherwise (or if a text does not fit) a full rendering."""
    row = ActLayout.objects.filter(act_id=act.pk, fingerprint=layout_fingerprint(data)).first()
    if row is not None:
        layout = Layout(pdf=bytes(row.pdf), pages=row.pages,
                        boxes={int(position): (int(page), (box[0], box[1], box[2], box[3]))
                               for position, page, box in row.boxes},
                        slots=[Slot(**slot) for slot in row.slots], fingerprint=row.fingerprint)
        try:
            filled = fill_layout(layout, data)
        except Exception:  # a cache must never stop a signature: render the document instead
            log.exception("act %s: its layout could not be filled", act.pk)
            filled = None
        if filled is not None:
            return filled
    return render_act(data)


def act_preview(act: Act) -> RenderedPdf:
    """The draft as it would look (number "S/N", no date, watermark) — or the number it already holds."""
    return render_act(_render_input(act, number_display=act.number_display, day=None, code="", checks={},
                                    draft=True))


# --- numbering -----------------------------------------------------------------------------------------

def _lease_seconds() -> int:
    return int(getattr(settings, "FOLIO_ACTS_NUMBER_LEASE_SECONDS", 120))


def _lease_wait_seconds() -> float:
    return float(getattr(settings, "FOLIO_ACTS_NUMBER_WAIT_SECONDS", 30))


def _locked_counter(organization_id: int, kind: str, year: int) -> ActCounter:
    counter = ActCounter.objects.select_for_update().filter(organization_id=organization_id, kind=kind,
                                                            year=year).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            ActCounter.objects.create(organization_id=organization_id, kind=kind, year=year, last_value=0)
    except IntegrityError:
        pass  # created concurrently; lock the winner's row below
    return ActCounter.objects.select_for_update().get(organization_id=organization_id, kind=kind, year=year)


def _take_lease(act: Act, year: int) -> tuple[int, str, int] | None:
    """Reserve the next number of the act's counter. Returns (counter id, token, number), or None while
    another signature holds the lease. Runs inside the caller's transaction."""
    counter = _locked_counter(act.organization_id, act.kind, year)
    now = timezone.now()
    if counter.lease_token and counter.lease_expires_at and counter.lease_expires_at > now:
        return None
    if counter.lease_token:
        log.warning("act counter %s: lease of act %s expired, taken over by act %s", counter.pk,
                    counter.lease_act_id, act.pk)
    token = uuid.uuid4().hex
    counter.lease_token, counter.lease_act_id = token, act.pk
    counter.lease_expires_at = now + dt.timedelta(seconds=_lease_seconds())
    counter.save(update_fields=["lease_token", "lease_act", "lease_expires_at"])
    return counter.pk, token, counter.last_value + 1


def _release_lease(counter_id: int | None, token: str) -> None:
    if not counter_id or not token:
        return
    with transaction.atomic():
        ActCounter.objects.filter(pk=counter_id, lease_token=token).update(lease_token="", lease_act=None,
                                                                           lease_expires_at=None)


# --- signing -------------------------------------------------------------------------------------------

@dataclass
class SignPlan:
    act_id: int
    version: int
    step_id: int
    step_position: int
    method: str
    check: CapacityCheck
    first: bool
    number: int | None
    year: int | None
    number_display: str
    day: dt.date | None
    code: str
    counter_id: int | None = None
    lease_token: str = ""
    pdf: bytes = b""
    page: int = -1
    box: tuple[int, int, int, int] | None = None
    boxes: list[list[Any]] = field(default_factory=list)
    stamp_lines: list[str] = field(default_factory=list)


def _method(act: Act, method: str | None) -> str:
    needed = requires_advanced(act)
    if method and method not in SignatureMethod.values:
        raise ValidationError({"method": [_("Choose a valid signature method.")]})
    if needed:
        if method == SignatureMethod.SIMPLE:
            raise ValidationError({"method": [_(
                "This type of document requires the advanced electronic signature (FirmaGob).")]})
        return SignatureMethod.ADVANCED
    return method or SignatureMethod.SIMPLE


def _prepare(actor: Any, act: Act, method: str | None) -> SignPlan:
    """Step 1: check the turn and take (lease) the number, waiting while another signature holds it."""
    deadline = time.monotonic() + _lease_wait_seconds()
    delay = 0.02
    while True:
        with transaction.atomic():
            locked = _lock(act)
            _transition(locked, "sign")
            step = _turn(actor, locked, StepKind.SIGN)
            chosen = _method(locked, method)
            day = selectors.org_today(locked.organization)
            check = _capacity(step.user, step.capacity, locked, day)
            first = locked.signed_file_id is None
            plan = SignPlan(act_id=locked.pk, version=locked.version, step_id=step.pk, step_position=step.position,
                            method=chosen, check=check, first=first, number=locked.number, year=locked.year,
                            number_display=locked.number_display, day=locked.document_date, code="")
            if not first:
                return plan
            plan.day = day
            plan.code = new_code()
            if locked.number is not None:
                return plan
            year = day.year
            lease = _take_lease(locked, year)
            if lease is not None:
                plan.counter_id, plan.lease_token, plan.number = lease
                plan.year = year
                plan.number_display = format_number(locked.template.numbering_scheme, plan.number, year)
                return plan
        if time.monotonic() >= deadline:
            raise ConflictError(_("Another document of this type is being numbered right now. Try again in a "
                                  "moment."))
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _document(act: Act, plan: SignPlan) -> None:
    """Step 2a: the bytes to sign — rendered with the number at the first signature, else the signed file."""
    if plan.first:
        checks = _signing_checks(act, plan.day or timezone.localdate(), (plan.step_position, plan.check))
        rendered = _final_pdf(act, _render_input(act, number_display=plan.number_display, day=plan.day,
                                                 code=plan.code, checks=checks, draft=False))
        plan.pdf = rendered.pdf
        plan.boxes = [[position, page, list(box)] for position, (page, box) in sorted(rendered.boxes.items())]
    else:
        assert act.signed_file is not None
        with file_open(act.signed_file) as fh:
            plan.pdf = fh.read()
        plan.boxes = act.signature_boxes
    for position, page, box in plan.boxes:
        if position == plan.step_position:
            plan.page = int(page)
            plan.box = (round(box[0]), round(box[1]), round(box[2]), round(box[3]))
    user = act.current_step.user if act.current_step else None
    name = user.display_name if user else ""
    # The engine adds the method, the date and the verification code (and the QR) to these lines.
    plan.stamp_lines = [line for line in (name, plan.check.post,
                                          plan.check.capacity_label if plan.check.capacity_label != plan.check.post
                                          else "") if line]


def _facts(act: Act) -> list[tuple[str, str]]:
    signed = list(act.steps.filter(kind=StepKind.SIGN, status=StepStatus.DONE).order_by("position"))
    total = act.steps.filter(kind=StepKind.SIGN).count()
    facts: list[tuple[str, str]] = [
        (_("Document"), str(act.get_kind_display())),
        (_("Number"), act.number_display),
        (_("Organization"), act.organization.name),
        (_("Date of the act"), spanish_date(act.document_date) if act.document_date else ""),
    ]
    if act.access_level == AccessLevel.PUBLIC:
        facts.append((_("Subject"), act.subject))
    else:
        facts.append((_("Subject"), _("(restricted)")))
    for step in signed:
        when = timezone.localtime(step.done_at) if step.done_at else None
        method = SignatureMethod(step.method).label if step.method else ""
        who = ", ".join(x for x in (step.signer_name, step.position_label, step.capacity_label
                                    if step.capacity_label != step.position_label else "") if x)
        facts.append((_("Signed by"), f"{who} — {method} — "
                      f"{date_format(when, 'd-m-Y H:i') if when else ''} (America/Santiago)"))
    state = _("Signed by all its signers") if len(signed) == total else _(
        "In signature: %(done)s of %(total)s signatures") % {"done": len(signed), "total": total}
    facts.append((_("Status"), state))
    return facts


def _commit(actor: Any, act: Act, plan: SignPlan, signed: SignedPdf, ip: str | None) -> Act:
    """Step 3: everything the signature produces, in one transaction, or nothing."""
    with atomic_with_files():
        locked = _lock(act)
        if (locked.version != plan.version or locked.current_step_id != plan.step_id
                or locked.state != S.IN_SIGNATURE):
            raise ConflictError(_("The document changed while it was being signed; nothing was recorded. Reload and "
                                  "try again."))
        now = timezone.now()
        if plan.lease_token:
            assert plan.counter_id is not None
            counter = ActCounter.objects.select_for_update().get(pk=plan.counter_id)
            if counter.lease_token != plan.lease_token:
                raise ConflictError(_("The signature took too long and its number was released; nothing was "
                                      "recorded. Try again."))
            assert plan.number is not None
            counter.last_value = plan.number
            counter.lease_token, counter.lease_act, counter.lease_expires_at = "", None, None
            counter.save(update_fields=["last_value", "lease_token", "lease_act", "lease_expires_at"])
            locked.number, locked.year, locked.number_display = plan.number, plan.year, plan.number_display
            locked.numbered_at = now
        name = f"{slugify(locked.number_display) or 'acto'}.pdf"
        try:
            stored = file_store(organization=locked.organization, name=name, data=signed.pdf, actor=actor)
        except FileRejected as exc:
            raise ValidationError({"signature": [exc.message]}) from None
        step = ActStep.objects.select_for_update().get(pk=plan.step_id)
        step.status, step.done_at = StepStatus.DONE, signed.signed_at or now
        step.method, step.provider = plan.method, signed.provider[:60]
        step.signer_name, step.signer_run = signed.signer_name[:200], signed.signer_run[:15]
        step.certificate_serial = signed.certificate_serial[:100]
        step.capacity_label, step.position_label = plan.check.capacity_label, plan.check.post
        step.delegation, step.substitution = plan.check.delegation, plan.check.substitution
        step.signed_file = stored
        step.save()
        locked.signed_file = stored
        fields = ["signed_file", "number", "year", "number_display", "numbered_at"]
        if plan.first:
            locked.verification_code, locked.signature_boxes, locked.document_date = plan.code, plan.boxes, plan.day
            fields += ["verification_code", "signature_boxes", "document_date"]
            verification_issue(organization=locked.organization, kind=VerificationKind.SIGNED_ACT, obj=locked,
                               title=locked.title, facts=[], code=plan.code)
            ActLayout.objects.filter(act_id=locked.pk).delete()
        following = _next_step(locked, StepKind.SIGN)
        _audit("act.sign", actor, locked, ip, position=step.position, method=step.method, provider=step.provider,
               signer=step.signer_name, run=step.signer_run, certificate_serial=step.certificate_serial,
               capacity=step.capacity, capacity_label=step.capacity_label, post=step.position_label,
               sha256=stored.sha256, verification_code=locked.verification_code)
        if plan.lease_token:
            _audit("act.number_assigned", actor, locked, ip, number=locked.number, year=locked.year,
                   number_display=locked.number_display)
        locked.current_step = following
        fields.append("current_step")
        if following is None:
            locked.state = _transition(locked, "finish_signatures")
            locked.signed_at = now
            _audit("act.signed", actor, locked, ip, signers=[s.signer_name for s in locked.steps.filter(
                kind=StepKind.SIGN).order_by("position")], sha256=stored.sha256)
            locked.state = _transition(locked, "number")
            _audit("act.numbered", actor, locked, ip, number_display=locked.number_display)
            fields += ["state", "signed_at"]
        _bump(locked, fields)
        record = VerificationRecord.objects.get(code=locked.verification_code)
        record.title = locked.title
        record.facts = [[str(label), str(value)] for label, value in _facts(locked)]
        record.sha256 = stored.sha256
        # The public may download the act itself only when its access level is público.
        record.document = stored if locked.access_level == AccessLevel.PUBLIC else None
        record.save(update_fields=["title", "facts", "sha256", "document"])
    return locked


def _record_signature_failure(actor: Any, act: Act, plan: SignPlan, exc: Exception, ip: str | None) -> None:
    with transaction.atomic():
        _audit("act.signature_failed", actor, act, ip, position=plan.step_position, method=plan.method,
               code=getattr(exc, "code", "error"), reason=getattr(exc, "message", None) or str(exc),
               number_released=plan.number_display if plan.lease_token else None)


def act_sign(*, actor: Any, act: Act, passphrase: str | None = None, otp: str | None = None,
             method: str | None = None, timestamp: bool = False, ip: str | None = None) -> Act:
    """The signature of the signer whose turn it is, who authenticates again (passphrase for the simple
    signature; FirmaGob OTP for the advanced one). Raises ``signatures.services.SignatureError`` when the
    signature fails: then nothing changed, no number was taken and it can be retried."""
    from folio.signatures.services import SignatureError, SignRequest, sign_pdf

    with _recording_refusals(actor, act, "sign", ip):
        plan = _prepare(actor, act, method)
    try:
        fresh = Act.objects.select_related("organization", "template", "unit", "created_by", "signed_file",
                                           "current_step__user").get(pk=plan.act_id)
        _document(fresh, plan)
        signed = sign_pdf(SignRequest(
            pdf=plan.pdf, signer=actor, method=plan.method, verification_code=fresh.verification_code or plan.code,
            stamp_lines=plan.stamp_lines, passphrase=passphrase, otp=otp, purpose="attended",
            field_name=f"Firma{plan.step_position}", page=plan.page, box=plan.box, timestamp=timestamp))
    except SignatureError as exc:
        _release_lease(plan.counter_id, plan.lease_token)
        _record_signature_failure(actor, act, plan, exc, ip)
        raise
    except BaseException:
        _release_lease(plan.counter_id, plan.lease_token)
        raise
    try:
        return _commit(actor, act, plan, signed, ip)
    except BaseException as exc:
        _release_lease(plan.counter_id, plan.lease_token)
        if isinstance(exc, ConflictError):
            _record_refusal(actor, act, "sign", exc, ip)
        raise


@dataclass
class BatchResult:
    act_id: int
    title: str
    ok: bool
    code: str = ""
    message: str = ""
    number_display: str = ""
    state: str = ""


def act_sign_batch(*, actor: Any, act_ids: list[int], passphrase: str | None = None, otp: str | None = None,
                   method: str | None = None, ip: str | None = None) -> list[BatchResult]:
    """Sign many acts in one action, one result per act. Each act is signed on its own (its own transactions
    and number): a failure leaves that act unsigned and unnumbered and the others go on. A failure of the
    signer's authentication (wrong passphrase, expired OTP) concerns them all: the rest are not attempted."""
    from folio.signatures.services import SignatureError

    if not act_ids:
        raise ValidationError({"act_ids": [_("Choose at least one document.")]})
    if len(act_ids) > 200:
        raise ValidationError({"act_ids": [_("Sign at most 200 documents at a time.")]})
    found = {a.pk: a for a in selectors.acts_visible_to(actor).filter(pk__in=act_ids)}
    results: list[BatchResult] = []
    stop: Exception | None = None
    for act_id in dict.fromkeys(act_ids):
        act = found.get(act_id)
        if act is None:
            act_record_denial(actor=actor, act_id=act_id, what="batch_sign", ip=ip)
            results.append(BatchResult(act_id, "", False, "not_found", _("Document not found.")))
            continue
        if stop is not None:
            results.append(BatchResult(act.pk, act.title, False, "not_attempted", _(
                "Not attempted: %(reason)s") % {"reason": getattr(stop, "message", str(stop))}, state=act.state))
            continue
        try:
            signed = act_sign(actor=actor, act=act, passphrase=passphrase, otp=otp, method=method, ip=ip)
        except SignatureError as exc:
            results.append(BatchResult(act.pk, act.title, False, exc.code, exc.message, state=act.state))
            if exc.code in AUTHENTICATION_CODES:
                stop = exc
        except (PermissionDenied, ConflictError, ValidationError) as exc:
            message = getattr(exc, "message", None) or "; ".join(
                getattr(exc, "messages", None) or [str(exc)])
            code = {PermissionDenied: "denied", ConflictError: "conflict"}.get(type(exc), "invalid")
            results.append(BatchResult(act.pk, act.title, False, code, str(message), state=act.state))
        else:
            results.append(BatchResult(signed.pk, signed.title, True, "signed", "", signed.number_display,
                                       signed.state))
    if actor.organization_id:
        with transaction.atomic():
            audit.record(action="act.batch_sign", actor=actor, organization=actor.organization,
                         object_type=OBJECT_TYPE, ip=ip,
                         data={"signed": [r.act_id for r in results if r.ok],
                               "failed": {str(r.act_id): r.code for r in results if not r.ok}})
    return results


# --- distribution --------------------------------------------------------------------------------------

def act_distribute(*, actor: Any, act: Act, delivery_method: str = "", reference: str = "",
                   expected_version: int | None = None, ip: str | None = None) -> Act:
    """Distribute a numbered act: to its units; to its external recipient through the libro de despacho
    (an outgoing registration, dispatched now when a delivery method is given); into its expediente. All or
    nothing, in one transaction."""
    from folio.case_files import permissions as cf_perms
    from folio.case_files import services as cf_services
    from folio.case_files.models import CaseFile

    with _recording_refusals(actor, act, "distribute", ip), atomic_with_files():
        locked = _lock(act, expected_version)
        _transition(locked, "distribute")
        if not perms.can_distribute(actor, locked):
            raise PermissionDenied(_("You cannot distribute this document."))
        if locked.signed_file is None:  # cannot happen in state numbered; never distribute an unsigned act
            raise ConflictError(_("Only a signed and numbered document can be distributed."))
        now = timezone.now()
        units = list(locked.distribution_units.all())
        for unit in units:
            ActDistribution.objects.get_or_create(act=locked, unit=unit, defaults={"distributed_at": now})
        with file_open(locked.signed_file) as fh:
            pdf = fh.read()
        name = locked.signed_file.original_name
        registration = None
        if locked.has_external_recipient:
            data = registry_services.RegistrationInput(
                document_type=KIND_DOCUMENT_TYPE[locked.kind], subject=f"{locked.number_display}: {locked.subject}",
                party_kind=locked.recipient_kind, party_name=locked.recipient_name,
                party_rut=f"{locked.recipient_rut_number}-{locked.recipient_rut_dv}"
                if locked.recipient_rut_number else "",
                party_email=locked.recipient_email, party_address=locked.recipient_address,
                party_body_code=locked.recipient_body_code, unit_id=locked.unit_id,
                access_level=locked.access_level, answers_id=locked.answers_id, delivery_method=delivery_method,
                document_date=locked.document_date, keywords=str(locked.get_kind_display()),
                documents=[registry_services.UploadedDoc(name=name, data=pdf)])
            registration = registry_services.registration_create_outgoing(actor=actor, data=data, ip=ip)
            if delivery_method:
                registration = registry_services.registration_dispatch(
                    actor=actor, registration=registration, method=delivery_method, reference=reference, ip=ip)
        elif delivery_method:
            raise ValidationError({"delivery_method": [_(
                "This document has no external recipient: it is distributed to units only.")]})
        entry = None
        if locked.case_file_id:
            cf = CaseFile.objects.select_related("organization").get(pk=locked.case_file_id)
            advanced = locked.steps.filter(kind=StepKind.SIGN, method=SignatureMethod.ADVANCED).exists()
            entry = cf_services.incorporate_document(
                case_file=cf, source_reference=f"acts.act:{locked.pk}", stored_file=locked.signed_file,
                actor=actor if cf_perms.can_incorporate(actor, cf) else None, ip=ip,
                entry=cf_services.EntryInput(
                    title=f"{locked.number_display} — {locked.subject}"[:500],
                    document_type=KIND_DOCUMENT_TYPE[locked.kind],
                    access_level=max(locked.access_level, cf.access_level), advanced_signature=advanced,
                    document_created_at=locked.signed_at, keywords=str(locked.get_kind_display())))
        locked.state = _transition(locked, "distribute")
        locked.distributed_at = now
        locked.outgoing_registration = registration
        locked.case_file_entry = entry
        _bump(locked, ["state", "distributed_at", "outgoing_registration", "case_file_entry"])
        _audit("act.distribute", actor, locked, ip, units=[u.name for u in units],
               registration=registration.folio if registration else None,
               dispatched=bool(registration and delivery_method), delivery_method=delivery_method or None,
               case_file=entry.case_file.iuie if entry else None, entry=entry.position if entry else None)
    return locked


def act_access_record(*, actor: Any, act: Act, what: str, ip: str | None = None) -> None:
    """Every access to the file of a non-public act is recorded (DS 10 art. 37)."""
    if act.access_level == AccessLevel.PUBLIC:
        return
    with transaction.atomic():
        _audit("act.access", actor, act, ip, what=what)


def pending_counts(user: Any) -> dict[str, int]:
    if not getattr(user, "organization_id", None):
        return {"endorse": 0, "sign": 0}
    return {"endorse": selectors.endorsement_inbox(user).count(), "sign": selectors.signature_inbox(user).count()}


__all__ = ["AUTHENTICATION_CODES", "TRANSITIONS", "ActInput", "BatchResult", "ConflictError", "StepInput",
           "TemplateInput", "act_access_record", "act_cancel", "act_create", "act_distribute", "act_endorse",
           "act_prepare_layout", "act_preview", "act_record_denial", "act_send_back", "act_sign", "act_sign_batch",
           "act_submit", "act_update", "allowed_actions", "delegation_create", "delegation_end",
           "ensure_default_templates", "format_number", "policy_save", "requires_advanced", "substitution_create",
           "substitution_end", "template_save"]
