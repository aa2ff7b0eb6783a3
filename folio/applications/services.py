"""Writes of online applications (solicitudes). Each public function is one transaction that writes its audit
row on the application (and the step on its expediente); refused attempts (permission, state machine, stale
version) are recorded after the rollback; e-mail goes out after commit (``tasks.py``).

State machine (``TRANSITIONS``: action -> states it is allowed from -> state it leads to)::

    draft ──submit──▶ submitted ──(any stage action)──▶ in_progress ──approve──▶ in_progress (next stage)
                          │                                 │
                          ├──request_correction──▶ correction ──answer_correction──▶ in_progress
                          │                          └──expire (deadline passed)──▶ abandoned
                          ├──reject / resolve(rejected)──▶ rejected
                          ├──resolve(approved)──▶ approved
                          └──withdraw (submitted, in_progress, correction)──▶ withdrawn

approved, rejected, withdrawn and abandoned are terminal (``models.TERMINAL_STATES``): the expediente is
closed in the same transaction. Stage actions must also be offered by the current stage of the definition.

Submission is all or nothing: the application number (``SOL-2026-000123``, a locked per-year counter), the
expediente (opened with the applicant as interested party and the first stage's unit), the rendered form as its
first document, every attachment, the certificado de presentación (DS 10 art. 30) with its verification code,
the deadline, the audit rows and the notification either all commit or none does, and no stored file is left
behind (``atomic_with_files``).

Reports: while a report asked at the current stage is pending, the stage cannot be approved, resolved or
rejected (the unit may cancel the request to go on).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from folio.accounts.models import User
from folio.applications import documents
from folio.applications import permissions as perms
from folio.applications.definitions import fields_of, stage_at, stage_count
from folio.applications.formengine import AnswersInvalid, answer_rows, clean_answers
from folio.applications.models import (
    TERMINAL_STATES,
    Application,
    ApplicationAttachment,
    ApplicationCounter,
    ApplicationNotification,
    ApplicationState,
    AttachmentKind,
    Channel,
    CorrectionRequest,
    DefinitionState,
    FormDefinition,
    Milestone,
    ReportRequest,
    ReportStatus,
)
from folio.audit import services as audit
from folio.case_files import permissions as cf_perms
from folio.case_files import services as cf_services
from folio.case_files.models import ActorRelation, ActorType, CaseFile, IndexEntry, Origin
from folio.core.counters import take_next
from folio.core.rut import Rut
from folio.files.inspect import FileRejected, inspect_bytes
from folio.files.models import StoredFile
from folio.files.services import atomic_with_files, file_store, max_upload_bytes, read_upload
from folio.organizations.calendar import BusinessCalendar
from folio.organizations.models import Unit
from folio.registry import services as registry_services
from folio.registry.models import AccessLevel, DocumentType, Mechanism
from folio.registry.selectors import org_today
from folio.verification.models import VerificationKind
from folio.verification.services import verification_attach_document, verification_issue, verification_url

S = ApplicationState
OBJECT_TYPE = "applications.application"
CORRECTION_DAYS = 5  # Ley 19.880 art. 31
REPORT_DAYS = 10  # Ley 19.880 art. 24: informes
MAX_CORRECTION_FILES = 10
STAGE_ACTIONS = frozenset({"approve", "reject", "request_correction", "request_report", "resolve"})


class ConflictError(registry_services.ConflictError):
    """The action does not apply to the application's current state or stage, or it changed meanwhile (409)."""


# action: (states it is allowed from, state it leads to; None keeps the state or depends on the action)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "save_draft": (frozenset({S.DRAFT}), S.DRAFT),
    "discard": (frozenset({S.DRAFT}), None),
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "approve": (frozenset({S.SUBMITTED, S.IN_PROGRESS}), S.IN_PROGRESS),
    "reject": (frozenset({S.SUBMITTED, S.IN_PROGRESS}), S.REJECTED),
    "request_correction": (frozenset({S.SUBMITTED, S.IN_PROGRESS}), S.CORRECTION_REQUESTED),
    "answer_correction": (frozenset({S.CORRECTION_REQUESTED}), S.IN_PROGRESS),
    "request_report": (frozenset({S.SUBMITTED, S.IN_PROGRESS}), S.IN_PROGRESS),
    "answer_report": (frozenset({S.SUBMITTED, S.IN_PROGRESS, S.CORRECTION_REQUESTED}), None),
    "cancel_report": (frozenset({S.SUBMITTED, S.IN_PROGRESS, S.CORRECTION_REQUESTED}), None),
    "resolve": (frozenset({S.SUBMITTED, S.IN_PROGRESS}), None),  # approved or rejected, as decided
    "withdraw": (frozenset({S.SUBMITTED, S.IN_PROGRESS, S.CORRECTION_REQUESTED}), S.WITHDRAWN),
    "expire": (frozenset({S.CORRECTION_REQUESTED}), S.ABANDONED),
}


def _refusal_message(action: str, state: str) -> str:
    if state in TERMINAL_STATES:
        return _("This application is already finished: nothing more can be done with it.")
    if state == S.DRAFT and action != "discard":
        return _("This application has not been submitted yet.")
    messages = {
        "save_draft": _("Only a draft can be edited: this application was already submitted."),
        "discard": _("Only a draft can be discarded."),
        "submit": _("This application was already submitted."),
        "approve": _("Only an application being processed can pass to the next stage."),
        "reject": _("Only an application being processed can be rejected."),
        "request_correction": _("A correction can only be requested while the application is being processed and "
                                "no other correction is pending."),
        "answer_correction": _("There is no pending correction request to answer."),
        "request_report": _("A report can only be requested while the application is being processed."),
        "answer_report": _("The application is no longer being processed."),
        "cancel_report": _("The application is no longer being processed."),
        "resolve": _("Only an application being processed can be resolved; wait for the applicant's correction."),
        "withdraw": _("This application can no longer be withdrawn."),
        "expire": _("Only an application awaiting a correction can be abandoned."),
    }
    return messages[action]


def _transition(app: Application, action: str) -> str:
    """Check ``action`` against the state machine; return the state it leads to (or the current one)."""
    states, target = TRANSITIONS[action]
    if app.state not in states:
        raise ConflictError(_refusal_message(action, app.state))
    return target or app.state


def allowed_actions(app: Application) -> set[str]:
    return {action for action, (states, _t) in TRANSITIONS.items() if app.state in states}


def stage_actions(app: Application) -> list[str]:
    """The stage actions of the current stage that the state machine allows now (no permission check)."""
    if app.state not in (S.SUBMITTED, S.IN_PROGRESS) or not app.definition_id:
        return []
    try:
        stage = stage_at(app.definition, app.stage_index)
    except IndexError:
        return []
    return [a for a in stage.get("actions", []) if a in STAGE_ACTIONS]


# --- inputs ----------------------------------------------------------------------------------------------------

@dataclass
class CitizenInput:
    """Who a counter filing is for: identified by RUN (the key of a citizen account, as with ClaveÚnica)."""

    run: str
    first_name: str
    last_name: str
    email: str = ""


# --- helpers ---------------------------------------------------------------------------------------------------

def deadline(organization: Any, days: int, *, start: dt.date | None = None) -> dt.date:
    """The day a term of ``days`` días hábiles expires, counted from the day after ``start`` (today in the
    organization). A start on a non-working day counts as made on the next working day (Ley 19.880 art. 25)."""
    calendar = BusinessCalendar(organization)
    day = start or org_today(organization)
    while not calendar.is_business_day(day):
        day += dt.timedelta(days=1)
    return calendar.add_business_days(day, days)


