"""Forms of the form builder: one row per field and one per stage (formsets), turned into a schema for
``definition_services.definition_update`` and given back the errors of ``validate_schema`` row by row."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from folio.applications.definitions import (
    DAYS_RANGE,
    DEFAULT_MAX_MB,
    FIELD_TYPE_LABELS,
    FIELD_TYPES,
    FILE_KIND_LABELS,
    FILE_KINDS,
    MAX_MB_RANGE,
    STAGE_ACTION_LABELS,
    STAGE_ACTIONS,
)

EXTRA_FIELD_ROWS = 2
EXTRA_STAGE_ROWS = 1
MAX_EXTRA_ROWS = 20


class TokenForm(forms.Form):
    """The draft as the administrator read it (optimistic concurrency)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class FieldRowForm(forms.Form):
    position = forms.IntegerField(label=_("Position"), required=False, min_value=1, max_value=999,
                                  widget=forms.NumberInput(attrs={"class": "position-input"}))
    label = forms.CharField(label=_("Question (label)"), required=False, max_length=200)
    type = forms.ChoiceField(label=_("Type"), required=False,
                             choices=[("", _("Choose a type")), *((t, FIELD_TYPE_LABELS[t]) for t in FIELD_TYPES)])
    key = forms.CharField(label=_("Key"), required=False, max_length=40,
                          help_text=_("Internal name; leave it empty to derive it from the label."),
                          widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}))
    required = forms.BooleanField(label=_("Required"), required=False)
    help = forms.CharField(label=_("Help text"), required=False, max_length=500)
    choices = forms.CharField(label=_("Options"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Choice fields: one option per line."))
    multiple = forms.BooleanField(label=_("Several options may be chosen"), required=False)
    types = forms.MultipleChoiceField(label=_("Accepted types of file"), required=False, initial=["pdf"],
                                      choices=[(k, FILE_KIND_LABELS[k]) for k in FILE_KINDS],
                                      widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}))
    max_mb = forms.IntegerField(label=_("Maximum size (MB)"), required=False, initial=DEFAULT_MAX_MB,
                                min_value=MAX_MB_RANGE[0], max_value=MAX_MB_RANGE[1])
    text = forms.CharField(label=_("Text of the declaration"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Declarations: what the applicant ticks, e.g. “Declaro que los datos son "
                                       "verídicos”."))

    def is_blank(self) -> bool:
        d = self.cleaned_data
        return not (d.get("label") or d.get("type") or d.get("key"))

    def spec(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "key": (d.get("key") or "").strip(), "label": d.get("label") or "", "type": d.get("type") or "",
            "required": bool(d.get("required")), "help": d.get("help") or "",
            "choices": [line.strip() for line in (d.get("choices") or "").splitlines() if line.strip()],
            "multiple": bool(d.get("multiple")), "types": list(d.get("types") or []),
            "max_mb": d.get("max_mb") or DEFAULT_MAX_MB, "text": d.get("text") or "",
        }


