"""Writes of the retention schedule (tabla de retención documental) and of final disposition.

- ``retention_rule_create`` / ``retention_rule_update``: the schedule per documentary series (administrators).
- ``retention_apply_phases``: archival phase moves that are due — a closed expediente whose active years have
  run is archived (semi-active phase); one of a "keep" series whose semi-active years have run goes to the
  historic phase. Run daily by ``manage.py case_file_retention`` and on demand by an administrator.
- ``disposition_approve``: an administrator approves, under a numbered act, the final disposition (eliminate
  or transfer) of expedientes that are due; ``disposition_execute`` carries it out; ``disposition_cancel``
  withdraws an approval not yet carried out. Record states: approved -> executed | cancelled.

Each public function runs in one transaction that writes its audit rows (on the disposition record and on
every expediente concerned); refusals are recorded after the rollback. Elimination removes the bytes of the
documents only (after commit); the expediente, its metadata, its index with every SHA-256, the stored-file
rows and the whole audit trail stay as the record of what existed (docs/retention.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from folio.audit import services as audit
from folio.case_files import permissions as perms
from folio.case_files import retention_selectors as rsel
from folio.case_files import services
from folio.case_files.models import (
    ArchivalPhase,
    CaseFile,
    CaseFileState,
    DispositionAction,
    DispositionItem,
    DispositionRecord,
    DispositionStatus,
    FinalDisposition,
    IndexEntry,
    RetentionRule,
)
from folio.files.models import StoredFile
from folio.files.services import file_purge
from folio.organizations.models import Organization
from folio.verification.models import VerificationRecord
from folio.verification.services import verification_revoke

ConflictError = services.ConflictError
RULE_OBJECT = "case_files.retentionrule"
RECORD_OBJECT = "case_files.dispositionrecord"
MAX_YEARS = 200
MAX_ITEMS = 5000


# --- refusals --------------------------------------------------------------------------------------------

def _record_refusal(actor: Any, exc: Exception, *, object_type: str, object_id: str, attempted: str,
                    ip: str | None) -> None:
    """Recorded in the actor's own organization chain (another organization's id reveals nothing)."""
    organization = getattr(actor, "organization", None)
    if organization is None:
        return
    kind = "retention.denied" if isinstance(exc, PermissionDenied) else "retention.refused"
    message = getattr(exc, "message", None) or str(exc)
    with transaction.atomic():
        audit.record(action=kind, actor=actor, organization=organization, object_type=object_type,
                     object_id=object_id, data={"attempted": attempted, "reason": str(message)[:500]}, ip=ip)


@contextlib.contextmanager
def _recording_refusals(actor: Any, *, object_type: str, object_id: str, attempted: str,
                        ip: str | None) -> Iterator[None]:
    try:
        yield
    except (PermissionDenied, ConflictError) as exc:
        _record_refusal(actor, exc, object_type=object_type, object_id=object_id, attempted=attempted, ip=ip)
        raise


def record_denial(*, actor: Any, object_type: str, object_id: int | str, what: str, ip: str | None = None) -> None:
    """An attempt to reach a rule or record that does not exist or is not the user's (answered 404)."""
    _record_refusal(actor, PermissionDenied(what), object_type=object_type, object_id=str(object_id)[:64],
                    attempted=what, ip=ip)


# --- the schedule ----------------------------------------------------------------------------------------

@dataclass
class RetentionRuleInput:
    series_code: str = ""
    name: str = ""
    active_years: int | None = None
    semi_active_years: int | None = None
    disposition: str = ""
    legal_basis: str = ""


def _rule_fields(rule: RetentionRule) -> dict[str, Any]:
    return {"series_code": rule.series_code, "name": rule.name, "active_years": rule.active_years,
            "semi_active_years": rule.semi_active_years, "disposition": rule.disposition,
            "legal_basis": rule.legal_basis}


