"""Writes of the ClaveÚnica app: each in one transaction with its audit row.

- ``claveunica_config_save``: an organization's registration (the client secret sealed, never stored in clear);
- ``claveunica_citizen_login`` / ``claveunica_staff_login``: the Folio account of the person ClaveÚnica vouched
  for (the caller then calls ``django.contrib.auth.login``);
- ``claveunica_sandbox_enable``: register an organization in the local sandbox and point its set-up there.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from folio.accounts.models import User
from folio.audit import services as audit
from folio.claveunica import permissions, sandbox
from folio.claveunica.client import Identity
from folio.claveunica.models import ClaveUnicaConfig, SandboxClient
from folio.claveunica.selectors import SECRET_PURPOSE, client_secret, secret_aad
from folio.organizations.models import Organization
from folio.signatures.sealing import seal

__all__ = [
    "LoginRefused",
    "claveunica_citizen_login",
    "claveunica_config_save",
    "claveunica_sandbox_enable",
    "claveunica_staff_login",
]

CONFIG_FIELDS = ("enabled", "client_id", "base_url", "redirect_uri", "logout_redirect_uri", "staff_login_enabled")


class LoginRefused(Exception):
    """ClaveÚnica vouched for the person but Folio does not sign them in. ``message`` is safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def claveunica_config_save(*, config: ClaveUnicaConfig, actor: Any, client_secret: str | None = None
                           ) -> ClaveUnicaConfig:
    """Save an organization's ClaveÚnica set-up (its administrators or a platform superuser); the secret, if
    given, is sealed with the key-encryption key."""
    if not permissions.can_configure(actor, config.organization):
        raise PermissionDenied(_("Only the administrators of the municipality can change its ClaveÚnica set-up."))
    previous = ClaveUnicaConfig.objects.filter(pk=config.pk).values(*CONFIG_FIELDS).first() if config.pk else {}
    changed = [name for name in CONFIG_FIELDS if (previous or {}).get(name) != getattr(config, name)]
    with transaction.atomic():
        if client_secret:
            config.client_secret_sealed = seal(client_secret.encode(), purpose=SECRET_PURPOSE,
                                               aad=secret_aad(config.organization_id))
        config.save()
        audit.record(action="claveunica.config_changed", actor=actor, organization=config.organization, obj=config,
                     data={"fields": changed, "secret_changed": bool(client_secret)})
    return config


def _names(identity: Identity) -> dict[str, str]:
    return {"first_name": identity.first_name[:150], "last_name": identity.last_name[:150]}


def _new_citizen(identity: Identity) -> User:
    base = f"run-{identity.run.number}"
    for attempt in range(5):
        username = base if attempt == 0 else f"{base}-{secrets.token_hex(3)}"
        if User.objects.filter(username=username).exists():
            continue
        user = User(username=username, organization=None, run_number=identity.run.number, run_dv=identity.run.dv,
                    **_names(identity))
        user.set_unusable_password()
        with transaction.atomic():  # a savepoint: a concurrent first sign-in of the same RUN may win
            user.save(force_insert=True)
        return user
    raise IntegrityError("no free username for the citizen")


def claveunica_citizen_login(*, config: ClaveUnicaConfig, identity: Identity, ip: str | None = None) -> User:
    """The citizen account of the RUN (created on the first sign-in; names refreshed every time), with the
    sign-in recorded in the organization's audit trail."""
    organization = config.organization
    with transaction.atomic():
        user = User.objects.select_for_update().filter(organization__isnull=True,
                                                       run_number=identity.run.number).first()
        created = False
        if user is None:
            try:
                user = _new_citizen(identity)
                created = True
            except IntegrityError:  # the same person signed in twice at the same time: use the other one's row
                user = User.objects.select_for_update().get(organization__isnull=True,
                                                            run_number=identity.run.number)
        refusal: LoginRefused | None = None
        if user.is_staff or user.is_superuser:
            # A platform account that carries this RUN signs in with its password, never as a citizen.
            audit.record(action="claveunica.login_refused", actor=None, organization=organization, obj=user, ip=ip,
                         data={"kind": "citizen", "reason": "platform_account"})
            refusal = LoginRefused("platform_account", _("This RUN belongs to a platform account, which signs in "
                                                         "with its username and password."))
        elif not user.is_active:
            refusal = LoginRefused("inactive", _("This account is disabled. Contact the municipality."))
        else:
            updates = {"run_dv": identity.run.dv}
            if identity.first_names or identity.last_names:
                updates.update(_names(identity))
            changed = [name for name, value in updates.items() if getattr(user, name) != value]
            if changed and not created:
                for name in changed:
                    setattr(user, name, updates[name])
                user.save(update_fields=changed)
            audit.record(action="claveunica.login", actor=user, organization=organization, obj=user, ip=ip,
                         data={"kind": "citizen", "created": created})
    if refusal is not None:  # raised after the commit, so the audit row of the refusal stays
        raise refusal
    return user


