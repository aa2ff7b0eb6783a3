"""Background work of the Oficina de Partes: thin, idempotent, and they exit quietly if the row is gone."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from folio.audit import services as audit
from folio.files.models import OcrStatus, StoredFile
from folio.files.services import file_ocr, file_open
from folio.registry.models import DeliveryMethod, DocumentRole, Registration, Routing

log = logging.getLogger(__name__)


@task()
def ocr_registration_file(registration_id: int, file_id: int) -> None:
    from folio.registry.services import registration_reindex_file

    stored = StoredFile.objects.filter(pk=file_id, ocr_status=OcrStatus.PENDING).first()
    if stored is None:
        return
    file_ocr(stored=stored)
    registration_reindex_file(registration_id=registration_id)


@task()
def notify_routing(routing_id: int) -> None:
    """Tell the receiving unit (its e-mail, or the named official) that something arrived."""
    routing = Routing.objects.select_related("registration", "to_unit", "to_user").filter(pk=routing_id).first()
    if routing is None:
        return
    to = [routing.to_user.email] if routing.to_user and routing.to_user.email else (
        [routing.to_unit.email] if routing.to_unit.email else [])
    if not to:
        return
    reg = routing.registration
    body = _(
        "The registration %(folio)s (%(subject)s) was routed to %(unit)s: %(instruction)s.\n"
        "Deadline: %(due)s.\n\n%(url)s"
    ) % {
        "folio": reg.folio,
        "subject": reg.subject if reg.access_level == 1 else _("restricted"),
        "unit": routing.to_unit.name,
        "instruction": routing.get_instruction_display(),
        "due": routing.due_date.strftime("%d-%m-%Y") if routing.due_date else _("none"),
        "url": f"{settings.FOLIO_PUBLIC_URL}/partes/{reg.pk}/",
    }
    EmailMessage(_("New routing %(folio)s") % {"folio": reg.folio}, body, to=to).send(fail_silently=True)


@task()
def send_dispatch_email(registration_id: int) -> None:
    """Deliver an outgoing registration by e-mail and keep the message id as delivery evidence."""
    reg = Registration.objects.select_related("organization", "unit").filter(pk=registration_id).first()
    if reg is None or reg.delivery_method != DeliveryMethod.EMAIL or not reg.party_email:
        return
    if reg.delivery_reference.startswith("<"):
        return  # already sent: the reference holds the Message-ID
    message = EmailMessage(
        subject=f"{reg.organization.name} — {reg.folio}: {reg.subject}",
        body=_(
            "Dear %(name)s,\n\nPlease find attached the document %(folio)s sent by %(org)s.\n"
            "You can verify it at %(url)s\n"
        ) % {"name": reg.party_name, "folio": reg.folio, "org": reg.organization.name,
             "url": f"{settings.FOLIO_PUBLIC_URL}/verificar/{reg.receipt_code}"},
        to=[reg.party_email],
    )
    for doc in reg.documents.select_related("file").exclude(role=DocumentRole.DELIVERY_EVIDENCE):
        with file_open(doc.file) as fh:
            message.attach(doc.file.original_name, fh.read(), doc.file.content_type)
    from email.utils import make_msgid

    msgid = make_msgid(domain="folio.localhost")
    message.extra_headers["Message-ID"] = msgid
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # the dispatch stays recorded; the failure is visible in the timeline
        log.warning("dispatch e-mail for %s failed: %s", reg.folio, exc)
        with transaction.atomic():
            audit.record(action="registration.dispatch_failed", actor=None, organization=reg.organization, obj=reg,
                         data={"error": str(exc)[:300]})
        return
    with transaction.atomic():
        Registration.objects.filter(pk=reg.pk).update(delivery_reference=msgid[:200])
        audit.record(action="registration.delivered", actor=None, organization=reg.organization, obj=reg,
                     data={"message_id": msgid, "to": reg.party_email, "at": timezone.now().isoformat()})
