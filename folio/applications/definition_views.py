"""The form builder (/administracion/tramites/…/formulario/): administrators configure, preview and publish the
online form and processing stages of their organization's procedures. Thin: parse, call a selector or a service,
render. Other roles get 403; a procedure of another municipality is 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from folio.applications import definition_selectors as selectors
from folio.applications import definition_services as services
from folio.applications.definition_forms import TokenForm, apply_errors, editor_formsets, schema_from
from folio.applications.definition_permissions import can_manage_definitions
from folio.applications.definitions import (
    FIELD_TYPE_LABELS,
    FILE_KIND_LABELS,
    STAGE_ACTION_LABELS,
    DefinitionInvalid,
)
from folio.applications.formengine import answer_rows, build_form
from folio.applications.models import DefinitionState
from folio.core.http import AuthedHttpRequest, client_ip
from folio.procedures.models import Procedure

# The state of a version of a form ("versión", feminine in Spanish).
STATE_LABELS: dict[str, Any] = {
    DefinitionState.DRAFT: pgettext_lazy("form version", "Draft"),
    DefinitionState.PUBLISHED: pgettext_lazy("form version", "Published"),
    DefinitionState.RETIRED: pgettext_lazy("form version", "Retired"),
}


def _admin_required(request: AuthedHttpRequest) -> None:
    if not can_manage_definitions(request.user):
        raise PermissionDenied(_("Only the organization's administrator can configure online forms."))


def _procedure(request: AuthedHttpRequest, procedure_id: int) -> Procedure:
    _admin_required(request)
    procedure = selectors.procedure_for_builder(request.user, procedure_id)
    if procedure is None:
        raise Http404(_("Procedure not found."))
    return procedure


def _int_param(request: AuthedHttpRequest, name: str) -> int:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else 0


def schema_summary(schema: dict[str, Any], units: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """What a version says, in words, for the builder's pages."""
    fields = []
    for f in schema.get("fields") or []:
        details = ""
        if f.get("type") == "choice":
            details = " · ".join(f.get("choices") or [])
            if f.get("multiple"):
                details = _("Several: %(options)s") % {"options": details}
        elif f.get("type") == "file":
            details = _("%(kinds)s, up to %(mb)s MB") % {
                "kinds": ", ".join(FILE_KIND_LABELS.get(k, k) for k in f.get("types") or []), "mb": f.get("max_mb")}
        elif f.get("type") == "declaration":
            details = f.get("text") or ""
        fields.append({**f, "type_label": FIELD_TYPE_LABELS.get(f.get("type", ""), f.get("type")),
                       "details": details})
    stages = [{**s, "unit_name": units.get(s.get("unit", ""), s.get("unit")),
               "action_labels": [STAGE_ACTION_LABELS.get(a, a) for a in s.get("actions") or []]}
              for s in schema.get("stages") or []]
    return {"fields": fields, "stages": stages}


def describe_errors(schema: dict[str, Any], errors: dict[str, list[str]]) -> list[str]:
    """``DefinitionInvalid.errors`` as sentences that name the field or stage (for the publish refusal)."""
    out: list[str] = []
    for path, msgs in errors.items():
        parts = path.split(".")
        where = ""
        if len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            items = schema.get(parts[0]) or []
            name = ""
            if index < len(items) and isinstance(items[index], dict):
                name = items[index].get("label") or items[index].get("name") or ""
            where = (_("Field %(n)s") if parts[0] == "fields" else _("Stage %(n)s")) % {"n": index + 1}
            if name:
                where = f"{where} «{name}»"
        out.extend(f"{where}: {m}" if where else m for m in msgs)
    return out


@login_required
def definition_list(request: AuthedHttpRequest) -> HttpResponse:
    _admin_required(request)
    return render(request, "applications/definitions/list.html",
                  {"procedures": list(selectors.procedures_for_builder(request.user))})


def _detail(request: AuthedHttpRequest, procedure: Procedure, *, status: int = 200,
            publish_errors: list[str] | None = None) -> HttpResponse:
    versions = selectors.definition_versions(procedure)
    for version in versions:
        version.state_label = STATE_LABELS.get(version.state, version.state)  # type: ignore[attr-defined]
    published = next((v for v in versions if v.state == DefinitionState.PUBLISHED), None)
    draft = next((v for v in versions if v.state == DefinitionState.DRAFT), None)
    units = selectors.unit_names(procedure.organization_id)
    return render(request, "applications/definitions/detail.html", {
        "procedure": procedure, "versions": versions, "published": published, "draft": draft,
        "published_summary": schema_summary(published.schema, units) if published else None,
        "draft_summary": schema_summary(draft.schema, units) if draft else None,
        "draft_unchanged": bool(draft and published and draft.schema == published.schema),
        "token_form": TokenForm(initial={"token": services.definition_token(draft)}) if draft else None,
        "publish_errors": publish_errors or [],
    }, status=status)


@login_required
def definition_detail(request: AuthedHttpRequest, procedure_id: int) -> HttpResponse:
    return _detail(request, _procedure(request, procedure_id))


