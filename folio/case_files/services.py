"""Writes of the expediente electrónico. Each public function is one transaction that also writes its audit
row on the expediente; refused attempts (permission, state machine) are recorded after the rollback.

State machine (``TRANSITIONS``): an action is allowed only from the listed states and moves the expediente
to the target state (None keeps it). Anything else raises ``ConflictError`` and changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from folio.audit import services as audit
from folio.case_files import permissions as perms
from folio.case_files.models import (
    ActorRelation,
    ActorType,
    ArchivalPhase,
    CaseFile,
    CaseFileCounter,
    CaseFileCustody,
    CaseFileLink,
    CaseFileState,
    EntrySource,
    IndexEntry,
    LinkKind,
    Origin,
    Party,
)
from folio.case_files.selectors import OBJECT_TYPE, all_entries
from folio.core.counters import take_next
from folio.core.rut import Rut
from folio.files.models import StoredFile
from folio.files.services import FileRejected, atomic_with_files, file_store
from folio.organizations.models import Unit
from folio.registry import services as registry_services
from folio.registry.models import (
    AccessLevel,
    Channel,
    DocumentRole,
    DocumentType,
    Mechanism,
    PartyKind,
    Registration,
)

S = CaseFileState


class ConflictError(registry_services.ConflictError):
    """The transition does not apply to the expediente's current state, or it changed meanwhile."""


# action: (states it is allowed from, state it leads to or None to keep the state)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "incorporate": (frozenset({S.OPEN, S.IN_PROGRESS}), S.IN_PROGRESS),
    "transfer": (frozenset({S.OPEN, S.IN_PROGRESS}), S.IN_PROGRESS),
    "suspend": (frozenset({S.OPEN, S.IN_PROGRESS}), S.SUSPENDED),
    "resume": (frozenset({S.SUSPENDED}), S.IN_PROGRESS),
    "close": (frozenset({S.OPEN, S.IN_PROGRESS}), S.CLOSED),
    "reopen": (frozenset({S.CLOSED}), S.IN_PROGRESS),
    "archive": (frozenset({S.CLOSED}), S.ARCHIVED),
    "link": (frozenset({S.OPEN, S.IN_PROGRESS, S.SUSPENDED}), None),
    "accumulate": (frozenset({S.OPEN, S.IN_PROGRESS}), S.IN_PROGRESS),
    "be_accumulated": (frozenset({S.OPEN, S.IN_PROGRESS, S.SUSPENDED}), S.CLOSED),
    # Final disposition (case_files.retention): approved for a closed or archived expediente (a closed one is
    # archived then), carried out on an archived one; nothing leads out of transferred or eliminated.
    "dispose": (frozenset({S.CLOSED, S.ARCHIVED}), None),
    "transfer_out": (frozenset({S.ARCHIVED}), S.TRANSFERRED),
    "eliminate": (frozenset({S.ARCHIVED}), S.ELIMINATED),
}


def _refusal_message(action: str, state: str) -> str:
    if action == "incorporate":
        if state == S.SUSPENDED:
            return _("The expediente is suspended: resume it before incorporating documents.")
        return _("The expediente is closed: nothing more can be incorporated into it.")
    messages = {
        "transfer": _("Only an open or in-progress expediente can be transferred."),
        "suspend": _("Only an open or in-progress expediente can be suspended."),
        "resume": _("Only a suspended expediente can be resumed."),
        "close": _("Only an open or in-progress expediente can be closed."),
        "reopen": _("Only a closed expediente can be reopened."),
        "archive": _("Only a closed expediente can be archived."),
        "link": _("A closed or archived expediente cannot be linked."),
        "accumulate": _("Only an open or in-progress expediente can receive another one."),
        "be_accumulated": _("Only an open, in-progress or suspended expediente can be accumulated."),
        "dispose": _("Only a closed or archived expediente can go to final disposition."),
        "transfer_out": _("Only an archived expediente can be transferred to the Archivo Nacional."),
        "eliminate": _("Only an archived expediente can be eliminated."),
    }
    return messages[action]


def allowed_actions(case_file: CaseFile) -> set[str]:
    return {action for action, (states, _target) in TRANSITIONS.items() if case_file.state in states}


def _transition(case_file: CaseFile, action: str) -> str:
    """Check ``action`` against the state machine; return the state it leads to."""
    states, target = TRANSITIONS[action]
    if case_file.state not in states:
        raise ConflictError(_refusal_message(action, case_file.state))
    return target or case_file.state


# --- inputs ------------------------------------------------------------------------------------------

@dataclass
class PartyInput:
    name: str
    rut: str = ""
    relation: int = ActorRelation.INTERESTED
    actor_type: int = ActorType.CITIZEN
    email: str = ""


@dataclass
class CaseFileInput:
    title: str = ""
    subject: str = ""
    summary: str = ""
    procedure_code: str = ""
    procedure_name: str = ""
    series_code: str = ""
    unit_id: int | None = None
    access_level: int = AccessLevel.PUBLIC
    sensitive_data: bool = False
    parties: list[PartyInput] = field(default_factory=list)


@dataclass
class EntryInput:
    """What describes a document being incorporated. ``access_level`` defaults to the expediente's and may
    only be stricter; paper items need ``description``, ``physical_location`` and ``pages``."""

    title: str
    document_type: int
    access_level: int | None = None
    sensitive_data: bool = False
    keywords: str = ""
    origin: int | None = None
    mechanism: int = Mechanism.DIGITAL
    document_created_at: dt.datetime | None = None
    version_of_id: int | None = None
    advanced_signature: bool = False
    external_body_code: str = ""
    owner_rut: str = ""
    description: str = ""
    physical_location: str = ""
    pages: int | None = None


