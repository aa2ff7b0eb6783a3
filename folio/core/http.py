from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR") or None


if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from folio.accounts.models import User

    class AuthedHttpRequest(HttpRequest):
        """A request that passed ``staff_required``/``login_required``: ``user`` is a real User."""

        user: User
        htmx: HtmxDetails
else:
    AuthedHttpRequest = HttpRequest