def next_number(*, organization: Any, year: int) -> int:
    """Take the next application number of the year, inside the submission's transaction
    (core.counters.take_next)."""
    return take_next(ApplicationCounter, organization=organization, year=year)

def format_number(year: int, number: int) -> str:
    return f"SOL-{year}-{number:06d}"


def _audit(action: str, actor: Any, app: Application, ip: str | None, **data: Any) -> None:
    audit.record(action=action, actor=actor, organization=app.organization, obj=app, data=data, ip=ip)


def _case_file_step(actor: Any, app: Application, step: str, summary: str, ip: str | None, **data: Any) -> None:
    """The step, in the expediente's own timeline (its audit trail)."""
    if app.case_file_id is None:
        return
    audit.record(action="case_file.application", actor=actor, organization=app.organization,
                 object_type="case_files.casefile", object_id=str(app.case_file_id),
                 object_repr=app.number, data={"step": step, "number": app.number, "summary": summary, **data}, ip=ip)


def _record_refusal(actor: Any, app: Application, action: str, exc: Exception, ip: str | None) -> None:
    kind = "application.denied" if isinstance(exc, PermissionDenied) else "application.refused"
    message = getattr(exc, "message", None) or str(exc)
    own = getattr(actor, "organization_id", None) in (None, app.organization_id)
    with transaction.atomic():
        if own:
            _audit(kind, actor, app, ip, attempted=action, state=app.state, reason=message)
        else:  # another organization's user: recorded in their own chain, nothing about the application leaks
            audit.record(action=kind, actor=actor, organization=actor.organization, object_type=OBJECT_TYPE,
                         object_id=str(app.pk), data={"attempted": action, "reason": message}, ip=ip)


@contextlib.contextmanager
def _recording_refusals(actor: Any, app: Application, action: str, ip: str | None) -> Iterator[None]:
    """Run a write; if it is refused (permission, state machine, stale version), record it after the rollback."""
    try:
        yield
    except (PermissionDenied, ConflictError) as exc:
        _record_refusal(actor, app, action, exc, ip)
        raise


def _lock(app: Application, expected_version: int | None) -> Application:
    # of=("self",): lock the application row only, not the rows joined in (PostgreSQL).
    locked = (Application.objects.select_for_update(of=("self",))
              .select_related("organization", "procedure", "definition", "applicant", "unit", "case_file",
                              "filed_by")
              .get(pk=app.pk))
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("Someone else changed this application while you were working. Reload and try "
                              "again."))
    return locked


def _bump(app: Application, fields: list[str]) -> None:
    app.version += 1
    app.save(update_fields=[*fields, "version", "updated_at"])


def _long_text(value: str, key: str, message: str, *, minimum: int = 5, maximum: int = 5000) -> str:
    value = (value or "").strip()
    if len(value) < minimum:
        raise ValidationError({key: [message]})
    if len(value) > maximum:
        raise ValidationError({key: [_("At most %(n)s characters.") % {"n": maximum}]})
    return value