# --- helpers -----------------------------------------------------------------------------------------

def next_number(*, organization: Any, year: int) -> int:
    """Take the next IUIe number of the year, inside the transaction that uses it (core.counters.take_next)."""
    return take_next(CaseFileCounter, organization=organization, year=year)

def format_iuie(year: int, number: int) -> str:
    return f"EXP-{year}-{number:06d}"


def _audit(action: str, actor: Any, case_file: CaseFile, ip: str | None, **data: Any) -> None:
    audit.record(action=action, actor=actor, organization=case_file.organization, obj=case_file, data=data, ip=ip)


def _record_refusal(actor: Any, case_file: CaseFile, action: str, exc: Exception, ip: str | None) -> None:
    kind = "case_file.denied" if isinstance(exc, PermissionDenied) else "case_file.refused"
    message = getattr(exc, "message", None) or str(exc)
    own_org = getattr(actor, "organization_id", None) in (None, case_file.organization_id)
    with transaction.atomic():
        if own_org:
            _audit(kind, actor, case_file, ip, attempted=action, state=case_file.state, reason=message)
        else:  # another organization's user: recorded in their own chain, nothing about the expediente leaks
            audit.record(action=kind, actor=actor, organization=actor.organization, object_type=OBJECT_TYPE,
                         object_id=str(case_file.pk), data={"attempted": action, "reason": message}, ip=ip)


@contextlib.contextmanager
def _recording_refusals(actor: Any, case_file: CaseFile, action: str, ip: str | None) -> Iterator[None]:
    """Run a write; if it is refused (permission or state machine), record the refusal after the rollback."""
    try:
        yield
    except (PermissionDenied, ConflictError) as exc:
        _record_refusal(actor, case_file, action, exc, ip)
        raise


def case_file_record_denial(*, actor: Any, case_file_id: int | str, what: str, ip: str | None = None) -> None:
    """An attempt to reach an expediente that does not exist or that the user may not see (answered 404).
    Recorded in the actor's own organization chain so nothing is revealed about the target."""
    with transaction.atomic():
        audit.record(action="case_file.denied", actor=actor, organization=getattr(actor, "organization", None),
                     object_type=OBJECT_TYPE, object_id=str(case_file_id)[:64], data={"what": what[:200]}, ip=ip)


def _store(case_file: CaseFile, *, name: str, data: bytes, actor: Any) -> StoredFile:
    try:
        return file_store(organization=case_file.organization, name=name, data=data, actor=actor)
    except FileRejected as exc:
        raise ValidationError({"file": [f"{name}: {exc.message}"]}) from None


def _lock(case_file: CaseFile, expected_version: int | None) -> CaseFile:
    # of=("self",): lock the expediente row only, not the organization and unit rows joined in (PostgreSQL).
    locked = (CaseFile.objects.select_for_update(of=("self",)).select_related("organization", "unit")
              .get(pk=case_file.pk))
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("Someone else changed this expediente while you were working. Reload and try again."))
    return locked


def _bump(case_file: CaseFile, fields: list[str]) -> None:
    case_file.version += 1
    case_file.save(update_fields=[*fields, "version"])


def _parse_rut(raw: str, key: str, errors: dict[str, list[str]]) -> tuple[int | None, str]:
    if not raw.strip():
        return None, ""
    try:
        rut = Rut.parse(raw)
    except ValidationError as exc:
        errors.setdefault(key, []).extend(exc.messages)
        return None, ""
    return rut.number, rut.dv


def _validate_parties(parties: list[PartyInput], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    clean = []
    for party in parties:
        if not party.name.strip():
            errors.setdefault("parties", []).append(_("Every party needs a name."))
            continue
        if party.relation not in ActorRelation.values:
            errors.setdefault("parties", []).append(_("Choose a valid relation for every party."))
            continue
        if party.actor_type not in ActorType.values:
            errors.setdefault("parties", []).append(_("Choose a valid actor type for every party."))
            continue
        if not party.rut.strip() and party.relation == ActorRelation.INTERESTED \
                and party.actor_type in (ActorType.CITIZEN, ActorType.PRIVATE_INSTITUTION):
            errors.setdefault("parties", []).append(_("The RUN/RUT of an interested party is required."))
            continue
        number, dv = _parse_rut(party.rut, "parties", errors)
        clean.append({"name": party.name.strip()[:200], "rut_number": number, "rut_dv": dv,
                      "relation": party.relation, "actor_type": party.actor_type,
                      "email": party.email.strip()[:254]})
    return clean


def _validate_entry(data: EntryInput, case_file: CaseFile, *, paper: bool = False) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("The title of the document is required.")]
    if data.document_type not in DocumentType.values:
        errors["document_type"] = [_("Choose a valid document type.")]
    access = data.access_level if data.access_level is not None else case_file.access_level
    if access not in AccessLevel.values:
        errors["access_level"] = [_("Choose a valid access level.")]
    elif access < case_file.access_level:
        errors["access_level"] = [_("A document cannot be less restricted than its expediente.")]
    if data.origin is not None and data.origin not in Origin.values:
        errors["origin"] = [_("Choose a valid origin.")]
    if data.mechanism not in Mechanism.values:
        errors["mechanism"] = [_("Choose a valid incorporation mechanism.")]
    if data.document_created_at is not None and timezone.is_naive(data.document_created_at):
        errors["document_created_at"] = [_("The document date needs a time zone.")]
    elif data.document_created_at is not None and data.document_created_at > timezone.now() + dt.timedelta(minutes=5):
        errors["document_created_at"] = [_("The document date cannot be in the future.")]
    if paper:
        if not data.description.strip():
            errors["description"] = [_("Describe the paper item.")]
        if not data.physical_location.strip():
            errors["physical_location"] = [_("Say where the paper item is kept.")]
        if not data.pages or data.pages < 1:
            errors["pages"] = [_("Give the number of pages (at least one).")]
    elif data.pages is not None and data.pages < 0:
        errors["pages"] = [_("Pages must be zero or more.")]
    owner_number, _dv = _parse_rut(data.owner_rut, "owner_rut", errors)
    if errors:
        raise ValidationError(errors)
    return {"access_level": access, "owner_rut_number": owner_number}


