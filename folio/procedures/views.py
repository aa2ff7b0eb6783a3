"""Pages of the CPAT inventory (/cpat/, staff) and of the public catalogue (/tramites/).
Thin: parse, call a selector or service, render. Who may do what: ``permissions.py``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm, model_to_dict
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from folio.core.http import AuthedHttpRequest, client_ip
from folio.organizations.models import Organization
from folio.procedures import exports, imports, permissions, selectors, services
from folio.procedures.fields import EDITABLE_FIELDS, SECTIONS
from folio.procedures.forms import (
    ExportForm,
    ImportForm,
    InventoryFilterForm,
    PlanForm,
    ProcedureForm,
    SettingsForm,
    TopicForm,
    TransactionsForm,
    VersionForm,
)
from folio.procedures.models import PlanState, Procedure, Topic, TransactionChannel
from folio.procedures.text import lines
from folio.registry.views import staff_required

ACTIONS = {
    "procedure.create": gettext_lazy("Added to the inventory"),
    "procedure.update": gettext_lazy("Record changed"),
    "procedure.publish": gettext_lazy("Published in the catalogue"),
    "procedure.unpublish": gettext_lazy("Withdrawn from the catalogue"),
    "procedure.transactions": gettext_lazy("Monthly transactions recorded"),
    "procedure.plan_create": gettext_lazy("Simplification plan created"),
    "procedure.plan_update": gettext_lazy("Simplification plan changed"),
}


def _form_errors(form: BaseForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _require_reader(request: AuthedHttpRequest) -> None:
    if not permissions.can_read_inventory(request.user):
        raise PermissionDenied(_("The procedures inventory is for the digital transformation coordinator, "
                                 "administrators, unit heads and auditors."))


def _require_editor(request: AuthedHttpRequest) -> None:
    if not permissions.can_edit_inventory(request.user):
        raise PermissionDenied(_("Only the digital transformation coordinator or an administrator can change "
                                 "the procedures inventory."))


def _get(request: AuthedHttpRequest, pk: int, *, edit: bool = False) -> Procedure:
    """Fetch and authorise: another organization's procedure (or none) is a 404; one of the user's own
    organization they may not read or change is a 403."""
    procedure = selectors.procedure_get(request.user, pk)
    if procedure is None:
        if selectors.procedure_in_own_organization(request.user, pk):
            _require_reader(request)
        raise Http404(_("Procedure not found."))
    if edit:
        _require_editor(request)
    return procedure


# --- inventory ---------------------------------------------------------------------------------------------------

@staff_required
def inventory(request: AuthedHttpRequest) -> HttpResponse:
    _require_reader(request)
    form = InventoryFilterForm(request.GET or None, organization=request.user.organization)
    filters = selectors.InventoryFilters()
    status = 200
    if request.GET:
        if form.is_valid():
            d = form.cleaned_data
            filters = selectors.InventoryFilters(q=d["q"] or "", unit_id=d["unit"].pk if d["unit"] else None,
                                                 topic_id=d["topic"].pk if d["topic"] else None,
                                                 kind=d["kind"] or "", level=d["level"], published=d["published"])
        else:
            status = 400
    procedures = selectors.inventory_search(request.user, filters) if status == 200 else []
    return render(request, "procedures/inventory.html", {
        "form": form, "procedures": procedures, "can_edit": permissions.can_edit_inventory(request.user),
        "filtered": bool(request.GET)}, status=status)


def _initial(procedure: Procedure) -> dict[str, Any]:
    initial = model_to_dict(procedure, fields=EDITABLE_FIELDS)
    initial["version"] = procedure.version
    return initial


def _procedure_data(form: ProcedureForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}


def _sections(form: ProcedureForm) -> list[tuple[str, Any, list[Any]]]:
    return [(key, title, [form[name] for name in names]) for key, title, names in SECTIONS]


@staff_required
def procedure_create(request: AuthedHttpRequest) -> HttpResponse:
    _require_editor(request)
    org = request.user.organization
    status = 200
    if request.method == "POST":
        form = ProcedureForm(request.POST, organization=org)
        status = 400
        if form.is_valid():
            try:
                procedure = services.procedure_create(actor=request.user, data=_procedure_data(form),
                                                      ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Procedure added to the inventory."))
                return redirect("procedures:detail", pk=procedure.pk)
    else:
        form = ProcedureForm(organization=org)
    return render(request, "procedures/form.html", {"form": form, "sections": _sections(form), "procedure": None},
                  status=status)


@staff_required
def procedure_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    procedure = _get(request, pk, edit=True)
    org = request.user.organization
    status = 200
    if request.method == "POST":
        form = ProcedureForm(request.POST, organization=org)
        status = 400
        if form.is_valid():
            try:
                services.procedure_update(actor=request.user, procedure=procedure, data=_procedure_data(form),
                                          expected_version=form.cleaned_data["version"], ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            except services.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Procedure updated."))
                return redirect("procedures:detail", pk=procedure.pk)
    else:
        form = ProcedureForm(initial=_initial(procedure), organization=org)
    return render(request, "procedures/form.html", {"form": form, "sections": _sections(form),
                                                    "procedure": procedure}, status=status)


def _display(procedure: Procedure, name: str) -> Any:
    field = Procedure._meta.get_field(name)
    value = getattr(procedure, name)
    if getattr(field, "choices", None) and value not in (None, ""):
        return getattr(procedure, f"get_{name}_display")()
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return value


def _online_start_url(organization: Organization, procedure: Procedure) -> str:
    """The online application's start page (built by the applications app), or "" while it does not exist."""
    try:
        return reverse("applications:start", kwargs={"org_slug": organization.slug, "procedure_slug": procedure.slug})
    except NoReverseMatch:
        return ""