def _validate_rule(data: RetentionRuleInput) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    code = data.series_code.strip()
    if not code:
        errors["series_code"] = [_("The series code is required.")]
    elif len(code) > 40 or any(ch.isspace() for ch in code):
        errors["series_code"] = [_("The series code has at most 40 characters and no spaces.")]
    if not data.name.strip():
        errors["name"] = [_("The name of the series is required.")]
    for key, value in (("active_years", data.active_years), ("semi_active_years", data.semi_active_years)):
        if value is None or isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_YEARS:
            errors[key] = [_("Give a whole number of years between 0 and %(max)s.") % {"max": MAX_YEARS}]
    if data.disposition not in FinalDisposition.values:
        errors["disposition"] = [_("Choose a valid final disposition.")]
    if len(data.legal_basis.strip()) < 5:
        errors["legal_basis"] = [_("Give the legal basis of the retention periods (at least 5 characters).")]
    if errors:
        raise ValidationError(errors)
    return {"series_code": code, "name": data.name.strip()[:200], "active_years": data.active_years,
            "semi_active_years": data.semi_active_years, "disposition": data.disposition,
            "legal_basis": data.legal_basis.strip()[:500]}


def retention_rule_create(*, actor: Any, data: RetentionRuleInput, ip: str | None = None) -> RetentionRule:
    """Add a series to the organization's retention schedule (administrators only)."""
    with _recording_refusals(actor, object_type=RULE_OBJECT, object_id="", attempted="create", ip=ip):
        if not perms.can_edit_retention(actor):
            raise PermissionDenied(_("Only an administrator can change the retention schedule."))
    clean = _validate_rule(data)
    try:
        with transaction.atomic():
            rule = RetentionRule.objects.create(organization=actor.organization, updated_by=actor, **clean)
            audit.record(action="retention_rule.create", actor=actor, organization=actor.organization, obj=rule,
                         data=clean, ip=ip)
    except IntegrityError:
        raise ValidationError({"series_code": [
            _("The series %(code)s already has a rule; change that one.") % {"code": clean["series_code"]}]}) from None
    return rule


def retention_rule_update(*, actor: Any, rule: RetentionRule, data: RetentionRuleInput,
                          expected_version: int | None = None, ip: str | None = None) -> RetentionRule:
    """Change a rule. The series code stays (a rule is the schedule of one series); dispositions already
    approved keep the snapshot of the rule they were approved under."""
    with _recording_refusals(actor, object_type=RULE_OBJECT, object_id=str(rule.pk), attempted="update", ip=ip):
        if not perms.can_edit_retention(actor) or actor.organization_id != rule.organization_id:
            raise PermissionDenied(_("Only an administrator can change the retention schedule."))
    clean = _validate_rule(data)
    if clean["series_code"] != rule.series_code:
        raise ValidationError({"series_code": [_("The series code of a rule cannot change; add a new rule.")]})
    with _recording_refusals(actor, object_type=RULE_OBJECT, object_id=str(rule.pk), attempted="update",
                             ip=ip), transaction.atomic():
        locked = RetentionRule.objects.select_for_update().get(pk=rule.pk)
        if expected_version is not None and locked.version != expected_version:
            raise ConflictError(_("Someone else changed this rule while you were working. Reload and try again."))
        before = _rule_fields(locked)
        changed = {k: [before[k], v] for k, v in clean.items() if before[k] != v}
        if changed:
            for key, value in clean.items():
                setattr(locked, key, value)
            locked.updated_by = actor
            locked.version += 1
            locked.save(update_fields=[*clean.keys(), "updated_by", "updated_at", "version"])
            audit.record(action="retention_rule.update", actor=actor, organization=actor.organization, obj=locked,
                         data={"changed": changed}, ip=ip)
    return locked


# --- archival phases ------------------------------------------------------------------------------------

@dataclass
class PhaseReport:
    archived: list[str] = field(default_factory=list)  # IUIe moved active -> semi-active (and archived)
    historic: list[str] = field(default_factory=list)  # IUIe of "keep" series moved to the historic phase

    @property
    def total(self) -> int:
        return len(self.archived) + len(self.historic)


def _descendants(case_file_ids: list[int]) -> list[CaseFile]:
    """Every expediente accumulated (at any depth) into one of ``case_file_ids``."""
    found: list[CaseFile] = []
    level = list(case_file_ids)
    seen = set(level)
    while level:
        children = [c for c in CaseFile.objects.filter(accumulated_into_id__in=level).order_by("id")
                    if c.pk not in seen]
        found.extend(children)
        seen.update(c.pk for c in children)
        level = [c.pk for c in children]
    return found


