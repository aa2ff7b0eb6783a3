"""What the navigation needs to know about applications (the staff inbox link, only for those who may use it)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from folio.applications.permissions import can_use_inbox


def applications_nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"nav_applications": bool(user is not None and can_use_inbox(user))}