def claveunica_staff_login(*, config: ClaveUnicaConfig, identity: Identity, ip: str | None = None) -> User:
    """The active staff account of the organization whose RUN is the one ClaveÚnica vouched for."""
    organization = config.organization
    if not config.staff_login_enabled:
        raise LoginRefused("staff_disabled", _("This municipality does not let its staff sign in with ClaveÚnica."))
    candidates = list(User.objects.filter(organization=organization, is_active=True, run_number=identity.run.number)
                      .filter(Q(run_dv="") | Q(run_dv=identity.run.dv))[:2])
    with transaction.atomic():
        if len(candidates) != 1:
            audit.record(action="claveunica.login_refused", actor=None, organization=organization, ip=ip,
                         object_type="accounts.user", object_repr=identity.run.compact,
                         data={"kind": "staff", "reason": "no_match" if not candidates else "ambiguous"})
        else:
            audit.record(action="claveunica.login", actor=candidates[0], organization=organization,
                         obj=candidates[0], ip=ip, data={"kind": "staff"})
    if len(candidates) != 1:
        raise LoginRefused("staff_not_found", _(
            "No active staff account of %(organization)s has your RUN. Ask the administrator of Folio to "
            "record your RUN in your account.") % {"organization": organization.name})
    user = candidates[0]
    return user


def claveunica_sandbox_enable(*, organization: Organization, base_url: str, actor: Any) -> ClaveUnicaConfig:
    """Register the organization in the local ClaveÚnica sandbox (client ``sandbox-<slug>``, redirect URI
    ``<base_url>/claveunica/callback/``) and point its configuration at ``<base_url>/sandbox/claveunica``.
    Idempotent: run again with the same base URL, it changes nothing. Refused where the sandboxes are off."""
    if not sandbox.enabled():
        raise PermissionDenied(_("The sandboxes are disabled in this installation."))
    base = base_url.rstrip("/")
    client_id = f"sandbox-{organization.slug}"
    redirect_uri = f"{base}/claveunica/callback/"
    with transaction.atomic():
        config, _created = ClaveUnicaConfig.objects.select_for_update().get_or_create(organization=organization)
        registered = SandboxClient.objects.select_for_update().filter(client_id=client_id).first()
        secret = client_secret(config) if config.client_id == client_id else None
        if registered is None or not secret or not sandbox.client_authenticates(registered, secret):
            secret = secrets.token_urlsafe(24)
        uris = list(registered.redirect_uris) if registered else []
        if redirect_uri not in uris:
            uris.append(redirect_uri)
        client_values = {"name": organization.name, "secret_hash": sandbox.hash_secret(secret), "redirect_uris": uris}
        config_values = {"enabled": True, "client_id": client_id, "base_url": f"{base}{sandbox.PREFIX}",
                         "redirect_uri": redirect_uri, "logout_redirect_uri": f"{base}/"}
        unchanged = registered is not None and all(getattr(registered, k) == v for k, v in client_values.items()) \
            and all(getattr(config, k) == v for k, v in config_values.items()) and client_secret(config) == secret
        if unchanged:
            return config
        SandboxClient.objects.update_or_create(client_id=client_id, defaults=client_values)
        for name, value in config_values.items():
            setattr(config, name, value)
        config.client_secret_sealed = seal(secret.encode(), purpose=SECRET_PURPOSE, aad=secret_aad(organization.pk))
        config.save()
        audit.record(action="claveunica.sandbox_enabled", actor=actor, organization=organization, obj=config,
                     data={"base_url": config.base_url, "client_id": client_id, "redirect_uri": redirect_uri})
    return config