def _move_phase(cf: CaseFile, *, actor: Any, to_phase: str, archive: bool, reason: dict[str, Any],
                ip: str | None) -> None:
    """Move one (locked) expediente and its accumulated ones to ``to_phase``; archive closed ones."""
    for target in [cf, *_descendants([cf.pk])]:
        locked = CaseFile.objects.select_for_update(of=("self",)).select_related("organization").get(pk=target.pk)
        old_state, old_phase = locked.state, locked.archival_phase
        if archive and locked.state == CaseFileState.CLOSED:
            locked.state = CaseFileState.ARCHIVED
        if _phase_rank(locked.archival_phase) < _phase_rank(to_phase):
            locked.archival_phase = to_phase
        if (locked.state, locked.archival_phase) == (old_state, old_phase):
            continue
        locked.version += 1
        locked.save(update_fields=["state", "archival_phase", "version"])
        audit.record(action="case_file.phase", actor=actor, organization=locked.organization, obj=locked, ip=ip,
                     data={"archival_phase": [old_phase, locked.archival_phase], "state": [old_state, locked.state],
                           **reason, **({"with": cf.iuie} if locked.pk != cf.pk else {})})


_PHASE_ORDER: dict[str, int] = {ArchivalPhase.ACTIVE.value: 0, ArchivalPhase.SEMI_ACTIVE.value: 1,
                                ArchivalPhase.HISTORIC.value: 2}


def _phase_rank(phase: str) -> int:
    return _PHASE_ORDER.get(str(phase), 0)


def retention_apply_phases(*, organization: Organization, actor: Any | None = None, today: dt.date | None = None,
                           ip: str | None = None) -> PhaseReport:
    """Apply the phase moves that are due in ``organization`` (``actor`` None: Folio's daily run). Each
    expediente moves in its own short transaction with its audit row, so a long run holds no long lock."""
    if actor is not None and not (perms.can_edit_retention(actor) and actor.organization_id == organization.pk):
        with _recording_refusals(actor, object_type=RULE_OBJECT, object_id="", attempted="apply_phases", ip=ip):
            raise PermissionDenied(_("Only an administrator can apply the retention schedule."))
    tz = ZoneInfo(organization.time_zone)
    today = today or rsel.local_today(organization)
    report = PhaseReport()
    for code, rule in rsel.rules_by_series(organization.pk).items():
        base = CaseFile.objects.filter(organization=organization, series_code=code, accumulated_into__isnull=True,
                                       closed_at__isnull=False)
        reason = {"reason": "retention_schedule", "series_code": code, "active_years": rule.active_years,
                  "semi_active_years": rule.semi_active_years}
        to_semi = base.filter(rsel.closed_on_or_before(rsel.subtract_years(today, rule.active_years), tz)).filter(
            state__in=rsel.DISPOSABLE_STATES, archival_phase=ArchivalPhase.ACTIVE)
        for pk in list(to_semi.order_by("id").values_list("pk", flat=True)):
            with transaction.atomic():
                cf = CaseFile.objects.select_for_update(of=("self",)).filter(pk=pk).first()
                if cf is None or cf.state not in rsel.DISPOSABLE_STATES or cf.archival_phase != ArchivalPhase.ACTIVE:
                    continue
                _move_phase(cf, actor=actor, to_phase=ArchivalPhase.SEMI_ACTIVE, archive=True, reason=reason, ip=ip)
                report.archived.append(cf.iuie)
        if rule.disposition != FinalDisposition.KEEP:
            continue  # eliminate / transfer series wait in the semi-active phase for an approved disposition
        to_historic = base.filter(rsel.closed_on_or_before(rsel.subtract_years(today, rule.total_years), tz)).filter(
            state=CaseFileState.ARCHIVED, archival_phase=ArchivalPhase.SEMI_ACTIVE)
        for pk in list(to_historic.order_by("id").values_list("pk", flat=True)):
            with transaction.atomic():
                cf = CaseFile.objects.select_for_update(of=("self",)).filter(pk=pk).first()
                if cf is None or cf.state != CaseFileState.ARCHIVED or cf.archival_phase != ArchivalPhase.SEMI_ACTIVE:
                    continue
                _move_phase(cf, actor=actor, to_phase=ArchivalPhase.HISTORIC, archive=True, reason=reason, ip=ip)
                report.historic.append(cf.iuie)
    if actor is not None and report.total:
        with transaction.atomic():
            audit.record(action="retention.apply_phases", actor=actor, organization=organization,
                         object_type=RULE_OBJECT, data={"archived": report.archived, "historic": report.historic},
                         ip=ip)
    return report


