from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from folio.core.http import AuthedHttpRequest, client_ip
from folio.files.inspect import render_pdf_page
from folio.files.services import file_open
from folio.registry import exports, permissions, selectors, services
from folio.registry.forms import (
    CloseForm,
    DispatchForm,
    ExportForm,
    IncomingForm,
    OutgoingForm,
    RerouteForm,
    RouteForm,
    SearchForm,
    VoidForm,
)
from folio.registry.models import Book, DocumentRole, Registration
from folio.registry.receipts import receipt_get_or_create


def staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @login_required
    def wrapped(request: AuthedHttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.organization_id:
            raise PermissionDenied(_("This area is for municipal staff."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _form_errors(form: Form, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    field_map = field_map or {}
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            target = field_map.get(key, key)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _get_registration(request: AuthedHttpRequest, pk: int) -> Registration:
    reg = selectors.registration_get(request.user, pk)
    if reg is None:
        raise Http404(_("Registration not found."))
    return reg


def _uploads(files: list[Any]) -> list[services.UploadedDoc]:
    docs = []
    for index, upload in enumerate(files):
        docs.append(services.UploadedDoc(
            name=upload.name, data=services_read(upload),
            role=DocumentRole.MAIN if index == 0 else DocumentRole.ATTACHMENT,
        ))
    return docs


def services_read(upload: Any) -> bytes:
    """Read an upload; one over the size limit is a form error on the files, not a server error."""
    from folio.files.services import FileRejected, read_upload

    try:
        return read_upload(upload)
    except FileRejected as exc:
        raise ValidationError({"documents": [f"{upload.name}: {exc.message}"]}) from None


@staff_required
def registration_list(request: AuthedHttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None, organization=request.user.organization)
    filters = selectors.SearchFilters()
    status = 200
    if request.GET:
        if form.is_valid():
            d = form.cleaned_data
            filters = selectors.SearchFilters(
                q=d["q"] or "", book=d["book"] or "", status=d["status"] or "", document_type=d["document_type"],
                unit_id=d["unit"].pk if d["unit"] else None, date_from=d["date_from"], date_to=d["date_to"],
                party=d["party"] or "", folio=d["folio"] or "",
            )
        else:
            status = 400
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    page = selectors.registration_search(request.user, filters, page=page_number) if status == 200 else None
    query = request.GET.copy()
    query.pop("page", None)
    template = "registry/_results.html" if request.htmx else "registry/list.html"
    return render(request, template, {"form": form, "page": page, "querystring": query.urlencode()}, status=status)


def _new_registration(request: AuthedHttpRequest, *, outgoing: bool) -> HttpResponse:
    org = request.user.organization
    FormClass = OutgoingForm if outgoing else IncomingForm
    answers = None
    if outgoing:
        if not permissions.can_register_outgoing(request.user):
            raise PermissionDenied(_("You cannot register outgoing correspondence."))
        answers_id = request.GET.get("responde") or request.POST.get("answers")
        if answers_id and str(answers_id).isdigit():
            answers = selectors.registration_get(request.user, int(answers_id))
    elif not permissions.can_register(request.user):
        raise PermissionDenied(_("Only the Oficina de Partes can register incoming correspondence."))
    initial: dict[str, Any] = {"submission_token": uuid.uuid4().hex}
    if outgoing:
        initial["unit"] = request.user.unit
        if answers is not None:
            initial.update(answers=answers.pk, subject=f"Responde {answers.folio}: {answers.subject}"[:500],
                           party_kind=answers.party_kind, party_name=answers.party_name,
                           party_rut=answers.party_rut, party_email=answers.party_email,
                           party_address=answers.party_address, access_level=answers.access_level)
    if request.method == "POST":
        form = FormClass(request.POST, request.FILES, organization=org)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            data = services.RegistrationInput(
                document_type=d["document_type"], subject=d["subject"], summary=d["summary"],
                party_kind=d["party_kind"], party_name=d["party_name"], party_rut=d["party_rut"],
                party_body_code=d["party_body_code"], party_email=d["party_email"],
                party_address=d["party_address"], access_level=d["access_level"],
                sensitive_data=d["sensitive_data"], keywords=d["keywords"],
                submission_token=d["submission_token"] or None,
            )
            try:
                data.documents = _uploads(d["files"])
                if outgoing:
                    data.unit_id = d["unit"].pk
                    data.answers_id = answers.pk if answers else None
                    data.delivery_method = d["delivery_method"]
                    reg = services.registration_create_outgoing(actor=request.user, data=data, ip=client_ip(request))
                else:
                    data.addressee = d["addressee"]
                    data.unit_id = d["unit"].pk if d["unit"] else None
                    data.document_date = d["document_date"]
                    data.received_at = d["received_at"]
                    data.mechanism = d["mechanism"]
                    data.pages = d["pages"]
                    data.channel = "paper" if d["mechanism"] != 2 else "electronic"
                    reg = services.registration_create_incoming(actor=request.user, data=data, ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc, {"answers_id": "answers", "unit_id": "unit", "documents": "files"})
            except services.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                if reg.duplicate_submission:
                    form.add_error(None, services.duplicate_submission_message(reg))
                    status = 409
                else:
                    messages.success(request, _("Registered with folio %(folio)s.") % {"folio": reg.folio})
                    return redirect("registry:detail", pk=reg.pk)
    else:
        form = FormClass(initial=initial, organization=org)
        status = 200
    return render(request, "registry/form.html", {"form": form, "outgoing": outgoing, "answers": answers},
                  status=status)


@staff_required
def registration_new_incoming(request: AuthedHttpRequest) -> HttpResponse:
    return _new_registration(request, outgoing=False)


@staff_required
def registration_new_outgoing(request: AuthedHttpRequest) -> HttpResponse:
    return _new_registration(request, outgoing=True)


def _detail_context(request: AuthedHttpRequest, reg: Registration, **forms: Form) -> dict[str, Any]:
    from folio.audit.selectors import events_for_object

    user = request.user
    org = user.organization
    can_route = permissions.can_route(user, reg)
    ctx: dict[str, Any] = {
        "reg": reg,
        "documents": [d for d in reg.documents.all() if d.role != DocumentRole.RECEIPT],
        "routings": sorted(reg.routings.all(), key=lambda r: r.pk),
        "timeline": list(events_for_object(object_type="registry.registration", object_id=reg.pk)),
        "can_route": can_route,
        "can_close": permissions.can_close(user, reg),
        "can_void": permissions.can_void(user, reg),
        "can_dispatch": permissions.can_dispatch(user, reg),
        "can_answer": reg.is_incoming and reg.is_open and permissions.can_register_outgoing(user),
        "my_open_routings": list(permissions.open_routings_for_user(user, reg)),
        "ack_ids": {r.pk for r in reg.routings.all() if permissions.can_acknowledge(user, r)},
        "route_form": forms.get("route_form") or RouteForm(organization=org, initial={"version": reg.version}),
        "reroute_form": forms.get("reroute_form") or RerouteForm(organization=org),
        "close_form": forms.get("close_form") or CloseForm(responses=reg.responses.all(),
                                                           initial={"version": reg.version}),
        "void_form": forms.get("void_form") or VoidForm(initial={"version": reg.version}),
        "dispatch_form": forms.get("dispatch_form") or DispatchForm(initial={"method": reg.delivery_method}),
        "today": selectors.org_today(org),
    }
    return ctx


@staff_required
def registration_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    reg = _get_registration(request, pk)
    services.registration_access_record(actor=request.user, registration=reg, what="detail", ip=client_ip(request))
    return render(request, "registry/detail.html", _detail_context(request, reg))


def _action(request: AuthedHttpRequest, reg: Registration, form: Form, form_key: str,
            run: Callable[[dict[str, Any]], Any], success: str) -> HttpResponse:
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc, {"to_unit_ids": "units", "reason": "reason", "response_id": "response",
                                     "documents": "evidence"})
        except services.ConflictError as exc:
            form.add_error(None, exc.message)
            return render(request, "registry/detail.html",
                          _detail_context(request, _get_registration(request, reg.pk), **{form_key: form}), status=409)
        else:
            messages.success(request, success)
            return redirect("registry:detail", pk=reg.pk)
    return render(request, "registry/detail.html", _detail_context(request, reg, **{form_key: form}), status=400)


@staff_required
@require_POST
def registration_route(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    reg = _get_registration(request, pk)
    form = RouteForm(request.POST, organization=request.user.organization)
    return _action(request, reg, form, "route_form", lambda d: services.registration_route(
        actor=request.user, registration=reg, to_unit_ids=[u.pk for u in d["units"]], instruction=d["instruction"],
        business_days=d["business_days"], note=d["note"], expected_version=d["version"], ip=client_ip(request),
    ), _("Routed."))


@staff_required
@require_POST
def registration_close(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    reg = _get_registration(request, pk)
    form = CloseForm(request.POST, responses=reg.responses.all())
    return _action(request, reg, form, "close_form", lambda d: services.registration_close(
        actor=request.user, registration=reg, note=d["note"], response_id=d["response"],
        expected_version=d["version"], ip=client_ip(request),
    ), _("Registration closed."))


@staff_required
@require_POST
def registration_void(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    reg = _get_registration(request, pk)
    form = VoidForm(request.POST)
    return _action(request, reg, form, "void_form", lambda d: services.registration_void(
        actor=request.user, registration=reg, reason=d["reason"], expected_version=d["version"],
        ip=client_ip(request),
    ), _("Registration voided; its number stays in the book."))


@staff_required
@require_POST
def registration_dispatch(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    reg = _get_registration(request, pk)
    form = DispatchForm(request.POST, request.FILES)

    def run(d: dict[str, Any]) -> Any:
        evidence = None
        if d["evidence"]:
            evidence = services.UploadedDoc(name=d["evidence"].name, data=services_read(d["evidence"]),
                                            role=DocumentRole.DELIVERY_EVIDENCE)
        return services.registration_dispatch(actor=request.user, registration=reg, method=d["method"],
                                              reference=d["reference"], evidence=evidence, ip=client_ip(request))

    return _action(request, reg, form, "dispatch_form", run, _("Dispatch recorded."))


@staff_required
@require_POST
def routing_acknowledge(request: AuthedHttpRequest, routing_id: int) -> HttpResponse:
    routing = selectors.routing_get(request.user, routing_id)
    if routing is None:
        raise Http404
    try:
        services.routing_acknowledge(actor=request.user, routing=routing, ip=client_ip(request))
    except services.ConflictError as exc:
        messages.warning(request, exc.message)
        return redirect("registry:detail", pk=routing.registration_id)
    messages.success(request, _("Receipt acknowledged."))
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("registry:detail", pk=routing.registration_id)


@staff_required
@require_POST
def routing_reroute(request: AuthedHttpRequest, routing_id: int) -> HttpResponse:
    routing = selectors.routing_get(request.user, routing_id)
    if routing is None:
        raise Http404
    reg = _get_registration(request, routing.registration_id)
    form = RerouteForm(request.POST, organization=request.user.organization)
    return _action(request, reg, form, "reroute_form", lambda d: services.routing_reroute(
        actor=request.user, routing=routing, to_unit_id=d["unit"].pk, instruction=d["instruction"],
        business_days=d["business_days"], note=d["note"], ip=client_ip(request),
    ), _("Re-routed."))


@staff_required
def registration_receipt(request: AuthedHttpRequest, pk: int) -> FileResponse:
    reg = _get_registration(request, pk)
    stored = receipt_get_or_create(reg)
    return FileResponse(file_open(stored), content_type="application/pdf", as_attachment=False,
                        filename=f"comprobante-{reg.folio}.pdf")


def _document(request: AuthedHttpRequest, pk: int, doc_id: int) -> tuple[Registration, Any]:
    reg = _get_registration(request, pk)
    doc = next((d for d in reg.documents.all() if d.pk == doc_id), None)
    if doc is None:
        raise Http404
    return reg, doc


@staff_required
def document_download(request: AuthedHttpRequest, pk: int, doc_id: int) -> FileResponse:
    reg, doc = _document(request, pk, doc_id)
    services.registration_access_record(actor=request.user, registration=reg, what=f"download:{doc.file.sha256}",
                                        ip=client_ip(request))
    return FileResponse(file_open(doc.file), content_type=doc.file.content_type,
                        as_attachment=request.GET.get("descargar") == "1", filename=doc.file.original_name)


@staff_required
def document_preview(request: AuthedHttpRequest, pk: int, doc_id: int) -> HttpResponse:
    """A PNG of one page, so a clerk can look at a scan without downloading it."""
    reg, doc = _document(request, pk, doc_id)
    if not (doc.file.is_pdf or doc.file.is_image):
        raise Http404
    try:
        page_no = max(0, int(request.GET.get("pagina", "1")) - 1)
    except ValueError:
        page_no = 0
    services.registration_access_record(actor=request.user, registration=reg, what=f"preview:{doc.file.sha256}",
                                        ip=client_ip(request))
    with file_open(doc.file) as fh:
        data = fh.read()
    out = io.BytesIO()
    if doc.file.is_pdf:
        image = render_pdf_page(data, page_no, scale=1.2)
        if image is None:
            raise Http404
    else:
        from PIL import Image

        image = Image.open(io.BytesIO(data))
        image.seek(min(page_no, getattr(image, "n_frames", 1) - 1))
        image = image.convert("RGB")
        image.thumbnail((1200, 1600))
    image.save(out, "PNG", optimize=False)
    response = HttpResponse(out.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@staff_required
def inbox(request: AuthedHttpRequest) -> HttpResponse:
    state = request.GET.get("estado", "open")
    if state not in ("open", "overdue", "done"):
        state = "open"
    page = selectors.inbox_routings(request.user, state=state, limit=100)
    return render(request, "registry/inbox.html", {"inbox": page, "state": state})


@staff_required
def export(request: AuthedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = ExportForm(request.GET or None)
    if not request.GET:
        return render(request, "registry/export.html", {"form": form})
    if not form.is_valid():
        return render(request, "registry/export.html", {"form": form}, status=400)
    d = form.cleaned_data
    qs = selectors.registrations_for_export(request.user, book=d["book"], date_from=d["date_from"],
                                            date_to=d["date_to"])
    book = "ingreso" if d["book"] == Book.INCOMING else "despacho"
    name = f"libro-{book}-{d['date_from']:%Y%m%d}-{d['date_to']:%Y%m%d}"
    if d["format"] == "csv":
        stream = StreamingHttpResponse(exports.csv_stream(qs.iterator(chunk_size=2000)),
                                       content_type="text/csv; charset=utf-8")
        stream["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return stream
    data = exports.xlsx_bytes(qs.iterator(chunk_size=2000), title=name)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
