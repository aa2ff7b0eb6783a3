from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from folio.registry.selectors import inbox_routings


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the file storage answer; 503 naming what failed otherwise."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        name = default_storage.save(f"_healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
        default_storage.delete(name)
        checks["storage"] = "ok"
    except Exception as exc:
        checks["storage"] = f"error: {exc.__class__.__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if not request.user.organization_id:
        return render(request, "core/no_organization.html", status=403)
    return _dashboard(request)


@login_required
def _dashboard(request: HttpRequest) -> HttpResponse:
    inbox = inbox_routings(request.user, limit=10)
    return render(request, "core/home.html", {"inbox": inbox})


def bench_bare(request: HttpRequest) -> HttpResponse:
    """The load test's baseline: no database, no template, the same server and middleware as every page."""
    return HttpResponse("ok", content_type="text/plain")
