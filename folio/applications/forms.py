"""Forms of the application pages (the application form itself is built by ``formengine.build_form``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from folio.applications.models import ApplicationState, Channel
from folio.organizations.models import Unit


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class _Versioned(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ApproveForm(_Versioned):
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(_Versioned):
    reasons = forms.CharField(label=_("Reasons for the rejection"), min_length=10, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}))


class CorrectionRequestForm(_Versioned):
    message = forms.CharField(label=_("What must the applicant correct?"), min_length=10, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("The applicant gets 5 working days (Ley 19.880, art. 31)."))


class ReportRequestForm(_Versioned):
    unit = forms.ModelChoiceField(label=_("Unit asked"), queryset=Unit.objects.none())
    question = forms.CharField(label=_("What should the report address?"), min_length=10, max_length=5000,
                               widget=forms.Textarea(attrs={"rows": 3}))
    days = forms.IntegerField(label=_("Deadline (working days)"), min_value=1, max_value=60, initial=10)

    def __init__(self, *args: Any, organization_id: int, exclude_unit_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (Unit.objects.filter(organization_id=organization_id, is_active=True)
                          .exclude(pk=exclude_unit_id or 0).order_by("name"))


class ResolveForm(_Versioned):
    outcome = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, choices=[
        (ApplicationState.APPROVED, _("Approve the application")),
        (ApplicationState.REJECTED, _("Reject the application"))])
    text = forms.CharField(label=_("Resolution"), min_length=10, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    signed_pdf = forms.FileField(label=_("Signed resolution (PDF, optional)"), required=False,
                                 help_text=_("Without it, Folio renders the resolution from the text above."))


class ReportAnswerForm(_Versioned):
    text = forms.CharField(label=_("Report"), min_length=10, max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
    file = forms.FileField(label=_("File (optional)"), required=False)


class CorrectionAnswerForm(forms.Form):
    text = forms.CharField(label=_("What did you correct?"), min_length=5, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 4}))
    attachments = MultipleFileField(label=_("New documents (optional)"), required=False,
                              help_text=_("PDF, images or office documents; up to 10 files."))


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("I withdraw this application; I understand that this ends it."))


class CounterCitizenForm(forms.Form):
    """Who a counter filing is for (the service validates the RUN)."""

    prefix = "solicitante"
    run = forms.CharField(label=_("Applicant's RUN"), max_length=15, help_text=_("For example 12.345.678-5."))
    first_name = forms.CharField(label=_("First names"), max_length=150)
    last_name = forms.CharField(label=_("Last names"), max_length=150)
    email = forms.EmailField(label=_("E-mail for notifications"), required=False,
                             error_messages={"invalid": _("Enter a valid e-mail address.")})
    channel = forms.ChoiceField(label=_("Channel"), choices=[(Channel.IN_PERSON, _("In person")),
                                                             (Channel.PHONE, _("Telephone"))],
                                initial=Channel.IN_PERSON)


class InboxFilterForm(forms.Form):
    estado = forms.ChoiceField(label=_("State"), required=False, choices=[
        ("open", _("Open")), ("all", _("All")), *[(s.value, s.label) for s in ApplicationState
                                                   if s != ApplicationState.DRAFT]])
    tramite = forms.TypedChoiceField(label=_("Procedure"), required=False, coerce=int, empty_value=None)
    vencidas = forms.BooleanField(label=_("Only overdue"), required=False)

    def __init__(self, *args: Any, procedures: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["tramite"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All procedures")), *[(p.pk, p.name) for p in procedures]]
