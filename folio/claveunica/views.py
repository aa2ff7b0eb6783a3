"""ClaveÚnica sign-in for citizens (and, where the municipality allows it, staff), sign-out through the provider,
the administrator's set-up page, and the sandbox provider under /sandbox/claveunica/ (404 when sandboxes are off).

The session carries, per sign-in attempt, a random ``state`` (43 characters) with its nonce, organization,
``next`` and time; the callback pops it (single use) before anything else. A signed-in session carries the
marker ``claveunica`` (organization, staff or not), so that signing out goes through the right provider.
"""

from __future__ import annotations

import logging
import secrets
import time
import urllib.parse
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from folio.claveunica import client, permissions, sandbox, selectors, services
from folio.claveunica.forms import ClaveUnicaConfigForm, SandboxLoginForm
from folio.claveunica.models import ClaveUnicaConfig
from folio.core.http import AuthedHttpRequest, client_ip
from folio.core.middleware import SecurityHeadersMiddleware

log = logging.getLogger(__name__)

ATTEMPTS = "claveunica_attempts"
ATTEMPT_SECONDS = 10 * 60  # from the button to the callback: ClaveÚnica's code alone lives 5 minutes
MAX_ATTEMPTS = 5  # sign-ins started in several tabs of the same browser
STAFF_DEFAULT_NEXT = "/"


def _message(code: str) -> str:
    messages_by_code = {
        "insecure_provider": _("The ClaveÚnica address configured for this municipality is not secure (HTTPS is "
                               "required). Nobody was signed in; please tell the municipality."),
        "provider_error": _("ClaveÚnica answered with an error. Nobody was signed in; try again in a few minutes."),
        "provider_timeout": _("ClaveÚnica did not answer in time. Nobody was signed in; try again."),
        "provider_garbage": _("ClaveÚnica sent an answer Folio cannot use. Nobody was signed in; try again later."),
        "token_refused": _("ClaveÚnica refused the sign-in code (it is valid for 5 minutes and only once). Nobody "
                           "was signed in; start again."),
        "invalid_id_token": _("The identity token sent by ClaveÚnica could not be verified. Nobody was signed in."),
        "no_run": _("ClaveÚnica did not send your RUN. Nobody was signed in; try again."),
        "invalid_run": _("ClaveÚnica sent a RUN whose check digit is not valid. Nobody was signed in."),
    }
    return messages_by_code.get(code, messages_by_code["provider_error"])


def _error(request: HttpRequest, message: str, status: int, *, retry_url: str = "") -> HttpResponse:
    return render(request, "claveunica/error.html", {"message": message, "retry_url": retry_url}, status=status)


def _safe_next(request: HttpRequest, value: Any, default: str) -> str:
    """Only a path of this site (``/…``), never another host or scheme."""
    if (isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\"))
            and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure())):
        return value
    return default


# --- sign-in ----------------------------------------------------------------------------------------

