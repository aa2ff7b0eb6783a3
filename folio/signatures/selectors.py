"""Reads of the signature engine: certificates, trust roots and provider configuration."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from folio.signatures import firmagob, pki, sandbox
from folio.signatures.models import FirmaGobSandboxApp, OrganizationCA, SignatureConfig, SignerCertificate
from folio.signatures.sealing import UnsealError, unseal

# Labels of the key derivation (HKDF info) for sealed secrets, not secrets themselves.
FIRMAGOB_SECRET_PURPOSE = "firmagob-secret"  # noqa: S105
SANDBOX_SECRET_PURPOSE = "firmagob-sandbox-secret"  # noqa: S105

_pem_lock = threading.Lock()
_pem_cache: dict[str, x509.Certificate] = {}
_file_cache: dict[tuple[str, float], list[x509.Certificate]] = {}


def _cert(pem: str) -> x509.Certificate:
    with _pem_lock:
        cert = _pem_cache.get(pem)
        if cert is None:
            cert = pki.certificate_from_pem(pem)
            if len(_pem_cache) > 2048:
                _pem_cache.clear()
            _pem_cache[pem] = cert
        return cert


def is_signer(user: Any) -> bool:
    """Active staff of an organization with the signer role."""
    from folio.accounts.models import RoleCode

    return bool(getattr(user, "is_active", False) and getattr(user, "organization_id", None)
                and user.has_role(RoleCode.SIGNER))


def signer_certificate_active(user: Any) -> SignerCertificate | None:
    if not getattr(user, "pk", None):
        return None
    return (
        SignerCertificate.objects.select_related("ca", "organization")
        .filter(user=user, revoked_at__isnull=True)
        .first()
    )


def signer_certificates_of(user: Any) -> QuerySet[SignerCertificate]:
    return SignerCertificate.objects.filter(user=user).order_by("-created_at")


def certificate_of(record: SignerCertificate | OrganizationCA) -> x509.Certificate:
    return _cert(record.certificate_pem)


def _trust_root_files() -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for name in settings.FOLIO_TRUST_ROOTS:
        path = Path(name)
        try:
            stamp = path.stat().st_mtime
        except OSError as exc:
            raise ImproperlyConfigured(f"FOLIO_TRUST_ROOTS: cannot read {name}") from exc
        key = (str(path), stamp)
        if key not in _file_cache:
            _file_cache[key] = x509.load_pem_x509_certificates(path.read_bytes())
        certs.extend(_file_cache[key])
    return certs


def trust_roots(organization: Any | None = None) -> list[x509.Certificate]:
    """Roots a signature may chain to: the organizations' CAs (only that organization's when one is given),
    the PEM files of FOLIO_TRUST_ROOTS and, outside production, the sandboxes' test roots."""
    cas = OrganizationCA.objects.all()
    if organization is not None:
        cas = cas.filter(organization=organization)
    roots = [_cert(pem) for pem in cas.values_list("certificate_pem", flat=True)]
    roots.extend(_trust_root_files())
    if sandbox.enabled():
        roots.extend(sandbox.trust_roots())
    return roots


def revoked_certificate(issuer: str, serial_hex: str) -> SignerCertificate | None:
    return SignerCertificate.objects.filter(serial=serial_hex, revoked_at__isnull=False).first()


def signature_config(organization: Any) -> SignatureConfig | None:
    return SignatureConfig.objects.filter(organization=organization).first()


def tsa_url_for(organization: Any) -> str:
    config = signature_config(organization)
    if config and config.tsa_url:
        return config.tsa_url
    if settings.FOLIO_TSA_URL:
        return str(settings.FOLIO_TSA_URL)
    if sandbox.enabled():
        return settings.FOLIO_PUBLIC_URL + "/sandbox/tsa"
    return ""


def firmagob_secret(config: SignatureConfig) -> str:
    if config.firmagob_secret_env:
        return os.environ.get(config.firmagob_secret_env, "")
    if config.firmagob_secret_sealed:
        try:
            return unseal(bytes(config.firmagob_secret_sealed), purpose=FIRMAGOB_SECRET_PURPOSE,
                          aad=f"org:{config.organization_id}").decode()
        except UnsealError:
            return ""
    return ""


def firmagob_credentials(organization: Any) -> firmagob.Credentials | None:
    config = signature_config(organization)
    if config is None or not (config.firmagob_endpoint and config.firmagob_entity and config.firmagob_api_token_key):
        return None
    secret = firmagob_secret(config)
    if not secret:
        return None
    return firmagob.Credentials(endpoint=config.firmagob_endpoint, entity=config.firmagob_entity,
                                api_token_key=config.firmagob_api_token_key, secret=secret,
                                timeout=config.firmagob_timeout)


# --- what the FirmaGob sandbox reads (never writes) ------------------------------------------------

def sandbox_app_secret(api_token_key: str) -> tuple[str, str] | None:
    app = FirmaGobSandboxApp.objects.filter(api_token_key=api_token_key).first() if api_token_key else None
    if app is None:
        return None
    try:
        secret = unseal(bytes(app.secret_sealed), purpose=SANDBOX_SECRET_PURPOSE, aad=f"app:{app.api_token_key}")
    except UnsealError:
        return None
    return app.entity, secret.decode()


def sandbox_signer_name(run: str) -> str:
    """The name the sandbox's certificate carries for a RUN: the Folio user with that RUN, if any."""
    from folio.accounts.models import User

    user = User.objects.filter(run_number=int(run)).order_by("pk").first() if run.isdigit() else None
    name = user.get_full_name() if user else ""
    return name or f"FIRMANTE DE PRUEBA {run}"
