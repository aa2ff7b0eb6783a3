from __future__ import annotations

import urllib.parse
from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from folio.claveunica.client import url_is_acceptable
from folio.claveunica.models import ClaveUnicaConfig


def _secure(url: str) -> None:
    if url and not url_is_acceptable(url):
        raise forms.ValidationError(_("Use an https:// address (plain http is only accepted for the local sandbox "
                                      "outside production)."))


def _formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ClaveUnicaConfigForm(forms.ModelForm):
    """The administrator's page. The secret is write-only: the field is never filled in."""

    client_secret = forms.CharField(
        label=_("Client secret"), required=False, strip=True, max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only: leave empty to keep the stored secret. It is stored encrypted."),
    )

    class Meta:
        model = ClaveUnicaConfig
        fields = ["enabled", "client_id", "base_url", "redirect_uri", "logout_redirect_uri", "staff_login_enabled"]
        widgets = {"client_id": forms.TextInput(attrs={"autocomplete": "off"})}
        formfield_callback = _formfield

    def clean_base_url(self) -> str:
        url = (self.cleaned_data.get("base_url") or "").rstrip("/")
        _secure(url)
        return url

    def clean_redirect_uri(self) -> str:
        url = self.cleaned_data.get("redirect_uri") or ""
        _secure(url)
        parts = urllib.parse.urlsplit(url)
        if parts.query or parts.fragment:
            raise forms.ValidationError(_("The redirect URI may not carry a query or a fragment."))
        return url

    def clean_logout_redirect_uri(self) -> str:
        url = self.cleaned_data.get("logout_redirect_uri") or ""
        _secure(url)
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("enabled"):
            for name in ("client_id", "redirect_uri"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Required to enable ClaveÚnica."))
            if not data.get("client_secret") and not self.instance.has_secret:
                self.add_error("client_secret", _("Required to enable ClaveÚnica."))
        return data


class SandboxLoginForm(forms.Form):
    run = forms.CharField(label=_("RUN"), max_length=14, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                          help_text=_("For example 44.444.444-4."))
    password = forms.CharField(label=_("ClaveÚnica"), strip=False, widget=forms.PasswordInput)