@never_cache
@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Start a sign-in: a fresh state and nonce in the session, then the full-page trip to ClaveÚnica."""
    slug = (request.GET.get("municipalidad") or "").strip() or None
    staff = request.GET.get("personal") == "1"
    next_url = _safe_next(request, request.GET.get("next"), STAFF_DEFAULT_NEXT if staff else selectors.DEFAULT_NEXT)
    config = selectors.login_config(slug)
    if config is None:
        configs = list(selectors.enabled_configs()) if not slug else []
        if configs:
            choices = [(c.organization, selectors.claveunica_login_url(c.organization, next_url, staff=staff))
                       for c in configs]
            return render(request, "claveunica/choose.html", {"choices": choices})
        return _error(request, _("ClaveÚnica is not available for this municipality."), 404)
    if staff and not config.staff_login_enabled:
        return _error(request, _("This municipality does not let its staff sign in with ClaveÚnica."), 403)
    provider = selectors.provider_for(config)
    if provider is None:
        return _error(request, _("ClaveÚnica is not available for this municipality."), 404)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    try:
        url = client.authorization_url(provider, state=state, nonce=nonce)
    except client.ClaveUnicaError as exc:
        log.warning("claveunica %s (%s): %s", exc.code, config.organization.slug, exc.detail)
        return _error(request, _message(exc.code), exc.status)
    now = time.time()
    attempts = {key: value for key, value in (request.session.get(ATTEMPTS) or {}).items()
                if isinstance(value, dict) and now - float(value.get("at", 0)) < ATTEMPT_SECONDS}
    attempts = dict(sorted(attempts.items(), key=lambda item: item[1]["at"])[-(MAX_ATTEMPTS - 1):])
    attempts[state] = {"org": config.organization_id, "nonce": nonce, "next": next_url, "at": now, "staff": staff}
    request.session[ATTEMPTS] = attempts
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """ClaveÚnica sends the browser back here with ``code`` and ``state`` (or ``error``)."""
    state = request.GET.get("state") or ""
    attempts = dict(request.session.get(ATTEMPTS) or {})
    attempt = attempts.pop(state, None) if state else None
    if attempt is not None:
        request.session[ATTEMPTS] = attempts  # single use: a replayed callback finds nothing
    if not isinstance(attempt, dict) or time.time() - float(attempt.get("at", 0)) > ATTEMPT_SECONDS:
        log.warning("claveunica callback with an unknown, used or expired state from %s", client_ip(request))
        return _error(request, _("This ClaveÚnica sign-in could not be verified: it expired, was already used or "
                                 "did not start here. Nobody was signed in; start again."), 400,
                      retry_url=reverse("claveunica:login"))
    staff = bool(attempt.get("staff"))
    config = selectors.config_of(attempt["org"])
    retry_url = selectors.claveunica_login_url(config.organization if config else None, attempt.get("next"),
                                               staff=staff)
    error = request.GET.get("error")
    if error:
        if error == "access_denied":
            message = _("The sign-in was cancelled at ClaveÚnica. Nobody was signed in.")
        else:
            message = _("ClaveÚnica did not complete the sign-in (%(error)s). Nobody was signed in; try again.") % {
                "error": error[:80]}
        return _error(request, message, 400, retry_url=retry_url)
    code = request.GET.get("code") or ""
    if not code:
        return _error(request, _("ClaveÚnica did not send a sign-in code. Nobody was signed in; start again."), 400,
                      retry_url=retry_url)
    provider = selectors.provider_for(config) if config is not None else None
    if config is None or provider is None:
        return _error(request, _("ClaveÚnica is not available for this municipality."), 400)
    try:
        identity = client.authenticate(provider, code=code, state=state, nonce=str(attempt.get("nonce", "")))
    except client.ClaveUnicaError as exc:
        log.warning("claveunica %s (%s): %s", exc.code, config.organization.slug, exc.detail)
        return _error(request, _message(exc.code), exc.status, retry_url=retry_url)
    ip = client_ip(request)
    try:
        if staff:
            user = services.claveunica_staff_login(config=config, identity=identity, ip=ip)
        else:
            user = services.claveunica_citizen_login(config=config, identity=identity, ip=ip)
    except services.LoginRefused as exc:
        return _error(request, exc.message, 403)
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[selectors.SESSION_MARKER] = {"org": config.organization_id, "staff": staff}
    return redirect(_safe_next(request, attempt.get("next"), STAFF_DEFAULT_NEXT if staff else selectors.DEFAULT_NEXT))


# --- sign-out ---------------------------------------------------------------------------------------

def logout_through_provider(request: HttpRequest) -> HttpResponse | None:
    """For a ClaveÚnica session: sign out of Folio, then a page that takes the browser to ClaveÚnica's logout
    (the guide's "Método 2": the endpoint answers 204 without Location, so a server redirect would not do).
    None for any other session (the caller signs out as usual)."""
    session = selectors.claveunica_session(request)
    if session is None:
        return None
    config = selectors.config_of(session.organization_id)
    auth_logout(request)
    if config is None:
        return None
    after = config.logout_redirect_uri or reverse("home")
    return render(request, "claveunica/logout.html",
                  {"provider_logout_url": selectors.provider_logout_url(config), "after_url": after})


@never_cache
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    response = logout_through_provider(request)
    if response is not None:
        return response
    auth_logout(request)
    messages.info(request, _("You have signed out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- the administrator's page -------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def config_edit(request: AuthedHttpRequest) -> HttpResponse:
    organization = request.user.organization
    if organization is None or not permissions.can_configure(request.user, organization):
        raise PermissionDenied(_("Only the administrators of the municipality can change its ClaveÚnica set-up."))
    config = selectors.config_for(organization) or ClaveUnicaConfig(organization=organization)
    form = ClaveUnicaConfigForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        services.claveunica_config_save(config=form.save(commit=False), actor=request.user,
                                        client_secret=form.cleaned_data.get("client_secret") or None)
        messages.success(request, _("The ClaveÚnica set-up was saved."))
        return redirect("claveunica:config")
    context = {
        "form": form, "config": config,
        "suggested_redirect_uri": request.build_absolute_uri(reverse("claveunica:callback")),
        "suggested_logout_uri": request.build_absolute_uri("/"),
        "login_url": request.build_absolute_uri(selectors.claveunica_login_url(organization)),
        "sandboxes": sandbox.enabled(),
    }
    return render(request, "claveunica/config.html", context, status=400 if form.errors else 200)


# --- the sandbox provider -------------------------------------------------------------------------------

def _sandbox_or_404() -> None:
    if not sandbox.enabled():
        raise Http404


def _sandbox_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(sandbox.PREFIX)


def _json(payload: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _to_client(url: str) -> HttpResponse:
    return HttpResponseRedirect(url)


@never_cache
@require_http_methods(["GET", "POST"])
def sandbox_authorize(request: HttpRequest) -> HttpResponse:
    _sandbox_or_404()
    params = request.POST if request.method == "POST" else request.GET
    try:
        auth = sandbox.authorize_request(params)
    except sandbox.Refusal as exc:
        return render(request, "claveunica/sandbox_error.html", {"message": exc.message}, status=400)
    error = sandbox.protocol_error(auth)
    if error:
        return _to_client(sandbox.redirect_to_client(auth, error=error))
    if request.method == "POST" and "cancel" in request.POST:
        return _to_client(sandbox.redirect_to_client(auth, error="access_denied",
                                                     error_description="La persona canceló el ingreso"))
    form = SandboxLoginForm(request.POST if request.method == "POST" else None)
    run_number: int | None = None
    if request.method == "GET":
        # ClaveÚnica's own session (60 seconds): a second sign-in right after the first skips the form.
        remembered = request.get_signed_cookie(sandbox.SESSION_COOKIE, default="", salt=sandbox.SESSION_SALT,
                                               max_age=sandbox.SESSION_SECONDS) or ""
        run_number = int(remembered) if remembered.isdigit() and int(remembered) in sandbox.TEST_PEOPLE else None
    elif form.is_valid():
        run_number = sandbox.authenticate_person(form.cleaned_data["run"], form.cleaned_data["password"])
        if run_number is None:
            form.add_error(None, _("The RUN or the ClaveÚnica is not correct. In the sandbox use a test RUN and the "
                                   "password “testing”."))
    if run_number is not None:
        response = _to_client(sandbox.redirect_to_client(auth, code=sandbox.issue_code(auth, run_number)))
        response.set_signed_cookie(sandbox.SESSION_COOKIE, str(run_number), salt=sandbox.SESSION_SALT,
                                   max_age=sandbox.SESSION_SECONDS, path=f"{sandbox.PREFIX}/", httponly=True,
                                   samesite="Lax", secure=request.is_secure())
        return response
    context = {"form": form, "auth": auth, "params": auth.params(),
               "test_runs": [f"{n:,}".replace(",", ".") + f"-{p[0]}" for n, p in sandbox.TEST_PEOPLE.items()]}
    response = render(request, "claveunica/sandbox_authorize.html", context,
                      status=400 if request.method == "POST" else 200)
    # The form posts here and is then redirected to the client: let the CSP's form-action allow that origin.
    target = urllib.parse.urlsplit(auth.redirect_uri)
    response["Content-Security-Policy"] = SecurityHeadersMiddleware.POLICY.replace(
        "form-action 'self'", f"form-action 'self' {target.scheme}://{target.netloc}")
    return response


@csrf_exempt
def sandbox_token(request: HttpRequest) -> HttpResponse:
    _sandbox_or_404()
    if request.method != "POST":
        response = _json({"error": "invalid_request", "error_description": "usar POST"}, 405)
        response["Allow"] = "POST"
        return response
    status, payload = sandbox.token(request.POST, issuer=_sandbox_base(request) + "/openid")
    return _json(payload, status)


@csrf_exempt
def sandbox_userinfo(request: HttpRequest) -> HttpResponse:
    _sandbox_or_404()
    if request.method != "POST":  # ClaveÚnica's userinfo takes POST only
        response = _json({"error": "invalid_request", "error_description": "usar POST"}, 405)
        response["Allow"] = "POST"
        return response
    status, payload = sandbox.userinfo(request.headers.get("Authorization", ""))
    response = _json(payload, status)
    if status == 401:
        response["WWW-Authenticate"] = f'Bearer error="{payload["error"]}"'
    return response


@require_GET
def sandbox_jwks(request: HttpRequest) -> HttpResponse:
    _sandbox_or_404()
    return JsonResponse(sandbox.jwks())


@require_GET
def sandbox_discovery(request: HttpRequest) -> HttpResponse:
    _sandbox_or_404()
    return JsonResponse(sandbox.discovery(_sandbox_base(request)))


@never_cache
def sandbox_logout(request: HttpRequest) -> HttpResponse:
    """Like ClaveÚnica's: ends its own session and answers 204 without Location, whatever ``redirect`` says."""
    _sandbox_or_404()
    response = HttpResponse(status=204)
    response.delete_cookie(sandbox.SESSION_COOKIE, path=f"{sandbox.PREFIX}/", samesite="Lax")
    return response
