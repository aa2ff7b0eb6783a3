"""Demo: Lota signs citizens in with Folio's ClaveÚnica sandbox (where the sandboxes are on)."""

from __future__ import annotations

import os
import urllib.parse

from django.conf import settings

from folio.claveunica import sandbox, services
from folio.organizations.models import Organization


def demo_base_url() -> str:
    """Where `make run` serves Folio: http://127.0.0.1:$PORT, else a loopback FOLIO_PUBLIC_URL (scripts/run.sh
    exports that one built from the port), else http://127.0.0.1:8000."""
    port = (os.environ.get("PORT") or "").strip()
    if port.isdigit():
        return f"http://127.0.0.1:{port}"
    public = urllib.parse.urlsplit(str(settings.FOLIO_PUBLIC_URL))
    if public.scheme == "http" and public.hostname in {"127.0.0.1", "localhost"} and public.port:
        return f"http://{public.hostname}:{public.port}"
    return "http://127.0.0.1:8000"


def load(organization: Organization) -> list[tuple[str, str, str]]:
    """Enable the sandbox for ``organization`` (idempotent); the lines load_demo prints."""
    if not sandbox.enabled():
        return []
    config = services.claveunica_sandbox_enable(organization=organization, base_url=demo_base_url(), actor=None)
    return [("(claveúnica)", sandbox.TEST_PASSWORD,
             f"Ciudadanos de prueba 44.444.444-4, 55.555.555-5, 88.888.888-8, 99.999.999-9 en "
             f"{config.redirect_uri.removesuffix('callback/')}ingresar/")]
