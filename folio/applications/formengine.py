"""From a form definition to a Django form, and from what an applicant sent to clean, JSON-ready answers.

- ``build_form(definition, ...)``: a ``DefinitionForm`` with one Django field per schema field (key = field key),
  Spanish labels and help, the right widgets; ``form.entries()`` tells templates which fields are lists of
  options (rendered as a fieldset) — ``applications/definitions/_fields.html`` renders them all.
- ``clean_answers(definition, data, files, partial=...)``: ``(answers, uploads)`` or ``AnswersInvalid``.
  Answers: text as given (stripped), RUT ``12.345.678-5``, dates ``YYYY-MM-DD``, numbers as int or a decimal
  string, telephones ``+56 9 1234 5678``, choices as the option text (a list when several), declarations
  ``True``; a file field's answer is the file's name. Empty answers are left out. Uploads are checked by their
  bytes (``folio.files.inspect``), never by the name or the browser's content type.
- ``answer_rows(definition, answers)``: ``[(label, display value)]`` for certificates and staff pages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from folio.applications.definitions import FILE_KIND_EXTENSIONS, FILE_KIND_LABELS, FILE_KIND_TYPES, fields_of
from folio.core.rut import Rut
from folio.files.inspect import FileRejected, inspect_bytes, inspect_file

TEXT_MAX = 500
TEXTAREA_MAX = 5000
ADDRESS_MAX = 300
FILE_NAME_MAX = 200
# More options than this are offered in a drop-down list instead of radio buttons.
RADIO_LIMIT = 5
_KIND_OF_TYPE = {content_type: kind for kind, content_type in FILE_KIND_TYPES.items()}
_PHONE_NOISE = re.compile(r"[\s().\-‐‑–]")


class AnswersInvalid(Exception):
    """What the applicant sent does not satisfy the definition; ``errors`` maps a field key to Spanish
    messages (``__all__`` for the form as a whole)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items()))
        self.errors = errors


# --- fields -------------------------------------------------------------------------------------------------


class RutField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 15)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if not text:
            return ""
        return str(Rut.parse(text))


def normalize_phone(raw: str) -> str:
    """``+56 9 1234 5678`` for a Chilean number (mobile or landline, nine digits after 56), ``+<digits>`` for
    another country's; ValidationError in Spanish otherwise."""
    digits = _PHONE_NOISE.sub("", raw.strip())
    international = digits.startswith("+")
    if international:
        digits = digits[1:]
    elif digits.startswith("00"):
        international, digits = True, digits[2:]
    if not digits.isdigit():
        raise ValidationError(_("Enter a valid telephone number, for example +56 9 1234 5678."), code="invalid")
    if (international or len(digits) == 11) and digits.startswith("56"):
        digits = digits[2:]
    elif international:
        if not 8 <= len(digits) <= 15:
            raise ValidationError(_("Enter a valid telephone number, for example +56 9 1234 5678."),
                                  code="invalid")
        return f"+{digits}"
    if len(digits) != 9 or digits[0] == "0":
        raise ValidationError(_("A Chilean telephone number has 9 digits after +56, for example +56 9 1234 5678."),
                              code="invalid")
    if digits[0] in "29":  # mobiles and Santiago: one-digit prefix
        return f"+56 {digits[0]} {digits[1:5]} {digits[5:]}"
    return f"+56 {digits[:2]} {digits[2:5]} {digits[5:]}"


class PhoneField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 25)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        return normalize_phone(text) if text else ""


