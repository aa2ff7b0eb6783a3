"""Pages of official documents (/actos/). Thin: parse, call a selector or a service, render."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from folio.acts import forms as act_forms
from folio.acts import permissions, selectors, services
from folio.acts.models import Act, ActKind, ActState, Delegation, StepKind, Substitution
from folio.core.http import AuthedHttpRequest, client_ip
from folio.files.services import file_open
from folio.registry.views import _form_errors, staff_required

# HTTP status of each SignatureError code: the signer's input (4xx) or the provider (5xx).
SIGNATURE_STATUS = {
    "wrong_passphrase": 400, "otp_expired": 400, "otp_invalid": 400, "not_enrolled": 403, "not_allowed": 403,
    "provider_error": 502, "provider_garbage": 502, "provider_timeout": 504,
}


def _get_act(request: AuthedHttpRequest, pk: int) -> Act:
    act = selectors.act_get(request.user, pk)
    if act is None:
        services.act_record_denial(actor=request.user, act_id=pk, what=request.path, ip=client_ip(request))
        raise Http404(_("Document not found."))
    return act


def _admin_required(request: AuthedHttpRequest) -> None:
    if not permissions.can_administer(request.user):
        raise PermissionDenied(_("Only the organization's administrator can change templates and signature policy."))


@staff_required
def act_list(request: AuthedHttpRequest) -> HttpResponse:
    form = act_forms.ActFilterForm(request.GET or None)
    filters = selectors.ActFilters()
    status = 200
    if request.GET:
        if form.is_valid():
            d = form.cleaned_data
            filters = selectors.ActFilters(q=d["q"] or "", state=d["state"] or "", kind=d["kind"] or "",
                                           mine=bool(d["mine"]))
        else:
            status = 400
    acts = list(selectors.act_search(request.user, filters)[:200]) if status == 200 else []
    return render(request, "acts/list.html", {
        "form": form, "acts": acts, "counts": services.pending_counts(request.user),
        "can_draft": permissions.can_draft(request.user), "can_administer": permissions.can_administer(request.user),
    }, status=status)


@staff_required
def act_new(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_draft(user):
        raise PermissionDenied(_("You cannot draft official documents."))
    services.ensure_default_templates(user.organization, actor=user)
    answers_id = request.GET.get("responde") or request.POST.get("answers")
    case_file_id = request.GET.get("expediente") or request.POST.get("case_file")
    answers = case_file = None
    if answers_id and str(answers_id).isdigit():
        from folio.registry.selectors import registration_get

        answers = registration_get(user, int(answers_id))
    if case_file_id and str(case_file_id).isdigit():
        from folio.case_files.selectors import case_file_get

        case_file = case_file_get(user, int(case_file_id))
    initial: dict[str, Any] = {"answers": answers.pk if answers else None,
                               "case_file": case_file.pk if case_file else None}
    templates = selectors.templates_for(user)
    if answers is not None:
        initial["template"] = templates.filter(kind=ActKind.OFFICIAL_LETTER).first()
    status = 200
    if request.method == "POST":
        form = act_forms.NewActForm(request.POST, user=user)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                act = services.act_create(actor=user, ip=client_ip(request), data=services.ActInput(
                    template_id=d["template"].pk, answers_id=answers.pk if answers else None,
                    case_file_id=case_file.pk if case_file else None))
            except ValidationError as exc:
                # The registration and the expediente are hidden fields: their errors go on top of the form.
                _form_errors(form, exc, {"template_id": "template", "answers_id": "-", "case_file_id": "-"})
            else:
                messages.success(request, _("Draft created. Write its content and choose who endorses and signs it."))
                return redirect("acts:edit", pk=act.pk)
    else:
        form = act_forms.NewActForm(initial=initial, user=user)
    return render(request, "acts/new.html", {"form": form, "answers": answers, "case_file": case_file,
                                             "templates": templates}, status=status)


def _detail_context(request: AuthedHttpRequest, act: Act, **forms: Form) -> dict[str, Any]:
    user = request.user
    steps = list(act.steps.all())
    advanced = services.requires_advanced(act)
    return {
        "act": act,
        "endorse_steps": [s for s in steps if s.kind == StepKind.ENDORSE],
        "sign_steps": [s for s in steps if s.kind == StepKind.SIGN],
        "timeline": list(selectors.act_timeline(act)),
        "distributions": list(act.distributions.all()),
        "can_edit": permissions.can_edit(user, act),
        "can_endorse": permissions.can_endorse(user, act),
        "can_sign": permissions.can_sign(user, act),
        "can_send_back": permissions.can_send_back(user, act),
        "can_distribute": permissions.can_distribute(user, act),
        "advanced_required": advanced,
        "version_form": act_forms.VersionForm(initial={"version": act.version}),
        "endorse_form": forms.get("endorse_form") or act_forms.EndorseForm(initial={"version": act.version}),
        "send_back_form": forms.get("send_back_form") or act_forms.SendBackForm(initial={"version": act.version}),
        "cancel_form": forms.get("cancel_form") or act_forms.CancelForm(initial={"version": act.version}),
        "sign_form": forms.get("sign_form") or act_forms.SignForm(advanced_required=advanced),
        "distribute_form": forms.get("distribute_form") or act_forms.DistributeForm(
            initial={"version": act.version, "delivery_method": "email" if act.recipient_email else ""}),
    }


@staff_required
def act_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    act = _get_act(request, pk)
    return render(request, "acts/detail.html", _detail_context(request, act))


@staff_required
def act_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    act = _get_act(request, pk)
    if not permissions.can_edit(request.user, act):
        if act.state != ActState.DRAFT:
            messages.warning(request, _("Only a draft can be changed; send it back to draft first."))
            return redirect("acts:detail", pk=act.pk)
        raise PermissionDenied(_("You cannot change this document."))
    status = 200
    if request.method == "POST":
        form = act_forms.ActForm(request.POST, act=act)
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            endorsers, signers = act_forms.slots_from(d)
            data = services.ActInput(
                subject=d["subject"], antecedents=d["antecedents"], body=d["body"], closing=d["closing"],
                distribution_text=d["distribution_text"], recipient_kind=d["recipient_kind"],
                recipient_name=d["recipient_name"], recipient_position=d["recipient_position"],
                recipient_rut=d["recipient_rut"], recipient_email=d["recipient_email"],
                recipient_address=d["recipient_address"], recipient_body_code=d["recipient_body_code"],
                distribution_unit_ids=[u.pk for u in d["distribution_units"]], access_level=d["access_level"],
                endorsers=[services.StepInput(uid, cap) for uid, cap in endorsers],
                signers=[services.StepInput(uid, cap) for uid, cap in signers])
            try:
                services.act_update(actor=request.user, act=act, data=data, expected_version=d["version"],
                                    ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc, {"distribution_unit_ids": "distribution_units", "endorsers": "endorser_1",
                                         "signers": "signer_1"})
            except services.ConflictError as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(request, _("Draft saved."))
                if "submit" in request.POST:
                    return _run(request, act, lambda: services.act_submit(
                        actor=request.user, act=act, ip=client_ip(request)),
                        _("Sent to its circuit of endorsements and signatures."))
                return redirect("acts:detail", pk=act.pk)
    else:
        form = act_forms.ActForm(act=act)
    return render(request, "acts/form.html", {"form": form, "act": act}, status=status)


def _run(request: AuthedHttpRequest, act: Act, call: Callable[[], Any], success: str) -> HttpResponse:
    """Run a circuit action that needs no form of its own; refusals come back as a message."""
    try:
        call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except services.ConflictError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("acts:detail", pk=act.pk)


def _action(request: AuthedHttpRequest, act: Act, form: Form, key: str, run: Callable[[dict[str, Any]], Any],
            success: str) -> HttpResponse:
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except services.ConflictError as exc:
            form.add_error(None, exc.message)
            return render(request, "acts/detail.html",
                          _detail_context(request, _get_act(request, act.pk), **{key: form}), status=409)
        else:
            messages.success(request, success)
            return redirect("acts:detail", pk=act.pk)
    return render(request, "acts/detail.html", _detail_context(request, _get_act(request, act.pk), **{key: form}),
                  status=400)


@staff_required
@require_POST
def act_submit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    act = _get_act(request, pk)
    form = act_forms.VersionForm(request.POST)
    return _action(request, act, form, "version_form", lambda d: services.act_submit(
        actor=request.user, act=act, expected_version=d["version"], ip=client_ip(request)),
        _("Sent to its circuit of endorsements and signatures."))


@staff_required
@require_POST
def act_endorse(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    act = _get_act(request, pk)
    form = act_forms.EndorseForm(request.POST)
    return _action(request, act, form, "endorse_form", lambda d: services.act_endorse(
        actor=request.user, act=act, comment=d["comment"], expected_version=d["version"], ip=client_ip(request)),
        _("Endorsed."))


@staff_required
@require_POST
def act_send_back(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    act = _get_act(request, pk)
    form = act_forms.SendBackForm(request.POST)
    return _action(request, act, form, "send_back_form", lambda d: services.act_send_back(
        actor=request.user, act=act, comment=d["comment"], expected_version=d["version"], ip=client_ip(request)),
        _("Sent back to draft with your comments."))


@staff_required
@require_POST
def act_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    act = _get_act(request, pk)
    form = act_forms.CancelForm(request.POST)
    return _action(request, act, form, "cancel_form", lambda d: services.act_cancel(
        actor=request.user, act=act, reason=d["reason"], expected_version=d["version"], ip=client_ip(request)),
        _("Draft cancelled."))


@staff_required
@require_POST
def act_distribute(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    act = _get_act(request, pk)
    form = act_forms.DistributeForm(request.POST)
    return _action(request, act, form, "distribute_form", lambda d: services.act_distribute(
        actor=request.user, act=act, delivery_method=d["delivery_method"], reference=d["reference"],
        expected_version=d["version"], ip=client_ip(request)), _("Distributed."))


@staff_required
@require_POST
def act_sign(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    from folio.signatures.services import SignatureError

    act = _get_act(request, pk)
    form = act_forms.SignForm(request.POST, advanced_required=services.requires_advanced(act))
    status = 400
    if form.is_valid():
        d = form.cleaned_data
        try:
            signed = services.act_sign(actor=request.user, act=act, method=d["method"],
                                       passphrase=d["passphrase"] or None, otp=(d["otp"] or "").strip() or None,
                                       ip=client_ip(request))
        except SignatureError as exc:
            form.add_error(None, exc.message)
            status = SIGNATURE_STATUS.get(exc.code, 400)
        except ValidationError as exc:
            _form_errors(form, exc)
        except services.ConflictError as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            if signed.state == ActState.NUMBERED:
                messages.success(request, _("Signed and numbered: %(number)s.") % {"number": signed.number_display})
            else:
                messages.success(request, _("Signed. It goes on to the next signer."))
            return redirect("acts:detail", pk=act.pk)
    return render(request, "acts/detail.html",
                  _detail_context(request, _get_act(request, act.pk), sign_form=form), status=status)


@staff_required
def act_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse | FileResponse:
    """The signed PDF once there is one; before that, the draft as it would look."""
    act = _get_act(request, pk)
    if act.signed_file is not None:
        services.act_access_record(actor=request.user, act=act, what=f"download:{act.signed_file.sha256}",
                                   ip=client_ip(request))
        return FileResponse(file_open(act.signed_file), content_type="application/pdf",
                            as_attachment=request.GET.get("descargar") == "1",
                            filename=act.signed_file.original_name)
    rendered = services.act_preview(act)
    response = HttpResponse(rendered.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="borrador-{act.pk}.pdf"'
    return response


@staff_required
def act_page_png(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One page of the document as a picture, for the preview on the detail page."""
    from folio.files.inspect import render_pdf_page

    act = _get_act(request, pk)
    if act.signed_file is not None:
        services.act_access_record(actor=request.user, act=act, what=f"preview:{act.signed_file.sha256}",
                                   ip=client_ip(request))
        with file_open(act.signed_file) as fh:
            data = fh.read()
    else:
        data = services.act_preview(act).pdf
    try:
        page_no = max(0, int(request.GET.get("pagina", "1")) - 1)
    except ValueError:
        page_no = 0
    image = render_pdf_page(data, page_no, scale=1.3)
    if image is None:
        raise Http404
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    response = HttpResponse(out.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@staff_required
def inbox_endorse(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "acts/inbox.html", {
        "acts": list(selectors.endorsement_inbox(request.user)), "kind": "endorse",
        "counts": services.pending_counts(request.user),
        "can_administer": permissions.can_administer(request.user)})


@staff_required
def inbox_sign(request: AuthedHttpRequest) -> HttpResponse:
    form = act_forms.BatchSignForm(user=request.user)
    acts = list(selectors.signature_inbox(request.user))
    return render(request, "acts/inbox.html", {
        "acts": acts, "kind": "sign", "form": form, "counts": services.pending_counts(request.user),
        "can_administer": permissions.can_administer(request.user),
        "advanced_required": {a.pk for a in acts if services.requires_advanced(a)}})


@staff_required
@require_POST
def batch_sign(request: AuthedHttpRequest) -> HttpResponse:
    form = act_forms.BatchSignForm(request.POST, user=request.user)
    if not form.is_valid():
        acts = list(selectors.signature_inbox(request.user))
        selected = {int(x) for x in request.POST.getlist("acts") if x.isdigit()}
        return render(request, "acts/inbox.html", {
            "acts": acts, "kind": "sign", "form": form, "counts": services.pending_counts(request.user),
            "selected": selected, "advanced_required": {a.pk for a in acts if services.requires_advanced(a)}},
            status=400)
    d = form.cleaned_data
    results = services.act_sign_batch(
        actor=request.user, act_ids=[a.pk for a in d["acts"]], method=d["method"],
        passphrase=d["passphrase"] or None, otp=(d["otp"] or "").strip() or None, ip=client_ip(request))
    ok = sum(1 for r in results if r.ok)
    return render(request, "acts/batch_result.html", {"results": results, "ok": ok, "failed": len(results) - ok})


# --- administration ----------------------------------------------------------------------------------

@staff_required
def template_list(request: AuthedHttpRequest) -> HttpResponse:
    _admin_required(request)
    services.ensure_default_templates(request.user.organization, actor=request.user)
    return render(request, "acts/templates.html", {
        "templates": list(selectors.templates_for(request.user, active_only=False))})


def _template_input(d: dict[str, Any]) -> services.TemplateInput:
    endorsers, signers = act_forms.slots_from(d)
    return services.TemplateInput(
        kind=d["kind"], name=d["name"], letterhead=d["letterhead"], numbering_scheme=d["numbering_scheme"],
        antecedents_label=d["antecedents_label"], antecedents=d["antecedents"], subject=d["subject"], body=d["body"],
        closing=d["closing"], distribution=d["distribution"], show_from_to=d["show_from_to"],
        access_level=d["access_level"], is_active=d["is_active"],
        endorsers=[services.StepInput(uid, cap) for uid, cap in endorsers],
        signers=[services.StepInput(uid, cap) for uid, cap in signers])


@staff_required
def template_edit(request: AuthedHttpRequest, pk: int | None = None) -> HttpResponse:
    _admin_required(request)
    template = None
    if pk is not None:
        template = selectors.template_get(request.user, pk)
        if template is None:
            raise Http404
    org_id = request.user.organization_id
    assert org_id is not None
    status = 200
    if request.method == "POST":
        form = act_forms.TemplateForm(request.POST, organization_id=org_id, template=template)
        status = 400
        if form.is_valid():
            try:
                services.template_save(actor=request.user, template=template, data=_template_input(form.cleaned_data),
                                       ip=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc, {"endorsers": "endorser_1", "signers": "signer_1"})
            else:
                messages.success(request, _("Template saved."))
                return redirect("acts:templates")
    else:
        form = act_forms.TemplateForm(organization_id=org_id, template=template)
    return render(request, "acts/template_form.html", {"form": form, "template": template}, status=status)


def _policy_forms(org_id: int, bound_kind: str | None = None,
                  data: Any = None) -> list[tuple[str, str, act_forms.PolicyForm]]:
    policies = selectors.policies_for(org_id)
    out = []
    for kind, label in ActKind.choices:
        if kind == bound_kind:
            form = act_forms.PolicyForm(data, organization_id=org_id, prefix=kind)
        else:
            current = policies.get(kind)
            form = act_forms.PolicyForm(organization_id=org_id, prefix=kind, initial={
                "requires_advanced": bool(current and current.requires_advanced),
                "own_signers": [u.pk for u in current.own_signers.all()] if current else []})
        out.append((kind, str(label), form))
    return out


def _policy_page_with(request: AuthedHttpRequest, status: int, **override: Any) -> HttpResponse:
    org_id = request.user.organization_id
    assert org_id is not None
    context = {
        "policy_forms": _policy_forms(org_id),
        "delegations": list(selectors.delegations_for(org_id)),
        "substitutions": list(selectors.substitutions_for(org_id)),
        "delegation_form": act_forms.DelegationForm(organization_id=org_id),
        "substitution_form": act_forms.SubstitutionForm(organization_id=org_id),
        **override,
    }
    return render(request, "acts/policy.html", context, status=status)


@staff_required
def policy(request: AuthedHttpRequest) -> HttpResponse:
    _admin_required(request)
    org_id = request.user.organization_id
    assert org_id is not None
    if request.method != "POST":
        return _policy_page_with(request, 200)
    kind = request.POST.get("kind", "")
    if kind not in ActKind.values:
        messages.error(request, _("Choose a valid document type."))
        return _policy_page_with(request, 400)
    policy_forms = _policy_forms(org_id, kind, request.POST)
    form = next(f for k, _label, f in policy_forms if k == kind)
    if form.is_valid():
        try:
            services.policy_save(actor=request.user, kind=kind,
                                 requires_advanced=form.cleaned_data["requires_advanced"],
                                 own_signer_ids=[u.pk for u in form.cleaned_data["own_signers"]],
                                 ip=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Signature policy saved."))
            return redirect("acts:policy")
    return _policy_page_with(request, 400, policy_forms=policy_forms)


@staff_required
@require_POST
def delegation_new(request: AuthedHttpRequest) -> HttpResponse:
    _admin_required(request)
    org_id = request.user.organization_id
    assert org_id is not None
    form = act_forms.DelegationForm(request.POST, organization_id=org_id)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.delegation_create(actor=request.user, delegate_id=d["delegate"].pk,
                                       principal_title=d["principal_title"], kinds=list(d["kinds"]),
                                       valid_from=d["valid_from"], valid_until=d["valid_until"],
                                       decree_reference=d["decree_reference"], ip=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc, {"delegate_id": "delegate"})
        else:
            messages.success(request, _("Delegation recorded."))
            return redirect("acts:policy")
    return _policy_page_with(request, 400, delegation_form=form)


@staff_required
@require_POST
def substitution_new(request: AuthedHttpRequest) -> HttpResponse:
    _admin_required(request)
    org_id = request.user.organization_id
    assert org_id is not None
    form = act_forms.SubstitutionForm(request.POST, organization_id=org_id)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.substitution_create(actor=request.user, acting_id=d["acting"].pk,
                                         position_title=d["position_title"], valid_from=d["valid_from"],
                                         valid_until=d["valid_until"], decree_reference=d["decree_reference"],
                                         ip=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc, {"acting_id": "acting"})
        else:
            messages.success(request, _("Acting appointment recorded."))
            return redirect("acts:policy")
    return _policy_page_with(request, 400, substitution_form=form)


@staff_required
@require_POST
def delegation_end(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _admin_required(request)
    delegation = Delegation.objects.filter(pk=pk, organization_id=request.user.organization_id or 0).first()
    if delegation is None:
        raise Http404
    services.delegation_end(actor=request.user, delegation=delegation, ip=client_ip(request))
    messages.success(request, _("Delegation ended."))
    return redirect("acts:policy")


@staff_required
@require_POST
def substitution_end(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _admin_required(request)
    substitution = Substitution.objects.filter(pk=pk, organization_id=request.user.organization_id or 0).first()
    if substitution is None:
        raise Http404
    services.substitution_end(actor=request.user, substitution=substitution, ip=client_ip(request))
    messages.success(request, _("Acting appointment ended."))
    return redirect("acts:policy")

