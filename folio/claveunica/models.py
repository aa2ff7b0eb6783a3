"""ClaveÚnica (the State's OpenID Connect login) per organization, and the state of the local sandbox provider.

- ``ClaveUnicaConfig``: one per organization. Each municipality holds its own credentials (ClaveÚnica's terms
  and conditions forbid sharing them), so the client is chosen per tenant at runtime. The ``client_secret`` is
  sealed with the key-encryption key (``signatures.sealing``) and never shown again.
- ``SandboxClient`` / ``SandboxGrant``: the applications registered in the ClaveÚnica sandbox served under
  ``/sandbox/claveunica/`` and its one-time codes and access tokens. They live in the database so that every
  web worker sees the same codes (a code issued by one gunicorn worker is redeemed in another).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_BASE_URL = "https://accounts.claveunica.gob.cl"


class ClaveUnicaConfig(models.Model):
    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="claveunica_config",
        verbose_name=_("organization"),
    )
    enabled = models.BooleanField(_("enabled"), default=False)
    client_id = models.CharField(_("client ID"), max_length=200, blank=True)
    client_secret_sealed = models.BinaryField(null=True, blank=True, editable=False)
    base_url = models.URLField(
        _("ClaveÚnica address"), max_length=300, default=DEFAULT_BASE_URL,
        help_text=_("Base URL of the provider; Folio adds /openid/authorize/, /openid/token/, /openid/userinfo/, "
                    "/openid/jwks and /api/v1/accounts/app/logout."),
    )
    redirect_uri = models.URLField(
        _("redirect URI"), max_length=500, blank=True,
        help_text=_("The callback address registered with ClaveÚnica, e.g. https://folio.lota.cl/claveunica/callback/."),
    )
    logout_redirect_uri = models.URLField(
        _("logout redirect URI"), max_length=500, blank=True,
        help_text=_("Where ClaveÚnica should send the person after signing out (optional)."),
    )
    staff_login_enabled = models.BooleanField(
        _("staff may sign in with ClaveÚnica"), default=False,
        help_text=_("Staff of this municipality are matched by the RUN recorded in their Folio account."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ClaveÚnica configuration")
        verbose_name_plural = _("ClaveÚnica configurations")

    def __str__(self) -> str:
        return str(self.organization)

    @property
    def has_secret(self) -> bool:
        return bool(self.client_secret_sealed)


class SandboxClient(models.Model):
    """An application registered in the ClaveÚnica sandbox (what CeroFilas does for the real one)."""

    client_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    secret_hash = models.CharField(max_length=64)  # SHA-256 of a random secret: never stored in clear
    redirect_uris = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ClaveÚnica sandbox client")
        verbose_name_plural = _("ClaveÚnica sandbox clients")

    def __str__(self) -> str:
        return f"{self.client_id} ({self.name})"


class SandboxGrant(models.Model):
    """A one-time authorization code of the sandbox and, once redeemed, the access token it gave."""

    client = models.ForeignKey(SandboxClient, on_delete=models.CASCADE, related_name="grants")
    code = models.CharField(max_length=64, unique=True)
    redirect_uri = models.CharField(max_length=500)
    nonce = models.CharField(max_length=255, blank=True)
    run_number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    code_expires_at = models.DateTimeField()
    code_used_at = models.DateTimeField(null=True, blank=True)
    access_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ClaveÚnica sandbox grant")
        verbose_name_plural = _("ClaveÚnica sandbox grants")

    def __str__(self) -> str:
        return f"{self.client.client_id} {self.run_number} {self.created_at:%Y-%m-%d %H:%M}"
