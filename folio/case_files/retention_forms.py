from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from folio.case_files.models import DispositionAction, FinalDisposition


class RetentionRuleForm(forms.Form):
    series_code = forms.CharField(label=_("Series code"), max_length=40,
                                  help_text=_("The code written in the expedientes of the series, e.g. DOM-PE."))
    name = forms.CharField(label=_("Series name"), max_length=200)
    active_years = forms.IntegerField(label=_("Years in the active phase"), min_value=0, max_value=200,
                                      help_text=_("Counted from the closing of the expediente."))
    semi_active_years = forms.IntegerField(label=_("Years in the semi-active phase"), min_value=0, max_value=200)
    disposition = forms.ChoiceField(label=_("Final disposition"), choices=FinalDisposition.choices)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text=_("The act or norm that sets these periods."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["series_code"].disabled = True


class DueFilterForm(forms.Form):
    series = forms.CharField(label=_("Series code"), max_length=40, required=False)
    action = forms.ChoiceField(label=_("Final disposition"), required=False,
                               choices=[("", _("All")), *DispositionAction.choices])


class IdListField(forms.Field):
    """The ids of the expedientes ticked in the due list (the checkboxes are in the table rows)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": _("Choose at least one expediente."),
                              "invalid": _("Give the ids of the expedientes.")}

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return [int(v) for v in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class ApproveForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), choices=DispositionAction.choices)
    case_files = IdListField(label=_("Expedientes"))
    act_number = forms.CharField(label=_("Approving act"), max_length=120,
                                 help_text=_("Number and date of the decree or resolution, e.g. D.A. 1234 of "
                                             "15-03-2026."))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), min_length=5)


class ExecuteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("E.g. the Archivo Nacional's receipt of the transfer, or the elimination "
                                       "minutes."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, min_length=5)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