class NumberField(forms.CharField):
    """A number, whole or with decimals (dot or comma); cleaned to an int or a decimal string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        if isinstance(value, bool):
            raise ValidationError(_("Enter a number."), code="invalid")
        if isinstance(value, int | float | Decimal):
            value = str(value)
        return super().to_python(value) or ""

    def clean(self, value: Any) -> int | str | None:
        text = super().clean(value)
        if not text:
            return None
        text = text.replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not re.fullmatch(r"-?\d{1,15}(\.\d{1,6})?", text):
            raise ValidationError(_("Enter a number, with at most 15 digits before and 6 after the decimal point."),
                                  code="invalid")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationError(_("Enter a number."), code="invalid") from None
        if number == number.to_integral_value():
            return int(number)
        return format(number.normalize(), "f")


class AttachmentField(forms.FileField):
    """A file checked by its bytes: an allowed kind and at most ``max_mb``."""

    def __init__(self, *, kinds: list[str], max_mb: int, **kwargs: Any) -> None:
        self.kinds = list(kinds)
        self.max_mb = max_mb
        super().__init__(**kwargs)

    def kinds_display(self) -> str:
        return ", ".join(FILE_KIND_LABELS.get(k, k.upper()) for k in self.kinds)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if not upload:
            return upload
        limit = self.max_mb * 1024 * 1024
        if (upload.size or 0) > limit:
            raise ValidationError(_("The file exceeds the maximum size of %(mb)s MB.") % {"mb": self.max_mb},
                                  code="too_large")
        try:
            path = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else None
            if path:
                inspection = inspect_file(Path(path), max_bytes=limit, with_text=False)
            else:
                upload.seek(0)
                inspection = inspect_bytes(upload.read(), max_bytes=limit)
        except FileRejected as exc:
            if exc.code != "unsupported":
                raise ValidationError(exc.message, code=exc.code) from None
            kind = None
        else:
            kind = _KIND_OF_TYPE.get(inspection.content_type)
        finally:
            upload.seek(0)
        if kind not in self.kinds:
            raise ValidationError(_("The file must be of type %(kinds)s (checked by its content, not its name).")
                                  % {"kinds": self.kinds_display()}, code="wrong_type")
        return upload


# --- the form -------------------------------------------------------------------------------------------------


class DefinitionForm(forms.Form):
    """A form built from a definition; its fields are named by the schema's keys."""

    schema_fields: list[dict[str, Any]]
    partial: bool

    def entries(self) -> list[dict[str, Any]]:
        """For templates: each bound field with its schema type and whether it is a list of options."""
        rows = []
        for spec in self.schema_fields:
            bound = self[spec["key"]]
            widget = bound.field.widget
            rows.append({"field": bound, "type": spec["type"], "spec": spec,
                         "is_list": isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple)})
        return rows

    def answers(self) -> dict[str, Any]:
        """JSON-ready answers of a valid form; empty answers are left out."""
        out: dict[str, Any] = {}
        for spec in self.schema_fields:
            key, kind = spec["key"], spec["type"]
            value = self.cleaned_data.get(key)
            if kind == "file":
                if value:
                    out[key] = os.path.basename(str(value.name or "")).strip()[:FILE_NAME_MAX] or key
            elif kind == "date":
                if value:
                    out[key] = value.isoformat()
            elif kind == "declaration":
                if value:
                    out[key] = True
            elif kind == "choice" and spec.get("multiple"):
                if value:
                    out[key] = list(value)
            elif value is not None and value != "":
                out[key] = value
        return out

    def uploads(self) -> dict[str, UploadedFile]:
        return {spec["key"]: self.cleaned_data[spec["key"]] for spec in self.schema_fields
                if spec["type"] == "file" and self.cleaned_data.get(spec["key"])}


def _help(spec: dict[str, Any], hint: str = "") -> str:
    return " ".join(part for part in (spec.get("help") or "", hint) if part)


