"""Writes of the Oficina de Partes. Each public function is one transaction that also writes its audit
row; e-mail and OCR run after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from folio.audit import services as audit
from folio.core.counters import take_next
from folio.files.models import OcrStatus
from folio.files.services import atomic_with_files, file_store
from folio.organizations.calendar import BusinessCalendar
from folio.organizations.models import Unit
from folio.registry import permissions as perms
from folio.registry import search
from folio.registry.models import (
    OPEN_ROUTING,
    AccessLevel,
    Book,
    Channel,
    Counter,
    DeliveryMethod,
    DocumentRole,
    DocumentType,
    Instruction,
    Mechanism,
    PartyKind,
    Registration,
    RegistrationDocument,
    RegistrationStatus,
    Routing,
    RoutingStatus,
)
from folio.registry.selectors import org_today
from folio.verification.models import VerificationKind
from folio.verification.services import verification_issue


class ConflictError(Exception):
    """The record changed since the user loaded it (or the transition no longer applies)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class UploadedDoc:
    name: str
    data: bytes
    role: str = DocumentRole.MAIN
    description: str = ""


@dataclass
class RegistrationInput:
    document_type: int
    subject: str
    party_kind: str
    party_name: str
    received_at: dt.datetime | None = None
    document_date: dt.date | None = None
    summary: str = ""
    party_rut: str = ""
    party_body_code: str = ""
    party_email: str = ""
    party_address: str = ""
    addressee: str = ""
    unit_id: int | None = None
    mechanism: int = Mechanism.DIGITAL
    channel: str = Channel.ELECTRONIC
    access_level: int = AccessLevel.PUBLIC
    sensitive_data: bool = False
    keywords: str = ""
    pages: int | None = None
    submission_token: str | None = None
    # Outgoing only
    answers_id: int | None = None
    delivery_method: str = ""
    documents: list[UploadedDoc] = field(default_factory=list)


# --- numbering ------------------------------------------------------------------------------------

def next_number(*, organization: Any, book: str, year: int) -> int:
    """Take the next number of a book, inside the transaction that uses it (see core.counters.take_next)."""
    return take_next(Counter, organization=organization, book=book, year=year)

def format_folio(book: str, year: int, number: int) -> str:
    return f"{book}-{year}-{number:06d}"


# --- validation -----------------------------------------------------------------------------------

def _validate(data: RegistrationInput, organization: Any, *, outgoing: bool) -> dict[str, Any]:
    from folio.core.rut import Rut

    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    if not data.subject.strip():
        errors.setdefault("subject", []).append(_("The subject is required."))
    if not data.party_name.strip():
        errors.setdefault("party_name", []).append(
            _("The recipient is required.") if outgoing else _("The sender is required."))
    if data.party_kind not in PartyKind.values:
        errors.setdefault("party_kind", []).append(_("Choose a valid party type."))
    if data.document_type not in DocumentType.values:
        errors.setdefault("document_type", []).append(_("Choose a valid document type."))
    if data.mechanism not in Mechanism.values:
        errors.setdefault("mechanism", []).append(_("Choose a valid incorporation mechanism."))
    if data.access_level not in AccessLevel.values:
        errors.setdefault("access_level", []).append(_("Choose a valid access level."))
    if data.channel not in Channel.values:
        errors.setdefault("channel", []).append(_("Choose a valid channel."))
    out["party_rut_number"], out["party_rut_dv"] = None, ""
    if data.party_rut.strip():
        try:
            rut = Rut.parse(data.party_rut)
            out["party_rut_number"], out["party_rut_dv"] = rut.number, rut.dv
        except ValidationError as exc:
            errors.setdefault("party_rut", []).extend(exc.messages)
    elif data.party_kind in (PartyKind.CITIZEN, PartyKind.COMPANY) and not outgoing:
        errors.setdefault("party_rut", []).append(_("The RUN/RUT of the sender is required."))
    now = timezone.now()
    received_at = data.received_at or now
    if timezone.is_naive(received_at):
        errors.setdefault("received_at", []).append(_("The reception date needs a time zone."))
    elif received_at > now + dt.timedelta(minutes=5):
        errors.setdefault("received_at", []).append(_("The reception date cannot be in the future."))
    out["received_at"] = received_at
    if data.document_date and data.document_date > org_today(organization):
        errors.setdefault("document_date", []).append(_("The document date cannot be in the future."))
    out["unit"] = None
    if data.unit_id:
        out["unit"] = Unit.objects.filter(pk=data.unit_id, organization=organization, is_active=True).first()
        if out["unit"] is None:
            errors.setdefault("unit_id", []).append(_("Choose a unit of your organization."))
    if outgoing and not out["unit"]:
        errors.setdefault("unit_id", []).append(_("Choose the unit that sends the document."))
    if outgoing and data.delivery_method and data.delivery_method not in DeliveryMethod.values:
        errors.setdefault("delivery_method", []).append(_("Choose a valid delivery method."))
    if outgoing and data.delivery_method == DeliveryMethod.EMAIL and not data.party_email:
        errors.setdefault("party_email", []).append(_("An e-mail address is required to deliver by e-mail."))
    if data.pages is not None and data.pages < 0:
        errors.setdefault("pages", []).append(_("Pages must be zero or more."))
    if not outgoing and data.mechanism != Mechanism.PHYSICAL and not data.documents:
        errors.setdefault("documents", []).append(
            _("Attach the document (or choose the physical incorporation mechanism)."))
    if errors:
        raise ValidationError(errors)
    return out