def _previous_version(case_file: CaseFile, version_of_id: int | None) -> IndexEntry | None:
    if not version_of_id:
        return None
    previous = IndexEntry.objects.filter(case_file=case_file, pk=version_of_id).first()
    if previous is None:
        raise ValidationError({"version_of_id": [_("The document being replaced is not in this expediente.")]})
    if IndexEntry.objects.filter(version_of=previous).exists():
        raise ConflictError(_("That document already has a newer version; replace the newest one."))
    return previous


def _append_entry(case_file: CaseFile, *, actor: Any, data: EntryInput, clean: dict[str, Any], source: str,
                  stored: StoredFile | None = None, nested: CaseFile | None = None, sha256: str = "",
                  registration: Registration | None = None, source_reference: str = "",
                  previous: IndexEntry | None = None) -> IndexEntry:
    """Append one entry with continuous foliation. The caller holds the expediente's row lock, so
    positions and folios are taken in order; the unique constraints are the backstop."""
    last = IndexEntry.objects.filter(case_file=case_file).aggregate(p=Max("position"), f=Max("last_page"))
    position = (last["p"] or 0) + 1
    first_page = (last["f"] or 0) + 1
    pages = data.pages if data.pages else (stored.pages if stored is not None and stored.pages else 1)
    pages = max(1, pages)
    return IndexEntry.objects.create(
        case_file=case_file,
        position=position,
        file=stored,
        nested_case_file=nested,
        title=data.title.strip()[:500],
        document_type=data.document_type,
        origin=data.origin,
        mechanism=data.mechanism,
        incorporated_at=timezone.now(),
        incorporated_by=actor if getattr(actor, "pk", None) else None,
        document_created_at=data.document_created_at,
        sha256=stored.sha256 if stored is not None else sha256,
        size=stored.size if stored is not None else None,
        content_type=stored.content_type if stored is not None else "",
        pages=pages,
        first_page=first_page,
        last_page=first_page + pages - 1,
        description=data.description.strip(),
        physical_location=data.physical_location.strip()[:250],
        source=source,
        source_registration=registration,
        source_reference=source_reference[:120],
        external_body_code=data.external_body_code.strip()[:20],
        access_level=clean["access_level"],
        sensitive_data=data.sensitive_data,
        keywords=data.keywords.strip()[:500],
        advanced_signature=data.advanced_signature,
        owner_rut_number=clean.get("owner_rut_number"),
        version_of=previous,
        doc_version=(previous.doc_version + 1) if previous is not None else 1,
    )


def _entry_summary(entries: list[IndexEntry]) -> list[dict[str, Any]]:
    return [{"position": e.position, "title": e.title, "sha256": e.sha256, "pages": e.pages,
             "folios": [e.first_page, e.last_page], "source": e.source, "access_level": e.access_level,
             "sensitive_data": e.sensitive_data, "version_of": e.version_of.position if e.version_of else None}
            for e in entries]


def _incorporated(actor: Any, cf: CaseFile, entries: list[IndexEntry], ip: str | None, *, move: bool) -> None:
    """Move the state (open -> in progress) and write the audit row of an incorporation."""
    old = cf.state
    if move:
        cf.state = _transition(cf, "incorporate")
    _bump(cf, ["state"])
    data: dict[str, Any] = {"entries": _entry_summary(entries)}
    if cf.state != old:
        data["state"] = [old, cf.state]
    _audit("case_file.incorporate", actor, cf, ip, **data)


# --- opening -----------------------------------------------------------------------------------------

def _registration_origin(reg: Registration) -> int | None:
    if reg.channel == Channel.PAPER:
        return None
    if reg.party_kind == PartyKind.PUBLIC_BODY:
        return Origin.EXTERNAL_REPOSITORY
    if reg.party_kind in (PartyKind.CITIZEN, PartyKind.COMPANY):
        return Origin.CITIZEN_PLATFORM
    return None


