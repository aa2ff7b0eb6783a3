"""ClaveÚnica set-ups in the Django admin, read-only: they are changed on the administrator's page in Folio
(/administracion/claveunica/) through ``claveunica_config_save``, which seals the secret and writes the audit row."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from folio.claveunica.models import ClaveUnicaConfig, SandboxClient


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ClaveUnicaConfig)
class ClaveUnicaConfigAdmin(_ReadOnly):
    list_display = ("organization", "enabled", "client_id", "base_url", "staff_login_enabled", "updated_at")
    list_filter = ("enabled", "staff_login_enabled")
    fields = ("organization", "enabled", "staff_login_enabled", "client_id", "base_url", "redirect_uri",
              "logout_redirect_uri", "updated_at")


@admin.register(SandboxClient)
class SandboxClientAdmin(_ReadOnly):
    list_display = ("client_id", "name", "created_at")
    fields = ("client_id", "name", "redirect_uris", "created_at")