# --- final disposition -------------------------------------------------------------------------------

def _lock_record(record: DispositionRecord, expected_version: int | None) -> DispositionRecord:
    locked = DispositionRecord.objects.select_for_update().select_related("organization").get(pk=record.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("Someone else changed this disposition while you were working. Reload and try again."))
    return locked


def _audit_record(event: str, actor: Any, record: DispositionRecord, ip: str | None, **data: Any) -> None:
    audit.record(action=event, actor=actor, organization=record.organization, obj=record, data=data, ip=ip)


def _audit_case_file(event: str, actor: Any, cf: CaseFile, ip: str | None, **data: Any) -> None:
    audit.record(action=event, actor=actor, organization=cf.organization, obj=cf, data=data, ip=ip)


def _item_snapshot(cf: CaseFile, rule: RetentionRule | None, due_on: dt.date | None) -> dict[str, Any]:
    agg = IndexEntry.objects.filter(case_file=cf).aggregate(n=models.Count("id"), f=Max("last_page"))
    return {
        "iuie": cf.iuie, "title": cf.title[:500], "series_code": cf.series_code, "closed_at": cf.closed_at,
        "due_on": due_on, "index_hash": cf.index_hash, "entries": agg["n"] or 0, "folios": agg["f"] or 0,
        "rule": ({**_rule_fields(rule), "version": rule.version} if rule is not None else {}),
    }


def _clean_ids(case_file_ids: Any) -> list[int]:
    try:
        ids = sorted({int(x) for x in case_file_ids})
    except (TypeError, ValueError):
        raise ValidationError({"case_file_ids": [_("Give the ids of the expedientes.")]}) from None
    if not ids:
        raise ValidationError({"case_file_ids": [_("Choose at least one expediente.")]})
    if len(ids) > MAX_ITEMS:
        raise ValidationError({"case_file_ids": [
            _("At most %(n)s expedientes per disposition.") % {"n": MAX_ITEMS}]})
    return ids