def _registration_entries(cf: CaseFile, reg: Registration, actor: Any) -> list[IndexEntry]:
    if IndexEntry.objects.filter(case_file=cf, source_registration=reg).exists():
        raise ConflictError(_("Registration %(folio)s is already in this expediente.") % {"folio": reg.folio})
    owner = reg.party_rut if reg.party_kind in (PartyKind.CITIZEN, PartyKind.COMPANY) else ""
    document_date = (dt.datetime.combine(reg.document_date, dt.time(12, 0), tzinfo=ZoneInfo(cf.organization.time_zone))
                     if reg.document_date else reg.received_at)
    base: dict[str, Any] = {
        "access_level": max(reg.access_level, cf.access_level),
        "sensitive_data": reg.sensitive_data,
        "keywords": reg.keywords,
        "origin": _registration_origin(reg),
        "document_created_at": document_date,
        "external_body_code": reg.party_body_code if reg.party_kind == PartyKind.PUBLIC_BODY else "",
        "owner_rut": owner,
    }
    docs = [d for d in reg.documents.select_related("file").order_by("position", "id")
            if d.role != DocumentRole.RECEIPT]
    entries: list[IndexEntry] = []
    if not docs:  # a paper registration with no digital copy: a paper item of a hybrid expediente
        data = EntryInput(title=f"{reg.folio} — {reg.subject}", document_type=reg.document_type,
                          mechanism=Mechanism.PHYSICAL, pages=reg.pages or 1,
                          description=_("Physical document registered by the Oficina de Partes with folio "
                                        "%(folio)s.") % {"folio": reg.folio},
                          physical_location=_("Oficina de Partes"), **base)
        clean = _validate_entry(data, cf, paper=True)
        return [_append_entry(cf, actor=actor, data=data, clean=clean, source=EntrySource.REGISTRATION,
                              registration=reg, source_reference=reg.folio)]
    for doc in docs:
        if doc.role == DocumentRole.MAIN:
            title, doc_type = f"{reg.folio} — {reg.subject}", reg.document_type
        elif doc.role == DocumentRole.DELIVERY_EVIDENCE:
            title = f"{reg.folio} — {_('Delivery evidence')}: {doc.description or doc.file.original_name}"
            doc_type = DocumentType.CONSTANCIA
        else:
            title = f"{reg.folio} — {_('Attachment')}: {doc.description or doc.file.original_name}"
            doc_type = DocumentType.ANTECEDENTE
        data = EntryInput(title=title, document_type=doc_type, mechanism=reg.mechanism if reg.mechanism in
                          (Mechanism.DIGITAL, Mechanism.DIGITIZATION) else Mechanism.DIGITIZATION, **base)
        clean = _validate_entry(data, cf)
        entries.append(_append_entry(cf, actor=actor, data=data, clean=clean, source=EntrySource.REGISTRATION,
                                     stored=doc.file, registration=reg, source_reference=reg.folio))
    return entries


def _visible_registration(actor: Any, registration_id: int) -> Registration:
    from folio.registry.selectors import registrations_visible_to

    reg = registrations_visible_to(actor).select_related("organization").filter(pk=registration_id).first()
    if reg is None:
        raise ValidationError({"registration_id": [_("The registration does not exist or you cannot see it.")]})
    return reg


def case_file_open(*, actor: Any, data: CaseFileInput, registration_id: int | None = None,
                   ip: str | None = None) -> CaseFile:
    """Open an expediente (from scratch, or for a registration of the Oficina de Partes the user can see,
    which becomes its first document and gives it its interested party)."""
    if not perms.can_open(actor):
        if getattr(actor, "organization_id", None):
            with transaction.atomic():
                audit.record(action="case_file.denied", actor=actor, organization=actor.organization,
                             object_type=OBJECT_TYPE, data={"attempted": "open"}, ip=ip)
        raise PermissionDenied(_("You cannot open expedientes."))
    organization = actor.organization
    reg = _visible_registration(actor, registration_id) if registration_id else None
    errors: dict[str, list[str]] = {}
    title = data.title.strip() or (reg.subject if reg else "")
    subject = data.subject.strip() or (reg.subject if reg else "")
    if not title:
        errors["title"] = [_("The title is required.")]
    if not subject:
        errors["subject"] = [_("The subject is required.")]
    if data.access_level not in AccessLevel.values:
        errors["access_level"] = [_("Choose a valid access level.")]
    unit_id = data.unit_id or actor.unit_id
    unit = Unit.objects.filter(pk=unit_id, organization=organization, is_active=True).first() if unit_id else None
    if unit is None:
        errors["unit_id"] = [_("Choose a unit of your organization.")]
    parties = _validate_parties(data.parties, errors)
    if errors:
        raise ValidationError(errors)
    assert unit is not None
    if not perms.can_open_for_unit(actor, unit.pk):
        with transaction.atomic():
            audit.record(action="case_file.denied", actor=actor, organization=organization, object_type=OBJECT_TYPE,
                         data={"attempted": "open", "unit": unit.name}, ip=ip)
        raise PermissionDenied(_("You can only open expedientes for your own unit."))
    access_level = max(data.access_level, reg.access_level) if reg else data.access_level
    with atomic_with_files():
        now = timezone.now()
        year = timezone.localtime(now, ZoneInfo(organization.time_zone)).year
        number = next_number(organization=organization, year=year)
        cf = CaseFile.objects.create(
            organization=organization, year=year, number=number, iuie=format_iuie(year, number),
            title=title[:500], subject=subject[:500], summary=data.summary.strip() or (reg.summary if reg else ""),
            procedure_code=data.procedure_code.strip()[:40], procedure_name=data.procedure_name.strip()[:250],
            series_code=data.series_code.strip()[:40], unit=unit, state=S.OPEN, access_level=access_level,
            sensitive_data=data.sensitive_data or bool(reg and reg.sensitive_data), origin_registration=reg,
            opened_by=actor, created_at=now,
        )
        CaseFileCustody.objects.create(case_file=cf, unit=unit, started_at=now, assigned_by=actor)
        Party.objects.create(case_file=cf, relation=ActorRelation.RESPONSIBLE, actor_type=ActorType.OFFICIAL,
                             rut_number=actor.run_number, rut_dv=actor.run_dv or "", name=actor.display_name[:200])
        ruts = {p["rut_number"] for p in parties if p["rut_number"]}
        for p in parties:
            Party.objects.create(case_file=cf, **p)
        if reg is not None and reg.party_kind in (PartyKind.CITIZEN, PartyKind.COMPANY) \
                and reg.party_rut_number not in ruts:
            Party.objects.create(
                case_file=cf, relation=ActorRelation.INTERESTED,
                actor_type=ActorType.CITIZEN if reg.party_kind == PartyKind.CITIZEN else ActorType.PRIVATE_INSTITUTION,
                rut_number=reg.party_rut_number, rut_dv=reg.party_rut_dv, name=reg.party_name, email=reg.party_email,
            )
        _audit("case_file.open", actor, cf, ip, iuie=cf.iuie, unit=unit.name, access_level=cf.access_level,
               registration=reg.folio if reg else None, procedure_code=cf.procedure_code)
        if reg is not None:
            entries = _registration_entries(cf, reg, actor)
            _incorporated(actor, cf, entries, ip, move=False)
    return cf