class StageRowForm(forms.Form):
    position = forms.IntegerField(label=_("Position"), required=False, min_value=1, max_value=999,
                                  widget=forms.NumberInput(attrs={"class": "position-input"}))
    name = forms.CharField(label=_("Name of the stage"), required=False, max_length=150)
    unit = forms.ChoiceField(label=_("Responsible unit"), required=False, choices=[])
    days = forms.IntegerField(label=_("Deadline (working days)"), required=False, min_value=DAYS_RANGE[0],
                              max_value=DAYS_RANGE[1])
    actions = forms.MultipleChoiceField(label=_("What the unit may do"), required=False,
                                        choices=[(a, STAGE_ACTION_LABELS[a]) for a in STAGE_ACTIONS],
                                        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}))
    key = forms.CharField(label=_("Key"), required=False, max_length=40,
                          help_text=_("Internal name; leave it empty to derive it from the name."),
                          widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}))

    def __init__(self, *args: Any, units: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose a unit")), *((u.code, f"{u.name} ({u.code})") for u in units or [])]

    def is_blank(self) -> bool:
        d = self.cleaned_data
        return not (d.get("name") or d.get("unit") or d.get("key") or d.get("days"))

    def spec(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"key": (d.get("key") or "").strip(), "name": d.get("name") or "", "unit": d.get("unit") or "",
                "days": d.get("days"), "actions": list(d.get("actions") or [])}


def field_initial(schema: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for i, f in enumerate(schema.get("fields") or [], start=1):
        rows.append({"position": i, "key": f.get("key", ""), "label": f.get("label", ""), "type": f.get("type", ""),
                     "required": bool(f.get("required")), "help": f.get("help", ""),
                     "choices": "\n".join(f.get("choices") or []), "multiple": bool(f.get("multiple")),
                     "types": list(f.get("types") or []), "max_mb": f.get("max_mb") or DEFAULT_MAX_MB,
                     "text": f.get("text", "")})
    return rows


def stage_initial(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"position": i, "key": s.get("key", ""), "name": s.get("name", ""), "unit": s.get("unit", ""),
             "days": s.get("days"), "actions": list(s.get("actions") or [])}
            for i, s in enumerate(schema.get("stages") or [], start=1)]


def editor_formsets(*, schema: dict[str, Any], units: list[Any], data: Any = None, extra_fields: int = 0,
                    extra_stages: int = 0) -> tuple[Any, Any]:
    fields_fs = formset_factory(FieldRowForm, extra=EXTRA_FIELD_ROWS + min(max(extra_fields, 0), MAX_EXTRA_ROWS),
                                can_delete=True, max_num=100)
    stages_fs = formset_factory(StageRowForm, extra=EXTRA_STAGE_ROWS + min(max(extra_stages, 0), MAX_EXTRA_ROWS),
                                can_delete=True, max_num=20)
    return (fields_fs(data, prefix="fields", initial=field_initial(schema)),
            stages_fs(data, prefix="stages", initial=stage_initial(schema), form_kwargs={"units": units}))


def slug_key(text: str, *, fallback: str) -> str:
    """A schema key from a label: ``Dirección del predio`` → ``direccion_del_predio``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")
    if not key or not key[0].isalpha():
        key = f"{fallback}_{key}".strip("_")
    return key[:40].rstrip("_")


@dataclass
class EditorSchema:
    """The schema read from the two formsets and, per schema index, the form it came from."""

    schema: dict[str, Any]
    field_forms: list[forms.Form] = field(default_factory=list)
    stage_forms: list[forms.Form] = field(default_factory=list)


def _ordered(formset: Any) -> list[Any]:
    rows = []
    for index, form in enumerate(formset.forms):
        if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE") or form.is_blank():
            continue
        position = form.cleaned_data.get("position")
        rows.append((position is None, position or 0, index, form))
    rows.sort(key=lambda row: row[:3])
    return [row[3] for row in rows]


def _with_keys(specs: list[dict[str, Any]], *, source: str, fallback: str) -> None:
    used = {s["key"] for s in specs if s["key"]}
    for spec in specs:
        if spec["key"]:
            continue
        base = slug_key(spec.get(source) or "", fallback=fallback) or fallback
        key, n = base, 2
        while key in used:
            suffix = f"_{n}"
            key, n = base[: 40 - len(suffix)] + suffix, n + 1
        spec["key"] = key
        used.add(key)


def schema_from(fields_formset: Any, stages_formset: Any) -> EditorSchema:
    """The schema the two (valid) formsets describe, rows sorted by position, blank and deleted rows left out,
    missing keys derived from labels and names."""
    field_forms = _ordered(fields_formset)
    stage_forms = _ordered(stages_formset)
    fields = [f.spec() for f in field_forms]
    stages = [s.spec() for s in stage_forms]
    _with_keys(fields, source="label", fallback="campo")
    _with_keys(stages, source="name", fallback="etapa")
    return EditorSchema({"fields": fields, "stages": stages}, field_forms, stage_forms)


def apply_errors(editor: EditorSchema, errors: dict[str, list[str]]) -> list[str]:
    """Put ``DefinitionInvalid.errors`` on the rows they concern; return the ones about the whole schema."""
    general: list[str] = []
    for path, messages in errors.items():
        parts = path.split(".")
        forms_of = {"fields": editor.field_forms, "stages": editor.stage_forms}.get(parts[0])
        if forms_of is None or len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) >= len(forms_of):
            general.extend(messages)
            continue
        form = forms_of[int(parts[1])]
        attr = parts[2] if len(parts) > 2 else None
        form.add_error(attr if attr in form.fields else None, messages)
    return general