@staff_required
def procedure_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    from folio.audit.selectors import events_for_object

    procedure = _get(request, pk)
    org = procedure.organization
    sections = [(key, title, [(getattr(Procedure._meta.get_field(n), "verbose_name", n), n, _display(procedure, n))
                              for n in names])
                for key, title, names in SECTIONS]
    months = selectors.last_months(selectors.org_today(org))
    figures = selectors.transactions_for(org, [procedure.pk], months)[procedure.pk]
    events = list(events_for_object(object_type="procedures.procedure", object_id=procedure.pk).order_by("-seq")[:20])
    for e in events:
        e.label = ACTIONS.get(e.action, e.action)  # type: ignore[attr-defined]
    return render(request, "procedures/detail.html", {
        "procedure": procedure, "sections": sections, "can_edit": permissions.can_edit_procedure(request.user,
                                                                                                  procedure),
        "plan": getattr(procedure, "simplification_plan", None),
        "months": [(y, m, [f.counts.get(ch) if f else None for ch in selectors.CHANNELS], f.source if f else "")
                   for (y, m), f in ((ym, figures.get(ym)) for ym in months)],
        "channels": TransactionChannel.choices,
        "total_12": selectors.transactions_total(figures), "events": events,
        "version_form": VersionForm(initial={"version": procedure.version}),
        "requirements": lines(procedure.requirements), "steps": lines(procedure.steps),
    })