def case_file_open_for_filing(*, organization: Any, data: CaseFileInput, filed_by: Any,
                              ip: str | None = None) -> CaseFile:
    """Open an expediente for a filing that Folio itself receives on the organization's platform (an online
    application, DS 10 arts. 21 and 30). The calling module has already decided the filing is admissible, so
    no staff permission applies; ``filed_by`` (the citizen, or the clerk filing at the counter on their
    behalf) is recorded as who opened it. ``data.unit_id`` (required) is the responsible unit and
    ``data.parties`` must name the interested party with its RUN/RUT. Runs in the caller's transaction when
    there is one, so the expediente exists only if the whole filing commits."""
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = [_("The title is required.")]
    if not data.subject.strip():
        errors["subject"] = [_("The subject is required.")]
    if data.access_level not in AccessLevel.values:
        errors["access_level"] = [_("Choose a valid access level.")]
    unit = (Unit.objects.filter(pk=data.unit_id, organization=organization, is_active=True).first()
            if data.unit_id else None)
    if unit is None:
        errors["unit_id"] = [_("Choose a unit of your organization.")]
    parties = _validate_parties(data.parties, errors)
    if not any(p["relation"] == ActorRelation.INTERESTED for p in parties) and "parties" not in errors:
        errors["parties"] = [_("The RUN/RUT of an interested party is required.")]
    if errors:
        raise ValidationError(errors)
    assert unit is not None
    with atomic_with_files():
        now = timezone.now()
        year = timezone.localtime(now, ZoneInfo(organization.time_zone)).year
        number = next_number(organization=organization, year=year)
        cf = CaseFile.objects.create(
            organization=organization, year=year, number=number, iuie=format_iuie(year, number),
            title=data.title.strip()[:500], subject=data.subject.strip()[:500], summary=data.summary.strip(),
            procedure_code=data.procedure_code.strip()[:40], procedure_name=data.procedure_name.strip()[:250],
            series_code=data.series_code.strip()[:40], unit=unit, state=S.OPEN, access_level=data.access_level,
            sensitive_data=data.sensitive_data, opened_by=filed_by, created_at=now,
        )
        CaseFileCustody.objects.create(case_file=cf, unit=unit, started_at=now, assigned_by=filed_by)
        for p in parties:
            Party.objects.create(case_file=cf, **p)
        _audit("case_file.open", filed_by, cf, ip, iuie=cf.iuie, unit=unit.name, access_level=cf.access_level,
               registration=None, procedure_code=cf.procedure_code, filing=True)
    return cf


# --- incorporation -----------------------------------------------------------------------------------

def incorporate_upload(*, actor: Any, case_file: CaseFile, name: str, data: bytes, entry: EntryInput,
                       expected_version: int | None = None, ip: str | None = None) -> IndexEntry:
    """Incorporate a file the user uploads."""
    clean = _validate_entry(entry, case_file)
    with _recording_refusals(actor, case_file, "incorporate", ip), atomic_with_files():
        cf = _lock(case_file, expected_version)
        if not perms.can_incorporate(actor, cf):
            raise PermissionDenied(_("You cannot incorporate documents into this expediente."))
        _transition(cf, "incorporate")
        previous = _previous_version(cf, entry.version_of_id)
        stored = _store(cf, name=name, data=data, actor=actor)
        created = _append_entry(cf, actor=actor, data=entry, clean=clean, source=EntrySource.UPLOAD, stored=stored,
                                previous=previous)
        _incorporated(actor, cf, [created], ip, move=True)
    return created


def incorporate_registration(*, actor: Any, case_file: CaseFile, registration_id: int,
                             expected_version: int | None = None, ip: str | None = None) -> list[IndexEntry]:
    """Incorporate a registration of the Oficina de Partes and its attachments (not its receipt)."""
    reg = _visible_registration(actor, registration_id)
    if reg.organization_id != case_file.organization_id:
        raise ValidationError({"registration_id": [_("The registration does not exist or you cannot see it.")]})
    with _recording_refusals(actor, case_file, "incorporate", ip), atomic_with_files():
        cf = _lock(case_file, expected_version)
        if not perms.can_incorporate(actor, cf):
            raise PermissionDenied(_("You cannot incorporate documents into this expediente."))
        _transition(cf, "incorporate")
        entries = _registration_entries(cf, reg, actor)
        _incorporated(actor, cf, entries, ip, move=True)
    return entries


