from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from folio.case_files.models import ActorType, CaseFileState, Origin
from folio.core.widgets import FastSelect, PlainChoices
from folio.organizations.models import Unit
from folio.registry.forms import RutField
from folio.registry.models import AccessLevel, DocumentType


def _units(organization: Any) -> Any:
    return Unit.objects.filter(organization=organization, is_active=True)


class CaseFileForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=500, required=False,
                            help_text=_("Left empty, the subject of the registration is used."))
    subject = forms.CharField(label=_("Subject"), max_length=500, required=False)
    summary = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    procedure_code = forms.CharField(label=_("CPAT procedure code"), max_length=40, required=False)
    procedure_name = forms.CharField(label=_("Procedure name"), max_length=250, required=False)
    series_code = forms.CharField(label=_("Series code"), max_length=40, required=False)
    unit = forms.ModelChoiceField(label=_("Responsible unit"), queryset=Unit.objects.none(), required=False)
    access_level = forms.TypedChoiceField(label=_("Access level"), choices=AccessLevel.choices, coerce=int,
                                          initial=AccessLevel.PUBLIC)
    sensitive_data = forms.BooleanField(label=_("Contains sensitive personal data"), required=False)
    party_name = forms.CharField(label=_("Name of the interested party"), max_length=200, required=False)
    party_rut = RutField(label=_("RUN/RUT"), required=False, max_length=15, help_text=_("For example 12.345.678-5."))
    party_actor_type = forms.TypedChoiceField(label=_("Actor type"), choices=ActorType.choices, coerce=int,
                                              initial=ActorType.CITIZEN)
    party_email = forms.EmailField(label=_("E-mail"), required=False)
    registration = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, organization: Any, can_choose_unit: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units(organization)  # type: ignore[attr-defined]
        if not can_choose_unit:
            del self.fields["unit"]


class EntryFieldsMixin(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=500)
    document_type = forms.TypedChoiceField(label=_("Document type"), choices=DocumentType.choices, coerce=int,
                                           initial=DocumentType.INFORME)
    access_level = forms.TypedChoiceField(label=_("Access level"), choices=AccessLevel.choices, coerce=int,
                                          initial=AccessLevel.PUBLIC)
    sensitive_data = forms.BooleanField(label=_("Contains sensitive personal data"), required=False)
    keywords = forms.CharField(label=_("Keywords"), max_length=500, required=False,
                               help_text=_("Separated by commas."))
    version_of = forms.TypedChoiceField(label=_("New version of"), required=False, coerce=int, empty_value=None,
                                        choices=[], widget=FastSelect)  # one option per document
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, entries: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((e.pk, f"{e.position}. {e.title[:60]}") for e in entries)]
        self.fields["version_of"].choices = PlainChoices(choices)  # type: ignore[attr-defined]


class UploadForm(EntryFieldsMixin):
    file = forms.FileField(label=_("File"))
    origin = forms.TypedChoiceField(label=_("Origin"), required=False, coerce=int, empty_value=None,
                                    choices=[("", _("Produced by the municipality")), *Origin.choices])
    field_order = ["file", "title", "document_type", "origin", "access_level", "sensitive_data", "keywords",
                   "version_of"]


class PaperForm(EntryFieldsMixin):
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}))
    physical_location = forms.CharField(label=_("Physical location"), max_length=250)
    pages = forms.IntegerField(label=_("Pages"), min_value=1, max_value=100000)
    field_order = ["title", "document_type", "description", "physical_location", "pages", "access_level",
                   "sensitive_data", "keywords", "version_of"]


class RegistrationPickForm(forms.Form):
    folio = forms.CharField(label=_("Folio of the registration"), max_length=20,
                            help_text=_("For example E-2026-000123."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class TransferForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, organization: Any, exclude_unit_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _units(organization).exclude(pk=exclude_unit_id)  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, min_length=5)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class OtherCaseFileForm(forms.Form):
    iuie = forms.CharField(label=_("IUIe of the other expediente"), max_length=30,
                           help_text=_("For example EXP-2026-000045."))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *CaseFileState.choices])
    mine = forms.BooleanField(label=_("Only my unit's"), required=False)



class CopyDocumentForm(forms.Form):
    position = forms.IntegerField(label=_("Document number in the index"), min_value=1, max_value=10_000_000)


class SeriesPackageForm(forms.Form):
    series = forms.CharField(label=_("Series code"), max_length=40)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