def disposition_approve(*, actor: Any, action: str, case_file_ids: Any, act_number: str, reason: str,
                        today: dt.date | None = None, ip: str | None = None) -> DispositionRecord:
    """Approve the final disposition of expedientes that are due under their series' rule, whose final
    disposition must be ``action``. Closed ones are archived. Expedientes accumulated into them go with
    them (items ``carried_by``). Refused (409) for an expediente that is not closed or archived, not yet
    due, of a series with another disposition or none, accumulated into another, or already in an approved
    or executed disposition; nothing is approved then."""
    with _recording_refusals(actor, object_type=RECORD_OBJECT, object_id="", attempted=f"approve:{action}", ip=ip):
        if not perms.can_decide_disposition(actor):
            raise PermissionDenied(_("Only an administrator can approve a final disposition."))
    errors: dict[str, list[str]] = {}
    if action not in DispositionAction.values:
        errors["action"] = [_("Choose eliminate or transfer.")]
    if len(act_number.strip()) < 3:
        errors["act_number"] = [_("Give the number of the act that approves the disposition.")]
    if len(reason.strip()) < 5:
        errors["reason"] = [_("Give the reason (at least 5 characters).")]
    try:
        ids = _clean_ids(case_file_ids)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        ids = []
    if errors:
        raise ValidationError(errors)
    organization = actor.organization
    tz = ZoneInfo(organization.time_zone)
    today = today or rsel.local_today(organization)
    with _recording_refusals(actor, object_type=RECORD_OBJECT, object_id="", attempted=f"approve:{action}",
                             ip=ip), transaction.atomic():
        # Lock the expedientes in id order: two approvals of overlapping lists queue, the second is refused.
        found = list(CaseFile.objects.select_for_update(of=("self",)).select_related("organization")
                     .filter(organization=organization, pk__in=ids).order_by("id"))
        missing = sorted(set(ids) - {cf.pk for cf in found})
        if missing:
            raise ValidationError({"case_file_ids": [
                _("These expedientes do not exist or are not of your organization: %(ids)s.")
                % {"ids": ", ".join(str(x) for x in missing[:20])}]})
        rules = rsel.rules_by_series(organization.pk)
        taken = dict(DispositionItem.objects.filter(case_file_id__in=ids, active=True)
                     .values_list("case_file_id", "record_id"))
        planned: list[tuple[CaseFile, RetentionRule, dt.date]] = []
        for cf in found:
            try:
                services._transition(cf, "dispose")
            except ConflictError as exc:
                raise ConflictError(f"{cf.iuie}: {exc.message}") from None
            if cf.accumulated_into_id:
                raise ConflictError(_("%(iuie)s was accumulated into another expediente and goes with it.")
                                    % {"iuie": cf.iuie})
            if cf.pk in taken:
                raise ConflictError(_("%(iuie)s is already in disposition record no. %(n)s.")
                                    % {"iuie": cf.iuie, "n": taken[cf.pk]})
            rule = rules.get(cf.series_code)
            if rule is None:
                raise ConflictError(_("%(iuie)s has no retention rule for its series.") % {"iuie": cf.iuie})
            if rule.disposition != action:
                raise ConflictError(_("The retention schedule says %(disposition)s for %(iuie)s (series %(code)s).")
                                    % {"disposition": rule.get_disposition_display(), "iuie": cf.iuie,
                                       "code": rule.series_code})
            closed = rsel.closed_on(cf, tz)
            assert closed is not None  # closed and archived expedientes have a closing date
            due_on = rsel.add_years(closed, rule.total_years)
            if due_on > today:
                raise ConflictError(_("The retention of %(iuie)s runs until %(date)s.")
                                    % {"iuie": cf.iuie, "date": due_on.strftime("%d-%m-%Y")})
            planned.append((cf, rule, due_on))
        now = timezone.now()
        record = DispositionRecord.objects.create(
            organization=organization, action=action, act_number=act_number.strip()[:120], reason=reason.strip(),
            approved_by=actor, approved_at=now)
        iuies: list[str] = []
        for cf, rule, due_on in planned:
            item = DispositionItem.objects.create(record=record, case_file=cf, **_item_snapshot(cf, rule, due_on))
            iuies.append(cf.iuie)
            _take_along(actor, record, cf, item, ip, iuies)
        _audit_record("disposition.approve", actor, record, ip, action=action, act_number=record.act_number,
                      reason=record.reason, case_files=iuies)
    return record


def _take_along(actor: Any, record: DispositionRecord, cf: CaseFile, item: DispositionItem, ip: str | None,
                iuies: list[str]) -> None:
    """Archive ``cf`` if it is closed, record the approval on it, and bring its accumulated expedientes."""
    for target in [cf, *_descendants([cf.pk])]:
        locked = CaseFile.objects.select_for_update(of=("self",)).select_related("organization").get(pk=target.pk)
        this_item = item
        if locked.pk != cf.pk:
            if DispositionItem.objects.filter(case_file=locked, active=True).exists():
                raise ConflictError(_("%(iuie)s is already in another disposition record.") % {"iuie": locked.iuie})
            this_item = DispositionItem.objects.create(record=record, case_file=locked, carried_by=item,
                                                       **_item_snapshot(locked, None, None))
            iuies.append(locked.iuie)
        old_state = locked.state
        if locked.state == CaseFileState.CLOSED:
            locked.state = CaseFileState.ARCHIVED
            if locked.archival_phase == ArchivalPhase.ACTIVE:
                locked.archival_phase = ArchivalPhase.SEMI_ACTIVE
        elif locked.state != CaseFileState.ARCHIVED:
            raise ConflictError(services._refusal_message("dispose", locked.state))
        locked.version += 1
        locked.save(update_fields=["state", "archival_phase", "version"])
        _audit_case_file("case_file.disposition_approved", actor, locked, ip, record=record.pk,
                         action=record.action, act_number=record.act_number, due_on=this_item.due_on,
                         state=[old_state, locked.state], **({"with": cf.iuie} if locked.pk != cf.pk else {}))


