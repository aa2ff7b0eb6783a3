"""Reads of the ClaveÚnica app, and the helpers other apps use:

- ``claveunica_login_url(organization, next)``: the address of the ClaveÚnica button (or include the partial
  ``claveunica/button.html`` with ``organization`` and ``next``);
- ``claveunica_session(request)`` / ``is_claveunica_session(request)``: whether the person signed in through
  ClaveÚnica (and through which organization's registration).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from folio.claveunica import client
from folio.claveunica.models import ClaveUnicaConfig
from folio.signatures.sealing import UnsealError, unseal

# Label of the key derivation (HKDF info) of sealed client secrets, not a secret itself.
SECRET_PURPOSE = "claveunica-client-secret"  # noqa: S105
SESSION_MARKER = "claveunica"
DEFAULT_NEXT = "/mis-tramites/"


@dataclass(frozen=True)
class ClaveUnicaSession:
    organization_id: int
    staff: bool


def secret_aad(organization_id: int) -> str:
    return f"org:{organization_id}"


def config_for(organization: Any) -> ClaveUnicaConfig | None:
    if organization is None or not getattr(organization, "pk", None):
        return None
    return ClaveUnicaConfig.objects.filter(organization=organization).first()


def config_of(organization_id: int | None) -> ClaveUnicaConfig | None:
    """The configuration of an organization known by id (from the session), with its organization."""
    if not organization_id:
        return None
    return ClaveUnicaConfig.objects.select_related("organization").filter(organization_id=organization_id).first()


def enabled_configs() -> QuerySet[ClaveUnicaConfig]:
    """Organizations where citizens can sign in with ClaveÚnica now."""
    return (ClaveUnicaConfig.objects.select_related("organization")
            .filter(enabled=True, organization__is_active=True).exclude(client_id="")
            .exclude(redirect_uri="").order_by("organization__name"))


def login_config(slug: str | None) -> ClaveUnicaConfig | None:
    """The enabled configuration of the organization ``slug``; without a slug, the only enabled one."""
    configs = enabled_configs()
    if slug:
        return configs.filter(organization__slug=slug).first()
    found = list(configs[:2])
    return found[0] if len(found) == 1 else None


def client_secret(config: ClaveUnicaConfig) -> str | None:
    if not config.client_secret_sealed:
        return None
    try:
        return unseal(bytes(config.client_secret_sealed), purpose=SECRET_PURPOSE,
                      aad=secret_aad(config.organization_id)).decode()
    except UnsealError:
        return None


def provider_for(config: ClaveUnicaConfig) -> client.Provider | None:
    """The client registration of an enabled, complete configuration (None otherwise)."""
    secret = client_secret(config)
    if not (config.enabled and config.client_id and config.redirect_uri and secret):
        return None
    return client.Provider(base_url=config.base_url, client_id=config.client_id, client_secret=secret,
                           redirect_uri=config.redirect_uri, timeout=float(settings.FOLIO_CLAVEUNICA_TIMEOUT))


def provider_logout_url(config: ClaveUnicaConfig) -> str:
    return client.logout_url(config.base_url, config.logout_redirect_uri)


def claveunica_session(request: HttpRequest) -> ClaveUnicaSession | None:
    """The ClaveÚnica marker of a signed-in session (set by the callback), or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    marker = request.session.get(SESSION_MARKER)
    if not isinstance(marker, dict) or not isinstance(marker.get("org"), int):
        return None
    return ClaveUnicaSession(organization_id=marker["org"], staff=bool(marker.get("staff")))


def is_claveunica_session(request: HttpRequest) -> bool:
    return claveunica_session(request) is not None


def is_claveunica_citizen(request: HttpRequest) -> bool:
    """A citizen (no organization) signed in through ClaveÚnica."""
    session = claveunica_session(request)
    return session is not None and not session.staff and not getattr(request.user, "organization_id", None)


def claveunica_login_url(organization: Any = None, next: str | None = None, *, staff: bool = False) -> str:
    """``/claveunica/ingresar/?municipalidad=<slug>&next=<next>`` (``&personal=1`` for staff)."""
    params: dict[str, str] = {}
    slug = getattr(organization, "slug", organization)
    if slug:
        params["municipalidad"] = str(slug)
    if next:
        params["next"] = next
    if staff:
        params["personal"] = "1"
    url = reverse("claveunica:login")
    return f"{url}?{urllib.parse.urlencode(params)}" if params else url


def staff_login_options(next: str | None = None) -> list[tuple[str, str]]:
    """(municipality name, ClaveÚnica sign-in URL) for each municipality that lets its staff sign in with it."""
    configs = enabled_configs().filter(staff_login_enabled=True).select_related("organization")
    return [(c.organization.name, claveunica_login_url(c.organization, next, staff=True))
            for c in configs.order_by("organization__name")]