def _answers_or_error(definition: Any, data: Any, files: Any, *, partial: bool,
                      present: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        return clean_answers(definition, data, files, partial=partial, present_files=present)
    except AnswersInvalid as exc:
        raise ValidationError(exc.errors) from None


def _definition_open(definition: FormDefinition) -> None:
    if definition.state != DefinitionState.PUBLISHED or not definition.organization.is_active:
        raise ConflictError(_("This procedure does not take applications online at the moment."))


def _stage_unit(app: Application, index: int) -> tuple[dict[str, Any], Unit]:
    stage = stage_at(app.definition, index)
    unit = Unit.objects.filter(organization_id=app.organization_id, code=stage.get("unit"), is_active=True).first()
    if unit is None:
        raise ConflictError(_("The unit responsible for the stage “%(stage)s” no longer exists; an administrator "
                              "must fix the procedure.") % {"stage": stage.get("name", "")})
    return stage, unit


def _applicant_rut(app: Application) -> str:
    applicant = app.applicant
    return f"{applicant.run_number}-{applicant.run_dv}" if applicant.run_number and applicant.run_dv else ""


def _is_counter(app: Application) -> bool:
    return app.channel != Channel.DIGITAL


def _incorporate(app: Application, actor: Any, *, title: str, document_type: int, name: str = "",
                 data: bytes | None = None, stored: StoredFile | None = None, from_applicant: bool = False,
                 for_applicant: bool = True, ip: str | None = None) -> IndexEntry:
    """Add a document to the application's expediente. ``for_applicant``: the applicant may read it (their
    own documents, requests and notifications, the resolution); ``from_applicant``: they sent it."""
    cf = app.case_file
    assert cf is not None
    by = actor if (actor is not None and getattr(actor, "organization_id", None)
                   and cf_perms.can_incorporate(actor, cf)) else None
    if from_applicant:
        origin = Origin.CITIZEN_PLATFORM if not _is_counter(app) else None
        mechanism = Mechanism.DIGITAL if not _is_counter(app) or data is not None else Mechanism.DIGITIZATION
    else:
        origin, mechanism = None, Mechanism.DIGITAL
    entry = cf_services.EntryInput(
        title=title[:500], document_type=document_type, origin=origin, mechanism=mechanism,
        document_created_at=timezone.now(), owner_rut=_applicant_rut(app) if for_applicant else "",
        keywords=", ".join(filter(None, [app.number, app.procedure.name]))[:500],
    )
    return cf_services.incorporate_document(case_file=cf, entry=entry, source_reference=f"{OBJECT_TYPE}:{app.pk}",
                                            actor=by, data=data, stored_file=stored, name=name, ip=ip)


def _close_case_file(app: Application, actor: Any, note: str, ip: str | None) -> None:
    assert app.case_file_id is not None
    cf = CaseFile.objects.get(pk=app.case_file_id)
    by = actor if (actor is not None and getattr(actor, "organization_id", None)
                   and cf_perms.can_manage(actor, cf)) else None
    app.case_file = cf_services.case_file_close(actor=by, case_file=cf, note=note[:500], ip=ip)


def _local(moment: dt.datetime, organization: Any) -> dt.datetime:
    return timezone.localtime(moment, ZoneInfo(organization.time_zone))


def _when(moment: dt.datetime, organization: Any) -> str:
    return date_format(_local(moment, organization), "d-m-Y H:i") + f" ({organization.time_zone})"


def _day(day: dt.date | None) -> str:
    return day.strftime("%d-%m-%Y") if day else "—"


def portal_url(app: Application) -> str:
    return settings.FOLIO_PUBLIC_URL + reverse("applications:mine_detail", args=[app.pk])


# --- attachments -----------------------------------------------------------------------------------------------

def _delete_draft_file(attachment: ApplicationAttachment) -> None:
    """A draft's attachment replaced or discarded: its row and stored file go, the bytes after commit."""
    stored = attachment.file
    name = stored.storage_name
    attachment.delete()
    stored.delete()
    transaction.on_commit(lambda: default_storage.delete(name))


def _store_form_uploads(app: Application, uploads: Mapping[str, Any], actor: Any) -> dict[str, str]:
    """Store the new uploads of file fields (replacing the draft's earlier file of the same field) and return
    ``{field key: file name}`` for every file field now on record. Runs inside ``atomic_with_files``."""
    existing = {a.field_key: a for a in app.attachments.filter(kind=AttachmentKind.FORM).select_related("file")}
    errors: dict[str, list[str]] = {}
    for key, upload in uploads.items():
        try:
            data = read_upload(upload)
            stored = file_store(organization=app.organization, name=upload.name or key, data=data, actor=actor)
        except FileRejected as exc:
            errors[key] = [exc.message]
            continue
        if key in existing:
            _delete_draft_file(existing.pop(key))
        existing[key] = ApplicationAttachment.objects.create(application=app, kind=AttachmentKind.FORM,
                                                             field_key=key, file=stored, uploaded_by=actor)
    if errors:
        raise ValidationError(errors)
    return {key: a.file.original_name for key, a in existing.items()}


def _merged_answers(definition: Any, answers: Mapping[str, Any], files: Mapping[str, str]) -> dict[str, Any]:
    keys = {f["key"]: f["type"] for f in fields_of(definition)}
    merged = {k: v for k, v in answers.items() if k in keys and keys[k] != "file"}
    merged.update({k: v for k, v in files.items() if k in keys})
    return merged


def _present_files(app: Application | None) -> list[str]:
    if app is None:
        return []
    return list(app.attachments.filter(kind=AttachmentKind.FORM).values_list("field_key", flat=True))


def _require_citizen(actor: Any) -> None:
    if not perms.is_citizen(actor):
        raise PermissionDenied(_("Online applications are filed by citizens signed in with ClaveÚnica."))


def _own_draft(actor: Any, application: Application, definition: FormDefinition) -> None:
    if application.applicant_id != actor.pk:
        raise PermissionDenied(_("This application is not yours."))
    if application.definition_id != definition.pk:
        raise ConflictError(_("This draft belongs to another version of the form."))


# --- drafts ----------------------------------------------------------------------------------------------------

def application_save_draft(*, actor: Any, definition: FormDefinition, data: Any, files: Any,
                           application: Application | None = None, ip: str | None = None) -> Application:
    """Keep what the citizen has filled in so far (answers validated in partial mode) and the files uploaded
    with it (each stored with its row at once; a new file for a field replaces the earlier one)."""
    _require_citizen(actor)
    _definition_open(definition)
    answers, uploads = _answers_or_error(definition, data, files, partial=True)
    if application is None:
        with atomic_with_files():
            app = Application.objects.create(
                organization=definition.organization, procedure=definition.procedure, definition=definition,
                applicant=actor, channel=Channel.DIGITAL, state=S.DRAFT, data={})
            app = _lock(app, None)
            names = _store_form_uploads(app, uploads, actor)
            app.data = _merged_answers(definition, answers, names)
            _bump(app, ["data"])
            _audit("application.draft", actor, app, ip, created=True, fields=sorted(app.data))
        return app
    with _recording_refusals(actor, application, "save_draft", ip), atomic_with_files():
        app = _lock(application, None)
        _own_draft(actor, app, definition)
        _transition(app, "save_draft")
        names = _store_form_uploads(app, uploads, actor)
        app.data = _merged_answers(definition, answers, names)
        _bump(app, ["data"])
        _audit("application.draft", actor, app, ip, created=False, fields=sorted(app.data))
    return app


def application_discard_draft(*, actor: Any, application: Application, ip: str | None = None) -> None:
    """Throw a draft away with its files (it was never filed, so nothing of it is a record)."""
    with _recording_refusals(actor, application, "discard", ip), transaction.atomic():
        app = _lock(application, None)
        if app.applicant_id != getattr(actor, "pk", None):
            raise PermissionDenied(_("This application is not yours."))
        _transition(app, "discard")
        for attachment in app.attachments.select_related("file"):
            _delete_draft_file(attachment)
        _audit("application.discard", actor, app, ip, procedure=app.procedure.name)
        app.delete()


# --- submission ------------------------------------------------------------------------------------------------

def application_submit(*, actor: Any, definition: FormDefinition, data: Any, files: Any,
                       application: Application | None = None, ip: str | None = None) -> Application:
    """File the citizen's application online (channel digital), from their draft if they had one."""
    _require_citizen(actor)
    if application is not None:
        _own_draft(actor, application, definition)
    _definition_open(definition)
    answers, uploads = _answers_or_error(definition, data, files, partial=False,
                                         present=_present_files(application))
    if application is None:
        with atomic_with_files():
            app = Application.objects.create(
                organization=definition.organization, procedure=definition.procedure, definition=definition,
                applicant=actor, channel=Channel.DIGITAL, state=S.DRAFT, data={})
            return _submit(app, actor=actor, answers=answers, uploads=uploads, ip=ip)
    with _recording_refusals(actor, application, "submit", ip), atomic_with_files():
        return _submit(application, actor=actor, answers=answers, uploads=uploads, ip=ip)


def application_file_at_counter(*, actor: Any, definition: FormDefinition, citizen: CitizenInput, data: Any,
                                files: Any, channel: str = Channel.IN_PERSON, ip: str | None = None) -> Application:
    """A clerk files an application on a citizen's behalf (presencial or telefónico): the citizen is found by
    RUN, or their account created (as ClaveÚnica would key it), and the same submission runs; ``filed_by``
    records the clerk."""
    try:
        first_unit = Unit.objects.filter(organization_id=definition.organization_id,
                                         code=stage_at(definition, 0).get("unit")).values_list("pk", flat=True).first()
    except IndexError:
        first_unit = None
    if not perms.can_file_at_counter(actor, definition.organization_id, first_unit):
        if getattr(actor, "organization_id", None):
            with transaction.atomic():
                audit.record(action="application.denied", actor=actor, organization=actor.organization,
                             object_type=OBJECT_TYPE, data={"attempted": "file_at_counter",
                                                            "procedure": definition.procedure_id}, ip=ip)
        raise PermissionDenied(_("You cannot file applications for this procedure on a citizen's behalf."))
    _definition_open(definition)
    errors: dict[str, list[str]] = {}
    if channel not in (Channel.IN_PERSON, Channel.PHONE):
        errors["channel"] = [_("Choose in person or telephone.")]
    rut: Rut | None = None
    try:
        rut = Rut.parse(citizen.run)
    except ValidationError as exc:
        errors["run"] = list(exc.messages)
    if not citizen.first_name.strip():
        errors["first_name"] = [_("The applicant's first names are required.")]
    if not citizen.last_name.strip():
        errors["last_name"] = [_("The applicant's last names are required.")]
    email = citizen.email.strip()
    if email:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    try:
        answers, uploads = _answers_or_error(definition, data, files, partial=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    assert rut is not None
    with atomic_with_files():
        applicant = _citizen_for(rut, citizen.first_name.strip(), citizen.last_name.strip(), email)
        app = Application.objects.create(
            organization=definition.organization, procedure=definition.procedure, definition=definition,
            applicant=applicant, filed_by=actor, channel=channel, state=S.DRAFT, data={})
        return _submit(app, actor=actor, answers=answers, uploads=uploads, ip=ip, contact_fallback=email)


def _citizen_for(rut: Rut, first_name: str, last_name: str, email: str) -> User:
    """The citizen account of ``rut`` (organization empty, keyed by RUN), created when it does not exist."""
    user = User.objects.select_for_update().filter(organization__isnull=True, run_number=rut.number).first()
    if user is None:
        base = f"run-{rut.number}"
        for attempt in range(5):
            username = base if attempt == 0 else f"{base}-{attempt}"
            if User.objects.filter(username=username).exists():
                continue
            user = User(username=username, organization=None, run_number=rut.number, run_dv=rut.dv,
                        first_name=first_name[:150], last_name=last_name[:150], email=email)
            user.set_unusable_password()
            try:
                with transaction.atomic():
                    user.save(force_insert=True)
            except IntegrityError:  # the same person was created at the same time: use that account
                user = User.objects.get(organization__isnull=True, run_number=rut.number)
            return user
        raise ValidationError({"run": [_("No account could be created for this RUN.")]})
    if user.is_staff or user.is_superuser:
        raise ValidationError({"run": [_("This RUN belongs to a platform account; it cannot apply as a citizen.")]})
    changed: list[str] = []
    if not user.email and email:
        user.email, changed = email, [*changed, "email"]
    if not user.first_name and not user.last_name:
        user.first_name, user.last_name = first_name[:150], last_name[:150]
        changed += ["first_name", "last_name"]
    if changed:
        user.save(update_fields=changed)
    return user


def _contact_email(definition: Any, answers: Mapping[str, Any], applicant: Any, fallback: str = "") -> str:
    """The electronic means for notifications (Ley 19.880 art. 30): the first e-mail answer of the form, else the
    one given at the counter, else the account's."""
    for spec in fields_of(definition):
        if spec.get("type") == "email" and answers.get(spec["key"]):
            return str(answers[spec["key"]])
    return fallback or applicant.email or ""


def _channel_label(app: Application) -> str:
    if app.channel == Channel.DIGITAL:
        return _("Web form on the municipality's platform (digital channel)")
    clerk = app.filed_by.display_name if app.filed_by else ""
    if app.channel == Channel.PHONE:
        return _("By telephone, recorded by %(clerk)s") % {"clerk": clerk}
    return _("In person, filed at the counter by %(clerk)s") % {"clerk": clerk}


def _masked_run(app: Application) -> str:
    number, dv = app.applicant.run_number, app.applicant.run_dv
    if not number:
        return "—"
    return f"**.***.{number % 1000:03d}-{dv}"


def _certificate_rows(app: Application, cf: CaseFile, documents_count: int, *, public: bool) -> list[tuple[str, str]]:
    org = app.organization
    assert app.submitted_at is not None
    rows = [
        (_("Application number"), app.number),
        (_("Procedure"), app.procedure.name + (f" ({app.procedure.code})" if app.procedure.code else "")),
        (_("Organization"), f"{org.name} ({org.code})"),
        (_("Filed at"), _when(app.submitted_at, org)),
        (_("Filed at (UTC)"), documents.utc_stamp(app.submitted_at)),
        (_("Origin"), _channel_label(app)),
        (_("Expediente (IUIe)"), cf.iuie),
        (_("Applicant"), app.applicant.display_name),
        (_("RUN"), _masked_run(app) if public else app.applicant.run_display),
        (_("Receiving platform"), f"Folio — {org.name}"),
        (_("Documents filed"), str(documents_count)),
    ]
    if app.unit:
        rows.append((_("Responsible unit"), app.unit.name))
    if not public and app.contact_email:
        rows.append((_("E-mail for notifications"), app.contact_email))
    if app.due_date and not public:
        rows.append((_("Deadline of the first stage"), _day(app.due_date)))
    return rows


def _form_pdf(app: Application, attachments: list[ApplicationAttachment]) -> bytes:
    org = app.organization
    assert app.submitted_at is not None
    rows = [
        (_("Procedure"), app.procedure.name),
        (_("Applicant"), f"{app.applicant.display_name} — RUN {app.applicant.run_display}"),
        (_("Channel"), _channel_label(app)),
        (_("Filed at"), _when(app.submitted_at, org)),
        *answer_rows(app.definition, app.data),
    ]
    labels = {f["key"]: f.get("label") or f["key"] for f in fields_of(app.definition)}
    listed = "\n".join(f"{labels.get(a.field_key, a.field_key)}: {a.file.original_name} — SHA-256 {a.file.sha256}"
                       for a in attachments)
    return documents.render(
        organization_name=org.name, title=_("Application %(number)s") % {"number": app.number},
        subtitle=app.procedure.name, rows=rows, sections=[(_("Attachments"), listed or _("None."))],
        footer=[_("Form filed through Folio — %(org)s.") % {"org": org.name}])


def _submit(app: Application, *, actor: Any, answers: dict[str, Any], uploads: dict[str, Any], ip: str | None,
            contact_fallback: str = "") -> Application:
    """The submission proper; the caller holds a transaction (``atomic_with_files``)."""
    app = _lock(app, None)
    _transition(app, "submit")
    definition = app.definition
    _definition_open(definition)
    if stage_count(definition) < 1:
        raise ConflictError(_("This procedure has no processing stages; it cannot take applications."))
    org = app.organization
    names = _store_form_uploads(app, uploads, actor)
    app.data = _merged_answers(definition, answers, names)
    now = timezone.now()
    year = _local(now, org).year
    app.number = format_number(year, next_number(organization=org, year=year))
    stage, unit = _stage_unit(app, 0)
    app.unit, app.stage_index, app.submitted_at = unit, 0, now
    app.contact_email = _contact_email(definition, app.data, app.applicant, contact_fallback)[:254]
    app.due_date = deadline(org, int(stage.get("days") or 0), start=_local(now, org).date())
    applicant = app.applicant
    cf = cf_services.case_file_open_for_filing(organization=org, filed_by=actor, ip=ip, data=cf_services.CaseFileInput(
        title=f"{app.procedure.name} — {app.number}", subject=_("Online application %(number)s to %(procedure)s")
        % {"number": app.number, "procedure": app.procedure.name}, procedure_code=app.procedure.code,
        procedure_name=app.procedure.name, unit_id=unit.pk, access_level=AccessLevel.RESTRICTED,
        parties=[cf_services.PartyInput(name=applicant.display_name, rut=applicant.run_display,
                                        relation=ActorRelation.INTERESTED, actor_type=ActorType.CITIZEN,
                                        email=app.contact_email)]))
    app.case_file = cf
    order = {f["key"]: i for i, f in enumerate(fields_of(definition))}
    attachments = sorted(app.attachments.filter(kind=AttachmentKind.FORM).select_related("file"),
                         key=lambda a: order.get(a.field_key, 999))
    # 1. The form as filed, the expediente's first document; 2. every attachment.
    _incorporate(app, actor, title=_("Application %(number)s: %(procedure)s") % {
        "number": app.number, "procedure": app.procedure.name}, document_type=DocumentType.SOLICITUD,
        name=f"solicitud-{app.number}.pdf", data=_form_pdf(app, attachments), from_applicant=True, ip=ip)
    labels = {f["key"]: f.get("label") or f["key"] for f in fields_of(definition)}
    for attachment in attachments:
        attachment.entry = _incorporate(
            app, actor, title=f"{labels.get(attachment.field_key, attachment.field_key)}: "
                              f"{attachment.file.original_name}",
            document_type=DocumentType.ANTECEDENTE, stored=attachment.file, from_applicant=True, ip=ip)
        attachment.save(update_fields=["entry"])
    # 3. The certificado de presentación, with its verification code.
    record = verification_issue(organization=org, kind=VerificationKind.FILING_CERTIFICATE, obj=app,
                                title=_("Filing certificate of application %(number)s") % {"number": app.number},
                                facts=_certificate_rows(app, cf, 1 + len(attachments), public=True))
    pdf = documents.render_certificate(organization_name=org.name, number=app.number,
                                       rows=_certificate_rows(app, cf, 1 + len(attachments), public=False),
                                       code=record.code, url=verification_url(record.code), issued_at=record.issued_at)
    certificate_entry = _incorporate(app, actor, title=_("Filing certificate of application %(number)s") % {
        "number": app.number}, document_type=DocumentType.CERTIFICADO, name=f"certificado-{app.number}.pdf",
        data=pdf, ip=ip)
    assert certificate_entry.file is not None
    verification_attach_document(record=record, document=certificate_entry.file)
    app.certificate = record
    app.state = S.SUBMITTED
    _bump(app, ["data", "number", "unit", "stage_index", "submitted_at", "contact_email", "due_date", "case_file",
                "certificate", "state"])
    _audit("application.submit", actor, app, ip, number=app.number, iuie=cf.iuie, channel=app.channel,
           unit=unit.name, stage=stage.get("name"), due_date=app.due_date.isoformat(),
           certificate=record.code, attachments=[a.file.sha256 for a in attachments],
           filed_by=app.filed_by.display_name if app.filed_by else None)
    _notify(app, Milestone.SUBMITTED, attachment=certificate_entry.file, ip=ip)
    return app


# --- notifications ---------------------------------------------------------------------------------------------

def _message_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "folio.localhost"


def _notification_text(app: Application, milestone: str, extra: Mapping[str, str]) -> tuple[str, str]:
    org = app.organization
    values = {"number": app.number, "procedure": app.procedure.name, "org": org.name,
              "name": app.applicant.display_name, "url": portal_url(app), "iuie": app.case_file.iuie
              if app.case_file else "", "due": _day(app.due_date), **extra}
    subjects = {
        Milestone.SUBMITTED: _("Application %(number)s submitted"),
        Milestone.CORRECTION_REQUESTED: _("Application %(number)s: correction requested"),
        Milestone.CORRECTION_RECEIVED: _("Application %(number)s: correction received"),
        Milestone.RESOLVED: _("Application %(number)s resolved"),
        Milestone.ABANDONED: _("Application %(number)s abandoned"),
        Milestone.WITHDRAWN: _("Application %(number)s withdrawn"),
    }
    bodies = {
        Milestone.SUBMITTED: _(
            "Your application %(number)s to “%(procedure)s” was filed on %(when)s and is being processed in the "
            "expediente %(iuie)s. The filing certificate is attached; anyone can check it at %(verify)s.\n"
            "Deadline of the first stage: %(due)s."),
        Milestone.CORRECTION_REQUESTED: _(
            "The municipality asks you to correct your application %(number)s to “%(procedure)s” "
            "(Ley 19.880, art. 31):\n\n%(message)s\n\nYou have until %(due)s (5 working days). If the application "
            "is not corrected by then, it will be considered withdrawn (desistimiento)."),
        Milestone.CORRECTION_RECEIVED: _(
            "We received your correction of application %(number)s to “%(procedure)s”. Processing goes on; "
            "deadline of the current stage: %(due)s."),
        Milestone.RESOLVED: _(
            "Your application %(number)s to “%(procedure)s” was resolved: %(outcome)s.\n\n%(text)s\n\n"
            "The resolution is attached."),
        Milestone.ABANDONED: _(
            "Your application %(number)s to “%(procedure)s” was not corrected by the deadline and is considered "
            "withdrawn (desistimiento, Ley 19.880 art. 31)."),
        Milestone.WITHDRAWN: _(
            "You withdrew your application %(number)s to “%(procedure)s”. Its expediente %(iuie)s was closed."),
    }
    subject = f"{org.name} — {subjects[Milestone(milestone)] % values}"
    greeting = _("Dear %(name)s,") % values
    follow = _("Follow your application at %(url)s") % values
    body = f"{greeting}\n\n{bodies[Milestone(milestone)] % values}\n\n{follow}\n\n{org.name}\n"
    return subject[:250], body


def _notify(app: Application, milestone: str, *, attachment: StoredFile | None = None,
            extra: Mapping[str, str] | None = None, ip: str | None = None) -> ApplicationNotification | None:
    """Write the e-mail of a milestone, incorporate it into the expediente (DS 10 art. 28: the notification,
    its recipient and its Message-ID) and send it after commit. No address, no e-mail."""
    if not app.contact_email:
        return None
    values = dict(extra or {})
    if milestone == Milestone.SUBMITTED and app.certificate_id:
        values["verify"] = verification_url(app.certificate.code) if app.certificate else ""
    values.setdefault("when", _when(app.submitted_at or timezone.now(), app.organization))
    subject, body = _notification_text(app, milestone, values)
    notification = ApplicationNotification.objects.create(
        application=app, milestone=milestone, to=app.contact_email, subject=subject, body=body,
        message_id=make_msgid(domain=_message_domain())[:200], attachment=attachment)
    rows = [
        (_("Application"), app.number),
        (_("Expediente (IUIe)"), app.case_file.iuie if app.case_file else "—"),
        (_("To"), notification.to),
        (_("From"), settings.DEFAULT_FROM_EMAIL),
        (_("Subject"), subject),
        ("Message-ID", notification.message_id),
        (_("Written at"), _when(notification.created_at, app.organization)),
    ]
    if attachment is not None:
        rows.append((_("Attachment"), f"{attachment.original_name} — SHA-256 {attachment.sha256}"))
    pdf = documents.render(organization_name=app.organization.name, title=_("Notification by e-mail"),
                           subtitle=str(Milestone(milestone).label), rows=rows, sections=[(_("Message"), body)],
                           footer=[_("The message is sent by Folio right after this record; its delivery is recorded "
                                     "in the application's history with the same Message-ID.")])
    notification.entry = _incorporate(app, None, title=_("Notification by e-mail: %(subject)s") % {
        "subject": subject}, document_type=DocumentType.NOTIFICACION, name=f"notificacion-{app.number}.pdf",
        data=pdf, ip=ip)
    notification.save(update_fields=["entry"])
    from folio.applications.tasks import send_application_notification

    notification_id = notification.pk
    transaction.on_commit(lambda: send_application_notification.enqueue(notification_id))
    return notification


# --- stage actions (staff) -------------------------------------------------------------------------------------

def _stage_action(actor: Any, app: Application, action: str) -> dict[str, Any]:
    """Permission, state machine and the current stage's actions, in that order. Returns the stage."""
    if not perms.can_act(actor, app):
        raise PermissionDenied(_("Only the unit responsible for the current stage can act on this application."))
    _transition(app, action)
    stage = stage_at(app.definition, app.stage_index)
    if action not in stage.get("actions", []):
        raise ConflictError(_("The stage “%(stage)s” does not allow this action.") % {"stage": stage.get("name")})
    return stage


def _no_pending_reports(app: Application) -> None:
    pending = list(ReportRequest.objects.filter(application=app, status=ReportStatus.PENDING,
                                                stage_index=app.stage_index).select_related("unit"))
    if pending:
        raise ConflictError(_("A report requested from %(units)s is still pending: wait for it or cancel the "
                              "request first.") % {"units": ", ".join(r.unit.name for r in pending)})


def application_approve(*, actor: Any, application: Application, note: str = "",
                        expected_version: int | None = None, ip: str | None = None) -> Application:
    """Pass the application to the next stage: its unit becomes responsible (the expediente is transferred to
    it) with the next stage's deadline."""
    with _recording_refusals(actor, application, "approve", ip), atomic_with_files():
        app = _lock(application, expected_version)
        stage = _stage_action(actor, app, "approve")
        if app.stage_index + 1 >= stage_count(app.definition):
            raise ConflictError(_("This is the last stage: resolve the application instead."))
        _no_pending_reports(app)
        next_stage, unit = _stage_unit(app, app.stage_index + 1)
        old_state, old_unit = app.state, app.unit
        app.stage_index += 1
        app.unit, app.state = unit, _transition(app, "approve")
        app.due_date = deadline(app.organization, int(next_stage.get("days") or 0))
        assert app.case_file is not None
        if app.case_file.unit_id != unit.pk:
            cf_services.case_file_transfer(
                actor=actor, case_file=app.case_file, to_unit_id=unit.pk, ip=ip,
                note=_("Application %(number)s, stage “%(stage)s”") % {"number": app.number,
                                                                        "stage": next_stage.get("name")})
        _bump(app, ["stage_index", "unit", "state", "due_date"])
        note = note.strip()[:1000]
        _audit("application.approve", actor, app, ip, from_stage=stage.get("name"), to_stage=next_stage.get("name"),
               from_unit=old_unit.name if old_unit else None, to_unit=unit.name, due_date=app.due_date.isoformat(),
               note=note, state=[old_state, app.state])
        _case_file_step(actor, app, "approve", _("Stage “%(a)s” approved; passes to “%(b)s” (%(unit)s), deadline "
                                                 "%(due)s.") % {"a": stage.get("name"), "b": next_stage.get("name"),
                                                                "unit": unit.name, "due": _day(app.due_date)}, ip)
    return app


def _finish(app: Application, actor: Any, *, state: str, text: str, title: str, pdf_name: str, pdf: bytes | None,
            stored: StoredFile | None, document_type: int, milestone: str, extra: Mapping[str, str],
            ip: str | None) -> IndexEntry:
    """A terminal act: its document, the notification, the application closed and the expediente closed."""
    entry = _incorporate(app, actor, title=title, document_type=document_type, name=pdf_name, data=pdf,
                         stored=stored, ip=ip)
    app.state, app.closed_at = state, timezone.now()
    app.resolution_text, app.resolution_entry = text, entry
    app.due_date = None
    _bump(app, ["state", "closed_at", "resolution_text", "resolution_entry", "due_date"])
    ReportRequest.objects.filter(application=app, status=ReportStatus.PENDING).update(
        status=ReportStatus.CANCELLED, cancelled_at=app.closed_at, cancelled_by=actor if getattr(actor, "pk", None)
        else None)
    _notify(app, milestone, attachment=entry.file, extra=extra, ip=ip)
    _close_case_file(app, actor, title, ip)
    return entry


def _decision_pdf(app: Application, actor: Any, *, title: str, decision: str, text: str) -> bytes:
    org = app.organization
    rows = [
        (_("Application"), app.number),
        (_("Procedure"), app.procedure.name),
        (_("Applicant"), f"{app.applicant.display_name} — RUN {app.applicant.run_display}"),
        (_("Expediente (IUIe)"), app.case_file.iuie if app.case_file else "—"),
        (_("Decision"), decision),
        (_("Date"), _when(timezone.now(), org)),
    ]
    if actor is not None and getattr(actor, "organization_id", None):
        rows.append((_("Decided by"), ", ".join(filter(None, [actor.display_name, actor.position,
                                                               actor.unit.name if actor.unit else ""]))))
    return documents.render(organization_name=org.name, title=title, subtitle=app.procedure.name, rows=rows,
                            sections=[(_("Grounds"), text)])


def application_reject(*, actor: Any, application: Application, reasons: str, expected_version: int | None = None,
                       ip: str | None = None) -> Application:
    """Reject the application at the current stage, with the reasons (terminal)."""
    reasons = _long_text(reasons, "reasons", _("Give the reasons for the rejection (at least 10 characters)."),
                         minimum=10)
    with _recording_refusals(actor, application, "reject", ip), atomic_with_files():
        app = _lock(application, expected_version)
        stage = _stage_action(actor, app, "reject")
        _no_pending_reports(app)
        old = app.state
        title = _("Rejection of application %(number)s") % {"number": app.number}
        pdf = _decision_pdf(app, actor, title=title, decision=_("Rejected"), text=reasons)
        _finish(app, actor, state=_transition(app, "reject"), text=reasons, title=title,
                pdf_name=f"rechazo-{app.number}.pdf", pdf=pdf, stored=None, document_type=DocumentType.RESOLUCION,
                milestone=Milestone.RESOLVED, extra={"outcome": _("rejected"), "text": reasons}, ip=ip)
        _audit("application.reject", actor, app, ip, stage=stage.get("name"), reasons=reasons, state=[old, app.state])
        _case_file_step(actor, app, "reject", _("Application rejected at stage “%(stage)s”.") % {
            "stage": stage.get("name")}, ip)
    return app


def application_request_correction(*, actor: Any, application: Application, message: str,
                                   expected_version: int | None = None, ip: str | None = None) -> CorrectionRequest:
    """Ask the applicant to cure the application (Ley 19.880 art. 31): 5 días hábiles; the stage clock stops."""
    message = _long_text(message, "message", _("Say what must be corrected (at least 10 characters)."), minimum=10)
    with _recording_refusals(actor, application, "request_correction", ip), atomic_with_files():
        app = _lock(application, expected_version)
        stage = _stage_action(actor, app, "request_correction")
        old = app.state
        now = timezone.now()
        due = deadline(app.organization, CORRECTION_DAYS)
        correction = CorrectionRequest.objects.create(application=app, stage_index=app.stage_index, message=message,
                                                      requested_by=actor, requested_at=now, due_date=due)
        pdf = documents.render(
            organization_name=app.organization.name,
            title=_("Request to correct application %(number)s") % {"number": app.number},
            subtitle=_("Ley 19.880, art. 31: the applicant has 5 working days to correct the application; otherwise "
                       "it is considered withdrawn."),
            rows=[(_("Application"), app.number), (_("Procedure"), app.procedure.name),
                  (_("Applicant"), app.applicant.display_name), (_("Stage"), stage.get("name", "")),
                  (_("Requested at"), _when(now, app.organization)), (_("Deadline"), _day(due)),
                  (_("Requested by"), actor.display_name)],
            sections=[(_("What must be corrected"), message)])
        correction.request_entry = _incorporate(
            app, actor, title=_("Request to correct application %(number)s") % {"number": app.number},
            document_type=DocumentType.OFICIO, name=f"subsanacion-{app.number}.pdf", data=pdf, ip=ip)
        correction.save(update_fields=["request_entry"])
        app.state, app.due_date = _transition(app, "request_correction"), due
        _bump(app, ["state", "due_date"])
        _audit("application.request_correction", actor, app, ip, correction=correction.pk, message=message,
               due_date=due.isoformat(), stage=stage.get("name"), state=[old, app.state])
        _case_file_step(actor, app, "request_correction", _("Correction requested; deadline %(due)s.") % {
            "due": _day(due)}, ip)
        _notify(app, Milestone.CORRECTION_REQUESTED, attachment=correction.request_entry.file,
                extra={"message": message}, ip=ip)
    return correction


def application_answer_correction(*, actor: Any, application: Application, text: str, files: Sequence[Any] = (),
                                  expected_version: int | None = None, ip: str | None = None) -> CorrectionRequest:
    """The applicant answers the pending correction request with a text and new attachments; processing goes
    on with the stage's deadline counted again from today."""
    text = _long_text(text, "text", _("Explain what you corrected (at least 5 characters)."))
    if len(files) > MAX_CORRECTION_FILES:
        raise ValidationError({"files": [_("Attach at most %(n)s files.") % {"n": MAX_CORRECTION_FILES}]})
    payloads: list[tuple[str, bytes]] = []
    errors: list[str] = []
    for upload in files:
        try:
            data = read_upload(upload)
            inspect_bytes(data, max_bytes=max_upload_bytes())
        except FileRejected as exc:
            errors.append(f"{upload.name}: {exc.message}")
            continue
        payloads.append((upload.name or "archivo", data))
    if errors:
        raise ValidationError({"files": errors})
    with _recording_refusals(actor, application, "answer_correction", ip), atomic_with_files():
        app = _lock(application, expected_version)
        if app.applicant_id != getattr(actor, "pk", None):
            raise PermissionDenied(_("Only the applicant can answer this request."))
        _transition(app, "answer_correction")
        correction = app.corrections.filter(answered_at__isnull=True, expired_at__isnull=True).order_by("-id").first()
        if correction is None:
            raise ConflictError(_refusal_message("answer_correction", S.IN_PROGRESS))
        if org_today(app.organization) > correction.due_date:
            raise ConflictError(_("The deadline to correct this application passed on %(date)s.") % {
                "date": _day(correction.due_date)})
        now = timezone.now()
        stored_files = []
        for name, data in payloads:
            stored = file_store(organization=app.organization, name=name, data=data, actor=actor)
            stored_files.append(ApplicationAttachment.objects.create(
                application=app, kind=AttachmentKind.CORRECTION, correction=correction, file=stored,
                uploaded_by=actor))
        listed = "\n".join(f"{a.file.original_name} — SHA-256 {a.file.sha256}" for a in stored_files)
        pdf = documents.render(
            organization_name=app.organization.name,
            title=_("Correction of application %(number)s") % {"number": app.number},
            rows=[(_("Application"), app.number), (_("Applicant"), app.applicant.display_name),
                  (_("Answered at"), _when(now, app.organization))],
            sections=[(_("What was requested"), correction.message), (_("Answer"), text),
                      (_("Attachments"), listed or _("None."))])
        correction.answer_entry = _incorporate(
            app, actor, title=_("Correction of application %(number)s") % {"number": app.number},
            document_type=DocumentType.RESPUESTA, name=f"respuesta-subsanacion-{app.number}.pdf", data=pdf,
            from_applicant=True, ip=ip)
        for attachment in stored_files:
            attachment.entry = _incorporate(app, actor, title=_("Correction attachment: %(name)s") % {
                "name": attachment.file.original_name}, document_type=DocumentType.ANTECEDENTE,
                stored=attachment.file, from_applicant=True, ip=ip)
            attachment.save(update_fields=["entry"])
        correction.answer_text, correction.answered_at, correction.answered_by = text, now, actor
        correction.save(update_fields=["answer_text", "answered_at", "answered_by", "answer_entry"])
        stage = stage_at(app.definition, app.stage_index)
        old = app.state
        app.state = _transition(app, "answer_correction")
        app.due_date = deadline(app.organization, int(stage.get("days") or 0))
        _bump(app, ["state", "due_date"])
        _audit("application.answer_correction", actor, app, ip, correction=correction.pk,
               files=[a.file.sha256 for a in stored_files], due_date=app.due_date.isoformat(), state=[old, app.state])
        _case_file_step(actor, app, "answer_correction", _("The applicant answered the correction request; new "
                                                           "deadline %(due)s.") % {"due": _day(app.due_date)}, ip)
        _notify(app, Milestone.CORRECTION_RECEIVED, ip=ip)
    return correction


def application_request_report(*, actor: Any, application: Application, unit_id: int, question: str,
                               days: int = REPORT_DAYS, expected_version: int | None = None,
                               ip: str | None = None) -> ReportRequest:
    """Ask another unit of the organization for a report (informe) with a deadline in días hábiles."""
    question = _long_text(question, "question", _("Say what the report must address (at least 10 characters)."),
                          minimum=10)
    if not isinstance(days, int) or not 1 <= days <= 60:
        raise ValidationError({"days": [_("The deadline must be between 1 and 60 working days.")]})
    with _recording_refusals(actor, application, "request_report", ip), atomic_with_files():
        app = _lock(application, expected_version)
        stage = _stage_action(actor, app, "request_report")
        unit = Unit.objects.filter(pk=unit_id, organization_id=app.organization_id, is_active=True).first()
        if unit is None:
            raise ValidationError({"unit_id": [_("Choose a unit of your organization.")]})
        if unit.pk == app.unit_id:
            raise ValidationError({"unit_id": [_("Ask another unit: yours is the one processing the application.")]})
        due = deadline(app.organization, days)
        report = ReportRequest.objects.create(organization_id=app.organization_id, application=app, unit=unit,
                                              stage_index=app.stage_index, question=question, requested_by=actor,
                                              requested_at=timezone.now(), due_date=due)
        old = app.state
        app.state = _transition(app, "request_report")
        _bump(app, ["state"])
        _audit("application.request_report", actor, app, ip, report=report.pk, unit=unit.name, question=question,
               due_date=due.isoformat(), stage=stage.get("name"), state=[old, app.state])
        _case_file_step(actor, app, "request_report", _("Report requested from %(unit)s; deadline %(due)s.") % {
            "unit": unit.name, "due": _day(due)}, ip)
    return report


def _lock_report(report: ReportRequest, expected_version: int | None) -> ReportRequest:
    locked = ReportRequest.objects.select_for_update(of=("self",)).select_related("unit").get(pk=report.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("Someone else changed this report request while you were working. Reload and try "
                              "again."))
    return locked


def application_answer_report(*, actor: Any, report: ReportRequest, text: str, file: Any | None = None,
                              expected_version: int | None = None, ip: str | None = None) -> ReportRequest:
    """The unit asked answers with its report (text, and a file if it has one); both go into the expediente."""
    text = _long_text(text, "text", _("Write the report (at least 10 characters)."), minimum=10)
    payload: tuple[str, bytes] | None = None
    if file is not None:
        try:
            data = read_upload(file)
            inspect_bytes(data, max_bytes=max_upload_bytes())
        except FileRejected as exc:
            raise ValidationError({"file": [exc.message]}) from None
        payload = (file.name or "informe", data)
    with _recording_refusals(actor, report.application, "answer_report", ip), atomic_with_files():
        app = _lock(report.application, None)
        locked = _lock_report(report, expected_version)
        if not perms.can_answer_report(actor, locked):
            raise PermissionDenied(_("Only the unit asked can answer this report."))
        _transition(app, "answer_report")
        if locked.status != ReportStatus.PENDING:
            raise ConflictError(_("This report request was already answered or cancelled."))
        now = timezone.now()
        title = _("Report of %(unit)s on application %(number)s") % {"unit": locked.unit.name, "number": app.number}
        pdf = documents.render(
            organization_name=app.organization.name, title=title,
            rows=[(_("Application"), app.number), (_("Procedure"), app.procedure.name),
                  (_("Unit"), locked.unit.name), (_("Requested at"), _when(locked.requested_at, app.organization)),
                  (_("Answered at"), _when(now, app.organization)), (_("Answered by"), actor.display_name)],
            sections=[(_("What was asked"), locked.question), (_("Report"), text)])
        locked.answer_entry = _incorporate(app, actor, title=title, document_type=DocumentType.INFORME,
                                           name=f"informe-{app.number}.pdf", data=pdf, for_applicant=False, ip=ip)
        if payload is not None:
            locked.file_entry = _incorporate(app, actor, title=_("%(title)s (attached file)") % {"title": title},
                                             document_type=DocumentType.INFORME, name=payload[0], data=payload[1],
                                             for_applicant=False, ip=ip)
        locked.status, locked.answer_text, locked.answered_at, locked.answered_by = (
            ReportStatus.ANSWERED, text, now, actor)
        locked.version += 1
        locked.save(update_fields=["status", "answer_text", "answered_at", "answered_by", "answer_entry", "file_entry",
                                   "version"])
        _bump(app, [])
        _audit("application.answer_report", actor, app, ip, report=locked.pk, unit=locked.unit.name,
               file=bool(payload))
        _case_file_step(actor, app, "answer_report", _("Report of %(unit)s received.") % {"unit": locked.unit.name},
                        ip)
    return locked


def application_cancel_report(*, actor: Any, report: ReportRequest, ip: str | None = None) -> ReportRequest:
    """The unit processing the application withdraws a pending report request (to go on without it)."""
    with _recording_refusals(actor, report.application, "cancel_report", ip), transaction.atomic():
        app = _lock(report.application, None)
        locked = _lock_report(report, None)
        if not perms.can_act(actor, app):
            raise PermissionDenied(_("Only the unit responsible for the current stage can act on this application."))
        _transition(app, "cancel_report")
        if locked.status != ReportStatus.PENDING:
            raise ConflictError(_("This report request was already answered or cancelled."))
        locked.status, locked.cancelled_at, locked.cancelled_by = ReportStatus.CANCELLED, timezone.now(), actor
        locked.version += 1
        locked.save(update_fields=["status", "cancelled_at", "cancelled_by", "version"])
        _bump(app, [])
        _audit("application.cancel_report", actor, app, ip, report=locked.pk, unit=locked.unit.name)
        _case_file_step(actor, app, "cancel_report", _("Report request to %(unit)s cancelled.") % {
            "unit": locked.unit.name}, ip)
    return locked


def application_resolve(*, actor: Any, application: Application, outcome: str, text: str,
                        signed_pdf: Any | None = None, expected_version: int | None = None,
                        ip: str | None = None) -> Application:
    """The final decision (approved or rejected) with its grounds: the uploaded signed resolution (a PDF) or,
    without one, a resolution Folio renders; incorporated, notified, and the expediente closed."""
    if outcome not in (S.APPROVED, S.REJECTED):
        raise ValidationError({"outcome": [_("Choose whether the application is approved or rejected.")]})
    text = _long_text(text, "text", _("Write the resolution (at least 10 characters)."), minimum=10)
    payload: tuple[str, bytes] | None = None
    if signed_pdf is not None:
        try:
            data = read_upload(signed_pdf)
            info = inspect_bytes(data, max_bytes=max_upload_bytes())
        except FileRejected as exc:
            raise ValidationError({"signed_pdf": [exc.message]}) from None
        if info.content_type != "application/pdf":
            raise ValidationError({"signed_pdf": [_("The signed resolution must be a PDF file.")]})
        payload = (signed_pdf.name or "resolucion.pdf", data)
    with _recording_refusals(actor, application, "resolve", ip), atomic_with_files():
        app = _lock(application, expected_version)
        stage = _stage_action(actor, app, "resolve")
        _no_pending_reports(app)
        old = app.state
        decision = _("Approved") if outcome == S.APPROVED else _("Rejected")
        title = _("Resolution of application %(number)s: %(decision)s") % {"number": app.number,
                                                                           "decision": decision}
        pdf = None if payload else _decision_pdf(app, actor, title=title, decision=decision, text=text)
        _finish(app, actor, state=outcome, text=text, title=title,
                pdf_name=payload[0] if payload else f"resolucion-{app.number}.pdf",
                pdf=payload[1] if payload else pdf, stored=None, document_type=DocumentType.RESOLUCION,
                milestone=Milestone.RESOLVED, extra={"outcome": decision.lower(), "text": text}, ip=ip)
        _audit("application.resolve", actor, app, ip, outcome=outcome, text=text, stage=stage.get("name"),
               signed_pdf=bool(payload), state=[old, app.state])
        _case_file_step(actor, app, "resolve", _("Application resolved: %(decision)s.") % {"decision": decision}, ip)
    return app


# --- the applicant's own acts and expiry -----------------------------------------------------------------------

def application_withdraw(*, actor: Any, application: Application, reason: str = "",
                         expected_version: int | None = None, ip: str | None = None) -> Application:
    """The applicant withdraws the application (desistimiento, Ley 19.880 art. 42); the expediente is closed."""
    reason = (reason or "").strip()[:2000]
    with _recording_refusals(actor, application, "withdraw", ip), atomic_with_files():
        app = _lock(application, expected_version)
        if app.applicant_id != getattr(actor, "pk", None):
            raise PermissionDenied(_("Only the applicant can withdraw this application."))
        old = app.state
        target = _transition(app, "withdraw")
        title = _("Withdrawal of application %(number)s") % {"number": app.number}
        pdf = documents.render(
            organization_name=app.organization.name, title=title,
            subtitle=_("The applicant withdraws the application (Ley 19.880, art. 42)."),
            rows=[(_("Application"), app.number), (_("Procedure"), app.procedure.name),
                  (_("Applicant"), f"{app.applicant.display_name} — RUN {app.applicant.run_display}"),
                  (_("Date"), _when(timezone.now(), app.organization))],
            sections=[(_("Reason"), reason or _("None given."))])
        app.corrections.filter(answered_at__isnull=True, expired_at__isnull=True).update(expired_at=timezone.now())
        _finish(app, actor, state=target, text=reason, title=title, pdf_name=f"desistimiento-{app.number}.pdf",
                pdf=pdf, stored=None, document_type=DocumentType.DECLARACION, milestone=Milestone.WITHDRAWN,
                extra={}, ip=ip)
        _audit("application.withdraw", actor, app, ip, reason=reason, state=[old, app.state])
        _case_file_step(actor, app, "withdraw", _("The applicant withdrew the application."), ip)
    return app


def application_abandon(*, application: Application, ip: str | None = None) -> Application:
    """Folio declares the application abandoned because its correction deadline passed (Ley 19.880 art. 31)."""
    with _recording_refusals(None, application, "expire", ip), atomic_with_files():
        app = _lock(application, None)
        old = app.state
        target = _transition(app, "expire")
        correction = app.corrections.filter(answered_at__isnull=True, expired_at__isnull=True).order_by("-id").first()
        today = org_today(app.organization)
        if correction is None or correction.due_date >= today:
            raise ConflictError(_("The correction deadline of this application has not passed."))
        now = timezone.now()
        correction.expired_at = now
        correction.save(update_fields=["expired_at"])
        title = _("Application %(number)s abandoned (desistimiento)") % {"number": app.number}
        text = _("The applicant did not correct the application by %(date)s, as requested on %(requested)s; under "
                 "Ley 19.880 art. 31 the application is considered withdrawn.") % {
            "date": _day(correction.due_date), "requested": _when(correction.requested_at, app.organization)}
        pdf = documents.render(
            organization_name=app.organization.name, title=title,
            rows=[(_("Application"), app.number), (_("Procedure"), app.procedure.name),
                  (_("Applicant"), app.applicant.display_name), (_("Deadline"), _day(correction.due_date)),
                  (_("Date"), _when(now, app.organization))],
            sections=[(_("What had been requested"), correction.message), (_("Declaration"), text)])
        _finish(app, None, state=target, text=text, title=title, pdf_name=f"abandono-{app.number}.pdf", pdf=pdf,
                stored=None, document_type=DocumentType.CONSTANCIA, milestone=Milestone.ABANDONED, extra={}, ip=ip)
        _audit("application.abandon", None, app, ip, correction=correction.pk,
               due_date=correction.due_date.isoformat(), state=[old, app.state])
        _case_file_step(None, app, "abandon", _("Application abandoned: the correction deadline passed."), ip)
    return app


def applications_expire_corrections(*, today: dt.date | None = None) -> list[Application]:
    """Abandon every application whose correction deadline has passed (run daily). Each one in its own
    transaction: one that fails is left as it was and the others go on."""
    horizon = today or (timezone.now().date() + dt.timedelta(days=1))
    candidates = (CorrectionRequest.objects.filter(answered_at__isnull=True, expired_at__isnull=True,
                                                   due_date__lt=horizon,
                                                   application__state=S.CORRECTION_REQUESTED)
                  .select_related("application__organization").order_by("due_date", "id"))
    done: list[Application] = []
    for correction in candidates:
        app = correction.application
        if correction.due_date >= org_today(app.organization):
            continue
        try:
            done.append(application_abandon(application=app))
        except ConflictError:
            continue
    return done