def _file_references() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) holding a foreign key to StoredFile, across all apps."""
    out = []
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and f.related_model is StoredFile:
                out.append((model, f.name))
    return out


def _case_file_path(model: type[models.Model]) -> str | None:
    """The lookup through which a row of ``model`` (of this app) belongs to an expediente: its ``case_file``
    foreign key, or a foreign key to one of its index entries. None when it belongs to none."""
    for f in model._meta.get_fields():
        if isinstance(f, models.ForeignKey) and f.related_model is CaseFile and f.name == "case_file":
            return "case_file"
    for f in model._meta.get_fields():
        if isinstance(f, models.ForeignKey) and f.related_model is IndexEntry:
            return f"{f.name}__case_file"
    return None


def _eliminate_files(record: DispositionRecord, case_file_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Purge the bytes of every file that belongs only to the eliminated expedientes: the documents of their
    index and anything else of this app filed under them (copies, packages). A file also referenced by
    anything else (a registration of the Oficina de Partes, an expediente that stays) keeps its bytes and is
    listed as kept. Verification records of purged files are revoked. Returns per expediente id:
    files_removed, bytes_removed, files_kept."""
    owned: dict[int, int] = {}  # stored file id -> expediente id it belongs to
    mine: dict[tuple[type[models.Model], str], Q] = {}
    refs = _file_references()
    for model, fname in refs:
        path = _case_file_path(model) if model._meta.app_label == "case_files" else None
        if path is None:
            continue
        cond = Q(**{f"{path}__in": case_file_ids})
        mine[(model, fname)] = cond
        rows = model._default_manager.filter(cond).exclude(**{f"{fname}__isnull": True})
        for file_id, cf_id in rows.values_list(f"{fname}_id", path):
            owned.setdefault(file_id, cf_id)
    kept_because: dict[int, list[str]] = {}
    for model, fname in refs:
        if model is VerificationRecord:
            continue  # certificates about the documents: revoked below, they never keep bytes alive
        qs = model._default_manager.filter(**{f"{fname}_id__in": list(owned)})
        if (model, fname) in mine:
            qs = qs.exclude(mine[(model, fname)])
        for file_id in set(qs.values_list(f"{fname}_id", flat=True)):
            kept_because.setdefault(file_id, []).append(model._meta.label_lower)
    positions = dict(IndexEntry.objects.filter(case_file_id__in=case_file_ids, file_id__in=list(owned))
                     .values_list("file_id", "position"))
    result: dict[int, dict[str, Any]] = {cf_id: {"files_removed": 0, "bytes_removed": 0, "files_kept": []}
                                         for cf_id in case_file_ids}
    reference = _("Final disposition no. %(n)s, %(act)s") % {"n": record.pk, "act": record.act_number}
    purged: list[int] = []
    for stored in StoredFile.objects.select_for_update().filter(pk__in=list(owned)).order_by("pk"):
        out = result[owned[stored.pk]]
        if stored.pk in kept_because:
            out["files_kept"].append({"position": positions.get(stored.pk), "sha256": stored.sha256,
                                      "kept_because": sorted(set(kept_because[stored.pk]))})
            continue
        if stored.purged_at is None:
            out["files_removed"] += 1
            out["bytes_removed"] += stored.size
            file_purge(stored=stored, reference=reference)
        purged.append(stored.pk)
    revoke_reason = _("The document was eliminated under final disposition %(act)s.") % {"act": record.act_number}
    for vr in VerificationRecord.objects.filter(Q(document_id__in=purged) | Q(public_original_id__in=purged),
                                                revoked_at__isnull=True):
        verification_revoke(record=vr, reason=revoke_reason[:255])
    return result