def incorporate_paper_item(*, actor: Any, case_file: CaseFile, entry: EntryInput, expected_version: int | None = None,
                           ip: str | None = None) -> IndexEntry:
    """A document that stays on paper (expediente híbrido, DS 10 art. 23): described, located, foliated."""
    entry.mechanism = Mechanism.PHYSICAL
    clean = _validate_entry(entry, case_file, paper=True)
    with _recording_refusals(actor, case_file, "incorporate", ip), transaction.atomic():
        cf = _lock(case_file, expected_version)
        if not perms.can_incorporate(actor, cf):
            raise PermissionDenied(_("You cannot incorporate documents into this expediente."))
        _transition(cf, "incorporate")
        previous = _previous_version(cf, entry.version_of_id)
        created = _append_entry(cf, actor=actor, data=entry, clean=clean, source=EntrySource.PAPER, previous=previous)
        _incorporated(actor, cf, [created], ip, move=True)
    return created


def incorporate_document(*, case_file: CaseFile, entry: EntryInput, source_reference: str, actor: Any | None = None,
                         data: bytes | None = None, name: str = "", stored_file: StoredFile | None = None,
                         ip: str | None = None) -> IndexEntry:
    """The service other modules call to add what Folio produces or receives to an expediente: generated
    documents, notifications (DS 10 art. 28), official communications (art. 27), signed acts.

    Pass either ``data`` (stored here) or an already stored ``stored_file`` of the same organization.
    ``source_reference`` names the origin, e.g. ``"signatures.signedact:42"``. ``actor`` None means Folio
    itself (the calling module has already decided the user may act); with a user, the usual rule applies.
    It runs in its own (nested, if the caller has one) transaction: inside the caller's transaction the entry
    commits or rolls back with the caller's work.
    """
    if (data is None) == (stored_file is None):
        raise ValueError("pass exactly one of data or stored_file")
    if stored_file is not None and stored_file.organization_id != case_file.organization_id:
        raise ValidationError({"file": [_("The file belongs to another organization.")]})
    if not source_reference.strip():
        raise ValueError("source_reference is required")
    clean = _validate_entry(entry, case_file)
    with _recording_refusals(actor, case_file, "incorporate", ip), atomic_with_files():
        cf = _lock(case_file, None)
        if actor is not None and getattr(actor, "is_authenticated", False) and not perms.can_incorporate(actor, cf):
            raise PermissionDenied(_("You cannot incorporate documents into this expediente."))
        _transition(cf, "incorporate")
        previous = _previous_version(cf, entry.version_of_id)
        stored = stored_file
        if stored is None:
            assert data is not None
            stored = _store(cf, name=name or "documento.pdf", data=data, actor=actor)
        created = _append_entry(cf, actor=actor, data=entry, clean=clean, source=EntrySource.SERVICE, stored=stored,
                                source_reference=source_reference.strip(), previous=previous)
        _incorporated(actor, cf, [created], ip, move=True)
    return created


# --- transitions -------------------------------------------------------------------------------------

def _reason(text: str, key: str, message: str) -> str:
    if len(text.strip()) < 5:
        raise ValidationError({key: [message]})
    return text.strip()[:500]


def case_file_transfer(*, actor: Any, case_file: CaseFile, to_unit_id: int, note: str = "",
                       expected_version: int | None = None, ip: str | None = None) -> CaseFile:
    """Send the expediente to another unit of the same organization, which becomes responsible for it."""
    unit = Unit.objects.filter(pk=to_unit_id, organization_id=case_file.organization_id, is_active=True).first()
    if unit is None:
        raise ValidationError({"to_unit_id": [_("Choose a unit of your organization.")]})
    with _recording_refusals(actor, case_file, "transfer", ip), transaction.atomic():
        cf = _lock(case_file, expected_version)
        if not perms.can_manage(actor, cf):
            raise PermissionDenied(_("Only the responsible unit can transfer this expediente."))
        if unit.pk == cf.unit_id:
            raise ValidationError({"to_unit_id": [_("The expediente is already in that unit.")]})
        old_state, new_state = cf.state, _transition(cf, "transfer")
        now = timezone.now()
        from_unit = cf.unit
        CaseFileCustody.objects.filter(case_file=cf, ended_at__isnull=True).update(ended_at=now)
        CaseFileCustody.objects.create(case_file=cf, unit=unit, started_at=now, assigned_by=actor,
                                       note=note.strip()[:500])
        cf.unit, cf.state = unit, new_state
        _bump(cf, ["unit", "state"])
        _audit("case_file.transfer", actor, cf, ip, from_unit=from_unit.name, to_unit=unit.name,
               note=note.strip()[:500], state=[old_state, new_state])
    return cf


def case_file_suspend(*, actor: Any, case_file: CaseFile, reason: str, expected_version: int | None = None,
                      ip: str | None = None) -> CaseFile:
    reason = _reason(reason, "reason", _("Give the reason for the suspension (at least 5 characters)."))
    with _recording_refusals(actor, case_file, "suspend", ip), transaction.atomic():
        cf = _lock(case_file, expected_version)
        if not perms.can_manage(actor, cf):
            raise PermissionDenied(_("Only the responsible unit can suspend this expediente."))
        old, cf.state = cf.state, _transition(cf, "suspend")
        cf.suspended_at, cf.suspension_reason = timezone.now(), reason
        _bump(cf, ["state", "suspended_at", "suspension_reason"])
        _audit("case_file.suspend", actor, cf, ip, reason=reason, state=[old, cf.state])
    return cf


