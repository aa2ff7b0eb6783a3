from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from folio.core.rut import Rut
from folio.organizations.models import Unit
from folio.registry.models import (
    AccessLevel,
    Book,
    DeliveryMethod,
    DocumentType,
    Instruction,
    Mechanism,
    PartyKind,
    RegistrationStatus,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        accept = ".pdf,.png,.jpg,.jpeg,.tif,.tiff,.txt,.xml,.docx,.xlsx,.odt"
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RutField(forms.CharField):
    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value:
            return Rut.parse(value).compact
        return ""


class RegistrationForm(forms.Form):
    document_type = forms.TypedChoiceField(label=_("Document type"), choices=DocumentType.choices, coerce=int,
                                           initial=DocumentType.CARTA)
    subject = forms.CharField(label=_("Subject (materia)"), max_length=500)
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    party_kind = forms.ChoiceField(label=_("Party type"), choices=PartyKind.choices)
    party_name = forms.CharField(label=_("Name"), max_length=200)
    party_rut = RutField(label=_("RUN/RUT"), required=False, max_length=15,
                         help_text=_("For example 12.345.678-5."))
    party_body_code = forms.CharField(label=_("Public body code"), required=False, max_length=20)
    party_email = forms.EmailField(label=_("E-mail"), required=False)
    party_address = forms.CharField(label=_("Address"), required=False, max_length=250)
    access_level = forms.TypedChoiceField(label=_("Access level"), choices=AccessLevel.choices, coerce=int,
                                          initial=AccessLevel.PUBLIC)
    sensitive_data = forms.BooleanField(label=_("Contains sensitive personal data"), required=False)
    keywords = forms.CharField(label=_("Keywords"), required=False, max_length=500)
    files = MultipleFileField(label=_("Documents"), required=False,  # type: ignore[assignment]
                              help_text=_("PDF, images or office files; the first one is the main document."))
    submission_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class IncomingForm(RegistrationForm):
    addressee = forms.CharField(label=_("Addressed to"), required=False, max_length=200)
    unit = forms.ModelChoiceField(label=_("Addressee unit"), queryset=Unit.objects.none(), required=False)
    document_date = forms.DateField(label=_("Document date"), required=False, widget=DATE_WIDGET)
    received_at = forms.DateTimeField(label=_("Received at"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                 format="%Y-%m-%dT%H:%M"))
    mechanism = forms.TypedChoiceField(label=_("Incorporation mechanism"), choices=Mechanism.choices, coerce=int,
                                       initial=Mechanism.DIGITIZATION)
    pages = forms.IntegerField(label=_("Pages"), required=False, min_value=0)
    field_order = ["document_type", "subject", "summary", "party_kind", "party_name", "party_rut", "party_body_code",
                   "party_email", "party_address", "addressee", "unit", "document_date", "received_at", "mechanism",
                   "pages", "access_level", "sensitive_data", "keywords", "files"]

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(organization=organization, is_active=True)  # type: ignore[attr-defined]

    def clean_received_at(self) -> Any:
        value = self.cleaned_data.get("received_at")
        if value and value > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("The reception date cannot be in the future."))
        return value


class OutgoingForm(RegistrationForm):
    unit = forms.ModelChoiceField(label=_("Sending unit"), queryset=Unit.objects.none())
    answers = forms.IntegerField(widget=forms.HiddenInput, required=False)
    delivery_method = forms.ChoiceField(label=_("Delivery method"), choices=DeliveryMethod.choices)
    field_order = ["document_type", "subject", "summary", "unit", "party_kind", "party_name", "party_rut",
                   "party_body_code", "party_email", "party_address", "delivery_method", "access_level",
                   "sensitive_data", "keywords", "files"]

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(organization=organization, is_active=True)  # type: ignore[attr-defined]
        self.fields["files"].required = True
        self.fields["document_type"].initial = DocumentType.OFICIO


class RouteForm(forms.Form):
    units = forms.ModelMultipleChoiceField(label=_("Units"), queryset=Unit.objects.none(),
                                           widget=forms.CheckboxSelectMultiple)
    instruction = forms.ChoiceField(label=_("Instruction"), choices=Instruction.choices,
                                    initial=Instruction.FOR_RESPONSE)
    business_days = forms.IntegerField(label=_("Deadline (business days)"), required=False, min_value=1,
                                       max_value=365, initial=10)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = Unit.objects.filter(organization=organization, is_active=True)  # type: ignore[attr-defined]


class RerouteForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("New unit"), queryset=Unit.objects.none())
    instruction = forms.ChoiceField(label=_("Instruction"), choices=Instruction.choices,
                                    initial=Instruction.FOR_RESPONSE)
    business_days = forms.IntegerField(label=_("Deadline (business days)"), required=False, min_value=1,
                                       max_value=365)
    note = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(organization=organization, is_active=True)  # type: ignore[attr-defined]


class CloseForm(forms.Form):
    note = forms.CharField(label=_("How was it settled?"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    response = forms.TypedChoiceField(label=_("Response"), required=False, coerce=int, empty_value=None, choices=[])
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, responses: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((r.pk, f"{r.folio} {r.subject[:50]}") for r in responses)]
        self.fields["response"].choices = choices  # type: ignore[attr-defined]


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason for voiding"), max_length=500, min_length=5)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DispatchForm(forms.Form):
    method = forms.ChoiceField(label=_("Delivery method"), choices=DeliveryMethod.choices)
    reference = forms.CharField(label=_("Reference (tracking number, who received it)"), required=False,
                                max_length=200)
    evidence = forms.FileField(label=_("Delivery evidence"), required=False)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    book = forms.ChoiceField(label=_("Book"), required=False, choices=[("", _("All")), *Book.choices])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All")), *RegistrationStatus.choices])
    document_type = forms.TypedChoiceField(label=_("Document type"), required=False, coerce=int, empty_value=None,
                                           choices=[("", _("All")), *DocumentType.choices])
    unit = forms.ModelChoiceField(label=_("Unit"), required=False, queryset=Unit.objects.none())
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET)
    party = forms.CharField(label=_("Sender or recipient"), required=False, max_length=100)
    folio = forms.CharField(label=_("Folio"), required=False, max_length=20)

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(organization=organization)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date must be before the end date."))
        return data


class ExportForm(forms.Form):
    book = forms.ChoiceField(label=_("Book"), choices=Book.choices)
    date_from = forms.DateField(label=_("From"), widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("To"), widget=DATE_WIDGET)
    format = forms.ChoiceField(label=_("Format"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to"):
            if data["date_from"] > data["date_to"]:
                raise forms.ValidationError(_("The start date must be before the end date."))
            if (data["date_to"] - data["date_from"]).days > 366:
                raise forms.ValidationError(_("Export at most one year at a time."))
        return data
