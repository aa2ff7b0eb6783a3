"""Pages of the retention schedule (/expedientes/retencion/) and of final disposition
(/expedientes/disposicion/). Thin: parse, call a selector or service, render."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from folio.case_files import permissions, retention
from folio.case_files import retention_selectors as rsel
from folio.case_files.models import DispositionRecord, DispositionStatus, RetentionRule
from folio.case_files.retention_forms import ApproveForm, CancelForm, DueFilterForm, ExecuteForm, RetentionRuleForm
from folio.case_files.views import _form_errors
from folio.core.http import AuthedHttpRequest, client_ip
from folio.registry.views import staff_required

DUE_PAGE_SIZE = 100


def _rule_input(d: dict[str, Any], series_code: str | None = None) -> retention.RetentionRuleInput:
    return retention.RetentionRuleInput(
        series_code=series_code if series_code is not None else d["series_code"], name=d["name"],
        active_years=d["active_years"], semi_active_years=d["semi_active_years"], disposition=d["disposition"],
        legal_basis=d["legal_basis"])


@staff_required
def retention_schedule(request: AuthedHttpRequest) -> HttpResponse:
    """The schedule (every member of staff reads it); administrators add rules here."""
    user = request.user
    can_edit = permissions.can_edit_retention(user)
    form = RetentionRuleForm()
    status = 200
    if request.method == "POST":
        form = RetentionRuleForm(request.POST)
        if form.is_valid():
            try:
                rule = retention.retention_rule_create(actor=user, data=_rule_input(form.cleaned_data),
                                                       ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Series %(code)s added to the retention schedule.")
                                 % {"code": rule.series_code})
                return redirect("case_files:retention")
        status = 400
    return render(request, "case_files/retention.html", {
        "rules": list(rsel.retention_rules_for(user)), "form": form, "can_edit": can_edit,
        "can_read_dispositions": permissions.can_read_dispositions(user)}, status=status)


def _rule(request: AuthedHttpRequest, pk: int) -> RetentionRule:
    rule = rsel.retention_rule_get(request.user, pk)
    if rule is None:
        retention.record_denial(actor=request.user, object_type=retention.RULE_OBJECT, object_id=pk,
                                what="retention_rule", ip=client_ip(request))
        raise Http404(_("Retention rule not found."))
    return rule


@staff_required
def retention_rule_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    if not permissions.can_edit_retention(request.user):
        raise PermissionDenied(_("Only an administrator can change the retention schedule."))
    status = 200
    if request.method == "POST":
        form = RetentionRuleForm(request.POST, editing=True, initial={"series_code": rule.series_code})
        if form.is_valid():
            try:
                retention.retention_rule_update(
                    actor=request.user, rule=rule, data=_rule_input(form.cleaned_data, rule.series_code),
                    expected_version=form.cleaned_data["version"], ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
                status = 400
            except retention.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Retention rule updated."))
                return redirect("case_files:retention")
        else:
            status = 400
    else:
        form = RetentionRuleForm(editing=True, initial={
            "series_code": rule.series_code, "name": rule.name, "active_years": rule.active_years,
            "semi_active_years": rule.semi_active_years, "disposition": rule.disposition,
            "legal_basis": rule.legal_basis, "version": rule.version})
    return render(request, "case_files/retention_edit.html", {"rule": rule, "form": form}, status=status)


@staff_required
@require_POST
def retention_apply_phases(request: AuthedHttpRequest) -> HttpResponse:
    organization = request.user.organization
    assert organization is not None  # staff_required
    report = retention.retention_apply_phases(organization=organization, actor=request.user, ip=client_ip(request))
    messages.success(request, _("Phase changes applied: %(archived)s expedientes to the semi-active phase, "
                                "%(historic)s to the historic phase.")
                     % {"archived": len(report.archived), "historic": len(report.historic)})
    return redirect("case_files:retention")


def _dispositions_allowed(request: AuthedHttpRequest) -> None:
    if not permissions.can_read_dispositions(request.user):
        raise PermissionDenied(_("Only administrators and auditors see final dispositions."))


@staff_required
def disposition_list(request: AuthedHttpRequest) -> HttpResponse:
    """The expedientes due for final disposition (with the approval form) and the disposition records."""
    _dispositions_allowed(request)
    user = request.user
    filters = DueFilterForm(request.GET or None)
    series, action, status = "", "", 200
    if request.GET and filters.is_valid():
        series, action = filters.cleaned_data["series"] or "", filters.cleaned_data["action"] or ""
    elif request.GET and set(request.GET) - {"page"}:
        status = 400
    form = ApproveForm(initial={"action": action})
    if request.method == "POST":
        if not permissions.can_decide_disposition(user):
            raise PermissionDenied(_("Only an administrator can approve a final disposition."))
        form = ApproveForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                record = retention.disposition_approve(actor=user, action=d["action"], case_file_ids=d["case_files"],
                                                       act_number=d["act_number"], reason=d["reason"],
                                                       ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc, {"case_file_ids": "case_files"})
                status = 400
            except retention.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Final disposition approved (record no. %(n)s).") % {"n": record.pk})
                return redirect("case_files:disposition", pk=record.pk)
        else:
            status = 400
    due = rsel.due_for_disposition(user, series_code=series, action=action)
    assert due is not None
    page = Paginator(due, DUE_PAGE_SIZE).get_page(request.GET.get("page"))
    _qs, rules = rsel.due_queryset(user.organization)
    rows = rsel.due_rows(page.object_list, rules, user.organization)
    query = request.GET.copy()
    query.pop("page", None)
    chosen = set(form["case_files"].value() or []) if form.is_bound else set()
    return render(request, "case_files/dispositions.html", {
        "filters": filters, "form": form, "page": page, "rows": rows, "querystring": query.urlencode(),
        "chosen": {str(x) for x in chosen},
        "records": list(rsel.dispositions_visible_to(user).order_by("-approved_at", "-id")[:50]),
        "without_rule": rsel.without_rule_count(user),
        "can_decide": permissions.can_decide_disposition(user)}, status=status)


def _record(request: AuthedHttpRequest, pk: int) -> DispositionRecord:
    _dispositions_allowed(request)
    record = rsel.disposition_get(request.user, pk)
    if record is None:
        retention.record_denial(actor=request.user, object_type=retention.RECORD_OBJECT, object_id=pk,
                                what="disposition", ip=client_ip(request))
        raise Http404(_("Disposition record not found."))
    return record


def archive_package_url(case_file_id: int) -> str | None:
    """The archival (BagIt) package of an expediente, if this installation has the export."""
    try:
        return reverse("case_files:archive_package", args=[case_file_id])
    except NoReverseMatch:
        return None


def _record_context(request: AuthedHttpRequest, record: DispositionRecord, **forms: Any) -> dict[str, Any]:
    items = list(rsel.disposition_items(record))
    for item in items:
        item.package_url = archive_package_url(item.case_file_id) if record.action == "transfer" else None  # type: ignore[attr-defined]
    return {
        "record": record, "items": items,
        "can_decide": permissions.can_decide_disposition(request.user) and record.status == DispositionStatus.APPROVED,
        "execute_form": forms.get("execute_form") or ExecuteForm(initial={"version": record.version}),
        "cancel_form": forms.get("cancel_form") or CancelForm(initial={"version": record.version}, prefix="cancel"),
        "total_bytes": sum(i.bytes_removed for i in items),
        "total_files": sum(i.files_removed for i in items),
    }


@staff_required
def disposition_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    return render(request, "case_files/disposition_detail.html", _record_context(request, record))


@staff_required
def disposition_inventory(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The inventory of the record as CSV (what the approving act lists): one row per expediente."""
    record = _record(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="disposicion-{record.pk}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
    out = csv.writer(response)
    out.writerow([_("Record"), _("Action"), _("Approving act"), _("Status"), _("IUIe"), _("Title"), _("Series code"),
                  _("Closed (UTC)"), _("Due on"), _("Documents"), _("Folios"), _("Index hash (SHA-256)"),
                  _("Carried with"), _("Files removed"), _("Bytes removed")])
    for item in rsel.disposition_items(record):
        out.writerow([record.pk, record.get_action_display(), record.act_number, record.get_status_display(),
                      item.iuie, item.title, item.series_code,
                      item.closed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if item.closed_at else "",
                      item.due_on.isoformat() if item.due_on else "", item.entries, item.folios, item.index_hash,
                      item.carried_by.iuie if item.carried_by else "", item.files_removed, item.bytes_removed])
    return response


def _decide(request: AuthedHttpRequest, pk: int, form: Any, form_key: str, run: Any, success: str) -> HttpResponse:
    record = _record(request, pk)
    if not permissions.can_decide_disposition(request.user):
        raise PermissionDenied(_("Only an administrator can carry out or cancel a final disposition."))
    status = 400
    if form.is_valid():
        try:
            run(record, form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except retention.ConflictError as exc:
            form.add_error(None, exc.message)
            status = 409
            record = _record(request, pk)
        else:
            messages.success(request, success)
            return redirect("case_files:disposition", pk=record.pk)
    return render(request, "case_files/disposition_detail.html", _record_context(request, record, **{form_key: form}),
                  status=status)


@staff_required
@require_POST
def disposition_execute(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, ExecuteForm(request.POST), "execute_form", lambda r, d: retention.disposition_execute(
        actor=request.user, record=r, note=d["note"], expected_version=d["version"], ip=client_ip(request)),
        _("Final disposition carried out."))


@staff_required
@require_POST
def disposition_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, CancelForm(request.POST, prefix="cancel"), "cancel_form",
                   lambda r, d: retention.disposition_cancel(actor=request.user, record=r, reason=d["reason"],
                                                             expected_version=d["version"], ip=client_ip(request)),
                   _("Final disposition cancelled."))
