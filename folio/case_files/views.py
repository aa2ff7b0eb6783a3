"""Pages of the expediente electrónico (/expedientes/). Thin: parse, call a selector or service, render."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from folio.case_files import archive as archives
from folio.case_files import exports, permissions, selectors, services
from folio.case_files.forms import (
    CaseFileForm,
    CopyDocumentForm,
    NoteForm,
    OtherCaseFileForm,
    PaperForm,
    ReasonForm,
    RegistrationPickForm,
    SearchForm,
    SeriesPackageForm,
    TransferForm,
    UploadForm,
)
from folio.case_files.models import CaseFile
from folio.case_files.retention_selectors import case_file_disposition
from folio.core.http import AuthedHttpRequest, client_ip
from folio.files.services import file_open, read_upload
from folio.registry.selectors import registration_by_folio, registration_get
from folio.registry.views import staff_required


def _form_errors(form: Form, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    field_map = field_map or {}
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            target = field_map.get(key, key)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _get(request: AuthedHttpRequest, pk: int, what: str = "detail") -> CaseFile:
    """Fetch-and-authorise; a miss (absent, or not the user's to see) is a 404 and is recorded."""
    cf = selectors.case_file_get(request.user, pk)
    if cf is None:
        services.case_file_record_denial(actor=request.user, case_file_id=pk, what=what, ip=client_ip(request))
        raise Http404(_("Expediente not found."))
    return cf


@staff_required
def case_file_list(request: AuthedHttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    filters = selectors.CaseFileFilters()
    status = 200
    if request.GET and form.is_valid():
        d = form.cleaned_data
        filters = selectors.CaseFileFilters(q=d["q"] or "", state=d["state"] or "", mine=d["mine"])
    elif request.GET:
        status = 400
    page = Paginator(selectors.case_file_search(request.user, filters), 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "case_files/list.html", {
        "form": form, "page": page, "querystring": query.urlencode(),
        "can_open": permissions.can_open(request.user),
        "series_form": SeriesPackageForm(prefix="series") if permissions.can_export_series(request.user) else None,
    }, status=status)


@staff_required
def case_file_new(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_open(user):
        raise PermissionDenied(_("You cannot open expedientes."))
    reg_id = request.POST.get("registration") or request.GET.get("registro")
    registration = registration_get(user, int(reg_id)) if reg_id and str(reg_id).isdigit() else None
    can_choose_unit = user.has_role(*permissions.REGISTRARS)
    kwargs: dict[str, Any] = {"organization": user.organization, "can_choose_unit": can_choose_unit}
    status = 200
    if request.method == "POST":
        form = CaseFileForm(request.POST, **kwargs)
        if form.is_valid():
            d = form.cleaned_data
            parties = []
            if d["party_name"]:
                parties.append(services.PartyInput(name=d["party_name"], rut=d["party_rut"],
                                                   actor_type=d["party_actor_type"], email=d["party_email"] or ""))
            data = services.CaseFileInput(
                title=d["title"], subject=d["subject"], summary=d["summary"], procedure_code=d["procedure_code"],
                procedure_name=d["procedure_name"], series_code=d["series_code"],
                unit_id=d["unit"].pk if d.get("unit") else None, access_level=d["access_level"],
                sensitive_data=d["sensitive_data"], parties=parties,
            )
            try:
                cf = services.case_file_open(actor=user, data=data,
                                             registration_id=registration.pk if registration else None,
                                             ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc, {"unit_id": "unit", "parties": "party_name", "registration_id": "__all__"})
            else:
                messages.success(request, _("Expediente %(iuie)s opened.") % {"iuie": cf.iuie})
                return redirect("case_files:detail", pk=cf.pk)
        status = 400
    else:
        initial: dict[str, Any] = {"unit": user.unit}
        if registration is not None:
            initial.update(registration=registration.pk, subject=registration.subject,
                           access_level=registration.access_level, sensitive_data=registration.sensitive_data)
        form = CaseFileForm(initial=initial, **kwargs)
    return render(request, "case_files/form.html", {"form": form, "registration": registration}, status=status)


def _detail_context(request: AuthedHttpRequest, cf: CaseFile, **forms: Form) -> dict[str, Any]:
    user = request.user
    org = user.organization
    views = selectors.index_entries_for(user, cf)
    entries = [v.entry for v in views if not v.redacted]
    allowed = services.allowed_actions(cf)
    can_manage = permissions.can_manage(user, cf)
    can_incorporate = permissions.can_incorporate(user, cf) and "incorporate" in allowed
    v = {"version": cf.version}
    timeline, timeline_truncated = selectors.case_file_timeline_tail(cf)
    return {
        "cf": cf,
        "entries": views,
        "total_folios": max((x.entry.last_page for x in views), default=0),
        "parties": list(cf.parties.all()),
        "custody": list(cf.custody.all()),
        "links": selectors.case_file_links(cf),
        "timeline": timeline,
        "timeline_truncated": timeline_truncated,
        "show_restricted": selectors.sees_restricted_metadata(user, cf),
        "can_read_access_log": permissions.can_read_access_log(user, cf),
        "can_read_dispositions": permissions.can_read_dispositions(user),
        "can_incorporate": can_incorporate,
        "can_transfer": can_manage and "transfer" in allowed,
        "can_suspend": can_manage and "suspend" in allowed,
        "can_resume": can_manage and "resume" in allowed,
        "can_close": can_manage and "close" in allowed and bool(views),
        "can_reopen": can_manage and "reopen" in allowed and not cf.accumulated_into_id,
        "can_archive": "archive" in allowed and (can_manage or user.has_role(*permissions.REGISTRARS)),
        "can_link": can_manage and "link" in allowed,
        "can_accumulate": can_manage and "accumulate" in allowed,
        "index_intact": selectors.index_is_intact(cf, [x.entry for x in views]),
        "disposition": case_file_disposition(cf),
        # Only built when shown: each lists every document of the index (a large expediente has thousands).
        "upload_form": forms.get("upload_form") or (UploadForm(entries=entries, initial={
            **v, "access_level": cf.access_level}) if can_incorporate else None),
        "paper_form": forms.get("paper_form") or (PaperForm(entries=entries, initial={
            **v, "access_level": cf.access_level}) if can_incorporate else None),
        "registration_form": forms.get("registration_form") or RegistrationPickForm(initial=v),
        "transfer_form": forms.get("transfer_form") or TransferForm(organization=org, exclude_unit_id=cf.unit_id,
                                                                    initial=v),
        "suspend_form": forms.get("suspend_form") or ReasonForm(initial=v, prefix="suspend"),
        "resume_form": forms.get("resume_form") or NoteForm(initial=v, prefix="resume"),
        "close_form": forms.get("close_form") or NoteForm(initial=v, prefix="close"),
        "archive_form": forms.get("archive_form") or NoteForm(initial=v, prefix="archive"),
        "reopen_form": forms.get("reopen_form") or ReasonForm(initial=v, prefix="reopen"),
        "link_form": forms.get("link_form") or OtherCaseFileForm(prefix="link"),
        "accumulate_form": forms.get("accumulate_form") or OtherCaseFileForm(prefix="accumulate"),
        "copies": selectors.authorized_copies_for(user, cf),
        "can_request_copy": permissions.can_request_copy(user, cf) and bool(views),
        "copy_form": forms.get("copy_form") or CopyDocumentForm(prefix="copy"),
        "can_export_archive": permissions.can_export_archive(user, cf) and cf.state in archives.ARCHIVABLE,
    }


@staff_required
def case_file_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk)
    services.case_file_access_record(actor=request.user, case_file=cf, what="detail", ip=client_ip(request))
    return render(request, "case_files/detail.html", _detail_context(request, cf))


def _action(request: AuthedHttpRequest, cf: CaseFile, form: Form, form_key: str, run: Callable[[dict[str, Any]], Any],
            success: str, field_map: dict[str, str] | None = None) -> HttpResponse:
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc, field_map)
        except services.ConflictError as exc:
            form.add_error(None, exc.message)
            fresh = selectors.case_file_get(request.user, cf.pk) or cf
            ctx = _detail_context(request, fresh, **{form_key: form})
            ctx["action_error"] = exc.message
            return render(request, "case_files/detail.html", ctx, status=409)
        else:
            messages.success(request, success)
            return redirect("case_files:detail", pk=cf.pk)
    return render(request, "case_files/detail.html", _detail_context(request, cf, **{form_key: form}), status=400)


def _entries(request: AuthedHttpRequest, cf: CaseFile) -> list[Any]:
    return [v.entry for v in selectors.index_entries_for(request.user, cf) if not v.redacted]


def _entry_input(d: dict[str, Any], **extra: Any) -> services.EntryInput:
    return services.EntryInput(title=d["title"], document_type=d["document_type"], access_level=d["access_level"],
                               sensitive_data=d["sensitive_data"], keywords=d["keywords"],
                               version_of_id=d["version_of"], **extra)


@staff_required
@require_POST
def incorporate_upload(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "incorporate")
    form = UploadForm(request.POST, request.FILES, entries=_entries(request, cf))

    def run(d: dict[str, Any]) -> Any:
        return services.incorporate_upload(
            actor=request.user, case_file=cf, name=d["file"].name, data=read_upload(d["file"]),
            entry=_entry_input(d, origin=d["origin"]), expected_version=d["version"], ip=client_ip(request))

    return _action(request, cf, form, "upload_form", run, _("Document incorporated."),
                   {"version_of_id": "version_of"})


@staff_required
@require_POST
def incorporate_paper(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "incorporate")
    form = PaperForm(request.POST, entries=_entries(request, cf))

    def run(d: dict[str, Any]) -> Any:
        return services.incorporate_paper_item(
            actor=request.user, case_file=cf, expected_version=d["version"], ip=client_ip(request),
            entry=_entry_input(d, description=d["description"], physical_location=d["physical_location"],
                               pages=d["pages"]))

    return _action(request, cf, form, "paper_form", run, _("Paper item incorporated."),
                   {"version_of_id": "version_of"})


@staff_required
@require_POST
def incorporate_registration(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "incorporate")
    form = RegistrationPickForm(request.POST)

    def run(d: dict[str, Any]) -> Any:
        reg = registration_by_folio(request.user, d["folio"])
        if reg is None:
            raise ValidationError({"folio": [_("The registration does not exist or you cannot see it.")]})
        return services.incorporate_registration(actor=request.user, case_file=cf, registration_id=reg.pk,
                                                 expected_version=d["version"], ip=client_ip(request))

    return _action(request, cf, form, "registration_form", run, _("Registration incorporated."),
                   {"registration_id": "folio"})


@staff_required
@require_POST
def transfer(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "transfer")
    form = TransferForm(request.POST, organization=request.user.organization, exclude_unit_id=cf.unit_id)
    return _action(request, cf, form, "transfer_form", lambda d: services.case_file_transfer(
        actor=request.user, case_file=cf, to_unit_id=d["unit"].pk, note=d["note"], expected_version=d["version"],
        ip=client_ip(request)), _("Expediente transferred."), {"to_unit_id": "unit"})


@staff_required
@require_POST
def suspend(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "suspend")
    form = ReasonForm(request.POST, prefix="suspend")
    return _action(request, cf, form, "suspend_form", lambda d: services.case_file_suspend(
        actor=request.user, case_file=cf, reason=d["reason"], expected_version=d["version"], ip=client_ip(request)),
        _("Expediente suspended."))


@staff_required
@require_POST
def resume(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "resume")
    form = NoteForm(request.POST, prefix="resume")
    return _action(request, cf, form, "resume_form", lambda d: services.case_file_resume(
        actor=request.user, case_file=cf, note=d["note"], expected_version=d["version"], ip=client_ip(request)),
        _("Expediente resumed."))


@staff_required
@require_POST
def close(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "close")
    form = NoteForm(request.POST, prefix="close")
    return _action(request, cf, form, "close_form", lambda d: services.case_file_close(
        actor=request.user, case_file=cf, note=d["note"], expected_version=d["version"], ip=client_ip(request)),
        _("Expediente closed; its index is frozen."))


@staff_required
@require_POST
def reopen(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "reopen")
    form = ReasonForm(request.POST, prefix="reopen")
    return _action(request, cf, form, "reopen_form", lambda d: services.case_file_reopen(
        actor=request.user, case_file=cf, reason=d["reason"], expected_version=d["version"], ip=client_ip(request)),
        _("Expediente reopened."))


@staff_required
@require_POST
def archive(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "archive")
    form = NoteForm(request.POST, prefix="archive")
    return _action(request, cf, form, "archive_form", lambda d: services.case_file_archive(
        actor=request.user, case_file=cf, expected_version=d["version"], ip=client_ip(request)),
        _("Expediente archived."))


def _other_id(request: AuthedHttpRequest, iuie: str) -> int:
    other = selectors.case_files_visible_to(request.user).filter(iuie=iuie.strip().upper()).first()
    if other is None:
        raise ValidationError({"iuie": [_("The other expediente does not exist or you cannot see it.")]})
    return other.pk


@staff_required
@require_POST
def link(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "link")
    form = OtherCaseFileForm(request.POST, prefix="link")
    return _action(request, cf, form, "link_form", lambda d: services.case_file_link(
        actor=request.user, case_file=cf, other_id=_other_id(request, d["iuie"]), note=d["note"],
        ip=client_ip(request)), _("Expedientes linked."), {"other_id": "iuie"})


@staff_required
@require_POST
def accumulate(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "accumulate")
    form = OtherCaseFileForm(request.POST, prefix="accumulate")
    return _action(request, cf, form, "accumulate_form", lambda d: services.case_file_accumulate(
        actor=request.user, case_file=cf, other_id=_other_id(request, d["iuie"]), note=d["note"],
        ip=client_ip(request)), _("Expediente accumulated."), {"other_id": "iuie"})


@staff_required
def entry_download(request: AuthedHttpRequest, pk: int, entry_id: int) -> HttpResponse | FileResponse:
    cf = _get(request, pk, f"document:{entry_id}")
    view = selectors.index_entry_get(request.user, cf, entry_id)
    if view is None:
        raise Http404
    entry = view.entry
    if entry.nested_case_file_id:
        return redirect("case_files:detail", pk=entry.nested_case_file_id)
    if not view.can_open:
        services.case_file_record_denial(actor=request.user, case_file_id=cf.pk, what=f"document:{entry.position}",
                                         ip=client_ip(request))
        raise PermissionDenied(_("You may not read this document."))
    if entry.file is None:
        raise Http404(_("This is a paper item; it has no digital copy."))
    if entry.file.purged_at is not None:
        return HttpResponse(_("This document was eliminated under a final disposition (%(ref)s); its index entry "
                              "and SHA-256 remain.") % {"ref": entry.file.purge_reference},
                            status=410, content_type="text/plain; charset=utf-8")
    services.case_file_access_record(actor=request.user, case_file=cf, entry=entry, what="download",
                                     ip=client_ip(request))
    return FileResponse(file_open(entry.file), content_type=entry.file.content_type,
                        as_attachment=request.GET.get("descargar") == "1", filename=entry.file.original_name)


def _export(request: AuthedHttpRequest, pk: int, kind: str) -> HttpResponse:
    cf = _get(request, pk, f"export:{kind}")
    views = selectors.index_entries_for(request.user, cf)
    services.case_file_access_record(actor=request.user, case_file=cf, what=f"export:{kind}", ip=client_ip(request))
    if kind == "index.xml":
        body, content_type = exports.index_as_xml(cf, views), "application/xml; charset=utf-8"
    elif kind == "index.json":
        body, content_type = exports.index_as_json(cf, views), "application/json; charset=utf-8"
    else:
        data = exports.case_file_metadata(cf, views, parties=list(cf.parties.all()),
                                          links=selectors.case_file_links(cf))
        body, content_type = json.dumps(data, ensure_ascii=False, indent=2).encode(), "application/json; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    stem = "indice" if kind.startswith("index") else "metadatos"
    response["Content-Disposition"] = f'attachment; filename="{cf.iuie}-{stem}.{kind.rsplit(".", 1)[-1]}"'
    return response


@staff_required
def index_json(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, "index.json")


@staff_required
def index_xml(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, "index.xml")


@staff_required
def metadata_json(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, "metadata.json")


@staff_required
def history(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The whole timeline (the expediente's page shows its last events)."""
    cf = _get(request, pk, "history")
    services.case_file_access_record(actor=request.user, case_file=cf, what="history", ip=client_ip(request))
    return render(request, "case_files/history.html", {
        "cf": cf, "timeline": list(selectors.case_file_timeline(cf)),
        "show_restricted": selectors.sees_restricted_metadata(request.user, cf)})


@staff_required
def access_log(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cf = _get(request, pk, "access_log")
    events = selectors.case_file_access_log(request.user, cf)
    if events is None:
        raise PermissionDenied(_("Only auditors, administrators and the responsible unit read the access log."))
    return render(request, "case_files/access_log.html", {"cf": cf, "events": list(events)})


# --- authorized copies and archival packages -------------------------------------------------------------

def _refused(request: AuthedHttpRequest, cf: CaseFile, message: str, status: int, **forms: Form) -> HttpResponse:
    fresh = selectors.case_file_get(request.user, cf.pk) or cf
    ctx = _detail_context(request, fresh, **forms)
    ctx["action_error"] = message
    return render(request, "case_files/detail.html", ctx, status=status)


@staff_required
@require_POST
def copy_request(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Ask for a copia autorizada of the whole expediente; it is built in the background."""
    cf = _get(request, pk, "copy")
    try:
        services.authorized_copy_request(actor=request.user, case_file=cf, ip=client_ip(request))
    except services.ConflictError as exc:
        return _refused(request, cf, exc.message, 409)
    messages.success(request, _("The authorized copy is being prepared; its progress is shown below."))
    return redirect(reverse("case_files:detail", args=[cf.pk]) + "#copias")


@staff_required
@require_POST
def entry_copy(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Ask for a copia autorizada of one document (by its number in the index); it is built at once."""
    cf = _get(request, pk, "copy")
    form = CopyDocumentForm(request.POST, prefix="copy")
    if not form.is_valid():
        return _refused(request, cf, _("Give the number of a document of the index."), 400, copy_form=form)
    view = selectors.index_entry_by_position(request.user, cf, form.cleaned_data["position"])
    if view is None:
        form.add_error("position", _("The index has no document with that number."))
        return _refused(request, cf, _("The index has no document with that number."), 400, copy_form=form)
    try:
        copy = services.authorized_copy_request(actor=request.user, case_file=cf, entry=view.entry,
                                                ip=client_ip(request))
    except ValidationError as exc:
        form.add_error("position", exc.messages)
        return _refused(request, cf, " ".join(exc.messages), 400, copy_form=form)
    messages.success(request, _("Authorized copy %(code)s issued.") % {"code": copy.code})
    return redirect(reverse("case_files:detail", args=[cf.pk]) + "#copias")


@staff_required
def copy_status(request: AuthedHttpRequest, pk: int, copy_id: int) -> HttpResponse:
    """The progress of one copy (polled with htmx while it is being built)."""
    cf = _get(request, pk, "copy")
    copy = selectors.authorized_copy_get(request.user, cf, copy_id)
    if copy is None:
        raise Http404
    return render(request, "case_files/_copy.html", {"cf": cf, "copy": copy})


@staff_required
def copy_download(request: AuthedHttpRequest, pk: int, copy_id: int) -> FileResponse:
    cf = _get(request, pk, "copy")
    copy = selectors.authorized_copy_get(request.user, cf, copy_id)
    if copy is None or copy.file is None:
        raise Http404(_("The copy is not ready."))
    return FileResponse(file_open(copy.file), content_type="application/pdf", as_attachment=True,
                        filename=copy.file.original_name)


def _tar_response(build: Callable[[Path], Path], filename: str) -> StreamingHttpResponse:
    """Build a bag in a scratch directory and stream it as a tar; the directory goes when the response closes."""
    tmp = Path(tempfile.mkdtemp(prefix="folio-bag-"))
    try:
        root = build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    response = StreamingHttpResponse(archives.TarStream(root, cleanup=tmp), content_type="application/x-tar")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@staff_required
def archive_package(request: AuthedHttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    """The BagIt archival package of a closed expediente, streamed as a tar."""
    cf = _get(request, pk, "archive_export")
    try:
        return _tar_response(lambda tmp: services.archive_export(actor=request.user, case_file=cf, target_dir=tmp,
                                                                 ip=client_ip(request)), f"{cf.iuie}-bagit.tar")
    except services.ConflictError as exc:
        return _refused(request, cf, exc.message, 409)


@staff_required
def series_package(request: AuthedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """A bag of bags with the closed expedientes of a series and year, streamed as a tar."""
    if not permissions.can_export_series(request.user):
        raise PermissionDenied(_("Only the Oficina de Partes and administrators export a whole series."))
    form = SeriesPackageForm(request.GET, prefix="series")
    if form.is_valid():
        d = form.cleaned_data
        try:
            return _tar_response(lambda tmp: services.archive_export_series(
                actor=request.user, series_code=d["series"], year=d["year"], target_dir=tmp, ip=client_ip(request)),
                f"{archives.safe_name(d['series'])}-{d['year']}-bagit.tar")
        except ValidationError as exc:
            _form_errors(form, exc, {"series": "series"})
    page = Paginator(selectors.case_file_search(request.user, selectors.CaseFileFilters()), 25).get_page(1)
    return render(request, "case_files/list.html", {
        "form": SearchForm(), "page": page, "querystring": "", "can_open": permissions.can_open(request.user),
        "series_form": form}, status=400)
