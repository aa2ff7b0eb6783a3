"""Background work of online applications: thin and idempotent; they exit quietly if the row is gone."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from folio.applications.models import ApplicationNotification, NotificationStatus
from folio.audit import services as audit
from folio.files.services import file_open

log = logging.getLogger(__name__)


@task()
def send_application_notification(notification_id: int) -> None:
    """Send one milestone e-mail with the Message-ID it was recorded with in the expediente, and record the
    outcome (delivered to the SMTP server, or the error) in the application's history."""
    notification = (ApplicationNotification.objects.select_related("application__organization", "attachment")
                    .filter(pk=notification_id).first())
    if notification is None or notification.status == NotificationStatus.SENT:
        return
    app = notification.application
    message = EmailMessage(subject=notification.subject, body=notification.body, to=[notification.to])
    message.extra_headers["Message-ID"] = notification.message_id
    if notification.attachment is not None and notification.attachment.purged_at is None:
        with file_open(notification.attachment) as fh:
            message.attach(notification.attachment.original_name, fh.read(), notification.attachment.content_type)
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # the milestone stays recorded; the failure is visible in the history
        log.warning("notification %s of application %s failed: %s", notification.pk, app.number, exc)
        with transaction.atomic():
            ApplicationNotification.objects.filter(pk=notification.pk).update(
                status=NotificationStatus.FAILED, attempts=notification.attempts + 1, error=str(exc)[:500])
            audit.record(action="application.notification_failed", actor=None, organization=app.organization,
                         obj=app, data={"milestone": notification.milestone, "to": notification.to,
                                        "message_id": notification.message_id, "error": str(exc)[:300]})
        return
    now = timezone.now()
    with transaction.atomic():
        ApplicationNotification.objects.filter(pk=notification.pk).update(
            status=NotificationStatus.SENT, attempts=notification.attempts + 1, sent_at=now, error="")
        audit.record(action="application.notified", actor=None, organization=app.organization, obj=app,
                     data={"milestone": notification.milestone, "to": notification.to,
                           "message_id": notification.message_id, "at": now.isoformat()})


@task()
def applications_expire_corrections() -> int:
    """Daily: applications whose correction deadline passed become abandoned (desistimiento)."""
    from folio.applications.services import applications_expire_corrections as expire

    return len(expire())


# A notification that failed is retried by ``applications_retry_notifications`` (run it every few minutes) until
# this many attempts; after that it stays failed and visible in the application's history.
MAX_ATTEMPTS = 5


@task()
def retry_application_notifications() -> int:
    """Send again the milestone e-mails that failed (SMTP down, timeout), oldest first; returns how many."""
    pending = list(ApplicationNotification.objects.filter(status=NotificationStatus.FAILED,
                                                          attempts__lt=MAX_ATTEMPTS)
                   .order_by("created_at").values_list("pk", flat=True)[:500])
    for pk in pending:
        send_application_notification.call(pk)
    return len(pending)
