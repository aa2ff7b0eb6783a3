"""What the navigation needs to know about the procedures inventory (links for its readers)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from folio.procedures import permissions


def procedures_nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "organization_id", None):
        return {"nav_procedures": False}
    return {"nav_procedures": permissions.can_read_inventory(user)}