def case_file_resume(*, actor: Any, case_file: CaseFile, note: str = "", expected_version: int | None = None,
                     ip: str | None = None) -> CaseFile:
    with _recording_refusals(actor, case_file, "resume", ip), transaction.atomic():
        cf = _lock(case_file, expected_version)
        if not perms.can_manage(actor, cf):
            raise PermissionDenied(_("Only the responsible unit can resume this expediente."))
        old, cf.state = cf.state, _transition(cf, "resume")
        suspended_at = cf.suspended_at
        cf.suspended_at, cf.suspension_reason = None, ""
        _bump(cf, ["state", "suspended_at", "suspension_reason"])
        _audit("case_file.resume", actor, cf, ip, note=note.strip()[:500], state=[old, cf.state],
               suspended_since=suspended_at.isoformat() if suspended_at else None)
    return cf


def case_file_close(*, actor: Any | None, case_file: CaseFile, note: str = "", expected_version: int | None = None,
                    ip: str | None = None) -> CaseFile:
    """Close: the index is frozen and the SHA-256 of its canonical form recorded (and audited). ``actor`` None
    means Folio itself (as in ``incorporate_document``: the calling module decided it applies, e.g. an online
    application withdrawn by its applicant or abandoned when its correction deadline passed)."""
    from folio.case_files.exports import index_hash

    with _recording_refusals(actor, case_file, "close", ip), transaction.atomic():
        cf = _lock(case_file, expected_version)
        if actor is not None and not perms.can_manage(actor, cf):
            raise PermissionDenied(_("Only the responsible unit can close this expediente."))
        old, new = cf.state, _transition(cf, "close")
        entries = all_entries(cf)
        if not entries:
            raise ConflictError(_("An expediente with an empty index cannot be closed."))
        cf.state = new
        cf.index_hash = index_hash(cf, entries)
        cf.closed_at, cf.closed_by, cf.closing_note = timezone.now(), actor, note.strip()
        _bump(cf, ["state", "index_hash", "closed_at", "closed_by", "closing_note"])
        _audit("case_file.close", actor, cf, ip, note=cf.closing_note, index_hash=cf.index_hash,
               entries=len(entries), folios=entries[-1].last_page, state=[old, new])
    return cf


def case_file_reopen(*, actor: Any, case_file: CaseFile, reason: str, expected_version: int | None = None,
                     ip: str | None = None) -> CaseFile:
    """Reopen a closed expediente. The hash of the closed index stays in the audit trail."""
    reason = _reason(reason, "reason", _("Give the reason for reopening (at least 5 characters)."))
    with _recording_refusals(actor, case_file, "reopen", ip), transaction.atomic():
        cf = _lock(case_file, expected_version)
        if not perms.can_manage(actor, cf):
            raise PermissionDenied(_("Only the responsible unit can reopen this expediente."))
        if cf.accumulated_into_id:
            raise ConflictError(_("An accumulated expediente is decided with the one it was accumulated into."))
        old, cf.state = cf.state, _transition(cf, "reopen")
        previous_hash = cf.index_hash
        cf.index_hash, cf.closed_at, cf.closed_by, cf.closing_note = "", None, None, ""
        _bump(cf, ["state", "index_hash", "closed_at", "closed_by", "closing_note"])
        _audit("case_file.reopen", actor, cf, ip, reason=reason, previous_index_hash=previous_hash,
               state=[old, cf.state])
    return cf


def case_file_archive(*, actor: Any, case_file: CaseFile, expected_version: int | None = None,
                      ip: str | None = None) -> CaseFile:
    """Send a closed expediente to the archive (semi-active phase)."""
    with _recording_refusals(actor, case_file, "archive", ip), transaction.atomic():
        cf = _lock(case_file, expected_version)
        if not (perms.can_manage(actor, cf) or (perms.is_staff_of(actor, cf.organization_id)
                                               and actor.has_role(*perms.REGISTRARS))):
            raise PermissionDenied(_("You cannot archive this expediente."))
        old, cf.state = cf.state, _transition(cf, "archive")
        cf.archival_phase = ArchivalPhase.SEMI_ACTIVE
        _bump(cf, ["state", "archival_phase"])
        _audit("case_file.archive", actor, cf, ip, state=[old, cf.state], archival_phase=cf.archival_phase)
    return cf


def _other(actor: Any, other_id: int) -> CaseFile:
    from folio.case_files.selectors import case_files_visible_to

    other = case_files_visible_to(actor).filter(pk=other_id).first()
    if other is None:
        raise ValidationError({"other_id": [_("The other expediente does not exist or you cannot see it.")]})
    return other


def _lock_pair(a: CaseFile, b: CaseFile) -> tuple[CaseFile, CaseFile]:
    """Lock two expedientes in id order so that two opposite requests cannot deadlock."""
    first, second = sorted([a, b], key=lambda c: c.pk)
    locked = {c.pk: _lock(c, None) for c in (first, second)}
    return locked[a.pk], locked[b.pk]


def case_file_link(*, actor: Any, case_file: CaseFile, other_id: int, note: str = "",
                   ip: str | None = None) -> CaseFileLink:
    """A persistent link between two related expedientes (DS 10 art. 33)."""
    other = _other(actor, other_id)
    if other.pk == case_file.pk:
        raise ValidationError({"other_id": [_("An expediente cannot be linked to itself.")]})
    with _recording_refusals(actor, case_file, "link", ip), transaction.atomic():
        cf, oth = _lock_pair(case_file, other)
        if not perms.can_manage(actor, cf):
            raise PermissionDenied(_("Only the responsible unit can link this expediente."))
        _transition(cf, "link")
        if CaseFileLink.objects.filter(from_case_file__in=[cf, oth], to_case_file__in=[cf, oth]).exists():
            raise ConflictError(_("These expedientes are already linked."))
        link = CaseFileLink.objects.create(organization_id=cf.organization_id, from_case_file=cf, to_case_file=oth,
                                           kind=LinkKind.LINKED, note=note.strip()[:500], created_by=actor)
        _bump(cf, [])
        _audit("case_file.link", actor, cf, ip, other=oth.iuie, note=link.note)
        _audit("case_file.linked_from", actor, oth, ip, other=cf.iuie, note=link.note)
    return link


