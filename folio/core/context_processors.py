from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def folio(request: HttpRequest) -> dict[str, Any]:
    from folio.registry import permissions

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"current_organization": None}
    return {
        "current_organization": user.organization,
        "nav_can_register": permissions.can_register(user),
        "nav_can_register_outgoing": permissions.can_register_outgoing(user),
    }