@staff_required
@require_POST
def procedure_publish(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    procedure = _get(request, pk, edit=True)
    form = VersionForm(request.POST)
    publish = request.POST.get("publish") == "1"
    if form.is_valid():
        try:
            services.procedure_set_published(actor=request.user, procedure=procedure, published=publish,
                                             expected_version=form.cleaned_data["version"], ip=client_ip(request))
        except services.ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("procedures:detail", pk=procedure.pk)
        messages.success(request, _("Published in the catalogue.") if publish else _("Withdrawn from the catalogue."))
    return redirect("procedures:detail", pk=procedure.pk)


@staff_required
def transactions_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    procedure = _get(request, pk, edit=True)
    org = procedure.organization
    today = selectors.org_today(org)
    try:
        year = int(request.GET.get("anio") or request.POST.get("anio") or today.year)
    except ValueError:
        year = today.year
    if not 2000 <= year <= today.year + 1:
        year = today.year
    months = selectors.year_months(year)
    figures = selectors.transactions_for(org, [procedure.pk], months)[procedure.pk]
    from folio.applications.selectors import online_procedure_ids

    online = procedure.pk in online_procedure_ids([procedure.pk])
    status = 200
    if request.method == "POST":
        form = TransactionsForm(request.POST, year=year)
        if form.is_valid():
            rows = [services.Figure(year=year, month=m, channel=ch, count=form.cleaned_data[f"m{m}_{ch}"])
                    for m in range(1, 13) for ch in TransactionChannel.values]
            try:
                changed = services.transactions_save(actor=request.user, procedure=procedure, figures=rows,
                                                     ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
                status = 400
            else:
                messages.success(request, _("Monthly transactions saved (%(n)s changed).") % {"n": changed})
                return redirect(f"{reverse('procedures:transactions', args=[procedure.pk])}?anio={year}")
        else:
            status = 400
    else:
        form = TransactionsForm(initial=selectors.hand_entered_transactions(procedure, year), year=year)
    folio_months = {m for m, f in figures.items() if f.source == "folio"}
    return render(request, "procedures/transactions.html", {
        "procedure": procedure, "form": form, "year": year, "online": online, "channels": TransactionChannel.choices,
        "folio": [(m, figures.get((year, m))) for m in range(1, 13) if (year, m) in folio_months],
        "years": list(range(today.year - 4, today.year + 1))}, status=status)


@staff_required
def plan_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    procedure = _get(request, pk, edit=True)
    plan = getattr(procedure, "simplification_plan", None)
    status = 200
    if request.method == "POST":
        form = PlanForm(request.POST)
        status = 400
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                services.plan_save(actor=request.user, procedure=procedure, data=data,
                                   expected_version=form.cleaned_data["version"], ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            except services.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Simplification plan saved."))
                return redirect("procedures:detail", pk=procedure.pk)
    elif plan is not None:
        initial = model_to_dict(plan, fields=services.PLAN_FIELDS)
        initial["version"] = plan.version
        form = PlanForm(initial=initial)
    else:
        form = PlanForm(initial={
            "state": PlanState.PLANNED, "steps_before": len(lines(procedure.steps)) or None,
            "requirements_before": len(lines(procedure.requirements)) or None,
            "days_before": procedure.actual_deadline_days or procedure.legal_deadline_days})
    return render(request, "procedures/plan_form.html", {"procedure": procedure, "plan": plan, "form": form},
                  status=status)


# --- catalogue topics ----------------------------------------------------------------------------------------

def _topic_data(form: TopicForm) -> dict[str, Any]:
    return {"name": form.cleaned_data["name"], "slug": form.cleaned_data["slug"] or "",
            "position": form.cleaned_data["position"]}


def _get_topic(request: AuthedHttpRequest, pk: int) -> Topic:
    _require_editor(request)
    topic = selectors.topic_get(request.user, pk)
    if topic is None:
        raise Http404(_("Topic not found."))
    return topic


@staff_required
def topics(request: AuthedHttpRequest) -> HttpResponse:
    """The organization's catalogue topics, with how many procedures use each, and the form to add one."""
    _require_editor(request)
    status = 200
    if request.method == "POST":
        form = TopicForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                topic = services.topic_create(actor=request.user, data=_topic_data(form), ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Topic %(name)s added.") % {"name": topic.name})
                return redirect("procedures:topics")
    else:
        form = TopicForm()
    return render(request, "procedures/topics.html", {
        "topics": list(selectors.topics_with_counts(request.user)), "form": form,
        "org": request.user.organization}, status=status)


@staff_required
def topic_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    topic = _get_topic(request, pk)
    status = 200
    if request.method == "POST":
        form = TopicForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.topic_update(actor=request.user, topic=topic, data=_topic_data(form), ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Topic saved."))
                return redirect("procedures:topics")
    else:
        form = TopicForm(initial={"name": topic.name, "slug": topic.slug, "position": topic.position})
    return render(request, "procedures/topic_form.html", {"topic": topic, "form": form, "delete_error": ""},
                  status=status)


@staff_required
@require_POST
def topic_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    topic = _get_topic(request, pk)
    try:
        services.topic_delete(actor=request.user, topic=topic, ip=client_ip(request))
    except services.TopicInUseError as exc:
        form = TopicForm(initial={"name": topic.name, "slug": topic.slug, "position": topic.position})
        return render(request, "procedures/topic_form.html", {"topic": topic, "form": form,
                                                              "delete_error": exc.message}, status=409)
    messages.success(request, _("Topic %(name)s deleted.") % {"name": topic.name})
    return redirect("procedures:topics")


# --- export and import -------------------------------------------------------------------------------------------

@staff_required
def export(request: AuthedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    _require_reader(request)
    form = ExportForm(request.GET or None)
    if not request.GET:
        return render(request, "procedures/export.html", {"form": form})
    if not form.is_valid():
        return render(request, "procedures/export.html", {"form": form}, status=400)
    org = request.user.organization
    assert org is not None  # staff_required
    procedures = exports.export_procedures(org, selectors.procedures_visible_to(request.user))
    stamp = selectors.org_today(org).strftime("%Y%m%d")
    name = f"cpat-{org.slug}-{stamp}"
    if form.cleaned_data["format"] == "csv":
        stream = StreamingHttpResponse(exports.csv_stream(procedures), content_type="text/csv; charset=utf-8")
        stream["Content-Disposition"] = f'attachment; filename="{name}-nomina.csv"'
        return stream
    year = form.cleaned_data["year"]
    months = selectors.year_months(year) if year else selectors.last_months(selectors.org_today(org))
    response = HttpResponse(exports.xlsx_bytes(org, procedures, months), content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@staff_required
def import_inventory(request: AuthedHttpRequest) -> HttpResponse:
    _require_editor(request)
    report = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > imports.max_import_bytes():
                    raise imports.ImportRejected(_("The file exceeds the limit of %(mb)s MB.")
                                                 % {"mb": imports.max_import_bytes() // (1024 * 1024)}, "too_large")
                report = imports.inventory_import(actor=request.user, file_name=upload.name, data=upload.read(),
                                                  dry_run=form.cleaned_data["dry_run"], ip=client_ip(request))
            except imports.ImportRejected as exc:
                form.add_error("file", exc.message)
            else:
                status = 200
                form = ImportForm()
    else:
        form = ImportForm()
    return render(request, "procedures/import.html", {"form": form, "report": report,
                                                      "max_mb": imports.max_import_bytes() // (1024 * 1024)},
                  status=status)


# --- prioritization and plan figures ------------------------------------------------------------------------------

@staff_required
def prioritization(request: AuthedHttpRequest) -> HttpResponse:
    _require_reader(request)
    org = request.user.organization
    assert org is not None
    return render(request, "procedures/prioritization.html", {
        "rows": selectors.prioritization(org), "can_edit": permissions.can_edit_inventory(request.user),
        "caps": {"steps": selectors.CAP_STEPS, "requirements": selectors.CAP_REQUIREMENTS,
                 "units": selectors.CAP_UNITS, "days": selectors.CAP_DAYS}})


@staff_required
def figures(request: AuthedHttpRequest) -> HttpResponse:
    _require_reader(request)
    org = request.user.organization
    assert org is not None
    can_edit = permissions.can_edit_inventory(request.user)
    status = 200
    form = None
    if request.method == "POST":
        _require_editor(request)
        form = SettingsForm(request.POST)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.settings_save(actor=request.user, expected_procedures=d["expected_procedures"],
                                       simplification_goal_percent=d["simplification_goal_percent"],
                                       expected_version=d["version"], ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            except services.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Settings saved."))
                return redirect("procedures:figures")
    data = selectors.plan_figures(org)
    if form is None and can_edit:
        form = SettingsForm(initial={"expected_procedures": data.settings.expected_procedures,
                                     "simplification_goal_percent": data.settings.simplification_goal_percent,
                                     "version": data.settings.version})
    return render(request, "procedures/figures.html", {"f": data, "form": form, "can_edit": can_edit,
                                                       "today": selectors.org_today(org)}, status=status)


# --- the public catalogue ---------------------------------------------------------------------------------------

def _catalogue_page(request: HttpRequest, organization: Organization, *, several: bool) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    topic_slug = request.GET.get("tema", "")[:100]
    unit_code = request.GET.get("unidad", "")[:20]
    cat = selectors.catalogue(organization, q=q, topic_slug=topic_slug, unit_code=unit_code)
    return render(request, "procedures/catalogue.html", {
        "cat": cat, "q": q, "topic_slug": topic_slug, "unit_code": unit_code, "several": several,
        "searching": bool(q or topic_slug or unit_code),
        "base_url": reverse("procedures:catalogue_org", args=[organization.slug])})


def catalogue_index(request: HttpRequest) -> HttpResponse:
    """/tramites/: the catalogue of the only municipality that publishes procedures, or a chooser."""
    slug = request.GET.get("municipalidad", "")
    organizations = selectors.catalogue_organizations()
    if slug:
        chosen = next((o for o in organizations if o.slug == slug), None) or selectors.catalogue_organization(slug)
        if chosen is None:
            raise Http404(_("Municipality not found."))
        return _catalogue_page(request, chosen, several=len(organizations) > 1)
    if len(organizations) == 1:
        return _catalogue_page(request, organizations[0], several=False)
    return render(request, "procedures/catalogue_chooser.html", {"organizations": organizations})


def catalogue_organization(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = selectors.catalogue_organization(org_slug)
    if organization is None:
        raise Http404(_("Municipality not found."))
    return _catalogue_page(request, organization, several=True)


def catalogue_detail(request: HttpRequest, org_slug: str, procedure_slug: str) -> HttpResponse:
    from folio.applications.selectors import online_procedure_ids

    organization = selectors.catalogue_organization(org_slug)
    procedure = selectors.catalogue_procedure(organization, procedure_slug) if organization else None
    if organization is None or procedure is None:
        raise Http404(_("Procedure not found."))
    start_url = ""
    if procedure.pk in online_procedure_ids([procedure.pk]):
        start_url = _online_start_url(organization, procedure)
    channels = [label for flag, label in ((procedure.channel_digital, _("Online")),
                                          (procedure.channel_in_person, _("In person, at the municipality")),
                                          (procedure.channel_phone, _("By telephone"))) if flag]
    return render(request, "procedures/catalogue_detail.html", {
        "organization": organization, "procedure": procedure, "start_url": start_url, "channels": channels,
        "requirements": lines(procedure.requirements), "steps": lines(procedure.steps),
        "deadline": procedure.legal_deadline_days or procedure.actual_deadline_days})