def case_file_accumulate(*, actor: Any, case_file: CaseFile, other_id: int, note: str = "",
                         ip: str | None = None) -> IndexEntry:
    """Acumulación (Ley 19.880 art. 33): ``other_id`` is nested into ``case_file``. Its index is frozen
    (hash recorded), it is closed, and it becomes one entry of ``case_file``'s index, foliated in order."""
    from folio.case_files.exports import index_hash

    child = _other(actor, other_id)
    if child.pk == case_file.pk:
        raise ValidationError({"other_id": [_("An expediente cannot be accumulated into itself.")]})
    with _recording_refusals(actor, case_file, "accumulate", ip), transaction.atomic():
        parent, child = _lock_pair(case_file, child)
        if not (perms.can_manage(actor, parent) and perms.can_manage(actor, child)):
            raise PermissionDenied(_("Only a unit responsible for both expedientes can accumulate them."))
        if child.accumulated_into_id:
            raise ConflictError(_("That expediente was already accumulated into another one."))
        parent_old, parent_new = parent.state, _transition(parent, "accumulate")
        child_old, child_new = child.state, _transition(child, "be_accumulated")
        child_entries = all_entries(child)
        now = timezone.now()
        child.index_hash = index_hash(child, child_entries)
        child.state, child.closed_at, child.closed_by = child_new, now, actor
        child.closing_note = _("Accumulated into %(iuie)s.") % {"iuie": parent.iuie}
        child.accumulated_into = parent
        _bump(child, ["index_hash", "state", "closed_at", "closed_by", "closing_note", "accumulated_into"])
        data = EntryInput(
            title=_("Accumulated expediente %(iuie)s: %(title)s") % {"iuie": child.iuie, "title": child.title},
            document_type=DocumentType.EXPEDIENTE, mechanism=Mechanism.DIGITAL,
            access_level=max(child.access_level, parent.access_level), sensitive_data=child.sensitive_data,
            pages=child_entries[-1].last_page if child_entries else 1,
        )
        clean = _validate_entry(data, parent)
        entry = _append_entry(parent, actor=actor, data=data, clean=clean, source=EntrySource.CASE_FILE,
                              nested=child, sha256=child.index_hash, source_reference=child.iuie)
        CaseFileLink.objects.create(organization_id=parent.organization_id, from_case_file=parent, to_case_file=child,
                                    kind=LinkKind.ACCUMULATED, note=note.strip()[:500], created_by=actor)
        parent.state = parent_new
        _bump(parent, ["state"])
        _audit("case_file.accumulate", actor, parent, ip, other=child.iuie, note=note.strip()[:500],
               entries=_entry_summary([entry]), state=[parent_old, parent_new])
        _audit("case_file.accumulated_into", actor, child, ip, other=parent.iuie, index_hash=child.index_hash,
               state=[child_old, child_new])
    return entry


# --- access log --------------------------------------------------------------------------------------

def case_file_access_record(*, actor: Any, case_file: CaseFile, what: str, entry: IndexEntry | None = None,
                            ip: str | None = None) -> None:
    """Record a read (DS 10 arts. 19, 37): every access to a non-public document or one with sensitive data,
    and every look at a non-public or sensitive expediente."""
    target_level = entry.access_level if entry is not None else case_file.access_level
    target_sensitive = entry.sensitive_data if entry is not None else case_file.sensitive_data
    if target_level == AccessLevel.PUBLIC and not target_sensitive:
        return
    data: dict[str, Any] = {"what": what[:100]}
    if entry is not None:
        data.update(position=entry.position, title=entry.title[:200], sha256=entry.sha256,
                    access_level=entry.access_level, sensitive_data=entry.sensitive_data)
    with transaction.atomic():
        _audit("case_file.access", actor, case_file, ip, **data)


# --- authorized copies and archival packages (the work is in copies.py and archive.py) ------------------

def authorized_copy_request(*, actor: Any, case_file: CaseFile, entry: IndexEntry | None = None,
                            ip: str | None = None) -> Any:
    """A copia autorizada of ``entry`` (built now) or of the whole expediente (queued; built in the
    background). Returns the ``AuthorizedCopy``."""
    from folio.case_files import copies

    return copies.request_copy(actor=actor, case_file=case_file, entry=entry, ip=ip)


def archive_export(*, actor: Any, case_file: CaseFile, target_dir: Any, ip: str | None = None) -> Any:
    """Write the BagIt archival package of a closed expediente under ``target_dir``; returns its path."""
    from folio.case_files import archive

    return archive.export_case_file(actor=actor, case_file=case_file, target_dir=target_dir, ip=ip)


def archive_export_series(*, actor: Any, series_code: str, year: int, target_dir: Any,
                          ip: str | None = None) -> Any:
    """A bag of bags with every closed expediente of a series and year; returns its path."""
    from folio.case_files import archive

    return archive.export_series(actor=actor, series_code=series_code, year=year, target_dir=target_dir, ip=ip)


def archive_import(*, actor: Any, organization: Any, path: Any, unit_code: str = "",
                   ip: str | None = None) -> list[CaseFile]:
    """Import an archival package (all or nothing). Returns the top-level expedientes imported."""
    from folio.case_files import archive

    return archive.import_package(actor=actor, organization=organization, path=path, unit_code=unit_code, ip=ip)