def disposition_execute(*, actor: Any, record: DispositionRecord, note: str = "", expected_version: int | None = None,
                        ip: str | None = None) -> DispositionRecord:
    """Carry out an approved disposition. Transfer: the expedientes go to the historic phase and are marked
    transferred (their archival package is exported for the Archivo Nacional; the bytes stay until a
    separate elimination decides otherwise). Eliminate: the bytes of their documents are removed after
    commit; expediente, metadata, index, hashes and audit trail stay. Refused (409) unless approved."""
    with _recording_refusals(actor, object_type=RECORD_OBJECT, object_id=str(record.pk), attempted="execute", ip=ip), \
            transaction.atomic():
        if not perms.can_decide_disposition(actor) or actor.organization_id != record.organization_id:
            raise PermissionDenied(_("Only an administrator can carry out a final disposition."))
        rec = _lock_record(record, expected_version)
        if rec.status != DispositionStatus.APPROVED:
            raise ConflictError(_("This disposition was already %(status)s.")
                                % {"status": rec.get_status_display().lower()})
        items = list(DispositionItem.objects.filter(record=rec).order_by("case_file_id"))
        locked = {cf.pk: cf for cf in CaseFile.objects.select_for_update(of=("self",)).select_related("organization")
                  .filter(pk__in=[i.case_file_id for i in items]).order_by("id")}
        transition = "transfer_out" if rec.action == DispositionAction.TRANSFER else "eliminate"
        for item in items:
            services._transition(locked[item.case_file_id], transition)
        files: dict[int, dict[str, Any]] = {}
        if rec.action == DispositionAction.ELIMINATE:
            files = _eliminate_files(rec, list(locked))
        note = note.strip()
        for item in items:
            cf = locked[item.case_file_id]
            old_state, old_phase = cf.state, cf.archival_phase
            cf.state = services._transition(cf, transition)
            if rec.action == DispositionAction.TRANSFER:
                cf.archival_phase = ArchivalPhase.HISTORIC
            cf.version += 1
            cf.save(update_fields=["state", "archival_phase", "version"])
            data: dict[str, Any] = {"record": rec.pk, "act_number": rec.act_number, "note": note[:500],
                                    "index_hash": cf.index_hash, "state": [old_state, cf.state]}
            if rec.action == DispositionAction.TRANSFER:
                data["archival_phase"] = [old_phase, cf.archival_phase]
                _audit_case_file("case_file.transferred", actor, cf, ip, **data)
            else:
                out = files[cf.pk]
                item.files_removed, item.bytes_removed, item.files_kept = (
                    out["files_removed"], out["bytes_removed"], out["files_kept"])
                item.save(update_fields=["files_removed", "bytes_removed", "files_kept"])
                _audit_case_file("case_file.eliminated", actor, cf, ip, files_removed=item.files_removed,
                                 bytes_removed=item.bytes_removed, files_kept=len(item.files_kept), **data)
        rec.status, rec.executed_by, rec.executed_at, rec.execution_note = (
            DispositionStatus.EXECUTED, actor, timezone.now(), note)
        rec.version += 1
        rec.save(update_fields=["status", "executed_by", "executed_at", "execution_note", "version"])
        _audit_record("disposition.execute", actor, rec, ip, action=rec.action, act_number=rec.act_number, note=note,
                      case_files=[locked[i.case_file_id].iuie for i in items],
                      files_removed=sum(v["files_removed"] for v in files.values()),
                      bytes_removed=sum(v["bytes_removed"] for v in files.values()))
    return rec


def disposition_cancel(*, actor: Any, record: DispositionRecord, reason: str, expected_version: int | None = None,
                       ip: str | None = None) -> DispositionRecord:
    """Withdraw an approval that was not carried out. The expedientes stay archived and can be approved
    again in another record."""
    if len(reason.strip()) < 5:
        raise ValidationError({"reason": [_("Give the reason for cancelling (at least 5 characters).")]})
    with _recording_refusals(actor, object_type=RECORD_OBJECT, object_id=str(record.pk), attempted="cancel", ip=ip), \
            transaction.atomic():
        if not perms.can_decide_disposition(actor) or actor.organization_id != record.organization_id:
            raise PermissionDenied(_("Only an administrator can cancel a final disposition."))
        rec = _lock_record(record, expected_version)
        if rec.status != DispositionStatus.APPROVED:
            raise ConflictError(_("This disposition was already %(status)s.")
                                % {"status": rec.get_status_display().lower()})
        items = list(DispositionItem.objects.filter(record=rec).select_related("case_file__organization")
                     .order_by("case_file_id"))
        DispositionItem.objects.filter(record=rec).update(active=False)
        rec.status, rec.cancelled_by, rec.cancelled_at, rec.cancel_reason = (
            DispositionStatus.CANCELLED, actor, timezone.now(), reason.strip()[:500])
        rec.version += 1
        rec.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason", "version"])
        for item in items:
            _audit_case_file("case_file.disposition_cancelled", actor, item.case_file, ip, record=rec.pk,
                             act_number=rec.act_number, reason=rec.cancel_reason)
        _audit_record("disposition.cancel", actor, rec, ip, reason=rec.cancel_reason,
                      case_files=[i.iuie for i in items])
    return rec
