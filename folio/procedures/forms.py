"""Forms of the inventory pages. They parse and label; the rules are in ``services`` (forms never save)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from folio.organizations.models import Unit
from folio.procedures.fields import EDITABLE_FIELDS
from folio.procedures.models import (
    DigitalizationLevel,
    Procedure,
    ProcedureKind,
    SimplificationPlan,
    Topic,
    TransactionChannel,
)
from folio.procedures.services import PLAN_FIELDS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXTAREAS = ("description", "other_legal_sources", "who_can_apply", "requirements", "steps")


def _formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ProcedureForm(forms.ModelForm):
    """Every CPAT field of a procedure; ``version`` is the one the user read (optimistic concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Procedure
        fields = EDITABLE_FIELDS
        formfield_callback = _formfield
        widgets = {
            **{name: forms.Textarea(attrs={"rows": 3}) for name in TEXTAREAS},
            "digitalized_on": DATE_WIDGET,
        }
        labels = {
            "slug": _("Address in the catalogue"),
        }
        help_texts = {
            "slug": _("Part of the public address /tramites/<municipality>/<address>/; made from the name when "
                      "left empty."),
            "code": _("The code CPAT gave the procedure, e.g. PA-MUN00426-00012."),
            "law_url": _("For example the norm's page on bcn.cl/leychile."),
        }

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(organization=organization)  # type: ignore[attr-defined]
        self.fields["topic"].queryset = Topic.objects.filter(organization=organization)  # type: ignore[attr-defined]
        self.fields["slug"].required = False
        self.fields["units_involved"].min_value = 1  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        # The model's own checks run in the service (with the organization set), not here.
        pass


class InventoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    unit = forms.ModelChoiceField(label=_("Responsible unit"), queryset=Unit.objects.none(), required=False,
                                  empty_label="—")
    topic = forms.ModelChoiceField(label=_("Topic"), queryset=Topic.objects.none(), required=False, empty_label="—")
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", "—"), *ProcedureKind.choices])
    level = forms.TypedChoiceField(label=_("Level"), required=False, coerce=int, empty_value=None,
                                   choices=[("", "—"), *DigitalizationLevel.choices])
    published = forms.TypedChoiceField(label=_("Catalogue"), required=False, empty_value=None,
                                       coerce=lambda v: v == "1",
                                       choices=[("", "—"), ("1", _("Published")), ("0", _("Not published"))])

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(organization=organization)  # type: ignore[attr-defined]
        self.fields["topic"].queryset = Topic.objects.filter(organization=organization)  # type: ignore[attr-defined]


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class TransactionsForm(forms.Form):
    """One year of hand-entered figures: a field per month and channel; empty = "sin información"."""

    def __init__(self, *args: Any, year: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.year = year
        for month in range(1, 13):
            for channel, label in TransactionChannel.choices:
                self.fields[f"m{month}_{channel}"] = forms.IntegerField(
                    label=f"{label} {month:02d}/{year}", required=False, min_value=0, max_value=10_000_000,
                    widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "inputmode": "numeric"}))

    def grid(self) -> list[tuple[int, list[Any]]]:
        return [(m, [self[f"m{m}_{ch}"] for ch in TransactionChannel.values]) for m in range(1, 13)]


class PlanForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = SimplificationPlan
        fields = PLAN_FIELDS
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "documents_state_holds": forms.Textarea(attrs={"rows": 3}),
            "starts_on": DATE_WIDGET, "due_on": DATE_WIDGET, "done_on": DATE_WIDGET,
        }

    def _post_clean(self) -> None:
        pass


class SettingsForm(forms.Form):
    expected_procedures = forms.IntegerField(
        label=_("Expected number of procedures"), required=False, min_value=1, max_value=100_000,
        help_text=_("How many procedures the municipality estimates it has; empty: the size of the inventory."))
    simplification_goal_percent = forms.IntegerField(label=_("Simplification goal (%)"), min_value=1, max_value=100,
                                                     initial=50)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (.xlsx or .csv)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
                           help_text=_("The Nómina layout: the same columns as the export."))
    dry_run = forms.BooleanField(label=_("Only check the file, change nothing"), required=False)


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=[("xlsx", _("Excel (.xlsx), three sheets")),
                                                           ("csv", _("CSV, the Nómina only"))], initial="xlsx")
    year = forms.IntegerField(label=_("Year of the transactions"), required=False, min_value=2000, max_value=2100,
                              help_text=_("Empty: the last 12 months."))


class TopicForm(forms.Form):
    """A topic of the public catalogue; the rules (unique address, position range) are in ``services``."""

    name = forms.CharField(label=_("Name"), max_length=100)
    slug = forms.CharField(label=_("Address in the catalogue"), max_length=100, required=False,
                           help_text=_("Used in /tramites/<municipality>/?tema=<address>; made from the name when "
                                       "left empty."))
    position = forms.IntegerField(label=_("Position"), required=False, min_value=0, max_value=32767,
                                  help_text=_("Topics are listed by position, then by name; empty: last."))
