from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from folio.applications.models import ApplicationNotification, NotificationStatus
from folio.applications.tasks import MAX_ATTEMPTS, retry_application_notifications


class Command(BaseCommand):
    help = (f"Send again the milestone e-mails to applicants that failed, up to {MAX_ATTEMPTS} attempts each. "
            "Run it every few minutes (cron or a systemd timer).")

    def handle(self, *args: Any, **options: Any) -> None:
        tried = retry_application_notifications.call()
        failed = ApplicationNotification.objects.filter(status=NotificationStatus.FAILED).count()
        self.stdout.write(f"{tried} notification(s) retried; {failed} still failed")
