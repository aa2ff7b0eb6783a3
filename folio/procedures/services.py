"""Every write of the CPAT inventory. Each public function checks ``permissions``, validates (Spanish messages,
``ValidationError`` → 400), runs in one transaction and writes its audit row in it; a stale ``version``
raises ``ConflictError`` (→ 409). The inventory import is in ``imports.py`` and ends here too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from folio.audit import services as audit
from folio.organizations.models import Organization, Unit
from folio.procedures import permissions
from folio.procedures.fields import EDITABLE_FIELDS, FOREIGN_KEYS
from folio.procedures.models import (
    DigitalizationLevel,
    InventorySettings,
    MonthlyTransactions,
    PlanState,
    Procedure,
    SimplificationPlan,
    Topic,
    TransactionChannel,
)
from folio.procedures.text import search_key
from folio.registry import services as registry_services


class ConflictError(registry_services.ConflictError):
    """The record changed since the user read it (stale ``version``)."""


def _stale() -> str:
    return _("Someone else changed this procedure while you were working. Reload it and try again.")


def _require_editor(actor: Any, organization_id: int | None = None) -> Organization:
    if not permissions.can_edit_inventory(actor) or (
            organization_id is not None and actor.organization_id != organization_id):
        raise PermissionDenied(_("Only the digital transformation coordinator or an administrator can change "
                                 "the procedures inventory."))
    return actor.organization


def _audit_value(value: Any) -> Any:
    if isinstance(value, Unit | Topic):
        return value.pk
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --- procedures ---------------------------------------------------------------------------------------------

def unique_slug(organization: Organization, base: str, *, exclude_pk: int | None = None) -> str:
    root = (slugify(base)[:100] or "tramite").strip("-") or "tramite"
    taken = set(Procedure.objects.filter(organization=organization, slug__startswith=root)
                .exclude(pk=exclude_pk or 0).values_list("slug", flat=True))
    slug, n = root, 2
    while slug in taken:
        slug = f"{root}-{n}"
        n += 1
    return slug


URL_FIELDS = ("law_url", "online_url", "chileatiende_url", "data_directory_url", "service_catalogue_url")


def _clean(organization: Organization, procedure: Procedure, data: dict[str, Any]) -> dict[str, Any]:
    """Apply ``data`` (only editable fields) to ``procedure`` in memory and validate it. Returns the fields
    that changed, as {name: [before, after]}."""
    errors: dict[str, list[str]] = {}
    changed: dict[str, list[Any]] = {}
    for key, value in data.items():
        if key not in EDITABLE_FIELDS:
            continue
        if isinstance(value, str):
            value = value.strip()
        if key in FOREIGN_KEYS:
            if value is not None and getattr(value, "organization_id", None) != organization.pk:
                errors[key] = [_("Unknown unit.") if key == "unit" else _("Unknown topic.")]
                continue
            before = getattr(procedure, f"{key}_id")
            after = value.pk if value is not None else None
        else:
            before, after = getattr(procedure, key), value
        if before != after:
            changed[key] = [_audit_value(before), _audit_value(after)]
        setattr(procedure, key, value)
    if not (procedure.name or "").strip():
        errors["name"] = [_("The name of the procedure is required.")]
    level = procedure.digitalization_level
    if isinstance(level, bool) or not isinstance(level, int) or level not in DigitalizationLevel.values:
        errors["digitalization_level"] = [_("The digitalization level is a whole number from 0 to 5.")]
    if not procedure.slug and procedure.name:
        procedure.slug = unique_slug(organization, procedure.name, exclude_pk=procedure.pk)
        changed.setdefault("slug", ["", procedure.slug])
    try:
        procedure.full_clean(exclude=["organization", "updated_by", "search_text", "version", *errors.keys()],
                             validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    for url_field in URL_FIELDS:
        value = getattr(procedure, url_field)
        if value and url_field not in errors and not value.lower().startswith(("https://", "http://")):
            errors[url_field] = [_("Enter a web address that starts with https:// or http://.")]
    others = Procedure.objects.filter(organization=organization).exclude(pk=procedure.pk or 0)
    if procedure.code and "code" not in errors and others.filter(code=procedure.code).exists():
        errors["code"] = [_("Another procedure already has the code %(code)s.") % {"code": procedure.code}]
    if procedure.slug and "slug" not in errors and others.filter(slug=procedure.slug).exists():
        errors["slug"] = [_("Another procedure already uses the address %(slug)s.") % {"slug": procedure.slug}]
    if errors:
        raise ValidationError(errors)
    procedure.search_text = search_key(procedure.name, procedure.description)
    return changed


def procedure_create(*, actor: Any, data: dict[str, Any], ip: str | None = None,
                     audit_data: dict[str, Any] | None = None) -> Procedure:
    """Add a procedure to the actor's organization's inventory (not published until ``procedure_publish``,
    unless ``data`` says ``is_published``: the import does)."""
    organization = _require_editor(actor)
    procedure = Procedure(organization=organization)
    _clean(organization, procedure, data)
    procedure.is_published = bool(data.get("is_published", False))
    procedure.updated_by = actor
    try:
        with transaction.atomic():
            procedure.save(force_insert=True)
            audit.record(action="procedure.create", actor=actor, organization=organization, obj=procedure, ip=ip,
                         data={"code": procedure.code, "slug": procedure.slug, "published": procedure.is_published,
                               **(audit_data or {})})
    except IntegrityError:  # the same code or address taken by a concurrent request since _clean checked
        raise ValidationError(_taken(procedure)) from None
    return procedure


def _taken(procedure: Procedure) -> dict[str, list[str]]:
    return {"code": [_("Another procedure already has the code %(code)s.") % {"code": procedure.code}]} \
        if procedure.code else {"slug": [_("Another procedure already uses the address %(slug)s.")
                                         % {"slug": procedure.slug}]}


def procedure_update(*, actor: Any, procedure: Procedure, data: dict[str, Any], expected_version: int | None = None,
                     ip: str | None = None, audit_data: dict[str, Any] | None = None) -> Procedure:
    """Change a procedure's record. ``expected_version`` is the version the user read; a stale one is refused.
    ``data`` may also carry ``is_published`` (the import sets publication with the rest of the row)."""
    organization = _require_editor(actor, procedure.organization_id)
    with transaction.atomic():
        locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if expected_version is not None and locked.version != expected_version:
            raise ConflictError(_stale())
        changed = _clean(organization, locked, data)
        if "is_published" in data and bool(data["is_published"]) != locked.is_published:
            changed["is_published"] = [locked.is_published, bool(data["is_published"])]
            locked.is_published = bool(data["is_published"])
        if changed:
            locked.version += 1
            locked.updated_by = actor
            try:
                with transaction.atomic():
                    locked.save()
            except IntegrityError:
                raise ValidationError(_taken(locked)) from None
            audit.record(action="procedure.update", actor=actor, organization=organization, obj=locked, ip=ip,
                         data={"changed": changed, **(audit_data or {})})
    return locked


def procedure_set_published(*, actor: Any, procedure: Procedure, published: bool,
                            expected_version: int | None = None, ip: str | None = None) -> Procedure:
    """Publish the procedure in the public catalogue (/tramites/) or withdraw it."""
    organization = _require_editor(actor, procedure.organization_id)
    with transaction.atomic():
        locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if expected_version is not None and locked.version != expected_version:
            raise ConflictError(_stale())
        if locked.is_published != published:
            locked.is_published = published
            locked.version += 1
            locked.updated_by = actor
            locked.save(update_fields=["is_published", "version", "updated_by", "updated_at"])
            audit.record(action="procedure.publish" if published else "procedure.unpublish", actor=actor,
                         organization=organization, obj=locked, ip=ip)
    return locked


# --- topics ---------------------------------------------------------------------------------------------------

def topic_get_or_create(*, actor: Any, name: str, ip: str | None = None) -> tuple[Topic, bool]:
    """A catalogue topic by name (case and accents ignored), created when missing. Runs inside the caller's
    transaction when there is one (the import)."""
    organization = _require_editor(actor)
    name = name.strip()[:100]
    if not name:
        raise ValidationError({"topic": [_("The topic needs a name.")]})
    from folio.procedures.text import fold

    for topic in Topic.objects.filter(organization=organization):
        if fold(topic.name) == fold(name) or topic.slug == slugify(name):
            return topic, False
    with transaction.atomic():
        base = slugify(name)[:90] or "tema"
        slug, n = base, 2
        while Topic.objects.filter(organization=organization, slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        position = Topic.objects.filter(organization=organization).count() + 1
        topic = Topic.objects.create(organization=organization, name=name, slug=slug, position=position)
        audit.record(action="procedure_topic.create", actor=actor, organization=organization, obj=topic, ip=ip)
    return topic, True


TOPIC_POSITION_MAX = 32767


class TopicInUseError(Exception):
    """A topic that procedures still use cannot be deleted (→ 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _clean_topic(organization: Organization, topic: Topic, data: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply ``name``, ``slug`` and ``position`` of ``data`` to ``topic`` in memory and validate them. An empty
    slug is made from the name; an empty position puts the topic last. Returns {field: [before, after]}."""
    errors: dict[str, list[str]] = {}
    before = {"name": topic.name, "slug": topic.slug, "position": topic.position}
    others = Topic.objects.filter(organization=organization).exclude(pk=topic.pk or 0)
    name = str(data.get("name") if data.get("name") is not None else topic.name).strip()
    if not name:
        errors["name"] = [_("The topic needs a name.")]
    elif len(name) > 100:
        errors["name"] = [_("The name of a topic has at most 100 characters.")]
    else:
        from folio.procedures.text import fold

        if any(fold(other) == fold(name) for other in others.values_list("name", flat=True)):
            errors["name"] = [_("Another topic is already called %(name)s.") % {"name": name}]
    slug = str(data["slug"] if data.get("slug") is not None else topic.slug).strip()
    if not slug and name:
        base = (slugify(name)[:90] or "tema").strip("-") or "tema"
        taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
    if "slug" in data and data["slug"] and slugify(slug) != slug:
        errors["slug"] = [_("The address may only have lowercase letters without accents, numbers and hyphens, "
                            "e.g. obras-y-construccion.")]
    elif len(slug) > 100:
        errors["slug"] = [_("The address of a topic has at most 100 characters.")]
    elif slug and others.filter(slug=slug).exists():
        errors["slug"] = [_("Another topic already uses the address %(slug)s.") % {"slug": slug}]
    position = data.get("position", topic.position)
    if position is None:
        position = min(max(others.values_list("position", flat=True), default=0) + 1, TOPIC_POSITION_MAX)
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= TOPIC_POSITION_MAX:
        errors["position"] = [_("The position is a whole number from 0 to %(max)s.") % {"max": TOPIC_POSITION_MAX}]
    if errors:
        raise ValidationError(errors)
    topic.name, topic.slug, topic.position = name, slug, position
    after = {"name": topic.name, "slug": topic.slug, "position": topic.position}
    return {key: [before[key], after[key]] for key in after if before[key] != after[key]}


def _topic_taken(topic: Topic) -> dict[str, list[str]]:
    return {"slug": [_("Another topic already uses the address %(slug)s.") % {"slug": topic.slug}]}


def topic_create(*, actor: Any, data: dict[str, Any], ip: str | None = None) -> Topic:
    """Add a topic to the actor's organization's catalogue. ``data``: ``name``, optional ``slug`` (made from
    the name when empty) and ``position`` (last when empty)."""
    organization = _require_editor(actor)
    topic = Topic(organization=organization, name="", slug="", position=0)
    try:
        with transaction.atomic():
            _clean_topic(organization, topic, {"position": None, **data})
            topic.save(force_insert=True)
            audit.record(action="procedure_topic.create", actor=actor, organization=organization, obj=topic, ip=ip,
                         data={"name": topic.name, "slug": topic.slug, "position": topic.position})
    except IntegrityError:  # the address taken by a concurrent request since _clean_topic checked
        raise ValidationError(_topic_taken(topic)) from None
    return topic


def topic_update(*, actor: Any, topic: Topic, data: dict[str, Any], ip: str | None = None) -> Topic:
    """Rename a topic, change its address (the catalogue's ``?tema=``) or its position."""
    organization = _require_editor(actor, topic.organization_id)
    try:
        with transaction.atomic():
            locked = Topic.objects.select_for_update().get(pk=topic.pk)
            changed = _clean_topic(organization, locked, data)
            if changed:
                locked.save(update_fields=["name", "slug", "position"])
                audit.record(action="procedure_topic.update", actor=actor, organization=organization, obj=locked,
                             ip=ip, data={"changed": changed})
    except IntegrityError:
        raise ValidationError(_topic_taken(topic)) from None
    return locked


def topic_delete(*, actor: Any, topic: Topic, ip: str | None = None) -> None:
    """Delete a topic no procedure uses; one still in use raises ``TopicInUseError`` and changes nothing."""
    organization = _require_editor(actor, topic.organization_id)
    with transaction.atomic():
        locked = Topic.objects.select_for_update().get(pk=topic.pk)
        used = Procedure.objects.filter(topic=locked).count()
        if used:
            raise TopicInUseError(ngettext(
                "The topic %(name)s cannot be deleted: %(n)s procedure uses it. Move it to another topic first.",
                "The topic %(name)s cannot be deleted: %(n)s procedures use it. Move them to another topic first.",
                used) % {"name": locked.name, "n": used})
        audit.record(action="procedure_topic.delete", actor=actor, organization=organization, obj=locked, ip=ip,
                     data={"name": locked.name, "slug": locked.slug, "position": locked.position})
        locked.delete()


# --- monthly transactions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    year: int
    month: int
    channel: str
    count: int | None  # None: "sin información"


def transactions_save(*, actor: Any, procedure: Procedure, figures: Iterable[Figure], ip: str | None = None) -> int:
    """Record hand-entered monthly figures (upsert per procedure, month and channel). Returns how many changed."""
    organization = _require_editor(actor, procedure.organization_id)
    figures = list(figures)
    errors = []
    this_year = timezone.localdate().year
    for f in figures:
        if not (2000 <= f.year <= this_year + 1) or not (1 <= f.month <= 12):
            errors.append(_("%(year)s-%(month)s is not a valid month.") % {"year": f.year, "month": f.month})
        if f.channel not in TransactionChannel.values:
            errors.append(_("Unknown channel: %(channel)s.") % {"channel": f.channel})
        if f.count is not None and (isinstance(f.count, bool) or not isinstance(f.count, int) or f.count < 0):
            errors.append(_("Transactions are a whole number, 0 or more, or empty for \"no information\"."))
    if errors:
        raise ValidationError({"figures": sorted(set(errors))})
    changes: list[list[Any]] = []
    with transaction.atomic():
        existing = {(m.year, m.month, m.channel): m for m in
                    MonthlyTransactions.objects.select_for_update().filter(procedure=procedure)}
        for f in figures:
            row = existing.get((f.year, f.month, f.channel))
            if row is None:
                MonthlyTransactions.objects.create(organization=organization, procedure=procedure, year=f.year,
                                                   month=f.month, channel=f.channel, count=f.count)
                changes.append([f"{f.year}-{f.month:02d}", f.channel, None, f.count])
            elif row.count != f.count:
                changes.append([f"{f.year}-{f.month:02d}", f.channel, row.count, f.count])
                row.count = f.count
                row.save(update_fields=["count", "updated_at"])
        if changes:
            audit.record(action="procedure.transactions", actor=actor, organization=organization, obj=procedure,
                         ip=ip, data={"changes": changes[:500]})
    return len(changes)


# --- simplification plans -------------------------------------------------------------------------------------

PLAN_FIELDS = ["state", "summary", "steps_before", "steps_after", "requirements_before", "requirements_after",
               "documents_state_holds", "days_before", "days_after", "starts_on", "due_on", "done_on"]


def plan_save(*, actor: Any, procedure: Procedure, data: dict[str, Any], expected_version: int | None = None,
              ip: str | None = None) -> SimplificationPlan:
    """Create or change the simplification plan of a procedure. A plan in state "done" is what makes the
    procedure count as simplified; it needs its completion date (today when not given)."""
    organization = _require_editor(actor, procedure.organization_id)
    with transaction.atomic():
        plan = SimplificationPlan.objects.select_for_update().filter(procedure=procedure).first()
        created = plan is None
        if plan is None:
            plan = SimplificationPlan(organization=organization, procedure=procedure)
        elif expected_version is not None and plan.version != expected_version:
            raise ConflictError(_("Someone else changed this plan while you were working. Reload it and try again."))
        changed = {}
        for key in PLAN_FIELDS:
            if key in data:
                value = data[key].strip() if isinstance(data[key], str) else data[key]
                if getattr(plan, key) != value:
                    changed[key] = [_audit_value(getattr(plan, key)), _audit_value(value)]
                setattr(plan, key, value)
        errors: dict[str, list[str]] = {}
        if plan.state == PlanState.DONE and plan.done_on is None:
            plan.done_on = timezone.localdate()
        if plan.state != PlanState.DONE:
            plan.done_on = None
        if plan.starts_on and plan.due_on and plan.due_on < plan.starts_on:
            errors["due_on"] = [_("The target date cannot be before the start date.")]
        for before, after in (("steps_before", "steps_after"), ("requirements_before", "requirements_after"),
                              ("days_before", "days_after")):
            b, a = getattr(plan, before), getattr(plan, after)
            if b is not None and a is not None and a > b:
                errors[after] = [_("A simplification does not add: the figure after must not exceed the one "
                                   "before.")]
        try:
            plan.full_clean(exclude=["organization", "procedure", "updated_by", "version", *errors.keys()],
                            validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        if created or changed:
            if not created:
                plan.version += 1
            plan.updated_by = actor
            plan.save()
            audit.record(action="procedure.plan_create" if created else "procedure.plan_update", actor=actor,
                         organization=organization, obj=procedure, ip=ip,
                         data={"plan": plan.pk, "state": plan.state, "changed": changed})
    return plan


# --- settings ---------------------------------------------------------------------------------------------------

def settings_get(organization: Organization) -> InventorySettings:
    found = InventorySettings.objects.filter(organization=organization).first()
    return found or InventorySettings(organization=organization)


def settings_save(*, actor: Any, expected_procedures: int | None, simplification_goal_percent: int,
                  expected_version: int | None = None, ip: str | None = None) -> InventorySettings:
    """Set the expected total of procedures (empty: the inventory's size) and the simplification goal."""
    organization = _require_editor(actor)
    errors: dict[str, list[str]] = {}
    if expected_procedures is not None and not (1 <= expected_procedures <= 100_000):
        errors["expected_procedures"] = [_("Give a whole number of procedures, 1 or more, or leave it empty.")]
    if not (1 <= simplification_goal_percent <= 100):
        errors["simplification_goal_percent"] = [_("The goal is a percentage from 1 to 100.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = InventorySettings.objects.select_for_update().filter(organization=organization).first()
        if current is None:
            current = InventorySettings(organization=organization)
        elif expected_version is not None and current.version != expected_version:
            raise ConflictError(_("Someone else changed these settings while you were working. Reload and try "
                                  "again."))
        before = [current.expected_procedures, current.simplification_goal_percent]
        after = [expected_procedures, simplification_goal_percent]
        if current.pk is None or before != after:
            if current.pk is not None:
                current.version += 1
            current.expected_procedures = expected_procedures
            current.simplification_goal_percent = simplification_goal_percent
            current.save()
            audit.record(action="procedure.settings", actor=actor, organization=organization, obj=current, ip=ip,
                         data={"before": before, "after": after})
    return current
