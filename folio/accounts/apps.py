from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "folio.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        post_migrate.connect(_ensure_roles, sender=self)


def _ensure_roles(*, apps: Any = None, using: str = "default", **kwargs: Any) -> None:
    """The roles are fixed data (migration 0002); a ``flush`` empties them, so put them back after it
    like Django does for content types."""
    from django.apps import apps as global_apps

    try:
        role_model = (apps or global_apps).get_model("accounts", "Role")
    except LookupError:
        return
    from folio.accounts.models import RoleCode

    for code in RoleCode.values:
        role_model.objects.using(using).get_or_create(code=code)
