"""Who may change an organization's ClaveÚnica set-up: its administrators (role admin) and platform superusers."""

from __future__ import annotations

from typing import Any

from folio.accounts.models import RoleCode


def can_configure(user: Any, organization: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return bool(organization is not None and user.organization_id == organization.pk
                and user.has_role(RoleCode.ADMIN))
