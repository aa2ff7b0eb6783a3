from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from folio.accounts.models import User
from folio.acts import selectors
from folio.acts.models import Act, ActKind, ActState, ActTemplate, Capacity, SignatureMethod, StepKind
from folio.organizations.models import Unit
from folio.registry.models import AccessLevel, DeliveryMethod, PartyKind

SLOTS = 3


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        parts = [obj.display_name, obj.position, str(obj.unit) if obj.unit else ""]
        return " · ".join(p for p in parts if p)


class ActFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *list(ActState.choices)])
    kind = forms.ChoiceField(label=_("Document type"), required=False,
                             choices=[("", _("All")), *list(ActKind.choices)])
    mine = forms.BooleanField(label=_("Only my unit's"), required=False)


class NewActForm(forms.Form):
    template = forms.ModelChoiceField(label=_("Template"), queryset=ActTemplate.objects.none())
    answers = forms.IntegerField(required=False, widget=forms.HiddenInput)
    case_file = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = selectors.templates_for(user)  # type: ignore[attr-defined]


def _slot_fields(form: forms.Form, organization_id: int, *, with_capacity: bool) -> None:
    staff = selectors.staff_of(organization_id)
    signers = selectors.signers_of(organization_id)
    for i in range(1, SLOTS + 1):
        form.fields[f"endorser_{i}"] = _StaffChoice(label=_("Endorser %(n)s") % {"n": i}, queryset=staff,
                                                    required=False)
    for i in range(1, SLOTS + 1):
        form.fields[f"signer_{i}"] = _StaffChoice(label=_("Signer %(n)s") % {"n": i}, queryset=signers,
                                                  required=False)
        if with_capacity:
            form.fields[f"capacity_{i}"] = forms.ChoiceField(label=_("Capacity of signer %(n)s") % {"n": i},
                                                             choices=Capacity.choices, initial=Capacity.OWN)


