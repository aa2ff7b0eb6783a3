"""Demo: Lota signs with the advanced electronic signature through Folio's FirmaGob sandbox (where the
sandboxes are on). The signers' RUNs are set by the acts demo (``folio.acts.demo.SIGNERS``); the sandbox's
OTP of the moment for a RUN is at /sandbox/firmagob/otp."""

from __future__ import annotations

import logging
import os
import urllib.parse
from typing import Any

from django.conf import settings

from folio.organizations.models import Organization
from folio.signatures import sandbox

log = logging.getLogger(__name__)


def demo_base_url() -> str:
    """Where `make run` serves Folio (the FirmaGob client calls the sandbox there): http://127.0.0.1:$PORT, else
    a loopback FOLIO_PUBLIC_URL (scripts/run.sh exports that one built from the port), else
    http://127.0.0.1:8000."""
    port = (os.environ.get("PORT") or "").strip()
    if port.isdigit():
        return f"http://127.0.0.1:{port}"
    public = urllib.parse.urlsplit(str(settings.FOLIO_PUBLIC_URL))
    if public.scheme == "http" and public.hostname in {"127.0.0.1", "localhost"} and public.port:
        return f"http://{public.hostname}:{public.port}"
    return "http://127.0.0.1:8000"


def load(organization: Organization, actor: Any = None) -> list[tuple[str, str, str]]:
    """Point ``organization``'s FirmaGob configuration at the sandbox (idempotent: nothing is written when it
    already does, at this address); a FirmaGob that is not the sandbox is left alone. The lines load_demo
    prints."""
    from folio.signatures.models import FirmaGobSandboxApp, SignatureConfig
    from folio.signatures.services import firmagob_sandbox_enable

    if not sandbox.enabled():
        return []
    base_url = demo_base_url()
    endpoint = base_url.rstrip("/") + "/sandbox/firmagob"
    api_key = f"sandbox-{organization.slug}"
    config = SignatureConfig.objects.filter(organization=organization).first()
    current = config.firmagob_endpoint if config is not None else ""
    if current and not current.rstrip("/").endswith("/sandbox/firmagob"):
        log.info("demo: %s uses FirmaGob at %s; the sandbox is not enabled", organization, current)
        return []
    ready = (config is not None and current == endpoint and config.firmagob_api_token_key == api_key
             and bool(config.firmagob_secret_sealed)
             and FirmaGobSandboxApp.objects.filter(api_token_key=api_key).exists())
    if not ready:
        firmagob_sandbox_enable(organization=organization, actor=actor, base_url=base_url)
    return [("(firmagob)", "OTP", f"Firma avanzada (FirmaGob de prueba): OTP del momento por RUN en "
                                  f"{base_url}/sandbox/firmagob/otp")]