@login_required
@require_POST
def definition_draft_create(request: AuthedHttpRequest, procedure_id: int) -> HttpResponse:
    procedure = _procedure(request, procedure_id)
    draft = services.definition_draft_create(actor=request.user, procedure=procedure, ip=client_ip(request))
    messages.success(request, _("Draft version %(v)s is ready to edit.") % {"v": draft.version})
    return redirect("applications:definition_edit", procedure_id=procedure.pk)


@login_required
def definition_edit(request: AuthedHttpRequest, procedure_id: int) -> HttpResponse:
    procedure = _procedure(request, procedure_id)
    draft = selectors.draft_of(procedure)
    if draft is None:
        messages.info(request, _("There is no draft to edit. Create one first."))
        return redirect("applications:definition_detail", procedure_id=procedure.pk)
    units = selectors.units_for_stages(procedure.organization_id)
    status = 200
    general: list[str] = []
    if request.method == "POST":
        token_form = TokenForm(request.POST)
        fields_fs, stages_fs = editor_formsets(schema=draft.schema, units=units, data=request.POST)
        status = 400
        if token_form.is_valid() and fields_fs.is_valid() and stages_fs.is_valid():
            editor = schema_from(fields_fs, stages_fs)
            try:
                services.definition_update(actor=request.user, definition=draft, schema=editor.schema,
                                           token=token_form.cleaned_data["token"], ip=client_ip(request))
            except DefinitionInvalid as exc:
                general = apply_errors(editor, exc.errors)
            except services.DefinitionConflict as exc:
                token_form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Draft saved."))
                if "preview" in request.POST:
                    return redirect("applications:definition_preview", procedure_id=procedure.pk,
                                    version=draft.version)
                return redirect("applications:definition_edit", procedure_id=procedure.pk)
    else:
        token_form = TokenForm(initial={"token": services.definition_token(draft)})
        fields_fs, stages_fs = editor_formsets(schema=draft.schema, units=units,
                                               extra_fields=_int_param(request, "mas_campos"),
                                               extra_stages=_int_param(request, "mas_etapas"))
    return render(request, "applications/definitions/edit.html", {
        "procedure": procedure, "draft": draft, "token_form": token_form, "fields_formset": fields_fs,
        "stages_formset": stages_fs, "general_errors": general,
    }, status=status)


@login_required
@require_POST
def definition_publish(request: AuthedHttpRequest, procedure_id: int) -> HttpResponse:
    procedure = _procedure(request, procedure_id)
    draft = selectors.draft_of(procedure)
    form = TokenForm(request.POST)
    if draft is None or not form.is_valid():
        messages.error(request, _("There is no draft to publish, or it changed meanwhile. Review it and try again."))
        return _detail(request, procedure, status=409 if draft is None else 400)
    try:
        published = services.definition_publish(actor=request.user, definition=draft,
                                                token=form.cleaned_data["token"], ip=client_ip(request))
    except DefinitionInvalid as exc:
        return _detail(request, procedure, status=400, publish_errors=describe_errors(draft.schema, exc.errors))
    except services.DefinitionConflict as exc:
        messages.error(request, exc.message)
        return _detail(request, procedure, status=409)
    messages.success(request, _("Version %(v)s is published: new applications use it.") % {"v": published.version})
    return redirect("applications:definition_detail", procedure_id=procedure.pk)


@login_required
@require_POST
def definition_discard(request: AuthedHttpRequest, procedure_id: int) -> HttpResponse:
    procedure = _procedure(request, procedure_id)
    draft = selectors.draft_of(procedure)
    form = TokenForm(request.POST)
    if draft is None or not form.is_valid():
        messages.error(request, _("There is no draft to discard."))
        return _detail(request, procedure, status=409 if draft is None else 400)
    try:
        services.definition_discard(actor=request.user, definition=draft, token=form.cleaned_data["token"],
                                    ip=client_ip(request))
    except services.DefinitionConflict as exc:
        messages.error(request, exc.message)
        return _detail(request, procedure, status=409)
    messages.success(request, _("The draft was discarded."))
    return redirect("applications:definition_detail", procedure_id=procedure.pk)


@login_required
def definition_preview(request: AuthedHttpRequest, procedure_id: int, version: int) -> HttpResponse:
    """The citizen's form of a version, as it will look; sending it checks the answers and stores nothing."""
    procedure = _procedure(request, procedure_id)
    definition = selectors.definition_of(procedure, version)
    if definition is None:
        raise Http404(_("Version not found."))
    rows: list[tuple[str, str]] | None = None
    status = 200
    if request.method == "POST":
        form = build_form(definition, data=request.POST, files=request.FILES)
        if form.is_valid():
            rows = answer_rows(definition, form.answers())
        else:
            status = 400
    else:
        form = build_form(definition)
    return render(request, "applications/definitions/preview.html", {
        "procedure": procedure, "definition": definition, "form": form, "rows": rows,
        "state_label": STATE_LABELS.get(definition.state, definition.state),
        "summary": schema_summary(definition.schema, selectors.unit_names(procedure.organization_id)),
    }, status=status)