def _slot_initial(steps: list[Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for step in steps:
        if step.kind == StepKind.ENDORSE and step.position <= SLOTS:
            initial[f"endorser_{step.position}"] = step.user_id
        elif step.kind == StepKind.SIGN and step.position <= SLOTS:
            initial[f"signer_{step.position}"] = step.user_id
            initial[f"capacity_{step.position}"] = step.capacity
    return initial


def slots_from(data: dict[str, Any]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(endorsers, signers) as (user id, capacity), in slot order, skipping empty slots."""
    endorsers: list[tuple[int, str]] = [(int(data[f"endorser_{i}"].pk), str(Capacity.OWN))
                                        for i in range(1, SLOTS + 1) if data.get(f"endorser_{i}")]
    signers: list[tuple[int, str]] = [(int(data[f"signer_{i}"].pk), str(data.get(f"capacity_{i}") or Capacity.OWN))
                                      for i in range(1, SLOTS + 1) if data.get(f"signer_{i}")]
    return endorsers, signers


class ActForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject (materia)"), max_length=500)
    antecedents = forms.CharField(label=_("Antecedents"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    body = forms.CharField(label=_("Body"), widget=forms.Textarea(attrs={"rows": 14}),
                           help_text=_("Leave a blank line between paragraphs."))
    closing = forms.CharField(label=_("Closing"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    recipient_kind = forms.ChoiceField(label=_("Recipient type"), required=False,
                                       choices=[("", _("No external recipient")), *list(PartyKind.choices)])
    recipient_name = forms.CharField(label=_("Recipient"), required=False, max_length=200)
    recipient_position = forms.CharField(label=_("Recipient's post"), required=False, max_length=200)
    recipient_rut = forms.CharField(label=_("Recipient RUN/RUT"), required=False, max_length=15)
    recipient_email = forms.EmailField(label=_("Recipient e-mail"), required=False)
    recipient_address = forms.CharField(label=_("Recipient address"), required=False, max_length=250)
    recipient_body_code = forms.CharField(label=_("Recipient public body code"), required=False, max_length=20)
    distribution_text = forms.CharField(label=_("Distribution (as printed)"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 3}))
    distribution_units = forms.ModelMultipleChoiceField(label=_("Units it is distributed to"), required=False,
                                                        queryset=Unit.objects.none(),
                                                        widget=forms.CheckboxSelectMultiple)
    access_level = forms.TypedChoiceField(label=_("Access level"), choices=AccessLevel.choices, coerce=int)

    def __init__(self, *args: Any, act: Act, **kwargs: Any) -> None:
        if not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "version": act.version, "subject": act.subject, "antecedents": act.antecedents, "body": act.body,
                "closing": act.closing, "recipient_kind": act.recipient_kind, "recipient_name": act.recipient_name,
                "recipient_position": act.recipient_position,
                "recipient_rut": f"{act.recipient_rut_number}-{act.recipient_rut_dv}"
                if act.recipient_rut_number else "",
                "recipient_email": act.recipient_email, "recipient_address": act.recipient_address,
                "recipient_body_code": act.recipient_body_code, "distribution_text": act.distribution_text,
                "distribution_units": list(act.distribution_units.values_list("pk", flat=True)),
                "access_level": act.access_level, **_slot_initial(list(act.steps.all())),
            }
        super().__init__(*args, **kwargs)
        self.fields["distribution_units"].queryset = Unit.objects.filter(  # type: ignore[attr-defined]
            organization_id=act.organization_id, is_active=True)
        _slot_fields(self, act.organization_id, with_capacity=True)

    def slot_rows(self) -> list[tuple[Any, Any | None]]:
        return [(self[f"signer_{i}"], self[f"capacity_{i}"]) for i in range(1, SLOTS + 1)]

    def endorser_fields(self) -> list[Any]:
        return [self[f"endorser_{i}"] for i in range(1, SLOTS + 1)]


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class EndorseForm(VersionForm):
    comment = forms.CharField(label=_("Comment (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SendBackForm(VersionForm):
    comment = forms.CharField(label=_("What must be corrected"), widget=forms.Textarea(attrs={"rows": 3}))


class CancelForm(VersionForm):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=500)


class SignForm(forms.Form):
    method = forms.ChoiceField(label=_("Signature"), choices=SignatureMethod.choices, initial=SignatureMethod.SIMPLE)
    passphrase = forms.CharField(label=_("Signing passphrase"), required=False, strip=False,
                                 widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
                                 help_text=_("Simple signature: the passphrase of your signing key."))
    otp = forms.CharField(label=_("FirmaGob one-time code (OTP)"), required=False, max_length=12,
                          widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
                          help_text=_("Advanced signature: the code of your FirmaGob authenticator app."))

    def __init__(self, *args: Any, advanced_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if advanced_required:
            self.fields["method"].choices = [  # type: ignore[attr-defined]
                (SignatureMethod.ADVANCED, SignatureMethod.ADVANCED.label)]
            self.fields["method"].initial = SignatureMethod.ADVANCED

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("method") == SignatureMethod.ADVANCED and not (data.get("otp") or "").strip():
            self.add_error("otp", _("Enter the one-time code of your FirmaGob app."))
        if data.get("method") == SignatureMethod.SIMPLE and not data.get("passphrase"):
            self.add_error("passphrase", _("Enter your signing passphrase."))
        return data


class BatchSignForm(SignForm):
    acts = forms.ModelMultipleChoiceField(label=_("Documents to sign"), queryset=Act.objects.none(),
                                          widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["acts"].queryset = selectors.signature_inbox(user)  # type: ignore[attr-defined]


class DistributeForm(VersionForm):
    delivery_method = forms.ChoiceField(
        label=_("How it leaves (libro de despacho)"), required=False,
        choices=[("", _("Register it now; the Oficina de Partes records the dispatch later")),
                 *list(DeliveryMethod.choices)])
    reference = forms.CharField(label=_("Delivery reference"), required=False, max_length=200,
                                help_text=_("Tracking number, or who received it by hand."))


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document type"), choices=ActKind.choices)
    name = forms.CharField(label=_("Name"), max_length=150)
    letterhead = forms.CharField(label=_("Letterhead"), widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("One line per row; {unit} is replaced by the drafting unit."))
    numbering_scheme = forms.CharField(label=_("Numbering scheme"), max_length=120,
                                       help_text=_("For example: Decreto Exento N° {n}/{year}"))
    antecedents_label = forms.CharField(label=_("Label of the antecedents"), max_length=40)
    antecedents = forms.CharField(label=_("Default antecedents"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    subject = forms.CharField(label=_("Default subject (materia)"), required=False, max_length=500)
    body = forms.CharField(label=_("Default body"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    closing = forms.CharField(label=_("Closing"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    distribution = forms.CharField(label=_("Default distribution"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 3}))
    show_from_to = forms.BooleanField(label=_("Show the from/to block"), required=False)
    access_level = forms.TypedChoiceField(label=_("Default access level"), choices=AccessLevel.choices, coerce=int)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, organization_id: int, template: ActTemplate | None = None, **kwargs: Any) -> None:
        if template is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(template, name) for name in (
                "kind", "name", "letterhead", "numbering_scheme", "antecedents_label", "antecedents", "subject",
                "body", "closing", "distribution", "show_from_to", "access_level", "is_active")}
            kwargs["initial"].update(_slot_initial(list(template.steps.all())))
        super().__init__(*args, **kwargs)
        _slot_fields(self, organization_id, with_capacity=True)

    def slot_rows(self) -> list[tuple[Any, Any | None]]:
        return [(self[f"signer_{i}"], self[f"capacity_{i}"]) for i in range(1, SLOTS + 1)]

    def endorser_fields(self) -> list[Any]:
        return [self[f"endorser_{i}"] for i in range(1, SLOTS + 1)]


class PolicyForm(forms.Form):
    requires_advanced = forms.BooleanField(label=_("Requires advanced signature (FirmaGob)"), required=False)
    own_signers = forms.ModelMultipleChoiceField(
        label=_("Who may sign it in their own capacity"), required=False, queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple, help_text=_("None checked: any signer of the organization."))

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["own_signers"].queryset = selectors.signers_of(organization_id)  # type: ignore[attr-defined]


class DelegationForm(forms.Form):
    delegate = _StaffChoice(label=_("Delegate"), queryset=User.objects.none())
    principal_title = forms.CharField(label=_("Signs on behalf of (post)"), max_length=120, initial="Alcalde")
    kinds = forms.MultipleChoiceField(label=_("Document types"), choices=ActKind.choices,
                                      widget=forms.CheckboxSelectMultiple)
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("Valid until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    decree_reference = forms.CharField(label=_("Act that grants it"), required=False, max_length=200)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = selectors.signers_of(organization_id)  # type: ignore[attr-defined]


class SubstitutionForm(forms.Form):
    acting = _StaffChoice(label=_("Acting official"), queryset=User.objects.none())
    position_title = forms.CharField(label=_("Post held"), max_length=120, initial="Alcalde")
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("Valid until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    decree_reference = forms.CharField(label=_("Act that appoints them"), required=False, max_length=200)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["acting"].queryset = selectors.signers_of(organization_id)  # type: ignore[attr-defined]
