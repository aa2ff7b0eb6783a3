from __future__ import annotations

import hashlib

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from folio.files.services import FileRejected, file_open, read_upload
from folio.signatures.forms import SignedPdfForm
from folio.signatures.services import DocumentRejected, validate_pdf
from folio.verification.forms import VerifyCodeForm
from folio.verification.selectors import verification_by_sha256, verification_get
from folio.verification.services import normalize_code


def verify_index(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _verify_upload(request)
    form = VerifyCodeForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect("verification:detail", code=normalize_code(form.cleaned_data["code"]))
    typed = (request.GET.get("code") or "").strip()
    if typed and len(typed) <= 64:
        # A code that cannot exist is answered like an unknown one: "not found", never a bare form error.
        return render(request, "verification/not_found.html", {"code": typed}, status=404)
    status = 400 if request.GET and not form.is_valid() else 200
    return render(request, "verification/index.html", {"form": form, "upload_form": SignedPdfForm()}, status=status)


def _verify_upload(request: HttpRequest) -> HttpResponse:
    """A signed PDF uploaded to /verificar/: validated (integrity, signatures, chain), never stored."""
    upload_form = SignedPdfForm(request.POST, request.FILES)
    if upload_form.is_valid():
        upload = upload_form.cleaned_data["file"]
        try:
            data = read_upload(upload)
            report = validate_pdf(pdf=data, organization=None)
        except (FileRejected, DocumentRejected) as exc:
            upload_form.add_error("file", exc.message)
        else:
            digest = hashlib.sha256(data).hexdigest()
            record = verification_by_sha256(digest)
            return render(request, "verification/signature_report.html", {
                "report": report, "filename": upload.name, "sha256": digest, "record": record})
    context = {"form": VerifyCodeForm(), "upload_form": upload_form}
    return render(request, "verification/index.html", context, status=400)


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