def _form_field(spec: dict[str, Any], *, required: bool) -> forms.Field:
    kind = spec["type"]
    label = spec.get("label") or spec["key"]
    common: dict[str, Any] = {"label": label, "required": required, "help_text": _help(spec)}
    if kind == "text":
        return forms.CharField(max_length=TEXT_MAX, **common)
    if kind == "textarea":
        return forms.CharField(max_length=TEXTAREA_MAX, widget=forms.Textarea(attrs={"rows": 4}), **common)
    if kind == "address":
        return forms.CharField(max_length=ADDRESS_MAX, widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
                               **common)
    if kind == "number":
        return NumberField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == "date":
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            input_formats=["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"],
            error_messages={"invalid": gettext_lazy("Enter a valid date (day, month and year).")}, **common)
    if kind == "rut":
        common["help_text"] = _help(spec, _("For example 12.345.678-5."))
        return RutField(widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}), **common)
    if kind == "email":
        return forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                                error_messages={"invalid": gettext_lazy("Enter a valid e-mail address.")}, **common)
    if kind == "phone":
        common["help_text"] = _help(spec, _("For example +56 9 1234 5678."))
        return PhoneField(widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}), **common)
    if kind == "choice":
        options = [(c, c) for c in spec.get("choices") or []]
        invalid = {"invalid_choice": gettext_lazy("Choose one of the options offered.")}
        if spec.get("multiple"):
            return forms.MultipleChoiceField(
                choices=options, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                error_messages={**invalid, "required": gettext_lazy("Choose at least one option.")}, **common)
        if len(options) <= RADIO_LIMIT:
            return forms.ChoiceField(choices=options, widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                                     error_messages={**invalid, "required": gettext_lazy("Choose an option.")},
                                     **common)
        return forms.ChoiceField(choices=[("", _("Choose an option")), *options],
                                 error_messages={**invalid, "required": gettext_lazy("Choose an option.")}, **common)
    if kind == "file":
        kinds = list(spec.get("types") or [])
        max_mb = int(spec.get("max_mb") or 5)
        accept = ",".join(ext for k in kinds for ext in FILE_KIND_EXTENSIONS.get(k, ()))
        field = AttachmentField(kinds=kinds, max_mb=max_mb, widget=forms.FileInput(attrs={"accept": accept}),
                                error_messages={"required": gettext_lazy("Attach this file.")}, **common)
        field.help_text = _help(spec, _("Accepted: %(kinds)s, up to %(mb)s MB.")
                                % {"kinds": field.kinds_display(), "mb": max_mb})
        return field
    if kind == "declaration":
        common["label"] = spec.get("text") or label
        return forms.BooleanField(error_messages={"required": gettext_lazy("You must accept this declaration.")},
                                  **common)
    raise ValueError(f"unknown field type {kind!r}")


def build_form(definition: Any, *, data: Any = None, files: Any = None, initial: Mapping[str, Any] | None = None,
               partial: bool = False) -> DefinitionForm:
    """A form for ``definition`` (a FormDefinition or its schema). ``partial`` (drafts): no field is required,
    but whatever is given is still validated. ``initial``: stored answers to show again."""
    specs = [dict(f) for f in fields_of(definition)]
    attrs: dict[str, Any] = {spec["key"]: _form_field(spec, required=bool(spec.get("required")) and not partial)
                             for spec in specs}
    form_class = type("DefinitionForm", (DefinitionForm,), attrs)
    form = form_class(data=data, files=files, initial=dict(initial or {}))
    form.schema_fields = specs
    form.partial = partial
    return form


def clean_answers(definition: Any, data: Any, files: Any, *, partial: bool = False,
                  present_files: Collection[str] = ()) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """``(answers, uploads)`` for what an applicant sent, or ``AnswersInvalid``. ``present_files``: keys of file
    fields already on record (uploaded with an earlier draft), which satisfy a required file field."""
    form = build_form(definition, data=data if data is not None else {}, files=files if files is not None else {},
                      partial=partial)
    present = set(present_files)
    for key in present:
        if key in form.fields and isinstance(form.fields[key], AttachmentField):
            form.fields[key].required = False
    if not form.is_valid():
        raise AnswersInvalid({key: [str(m) for m in messages] for key, messages in form.errors.items()})
    return form.answers(), form.uploads()


# --- display ----------------------------------------------------------------------------------------------------


def _number_display(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text
    sign = "-" if text.startswith("-") else ""
    whole, _dot, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{sign}{grouped},{fraction}" if fraction else f"{sign}{grouped}"


def _display(spec: dict[str, Any], value: Any) -> str:
    kind = spec.get("type")
    if kind == "declaration":
        return _("Yes") if value is True else _("No")
    if value is None or value == "" or value == []:
        return "—"
    if kind == "date":
        try:
            return dt.date.fromisoformat(str(value)).strftime("%d-%m-%Y")
        except ValueError:
            return str(value)
    if kind == "choice" and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if kind == "file":
        if isinstance(value, Mapping):
            return str(value.get("name") or "—")
        return str(value)
    if kind == "number":
        return _number_display(value)
    return str(value)


def answer_rows(definition: Any, answers: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """``(label, display value)`` for every field of the definition, in form order: dates dd-mm-aaaa, options
    joined with commas, declarations Sí/No, files by the name stored in the answers, "—" when unanswered."""
    answers = answers or {}
    return [(str(spec.get("label") or spec.get("key")), _display(spec, answers.get(spec.get("key", ""))))
            for spec in fields_of(definition)]