def _store_documents(reg: Registration, docs: list[UploadedDoc], actor: Any) -> list[str]:
    texts: list[str] = []
    errors: list[str] = []
    position = reg.documents.count()
    for doc in docs:
        try:
            stored = file_store(organization=reg.organization, name=doc.name, data=doc.data, actor=actor)
        except ValueError as exc:  # FileRejected
            errors.append(f"{doc.name}: {getattr(exc, 'message', str(exc))}")
            continue
        position += 1
        RegistrationDocument.objects.create(registration=reg, file=stored, role=doc.role, position=position,
                                            description=doc.description[:200])
        texts.append(stored.text)
        if stored.ocr_status == OcrStatus.PENDING:
            _enqueue_ocr(reg.pk, stored.pk)
    if errors:
        raise ValidationError({"documents": errors})
    return texts


def _enqueue_ocr(reg_id: int, file_id: int) -> None:
    from folio.registry.tasks import ocr_registration_file

    transaction.on_commit(lambda: ocr_registration_file.enqueue(reg_id, file_id))


def _reindex(reg: Registration) -> None:
    texts = [d.file.text for d in reg.documents.select_related("file").all()]
    search.index_registration(reg, texts)


def _audit(action: str, actor: Any, reg: Registration, ip: str | None = None, **data: Any) -> None:
    audit.record(action=action, actor=actor, organization=reg.organization, obj=reg, data=data, ip=ip)


# --- registration ---------------------------------------------------------------------------------

def _create(*, actor: Any, data: RegistrationInput, book: str, ip: str | None) -> Registration:
    organization = actor.organization
    if data.submission_token:
        existing = Registration.objects.filter(organization=organization,
                                               submission_token=data.submission_token).first()
        if existing is not None:
            # Double submission: the first one stands and nothing new is numbered. The flag lets the UI and
            # the API tell the user (409) instead of presenting it as a new registration.
            existing.duplicate_submission = True
            return existing
    clean = _validate(data, organization, outgoing=book == Book.OUTGOING)
    answers = None
    if data.answers_id:
        from folio.registry.selectors import registrations_visible_to

        answers = registrations_visible_to(actor).filter(pk=data.answers_id, book=Book.INCOMING).first()
        if answers is None:
            raise ValidationError(
                {"answers_id": [_("The registration being answered does not exist or you cannot see it.")]})
    with atomic_with_files():
        year = timezone.localtime(clean["received_at"]).year
        number = next_number(organization=organization, book=book, year=year)
        reg = Registration(
            organization=organization,
            book=book,
            year=year,
            number=number,
            folio=format_folio(book, year, number),
            status=RegistrationStatus.REGISTERED,
            document_type=data.document_type,
            subject=data.subject.strip()[:500],
            summary=data.summary.strip(),
            party_kind=data.party_kind,
            party_name=data.party_name.strip()[:200],
            party_rut_number=clean["party_rut_number"],
            party_rut_dv=clean["party_rut_dv"],
            party_body_code=data.party_body_code.strip(),
            party_email=data.party_email.strip(),
            party_address=data.party_address.strip(),
            addressee=data.addressee.strip(),
            unit=clean["unit"],
            document_date=data.document_date,
            received_at=clean["received_at"],
            mechanism=data.mechanism,
            channel=data.channel,
            access_level=data.access_level,
            sensitive_data=data.sensitive_data,
            keywords=data.keywords.strip()[:500],
            pages=data.pages,
            answers=answers,
            delivery_method=data.delivery_method,
            submission_token=data.submission_token or None,
            registered_by=actor,
        )
        try:
            with transaction.atomic():
                reg.save(force_insert=True)
        except IntegrityError:
            if data.submission_token:
                raise ConflictError(_("This submission was already registered.")) from None
            raise
        texts = _store_documents(reg, data.documents, actor)
        if reg.pages is None:
            pages = [d.file.pages for d in reg.documents.select_related("file") if d.file.pages]
            if pages:
                reg.pages = sum(pages)
                reg.save(update_fields=["pages"])
        record = verification_issue(
            organization=organization,
            kind=VerificationKind.RECEIPT if book == Book.INCOMING else VerificationKind.DISPATCH,
            obj=reg,
            title=_("Registration %(folio)s") % {"folio": reg.folio},
            facts=_receipt_facts(reg),
        )
        reg.receipt_code = record.code
        reg.save(update_fields=["receipt_code"])
        search.index_registration(reg, texts)
        _audit("registration.create", actor, reg, ip, folio=reg.folio, book=book, access_level=reg.access_level,
               documents=[d.file.sha256 for d in reg.documents.select_related("file")])
        if answers is not None:
            _complete_answered(actor=actor, answered=answers, response=reg, ip=ip)
    return reg


