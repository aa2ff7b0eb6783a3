"""Who may configure online forms: the administrators of the procedure's organization, and nobody else."""

from __future__ import annotations

from typing import Any

from folio.accounts.models import RoleCode


def can_manage_definitions(user: Any, organization_id: int | None = None) -> bool:
    """An administrator of ``organization_id`` (of their own organization when it is not given)."""
    if not (user is not None and user.is_authenticated and user.organization_id):
        return False
    if organization_id is not None and user.organization_id != organization_id:
        return False
    return bool(user.has_role(RoleCode.ADMIN))
