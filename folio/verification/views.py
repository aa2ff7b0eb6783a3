from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from folio.files.services import file_open
from folio.verification.forms import VerifyCodeForm
from folio.verification.selectors import verification_get
from folio.verification.services import normalize_code


def verify_index(request: HttpRequest) -> HttpResponse:
    form = VerifyCodeForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect("verification:detail", code=normalize_code(form.cleaned_data["code"]))
    typed = (request.GET.get("code") or "").strip()
    if typed and len(typed) <= 64:
        # A code that cannot exist is answered like an unknown one: "not found", never a bare form error.
        return render(request, "verification/not_found.html", {"code": typed}, status=404)
    status = 400 if request.GET and not form.is_valid() else 200
    return render(request, "verification/index.html", {"form": form}, status=status)


@require_GET
def verify_detail(request: HttpRequest, code: str) -> HttpResponse:
    record = verification_get(code)
    if record is None:
        return render(request, "verification/not_found.html", {"code": code}, status=404)
    return render(request, "verification/detail.html", {"record": record})


@require_GET
def verify_download(request: HttpRequest, code: str, which: str) -> FileResponse:
    record = verification_get(code)
    if record is None or record.revoked_at:
        raise Http404
    stored = {"document": record.document, "original": record.public_original}.get(which)
    if stored is None:
        raise Http404
    response = FileResponse(file_open(stored), content_type=stored.content_type, as_attachment=True,
                            filename=stored.original_name)
    return response
