"""Pages of online applications: the citizen's (start, /mis-tramites/) and the staff's (/solicitudes/: inbox,
detail with the stage actions, reports, counter filing). Thin: parse, call a selector or service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from folio.applications import forms as app_forms
from folio.applications import permissions as perms
from folio.applications import selectors, services
from folio.applications.definitions import fields_of, stage_at, stage_count
from folio.applications.formengine import AttachmentField, answer_rows, build_form
from folio.applications.models import (
    TERMINAL_STATES,
    Application,
    ApplicationState,
    AttachmentKind,
    FormDefinition,
    ReportStatus,
)
from folio.case_files import services as cf_services
from folio.case_files.models import IndexEntry
from folio.core.http import AuthedHttpRequest, client_ip
from folio.files.services import file_open

# State -> badge class of folio.css (the colours the registry and expedientes already use).
BADGES: dict[str, str] = {
    ApplicationState.DRAFT: "draft", ApplicationState.SUBMITTED: "registered",
    ApplicationState.IN_PROGRESS: "in_progress", ApplicationState.CORRECTION_REQUESTED: "pending",
    ApplicationState.APPROVED: "completed", ApplicationState.REJECTED: "cancelled",
    ApplicationState.WITHDRAWN: "voided", ApplicationState.ABANDONED: "archived",
}


def citizen_login_url(request: HttpRequest, organization: Any | None = None) -> str:
    """Where an anonymous citizen signs in: ClaveÚnica (for the municipality, when known), else the staff login;
    both come back to this page."""
    params = {"next": request.get_full_path()}
    try:
        base = reverse("claveunica:login")
        if organization is not None:
            params = {"municipalidad": organization.slug, **params}
    except NoReverseMatch:
        base = reverse(settings.LOGIN_URL)
    return f"{base}?{urlencode(params)}"


def _no_run(request: HttpRequest) -> HttpResponse:
    return render(request, "applications/no_run.html", status=403)


def citizen_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The citizen portal: anonymous → ClaveÚnica; staff → their inbox; an account without RUN → 403."""
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect(citizen_login_url(request))
        if user.organization_id:
            messages.info(request, _("“My applications” is the citizens' portal; municipal staff work on "
                                     "applications from the inbox."))
            return redirect("applications:inbox")
        if not perms.is_citizen(user):
            return _no_run(request)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _staff(view: Callable[..., HttpResponseBase], *, inbox_role: bool) -> Callable[..., HttpResponseBase]:
    @login_required
    def wrapped(request: AuthedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.organization_id:
            raise PermissionDenied(_("This area is for municipal staff."))
        if inbox_role and not perms.can_use_inbox(request.user):
            raise PermissionDenied(_("Your role does not work on citizens' applications."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Municipal staff whose role works on applications (inbox roles); anyone else gets 403."""
    return _staff(view, inbox_role=True)


def counter_staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Municipal staff; the counter views check who may file for which procedure."""
    return _staff(view, inbox_role=False)


def _form_errors(form: Form, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        target = field_map.get(key, key)
        if target in form.fields:
            if not form.errors.get(target):
                form.add_error(target, errors)
        else:
            form.add_error(None, errors)


def _version(form: Form) -> int | None:
    value = form.cleaned_data.get("version")
    return int(value) if value is not None else None


# --- the application form ----------------------------------------------------------------------------------------

def _initial(application: Application | None, attachments: dict[str, Any]) -> dict[str, Any]:
    initial: dict[str, Any] = dict(application.data) if application else {}
    for key, attachment in attachments.items():
        initial[key] = attachment.file.original_name  # a file on record: the input is not "required" in HTML
    return initial


def _bound_form(definition: FormDefinition, request: HttpRequest, *, partial: bool, initial: dict[str, Any],
                present: set[str]) -> Any:
    form = build_form(definition, data=request.POST, files=request.FILES, partial=partial, initial=initial)
    for key in present:
        if key in form.fields and isinstance(form.fields[key], AttachmentField):
            form.fields[key].required = False
    form.is_valid()
    return form


def start(request: HttpRequest, org_slug: str, procedure_slug: str) -> HttpResponse:
    """Iniciar en línea: the form of the procedure's published definition; "guardar borrador" or "enviar"."""
    target = selectors.start_target(org_slug, procedure_slug)
    if target is None:
        raise Http404(_("This procedure cannot be started online."))
    organization, procedure, definition = target
    user = request.user
    if not user.is_authenticated:
        return redirect(citizen_login_url(request, organization))
    if user.organization_id or user.is_staff or user.is_superuser:
        if user.organization_id == organization.pk and any(
                d.pk == definition.pk for _p, d in selectors.counter_procedures(user)):
            messages.info(request, _("Staff file applications on a citizen's behalf with the counter form."))
            return redirect("applications:counter_new", definition_id=definition.pk)
        messages.info(request, _("Online applications are filed by citizens signed in with ClaveÚnica."))
        return redirect("home")
    if not perms.is_citizen(user):
        return _no_run(request)
    draft = selectors.draft_for(user, definition)
    attachments = selectors.form_attachments(draft)
    initial = _initial(draft, attachments)
    status = 200
    if request.method == "POST":
        action = request.POST.get("accion")
        if action not in ("guardar", "enviar"):
            return HttpResponse(_("Choose whether to save the draft or to submit."), status=400)
        ip = client_ip(request)
        try:
            if action == "guardar":
                services.application_save_draft(actor=user, definition=definition, data=request.POST,
                                                files=request.FILES, application=draft, ip=ip)
                messages.success(request, _("Draft saved. You can come back to it from “My applications”."))
                return redirect("applications:start", org_slug=org_slug, procedure_slug=procedure_slug)
            app = services.application_submit(actor=user, definition=definition, data=request.POST,
                                              files=request.FILES, application=draft, ip=ip)
            messages.success(request, _("Application submitted with number %(number)s. Your filing certificate is "
                                        "ready to download.") % {"number": app.number})
            return redirect("applications:mine_detail", pk=app.pk)
        except ValidationError as exc:
            form = _bound_form(definition, request, partial=action == "guardar", initial=initial,
                               present=set(attachments))
            _form_errors(form, exc)
            status = 400
        except services.ConflictError as exc:
            form = _bound_form(definition, request, partial=True, initial=initial, present=set(attachments))
            form.add_error(None, exc.message)
            status = 409
    else:
        form = build_form(definition, initial=initial)
    return render(request, "applications/start.html", {
        "organization": organization, "procedure": procedure, "definition": definition, "form": form,
        "form_rows": _form_rows(form, attachments), "draft": draft, "first_stage": _first_stage(definition)},
        status=status)


def _form_rows(form: Any, attachments: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """Each field of the form with the file already on record for it (file fields of a draft)."""
    return [(entry, attachments.get(entry["spec"]["key"])) for entry in form.entries()]


def _first_stage(definition: Any) -> dict[str, Any] | None:
    try:
        return stage_at(definition, 0)
    except IndexError:
        return None


# --- citizen portal ------------------------------------------------------------------------------------------------

@citizen_required
def mine(request: AuthedHttpRequest) -> HttpResponse:
    try:
        page = max(1, int(request.GET.get("pagina", "1")))
    except ValueError:
        page = 1
    filed, more = selectors.applications_for_citizen(request.user, page=page)
    pending = selectors.citizen_pending(request.user) if page == 1 else []
    # Rows are decorated here, not in the template: a citizen with many applications must not cost a URL
    # resolution and a rebuilt choices dict per row (mine_detail is "<mine>/<pk>/").
    base = reverse("applications:mine")
    labels = {s.value: str(s.label) for s in ApplicationState}
    for app in (*filed, *pending):
        app.badge = BADGES.get(app.state, "draft")  # type: ignore[attr-defined]
        app.url = f"{base}{app.pk}/"  # type: ignore[attr-defined]
        app.state_label = labels.get(app.state, app.state)  # type: ignore[attr-defined]
    return render(request, "applications/mine.html", {
        "drafts": [a for a in pending if a.state == ApplicationState.DRAFT],
        "corrections": [a for a in pending if a.state == ApplicationState.CORRECTION_REQUESTED],
        "filed": filed, "page": page, "more": more})


def _citizen_app(request: AuthedHttpRequest, pk: int) -> Application:
    app = selectors.application_for_citizen(request.user, pk)
    if app is None:
        raise Http404(_("Application not found."))
    return app


def _mine_context(request: AuthedHttpRequest, app: Application, **forms: Form) -> dict[str, Any]:
    correction = selectors.open_correction(app) if app.state == ApplicationState.CORRECTION_REQUESTED else None
    stage = None
    if app.state not in TERMINAL_STATES and app.state != ApplicationState.DRAFT:
        try:
            stage = stage_at(app.definition, app.stage_index)
        except IndexError:
            stage = None
    return {
        "app": app, "badge": BADGES.get(app.state, "draft"), "rows": answer_rows(app.definition, app.data),
        "documents": selectors.citizen_documents(app), "events": selectors.citizen_timeline(app),
        "correction": correction, "stage": stage, "stages": stage_count(app.definition),
        "answer_form": forms.get("answer_form") or app_forms.CorrectionAnswerForm(),
        "withdraw_form": forms.get("withdraw_form") or app_forms.WithdrawForm(),
        "can_withdraw": "withdraw" in services.allowed_actions(app),
        "is_draft": app.state == ApplicationState.DRAFT,
        "draft_open": app.state == ApplicationState.DRAFT and app.definition.state == "published",
    }


@citizen_required
def mine_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    app = _citizen_app(request, pk)
    return render(request, "applications/mine_detail.html", _mine_context(request, app))


@citizen_required
def mine_certificate(request: AuthedHttpRequest, pk: int) -> FileResponse:
    app = _citizen_app(request, pk)
    record = app.certificate
    if record is None or record.document is None:
        raise Http404(_("This application has no certificate yet."))
    return FileResponse(file_open(record.document), content_type="application/pdf", as_attachment=True,
                        filename=f"certificado-{app.number}.pdf")


def _entry_response(entry: IndexEntry) -> FileResponse:
    stored = entry.file
    if stored is None or stored.purged_at is not None:
        raise Http404(_("This document has no file to download."))
    return FileResponse(file_open(stored), content_type=stored.content_type, as_attachment=True,
                        filename=stored.original_name)


@citizen_required
def mine_document(request: AuthedHttpRequest, pk: int, entry_id: int) -> FileResponse:
    app = _citizen_app(request, pk)
    entry = selectors.citizen_document(app, entry_id)
    if entry is None:
        raise Http404(_("Document not found."))
    assert app.case_file is not None
    cf_services.case_file_access_record(actor=request.user, case_file=app.case_file, what="applicant:download",
                                        entry=entry, ip=client_ip(request))
    return _entry_response(entry)


@citizen_required
@require_POST
def mine_answer(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    app = _citizen_app(request, pk)
    form = app_forms.CorrectionAnswerForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            services.application_answer_correction(actor=request.user, application=app,
                                                   text=form.cleaned_data["text"],
                                                   files=form.cleaned_data["attachments"],
                                                   ip=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc, {"files": "attachments"})
        except services.ConflictError as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, _("Your correction was received and added to your application."))
            return redirect("applications:mine_detail", pk=app.pk)
    app = _citizen_app(request, pk)
    return render(request, "applications/mine_detail.html", _mine_context(request, app, answer_form=form),
                  status=status)


@citizen_required
@require_POST
def mine_withdraw(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    app = _citizen_app(request, pk)
    form = app_forms.WithdrawForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.application_withdraw(actor=request.user, application=app, reason=form.cleaned_data["reason"],
                                          ip=client_ip(request))
        except services.ConflictError as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, _("Your application was withdrawn."))
            return redirect("applications:mine_detail", pk=app.pk)
    return render(request, "applications/mine_detail.html", _mine_context(request, app, withdraw_form=form),
                  status=status)


@citizen_required
@require_POST
def mine_discard(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    app = _citizen_app(request, pk)
    try:
        services.application_discard_draft(actor=request.user, application=app, ip=client_ip(request))
    except services.ConflictError as exc:
        messages.error(request, exc.message)
        return redirect("applications:mine_detail", pk=app.pk)
    messages.success(request, _("Draft discarded."))
    return redirect("applications:mine")


# --- staff ---------------------------------------------------------------------------------------------------------

@staff_required
def inbox(request: AuthedHttpRequest) -> HttpResponse:
    procedures = selectors.procedures_with_applications(request.user)
    form = app_forms.InboxFilterForm(request.GET or None, procedures=procedures)
    filters = selectors.InboxFilters()
    status = 200
    if request.GET:
        if form.is_valid():
            d = form.cleaned_data
            filters = selectors.InboxFilters(state=d["estado"] or "open", procedure_id=d["tramite"],
                                             overdue=bool(d["vencidas"]))
        else:
            status = 400
    try:
        page_number = max(1, int(request.GET.get("pagina", "1")))
    except ValueError:
        page_number = 1
    page = selectors.inbox(request.user, filters, page=page_number)
    base = reverse("applications:inbox")  # detail is "<inbox>/<pk>/": no URL resolution per row
    labels = {s.value: str(s.label) for s in ApplicationState}
    for app in page.applications:
        app.badge = BADGES.get(app.state, "draft")  # type: ignore[attr-defined]
        app.url = f"{base}{app.pk}/"  # type: ignore[attr-defined]
        app.state_label = labels.get(app.state, app.state)  # type: ignore[attr-defined]
        app.overdue = bool(app.due_date and app.due_date < page.today  # type: ignore[attr-defined]
                           and app.state in selectors.RUNNING_STATES)
    query = request.GET.copy()
    query.pop("pagina", None)
    return render(request, "applications/inbox.html", {
        "form": form, "page": page, "querystring": query.urlencode(),
        "can_counter": perms.can_file_at_counter(request.user, request.user.organization_id, request.user.unit_id),
    }, status=status)


def _staff_app(request: AuthedHttpRequest, pk: int) -> Application:
    app = selectors.application_get(request.user, pk)
    if app is None:
        raise Http404(_("Application not found."))
    return app


ACTIONS: dict[str, tuple[str, type[Form]]] = {
    "aprobar": ("approve", app_forms.ApproveForm),
    "rechazar": ("reject", app_forms.RejectForm),
    "subsanacion": ("request_correction", app_forms.CorrectionRequestForm),
    "informe": ("request_report", app_forms.ReportRequestForm),
    "resolver": ("resolve", app_forms.ResolveForm),
}


def _action_form(action: str, app: Application, data: Any = None, files: Any = None) -> Form:
    form_class = {v[0]: v[1] for v in ACTIONS.values()}[action]
    initial = {"version": app.version}
    if form_class is app_forms.ReportRequestForm:
        return app_forms.ReportRequestForm(data, files, initial=initial, organization_id=app.organization_id,
                                           exclude_unit_id=app.unit_id, prefix=action)
    return form_class(data, files, initial=initial, prefix=action)


def _detail_context(request: AuthedHttpRequest, app: Application, bound: dict[str, Form] | None = None
                    ) -> dict[str, Any]:
    from folio.case_files.selectors import case_file_get

    user = request.user
    bound = bound or {}
    can_act = perms.can_act(user, app)
    actions = services.stage_actions(app) if can_act else []
    stage = None
    if app.state not in TERMINAL_STATES:
        try:
            stage = stage_at(app.definition, app.stage_index)
        except IndexError:
            stage = None
    labels = {f["key"]: f.get("label") or f["key"] for f in fields_of(app.definition)}
    attachments = list(app.attachments.select_related("file", "entry").order_by("id"))
    for a in attachments:
        a.label = labels.get(a.field_key, a.field_key) if a.kind == AttachmentKind.FORM else _(  # type: ignore
            "Correction")
    reports = list(app.reports.select_related("unit", "requested_by", "answered_by", "answer_entry", "file_entry"))
    for r in reports:
        r.can_answer = r.status == ReportStatus.PENDING and perms.can_answer_report(user, r)  # type: ignore
        r.can_cancel = r.status == ReportStatus.PENDING and can_act  # type: ignore
    return {
        "app": app, "badge": BADGES.get(app.state, "draft"), "rows": answer_rows(app.definition, app.data),
        "attachments": attachments, "stage": stage, "stages": stage_count(app.definition),
        "case_file_visible": bool(app.case_file_id and case_file_get(user, app.case_file_id)),
        "events": selectors.application_timeline(app), "event_template": "applications/_event.html",
        "corrections": list(app.corrections.select_related("requested_by", "request_entry", "answer_entry")),
        "reports": reports, "notifications": list(app.notifications.all()),
        "action_forms": [(a, bound.get(a) or _action_form(a, app)) for a in actions],
        "can_act": can_act, "today": selectors_today(user),
    }


def selectors_today(user: Any) -> Any:
    from folio.registry.selectors import org_today

    return org_today(user.organization)


@staff_required
def detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    app = _staff_app(request, pk)
    return render(request, "applications/detail.html", _detail_context(request, app))


@staff_required
@require_POST
def act(request: AuthedHttpRequest, pk: int, accion: str) -> HttpResponse:
    if accion not in ACTIONS:
        raise Http404
    app = _staff_app(request, pk)
    action, _form_class = ACTIONS[accion]
    form = _action_form(action, app, request.POST, request.FILES)
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        ip, version = client_ip(request), _version(form)
        try:
            if action == "approve":
                services.application_approve(actor=request.user, application=app, note=d["note"],
                                             expected_version=version, ip=ip)
                done = _("The application passed to the next stage.")
            elif action == "reject":
                services.application_reject(actor=request.user, application=app, reasons=d["reasons"],
                                            expected_version=version, ip=ip)
                done = _("The application was rejected and the applicant notified.")
            elif action == "request_correction":
                services.application_request_correction(actor=request.user, application=app, message=d["message"],
                                                        expected_version=version, ip=ip)
                done = _("Correction requested; the applicant was notified.")
            elif action == "request_report":
                services.application_request_report(actor=request.user, application=app, unit_id=d["unit"].pk,
                                                    question=d["question"], days=d["days"],
                                                    expected_version=version, ip=ip)
                done = _("Report requested.")
            else:
                services.application_resolve(actor=request.user, application=app, outcome=d["outcome"],
                                             text=d["text"], signed_pdf=d.get("signed_pdf"),
                                             expected_version=version, ip=ip)
                done = _("The application was resolved and the applicant notified.")
        except ValidationError as exc:
            _form_errors(form, exc, {"unit_id": "unit"})
        except services.ConflictError as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, done)
            return redirect("applications:detail", pk=app.pk)
    app = _staff_app(request, pk)
    ctx = _detail_context(request, app, {action: form})
    if action not in dict(ctx["action_forms"]):
        ctx["refused_form"] = (action, form)
    return render(request, "applications/detail.html", ctx, status=status)


@staff_required
def staff_document(request: AuthedHttpRequest, pk: int, entry_id: int) -> FileResponse:
    """A document the application brought into its expediente, for staff who may read the application (the units
    asked for a report included); every read is in the expediente's access log."""
    app = _staff_app(request, pk)
    entry = selectors.application_document(app, entry_id)
    if entry is None or app.case_file is None:
        raise Http404(_("Document not found."))
    cf_services.case_file_access_record(actor=request.user, case_file=app.case_file, what="application:download",
                                        entry=entry, ip=client_ip(request))
    return _entry_response(entry)


@staff_required
def staff_certificate(request: AuthedHttpRequest, pk: int) -> FileResponse:
    app = _staff_app(request, pk)
    record = app.certificate
    if record is None or record.document is None:
        raise Http404(_("This application has no certificate yet."))
    return FileResponse(file_open(record.document), content_type="application/pdf", as_attachment=True,
                        filename=f"certificado-{app.number}.pdf")


@staff_required
def report_answer(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(request.user, pk)
    if report is None:
        raise Http404(_("Report request not found."))
    if not perms.can_answer_report(request.user, report):
        raise PermissionDenied(_("Only the unit asked can answer this report."))
    status = 200
    if request.method == "POST":
        form = app_forms.ReportAnswerForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            try:
                services.application_answer_report(actor=request.user, report=report, text=form.cleaned_data["text"],
                                                   file=form.cleaned_data["file"], expected_version=_version(form),
                                                   ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            except services.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Report sent; it is now in the expediente."))
                return redirect("applications:inbox")
    else:
        form = app_forms.ReportAnswerForm(initial={"version": report.version})
    return render(request, "applications/report_answer.html", {"report": report, "app": report.application,
                                                                "form": form}, status=status)


@staff_required
@require_POST
def report_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_get(request.user, pk)
    if report is None:
        raise Http404(_("Report request not found."))
    try:
        services.application_cancel_report(actor=request.user, report=report, ip=client_ip(request))
    except services.ConflictError as exc:
        messages.error(request, exc.message)
        return redirect("applications:detail", pk=report.application_id)
    messages.success(request, _("Report request cancelled."))
    return redirect("applications:detail", pk=report.application_id)


# --- counter filing ------------------------------------------------------------------------------------------------

@counter_staff_required
def counter_list(request: AuthedHttpRequest) -> HttpResponse:
    procedures = selectors.counter_procedures(request.user)
    if not procedures and not perms.can_file_at_counter(request.user, request.user.organization_id):
        raise PermissionDenied(_("You cannot file applications on a citizen's behalf."))
    return render(request, "applications/counter_list.html", {"procedures": procedures})


@counter_staff_required
def counter_new(request: AuthedHttpRequest, definition_id: int) -> HttpResponse:
    match = [(p, d) for p, d in selectors.counter_procedures(request.user) if d.pk == definition_id]
    if not match:
        if selectors.published_definition_exists(request.user.organization_id, definition_id):
            raise PermissionDenied(_("You cannot file applications for this procedure on a citizen's behalf."))
        raise Http404(_("This procedure takes no applications."))
    procedure, definition = match[0]
    status = 200
    if request.method == "POST":
        citizen_form = app_forms.CounterCitizenForm(request.POST)
        form = build_form(definition, data=request.POST, files=request.FILES)
        citizen_ok = citizen_form.is_valid()
        status = 400
        if citizen_ok:
            d = citizen_form.cleaned_data
            try:
                app = services.application_file_at_counter(
                    actor=request.user, definition=definition, channel=d["channel"], data=request.POST,
                    files=request.FILES, ip=client_ip(request), citizen=services.CitizenInput(
                        run=d["run"], first_name=d["first_name"], last_name=d["last_name"], email=d["email"]))
            except ValidationError as exc:
                form.is_valid()
                citizen_keys = set(citizen_form.fields)
                citizen_errors = ValidationError({k: v for k, v in exc.message_dict.items() if k in citizen_keys})
                form_errors = {k: v for k, v in exc.message_dict.items() if k not in citizen_keys}
                if citizen_errors.error_dict:
                    _form_errors(citizen_form, citizen_errors)
                if form_errors:
                    _form_errors(form, ValidationError(form_errors))
            except services.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Application filed with number %(number)s. Print the filing certificate "
                                            "for the applicant.") % {"number": app.number})
                return redirect("applications:detail", pk=app.pk)
        else:
            form.is_valid()
    else:
        citizen_form = app_forms.CounterCitizenForm()
        form = build_form(definition)
    return render(request, "applications/counter_form.html", {
        "procedure": procedure, "definition": definition, "citizen_form": citizen_form, "form": form,
        "form_rows": _form_rows(form, {})}, status=status)
