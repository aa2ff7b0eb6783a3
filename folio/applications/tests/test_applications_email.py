"""E-mail to the applicant at every milestone, through a real SMTP server on loopback (aiosmtpd): the message
goes out after commit with the Message-ID recorded beforehand in the expediente, and its delivery is recorded."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import io
from typing import Any

from aiosmtpd.controller import Controller
from pypdf import PdfReader

from folio.applications import services
from folio.applications.models import ApplicationNotification, CorrectionRequest, NotificationStatus
from folio.applications.tests.apphelpers import FIELDS, answers, citizen, make_definition, submit, uploads
from folio.audit.models import AuditEvent
from folio.core.testing import Inbox, free_port, smtp_settings
from folio.files.services import file_open


def _body(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _pdf_text(stored: Any) -> str:
    with file_open(stored) as fh:
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(fh.read())).pages)


def test_every_milestone_is_mailed_and_recorded(world: Any, smtp: Inbox, pdf_bytes: Any, monkeypatch: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    definition = make_definition(world)
    with django_capture_on_commit_callbacks(execute=True):
        app = submit(world, definition, pdf_bytes)
    assert len(smtp.messages) == 1
    mail_from, rcpt, message = smtp.messages[0]
    assert rcpt == ["ana.perez@example.cl"] and "no-responder@folio.localhost" in mail_from
    assert app.number in message["Subject"] and world.lota.name in message["Subject"]
    body = _body(message)
    assert app.number in body and app.case_file.iuie in body and f"/verificar/{app.certificate.code}" in body
    assert f"/mis-tramites/{app.pk}/" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"certificado-{app.number}.pdf"
    assert hashlib.sha256(attachment.get_content()).hexdigest() == app.certificate.sha256
    notification = ApplicationNotification.objects.get(application=app)
    assert notification.status == NotificationStatus.SENT and notification.sent_at is not None
    assert message["Message-ID"] == notification.message_id
    # The notification is in the expediente, Message-ID included, readable by the applicant.
    assert notification.entry.case_file_id == app.case_file_id and notification.entry.owner_rut_number == 55555555
    assert notification.message_id in _pdf_text(notification.entry.file)
    delivered = AuditEvent.objects.get(action="application.notified", object_id=str(app.pk))
    assert delivered.data["message_id"] == notification.message_id and delivered.data["to"] == "ana.perez@example.cl"

    monkeypatch.setattr(services, "org_today", lambda org: dt.date(2026, 3, 2))
    with django_capture_on_commit_callbacks(execute=True):
        services.application_request_correction(actor=world.dom, application=app,
                                                message="Falta el plano de emplazamiento firmado.")
    body = _body(smtp.messages[1][2])
    assert "Falta el plano de emplazamiento firmado." in body and "09-03-2026" in body
    with django_capture_on_commit_callbacks(execute=True):
        services.application_answer_correction(actor=app.applicant, application=app, text="Adjunto el plano.")
    assert app.number in smtp.messages[2][2]["Subject"]
    app = services.application_approve(actor=world.dom, application=app)
    with django_capture_on_commit_callbacks(execute=True):
        app = services.application_resolve(actor=world.legal, application=app, outcome="approved",
                                           text="Se otorga el permiso de obra menor.")
    _from, _rcpt, resolved = smtp.messages[3]
    assert "Se otorga el permiso de obra menor." in _body(resolved)
    [pdf] = list(resolved.iter_attachments())
    assert hashlib.sha256(pdf.get_content()).hexdigest() == app.resolution_entry.sha256
    assert list(ApplicationNotification.objects.filter(application=app).values_list("milestone", flat=True)) == [
        "submitted", "correction_requested", "correction_received", "resolved"]
    assert not ApplicationNotification.objects.exclude(status=NotificationStatus.SENT).exists()
    # Each one has its document in the expediente (the resolved one went in before the expediente closed).
    assert ApplicationNotification.objects.filter(entry__isnull=True).count() == 0


def test_abandonment_and_withdrawal_are_mailed(world: Any, smtp: Inbox, pdf_bytes: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    definition = make_definition(world)
    first = submit(world, definition, pdf_bytes)
    second = submit(world, definition, pdf_bytes)
    services.application_request_correction(actor=world.dom, application=first,
                                            message="Falta la firma del propietario en el plano.")
    CorrectionRequest.objects.update(due_date=dt.date(2020, 1, 6))
    with django_capture_on_commit_callbacks(execute=True):
        services.applications_expire_corrections()
        services.application_withdraw(actor=second.applicant, application=second)
    subjects = [m[2]["Subject"] for m in smtp.messages]
    assert any(first.number in s for s in subjects) and any(second.number in s for s in subjects)
    assert "por desistid" in " ".join(_body(m[2]) for m in smtp.messages).lower()


def test_smtp_down_keeps_the_milestone_and_records_the_failure(world: Any, settings: Any, pdf_bytes: Any,
                                                               django_capture_on_commit_callbacks: Any) -> None:
    smtp_settings(settings, free_port())  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        app = submit(world, make_definition(world), pdf_bytes)
    assert app.state == "submitted"
    notification = ApplicationNotification.objects.get(application=app)
    assert notification.status == NotificationStatus.FAILED and notification.error and notification.attempts == 1
    assert AuditEvent.objects.filter(action="application.notification_failed", object_id=str(app.pk)).exists()


def test_the_e_mail_comes_from_the_account_when_the_form_asks_none(world: Any, pdf_bytes: Any) -> None:
    fields = [f for f in FIELDS if f["key"] != "correo"]
    definition = make_definition(world, fields=fields)
    user = citizen(world, email="cuenta@example.cl")
    app = services.application_submit(actor=user, definition=definition, data=answers(correo=None),
                                      files=uploads(pdf_bytes))
    assert app.contact_email == "cuenta@example.cl"
    user.email = ""
    user.save()
    second = services.application_submit(actor=user, definition=definition, data=answers(correo=None),
                                         files=uploads(pdf_bytes))
    assert second.contact_email == "" and not second.notifications.exists()


def test_failed_notifications_are_retried_until_delivered_and_then_left_alone(
        world: Any, settings: Any, pdf_bytes: Any, django_capture_on_commit_callbacks: Any) -> None:
    from django.core.management import call_command

    from folio.applications.tasks import MAX_ATTEMPTS

    smtp_settings(settings, free_port())  # SMTP down when the application is filed
    with django_capture_on_commit_callbacks(execute=True):
        app = submit(world, make_definition(world), pdf_bytes)
    notification = ApplicationNotification.objects.get(application=app)
    assert notification.status == NotificationStatus.FAILED
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        smtp_settings(settings, controller.port)
        out = io.StringIO()
        call_command("applications_retry_notifications", stdout=out)
        assert "1 notification(s) retried; 0 still failed" in out.getvalue()
    finally:
        controller.stop()
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT and notification.attempts == 2
    assert [m["Message-ID"] for _, _, m in inbox.messages] == [notification.message_id]  # the recorded one
    # Exhausted ones stay failed and are not tried again.
    ApplicationNotification.objects.filter(pk=notification.pk).update(status=NotificationStatus.FAILED,
                                                                       attempts=MAX_ATTEMPTS)
    out = io.StringIO()
    call_command("applications_retry_notifications", stdout=out)
    assert "0 notification(s) retried; 1 still failed" in out.getvalue()
