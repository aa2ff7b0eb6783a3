"""Thin views: the signer's certificate page and the two sandboxes (FirmaGob API v2, RFC 3161 TSA)."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from folio.core.http import AuthedHttpRequest
from folio.signatures import sandbox, services
from folio.signatures.forms import EnrollForm, SandboxOtpForm
from folio.signatures.selectors import is_signer, signer_certificate_active, signer_certificates_of

MAX_TSA_QUERY = 64 * 1024


@login_required
@require_http_methods(["GET", "POST"])
def my_certificate(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if not is_signer(user):
        return render(request, "403.html", status=403)
    form = EnrollForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.signer_enroll(signer=user, passphrase=form.cleaned_data["passphrase"], actor=user)
            except ValidationError as exc:
                for message in exc.message_dict.get("passphrase", exc.messages):
                    form.add_error("passphrase", message)
            except services.SignatureError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Your signing certificate was issued."))
                return redirect("signatures:certificate")
        status = 400
    context = {"form": form, "active": signer_certificate_active(user),
               "history": signer_certificates_of(user)[:10]}
    return render(request, "signatures/certificate.html", context, status=status)


def _sandbox_or_404() -> None:
    if not sandbox.enabled():
        raise Http404


@csrf_exempt
def sandbox_tsa(request: HttpRequest) -> HttpResponse:
    _sandbox_or_404()
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    if request.content_type != "application/timestamp-query":
        return HttpResponse(status=415)
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_TSA_QUERY:
        return HttpResponse(status=413)
    try:
        reply = sandbox.timestamp_reply(request.body)
    except ValueError:
        return HttpResponse(status=400)
    return HttpResponse(reply, content_type="application/timestamp-reply")


@csrf_exempt
def sandbox_firmagob_tickets(request: HttpRequest) -> HttpResponse:
    _sandbox_or_404()
    if request.method != "POST":
        return JsonResponse({"error": "Método no permitido"}, status=405)
    if int(request.META.get("CONTENT_LENGTH") or 0) > sandbox.MAX_REQUEST_BYTES:
        refusal = sandbox.Refusal(400, "La solicitud supera el tamaño máximo de 5 MB")
        return JsonResponse(refusal.payload(), status=400)
    status, payload = sandbox.handle_ticket(request.body, request.headers.get("OTP"))
    return JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})


def sandbox_firmagob_otp(request: HttpRequest) -> HttpResponse:
    """What an authenticator app would show for a RUN in the FirmaGob sandbox."""
    _sandbox_or_404()
    form = SandboxOtpForm(request.GET or None)
    context: dict[str, object] = {"form": form}
    if form.is_bound and form.is_valid():
        now = time.time()
        context.update(run=form.cleaned_data["run"], otp=sandbox.current_otp(form.cleaned_data["run"], now),
                       seconds_left=sandbox.OTP_STEP - int(now) % sandbox.OTP_STEP)
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "signatures/sandbox_otp.html", context, status=status)