def duplicate_submission_message(reg: Registration) -> str:
    return _("This form was already submitted: it was registered with folio %(folio)s.") % {"folio": reg.folio}


def _receipt_facts(reg: Registration) -> list[tuple[str, str]]:
    from django.utils.formats import date_format

    local = timezone.localtime(reg.received_at)
    facts = [
        (_("Folio"), reg.folio),
        (_("Organization"), reg.organization.name),
        (_("Book"), str(Book(reg.book).label)),
        (_("Received at") if reg.is_incoming else _("Registered at"),
         date_format(local, "d-m-Y H:i") + " (America/Santiago)"),
        (_("Received at (UTC)"), reg.received_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
        (_("Sender") if reg.is_incoming else _("Recipient"), reg.party_name if reg.access_level == AccessLevel.PUBLIC
         else _("(restricted)")),
        (_("Document type"), str(reg.get_document_type_display())),
    ]
    if reg.access_level == AccessLevel.PUBLIC:
        facts.append((_("Subject"), reg.subject))
    if reg.unit:
        facts.append((_("Unit"), reg.unit.name))
    return facts


def registration_create_incoming(*, actor: Any, data: RegistrationInput, ip: str | None = None) -> Registration:
    if not perms.can_register(actor):
        raise PermissionDenied(_("Only the Oficina de Partes can register incoming correspondence."))
    return _create(actor=actor, data=data, book=Book.INCOMING, ip=ip)


def registration_create_outgoing(*, actor: Any, data: RegistrationInput, ip: str | None = None) -> Registration:
    if not perms.can_register_outgoing(actor):
        raise PermissionDenied(_("You cannot register outgoing correspondence."))
    if not perms.can_register(actor) and data.unit_id and data.unit_id != actor.unit_id:
        raise ValidationError({"unit_id": [_("You can only send documents on behalf of your own unit.")]})
    data.unit_id = data.unit_id or actor.unit_id
    if data.mechanism not in Mechanism.values:
        data.mechanism = Mechanism.DIGITAL
    return _create(actor=actor, data=data, book=Book.OUTGOING, ip=ip)


def _lock(reg: Registration, expected_version: int | None) -> Registration:
    locked = Registration.objects.select_for_update().select_related("organization").get(pk=reg.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("Someone else changed this registration while you were working. Reload and try again."))
    return locked


def _bump(reg: Registration, fields: list[str]) -> None:
    reg.version += 1
    reg.save(update_fields=[*fields, "version"])


def _validate_routing(to_unit_ids: list[int], instruction: str, business_days: int | None) -> None:
    errors: dict[str, list[str]] = {}
    if not to_unit_ids:
        errors["to_unit_ids"] = [_("Choose at least one unit.")]
    if instruction not in Instruction.values:
        errors["instruction"] = [_("Choose a valid instruction.")]
    if business_days is not None and not (0 < business_days <= 365):
        errors["business_days"] = [_("The deadline must be between 1 and 365 business days.")]
    if errors:
        raise ValidationError(errors)


def _create_routings(
    *, actor: Any, reg: Registration, to_unit_ids: list[int], instruction: str, business_days: int | None,
    note: str, to_user_id: int | None, parent: Routing | None, ip: str | None,
) -> list[Routing]:
    """Create the routings; the caller holds the registration lock and has checked permissions."""
    units = list(Unit.objects.filter(pk__in=to_unit_ids, organization_id=reg.organization_id, is_active=True))
    if len(units) != len(set(to_unit_ids)):
        raise ValidationError({"to_unit_ids": [_("Choose units of your organization.")]})
    to_user = None
    if to_user_id:
        from folio.accounts.models import User

        to_user = User.objects.filter(pk=to_user_id, organization_id=reg.organization_id, is_active=True,
                                      unit__in=units).first()
        if to_user is None or len(units) != 1:
            raise ValidationError({"to_user_id": [_("The official must belong to the chosen unit.")]})
    due = None
    if business_days:
        due = BusinessCalendar(reg.organization).add_business_days(org_today(reg.organization), business_days)
    created = [
        Routing.objects.create(
            organization_id=reg.organization_id, registration=reg, from_unit=actor.unit, to_unit=unit,
            to_user=to_user, instruction=instruction, note=note.strip(), business_days=business_days,
            due_date=due, parent=parent, created_by=actor,
        )
        for unit in units
    ]
    if reg.status == RegistrationStatus.REGISTERED:
        reg.status = RegistrationStatus.ROUTED
    _bump(reg, ["status"])
    _audit("registration.route", actor, reg, ip, units=[u.name for u in units],
           to_user=to_user.get_full_name() if to_user else "", instruction=instruction,
           business_days=business_days, due_date=due.isoformat() if due else None,
           routings=[r.pk for r in created], note=note.strip(), rerouted_from=parent.pk if parent else None)
    ids = [r.pk for r in created]
    transaction.on_commit(lambda: _notify_routed(ids))
    return created


def registration_route(
    *,
    actor: Any,
    registration: Registration,
    to_unit_ids: list[int],
    instruction: str,
    business_days: int | None,
    note: str = "",
    to_user_id: int | None = None,
    expected_version: int | None = None,
    ip: str | None = None,
) -> list[Routing]:
    """Derivación to one or more units (or one official of a unit) with an instruction and deadline."""
    _validate_routing(to_unit_ids, instruction, business_days)
    with transaction.atomic():
        reg = _lock(registration, expected_version)
        if not perms.can_route(actor, Registration.objects.prefetch_related("routings").get(pk=reg.pk)):
            raise PermissionDenied(_("You cannot route this registration."))
        return _create_routings(actor=actor, reg=reg, to_unit_ids=to_unit_ids, instruction=instruction,
                                business_days=business_days, note=note, to_user_id=to_user_id, parent=None, ip=ip)


def _notify_routed(routing_ids: list[int]) -> None:
    from folio.registry.tasks import notify_routing

    for rid in routing_ids:
        notify_routing.enqueue(rid)


def routing_acknowledge(*, actor: Any, routing: Routing, ip: str | None = None) -> Routing:
    with transaction.atomic():
        locked = Routing.objects.select_for_update().select_related("registration__organization").get(pk=routing.pk)
        if not perms.is_staff_of(actor, locked.organization_id):  # before the state: reveal nothing to outsiders
            raise PermissionDenied(_("This routing is not addressed to you or your unit."))
        if locked.status != RoutingStatus.PENDING:
            raise ConflictError(_("This routing was already acknowledged or is no longer open."))
        if not perms.can_acknowledge(actor, locked):
            raise PermissionDenied(_("This routing is not addressed to you or your unit."))
        locked.status = RoutingStatus.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        reg = _lock(locked.registration, None)
        if reg.status == RegistrationStatus.ROUTED:
            reg.status = RegistrationStatus.IN_PROGRESS
            _bump(reg, ["status"])
        _audit("routing.acknowledge", actor, reg, ip, routing=locked.pk, unit=locked.to_unit.name)
    return locked


def routing_reroute(
    *, actor: Any, routing: Routing, to_unit_id: int, instruction: str, business_days: int | None, note: str = "",
    ip: str | None = None,
) -> Routing:
    """Send an open routing on to another unit (wrong addressee, or the matter belongs elsewhere)."""
    _validate_routing([to_unit_id], instruction, business_days)
    with transaction.atomic():
        locked = Routing.objects.select_for_update().get(pk=routing.pk)
        if not perms.is_staff_of(actor, locked.organization_id):  # before the state: reveal nothing to outsiders
            raise PermissionDenied(_("Only the Oficina de Partes or the unit that received it can re-route it."))
        if locked.status not in OPEN_ROUTING:
            raise ConflictError(_("This routing is no longer open."))
        reg = _lock(locked.registration, None)
        allowed = perms.can_register(actor) and perms.is_staff_of(actor, reg.organization_id)
        if not allowed:
            with_routings = Registration.objects.prefetch_related("routings").get(pk=reg.pk)
            allowed = any(r.pk == locked.pk for r in perms.open_routings_for_user(actor, with_routings))
        if not allowed:
            raise PermissionDenied(_("Only the Oficina de Partes or the unit that received it can re-route it."))
        locked.status = RoutingStatus.REROUTED
        locked.completed_at = timezone.now()
        locked.completed_by = actor
        locked.save(update_fields=["status", "completed_at", "completed_by"])
        [child] = _create_routings(actor=actor, reg=reg, to_unit_ids=[to_unit_id], instruction=instruction,
                                   business_days=business_days, note=note, to_user_id=None, parent=locked, ip=ip)
    return child


def _complete_answered(*, actor: Any, answered: Registration, response: Registration, ip: str | None) -> None:
    reg = Registration.objects.select_for_update().get(pk=answered.pk)
    if not reg.is_open:
        return
    now = timezone.now()
    mine = perms.open_routings_for_user(actor, Registration.objects.prefetch_related("routings").get(pk=reg.pk))
    for r in mine:
        Routing.objects.filter(pk=r.pk).update(status=RoutingStatus.COMPLETED, completed_at=now, completed_by=actor,
                                               response=response)
    still_open = reg.routings.filter(status__in=OPEN_ROUTING).exists()
    _audit("registration.answered", actor, reg, ip, response=response.folio, routings=[r.pk for r in mine])
    if not still_open:
        reg.status = RegistrationStatus.CLOSED
        reg.closed_at = now
        reg.closing_note = _("Answered with %(folio)s") % {"folio": response.folio}
        _bump(reg, ["status", "closed_at", "closing_note"])
        _audit("registration.close", actor, reg, ip, note=reg.closing_note, response=response.folio)


def registration_close(
    *, actor: Any, registration: Registration, note: str, response_id: int | None = None,
    expected_version: int | None = None, ip: str | None = None,
) -> Registration:
    if not note.strip() and not response_id:
        raise ValidationError({"note": [_("Write how the matter was settled, or link the response.")]})
    with transaction.atomic():
        reg = _lock(registration, expected_version)
        if not perms.can_close(actor, Registration.objects.prefetch_related("routings").get(pk=reg.pk)):
            raise PermissionDenied(_("You cannot close this registration."))
        response = None
        if response_id:
            response = Registration.objects.filter(pk=response_id, organization_id=reg.organization_id,
                                                   book=Book.OUTGOING).first()
            if response is None:
                raise ValidationError({"response_id": [_("The response must be an outgoing registration.")]})
        now = timezone.now()
        for r in reg.routings.filter(status__in=OPEN_ROUTING):
            r.status = RoutingStatus.COMPLETED
            r.completed_at, r.completed_by, r.response = now, actor, response
            r.save(update_fields=["status", "completed_at", "completed_by", "response"])
        reg.status = RegistrationStatus.CLOSED
        reg.closed_at = now
        reg.closing_note = note.strip() or _("Answered with %(folio)s") % {"folio": response.folio if response else ""}
        _bump(reg, ["status", "closed_at", "closing_note"])
        _audit("registration.close", actor, reg, ip, note=reg.closing_note,
               response=response.folio if response else None)
    return reg


def registration_void(*, actor: Any, registration: Registration, reason: str, expected_version: int | None = None,
                      ip: str | None = None) -> Registration:
    """Anulación: the number stays taken (the book has no gaps) and the reason is kept."""
    if len(reason.strip()) < 5:
        raise ValidationError({"reason": [_("Give the reason for voiding (at least 5 characters).")]})
    with transaction.atomic():
        reg = _lock(registration, expected_version)
        if not perms.can_void(actor, reg):
            raise PermissionDenied(_("Only the Oficina de Partes can void an open registration."))
        now = timezone.now()
        reg.routings.filter(status__in=OPEN_ROUTING).update(status=RoutingStatus.CANCELLED, completed_at=now,
                                                            completed_by=actor)
        reg.status = RegistrationStatus.VOIDED
        reg.voided_at = now
        reg.void_reason = reason.strip()[:500]
        _bump(reg, ["status", "voided_at", "void_reason"])
        from folio.verification.models import VerificationRecord

        VerificationRecord.objects.filter(code=reg.receipt_code).update(revoked_at=now, revoked_reason=reg.void_reason)
        _audit("registration.void", actor, reg, ip, reason=reg.void_reason)
    return reg


def registration_dispatch(
    *, actor: Any, registration: Registration, method: str, reference: str = "",
    evidence: UploadedDoc | None = None, ip: str | None = None,
) -> Registration:
    """Record how an outgoing registration left (libro de despacho). By e-mail Folio sends it itself
    after commit and records the message as evidence."""
    if method not in DeliveryMethod.values:
        raise ValidationError({"method": [_("Choose a valid delivery method.")]})
    if method == DeliveryMethod.CERTIFIED_MAIL and not reference.strip() and evidence is None:
        raise ValidationError({"reference": [_("Enter the certified-mail tracking number or attach the receipt.")]})
    if method == DeliveryMethod.BY_HAND and evidence is None and not reference.strip():
        raise ValidationError({"reference": [_("Record who received it or attach the signed receipt.")]})
    with atomic_with_files():
        reg = _lock(registration, None)
        if not perms.can_dispatch(actor, reg):
            raise PermissionDenied(_("You cannot dispatch this registration."))
        if method == DeliveryMethod.EMAIL and not reg.party_email:
            raise ValidationError({"method": [_("The recipient has no e-mail address.")]})
        if evidence is not None:
            evidence.role = DocumentRole.DELIVERY_EVIDENCE
            _store_documents(reg, [evidence], actor)
        reg.delivery_method = method
        reg.delivery_reference = reference.strip()[:200]
        reg.status = RegistrationStatus.DISPATCHED
        reg.dispatched_at = timezone.now()
        _bump(reg, ["delivery_method", "delivery_reference", "status", "dispatched_at"])
        _audit("registration.dispatch", actor, reg, ip, method=method, reference=reg.delivery_reference)
        if method == DeliveryMethod.EMAIL:
            reg_id = reg.pk
            transaction.on_commit(lambda: _enqueue_email(reg_id))
    return reg


def _enqueue_email(reg_id: int) -> None:
    from folio.registry.tasks import send_dispatch_email

    send_dispatch_email.enqueue(reg_id)


def registration_update(
    *, actor: Any, registration: Registration, expected_version: int, subject: str, summary: str, keywords: str,
    access_level: int, sensitive_data: bool, ip: str | None = None,
) -> Registration:
    """Correct the descriptive metadata. Concurrent edits are refused, never silently overwritten."""
    if not subject.strip():
        raise ValidationError({"subject": [_("The subject is required.")]})
    if access_level not in AccessLevel.values:
        raise ValidationError({"access_level": [_("Choose a valid access level.")]})
    with transaction.atomic():
        reg = _lock(registration, expected_version)
        if not (perms.is_staff_of(actor, reg.organization_id) and actor.has_role(*perms.REGISTRARS)) or not reg.is_open:
            raise PermissionDenied(_("Only the Oficina de Partes can correct an open registration."))
        before = {"subject": reg.subject, "summary": reg.summary, "keywords": reg.keywords,
                  "access_level": reg.access_level, "sensitive_data": reg.sensitive_data}
        reg.subject, reg.summary, reg.keywords = subject.strip()[:500], summary.strip(), keywords.strip()[:500]
        reg.access_level, reg.sensitive_data = access_level, sensitive_data
        _bump(reg, ["subject", "summary", "keywords", "access_level", "sensitive_data"])
        after = {k: getattr(reg, k) for k in before}
        _reindex(reg)
        _audit("registration.update", actor, reg, ip,
               changes={k: [before[k], after[k]] for k in before if before[k] != after[k]})
    return reg


def registration_access_record(*, actor: Any, registration: Registration, what: str, ip: str | None = None) -> None:
    """Every access to a non-public document, or one with sensitive data, is recorded (DS 10 art. 37)."""
    if registration.access_level == AccessLevel.PUBLIC and not registration.sensitive_data:
        return
    with transaction.atomic():
        _audit("registration.access", actor, registration, ip, what=what)


def registration_reindex_file(*, registration_id: int) -> None:
    reg = Registration.objects.select_related("organization").filter(pk=registration_id).first()
    if reg is None:
        return
    with transaction.atomic():
        _reindex(reg)
