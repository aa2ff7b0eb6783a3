"""The contract of ``FormDefinition.schema``: what an online form and its processing stages may say, checked
and normalized before it is stored.

::

    {"fields": [{"key", "label", "type", "required", "help",
                 "choices", "multiple",      # type choice only
                 "types", "max_mb",          # type file only
                 "text"}],                   # type declaration only
     "stages": [{"key", "name", "unit", "days", "actions"}]}

- ``key``: ``[a-z][a-z0-9_]{0,39}``, unique among the fields (and among the stages).
- ``type``: one of ``FIELD_TYPES``. Attributes that do not apply to the type are dropped.
- ``choices``: a non-empty list of distinct texts; the answer is the text itself, so it survives new versions.
- ``types``: allowed kinds of file (``FILE_KINDS``), recognised by their bytes (``folio.files.inspect``);
  ``max_mb`` 1..20 (default 5). A required file field is a required attachment.
- ``declaration``: a checkbox with ``text`` that must be ticked when the field is required.
- Stages: at least one; ``unit`` the code of an active unit of the same organization; ``days`` 1..200 días
  hábiles (Ley 19.880 art. 25); ``actions`` a subset of ``STAGE_ACTIONS``; the last stage must offer "resolve".

``validate_schema`` returns the normalized schema or raises ``DefinitionInvalid`` whose ``errors`` are keyed by
the path of what is wrong (``fields.2.choices``, ``stages.0.unit``) with Spanish messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FIELD_TYPES: tuple[str, ...] = (
    "text", "textarea", "number", "date", "rut", "email", "phone", "address", "choice", "file", "declaration",
)
STAGE_ACTIONS: tuple[str, ...] = ("approve", "reject", "request_correction", "request_report", "resolve")
# Kinds of file a form may ask for, by the content type folio.files.inspect recognises from the bytes.
FILE_KIND_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "tif": "image/tiff",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
}
FILE_KINDS: tuple[str, ...] = tuple(FILE_KIND_TYPES)
# Extensions a browser's file picker should offer for each kind (the ``accept`` attribute).
FILE_KIND_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "pdf": (".pdf",), "jpg": (".jpg", ".jpeg"), "png": (".png",), "tif": (".tif", ".tiff"), "docx": (".docx",),
    "xlsx": (".xlsx",), "odt": (".odt",),
}
FILE_KIND_ALIASES = {"jpeg": "jpg", "tiff": "tif"}
MAX_MB_RANGE = (1, 20)
DEFAULT_MAX_MB = 5
DAYS_RANGE = (1, 200)
MAX_FIELDS = 100
MAX_STAGES = 20
KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")

FIELD_TYPE_LABELS: dict[str, Any] = {
    "text": gettext_lazy("Short text"),
    "textarea": gettext_lazy("Long text"),
    "number": gettext_lazy("Number"),
    "date": gettext_lazy("Date"),
    "rut": gettext_lazy("RUN/RUT"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Telephone"),
    "address": gettext_lazy("Address"),
    "choice": gettext_lazy("Choice from a list"),
    "file": gettext_lazy("File (attachment)"),
    "declaration": gettext_lazy("Declaration (checkbox)"),
}
STAGE_ACTION_LABELS: dict[str, Any] = {
    "approve": gettext_lazy("Approve (pass to the next stage)"),
    "reject": gettext_lazy("Reject"),
    "request_correction": gettext_lazy("Ask the applicant for a correction"),
    "request_report": gettext_lazy("Ask another unit for a report"),
    "resolve": gettext_lazy("Resolve (final decision)"),
}
FILE_KIND_LABELS: dict[str, str] = {
    "pdf": "PDF", "jpg": "JPEG", "png": "PNG", "tif": "TIFF", "docx": "Word (DOCX)", "xlsx": "Excel (XLSX)",
    "odt": "OpenDocument (ODT)",
}

_LABEL_MAX = 200
_HELP_MAX = 500
_CHOICE_MAX = 200
_TEXT_MAX = 1000
_STAGE_NAME_MAX = 150


class DefinitionInvalid(Exception):
    """The schema breaks the contract; ``errors`` maps a path (``fields.2.choices``) to Spanish messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items()))
        self.errors = errors


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


def _text(value: Any, *, limit: int) -> str | None:
    """A stripped string, or None when it is not a string or is too long."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if len(value) <= limit else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _key(value: Any, path: str, seen: set[str], errs: _Errors, *, what: str) -> str:
    key = value.strip() if isinstance(value, str) else ""
    if not key:
        errs.add(path, _("The key is required."))
    elif not KEY_RE.fullmatch(key):
        errs.add(path, _("The key must start with a lowercase letter and contain only lowercase letters, digits "
                         "and underscores (at most 40)."))
    elif key in seen:
        errs.add(path, (_("Another field already uses the key “%(key)s”.") if what == "field"
                        else _("Another stage already uses the key “%(key)s”.")) % {"key": key})
    seen.add(key)
    return key


def _field(raw: Any, index: int, seen: set[str], errs: _Errors) -> dict[str, Any]:
    p = f"fields.{index}"
    if not isinstance(raw, Mapping):
        errs.add(p, _("Each field must be an object with a key, a label and a type."))
        return {}
    field: dict[str, Any] = {"key": _key(raw.get("key"), f"{p}.key", seen, errs, what="field")}
    label = _text(raw.get("label"), limit=_LABEL_MAX)
    if not label:
        errs.add(f"{p}.label", _("Enter a label of at most %(n)s characters.") % {"n": _LABEL_MAX})
    field["label"] = label or ""
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        errs.add(f"{p}.type", _("Choose a valid field type."))
    field["type"] = kind if kind in FIELD_TYPES else ""
    required = raw.get("required", False)
    if not isinstance(required, bool):
        errs.add(f"{p}.required", _("“Required” must be true or false."))
    field["required"] = required is True
    help_text = raw.get("help", "")
    help_text = "" if help_text is None else _text(help_text, limit=_HELP_MAX)
    if help_text is None:
        errs.add(f"{p}.help", _("The help text must be a text of at most %(n)s characters.") % {"n": _HELP_MAX})
    field["help"] = help_text or ""

    if kind == "choice":
        choices = raw.get("choices")
        if not isinstance(choices, list | tuple) or not choices:
            errs.add(f"{p}.choices", _("Enter at least one option."))
            choices = []
        cleaned: list[str] = []
        folded: set[str] = set()
        for choice in choices:
            text = _text(choice, limit=_CHOICE_MAX)
            if not text:
                errs.add(f"{p}.choices", _("Each option must be a non-empty text of at most %(n)s characters.")
                         % {"n": _CHOICE_MAX})
                continue
            if text.casefold() in folded:
                errs.add(f"{p}.choices", _("The option “%(option)s” is repeated.") % {"option": text})
                continue
            folded.add(text.casefold())
            cleaned.append(text)
        field["choices"] = cleaned
        multiple = raw.get("multiple", False)
        if not isinstance(multiple, bool):
            errs.add(f"{p}.multiple", _("“Several answers” must be true or false."))
        field["multiple"] = multiple is True
    elif kind == "file":
        types = raw.get("types", ["pdf"])
        if not isinstance(types, list | tuple) or not types:
            errs.add(f"{p}.types", _("Choose at least one type of file."))
            types = []
        kinds: list[str] = []
        for item in types:
            item = FILE_KIND_ALIASES.get(item, item) if isinstance(item, str) else item
            if item not in FILE_KINDS:
                errs.add(f"{p}.types", _("“%(kind)s” is not an accepted type of file. Accepted: %(kinds)s.")
                         % {"kind": item, "kinds": ", ".join(FILE_KINDS)})
            elif item not in kinds:
                kinds.append(item)
        field["types"] = [k for k in FILE_KINDS if k in kinds]
        max_mb = _int(raw.get("max_mb", DEFAULT_MAX_MB))
        if max_mb is None or not MAX_MB_RANGE[0] <= max_mb <= MAX_MB_RANGE[1]:
            errs.add(f"{p}.max_mb", _("The maximum size must be a whole number of MB between %(lo)s and %(hi)s.")
                     % {"lo": MAX_MB_RANGE[0], "hi": MAX_MB_RANGE[1]})
        field["max_mb"] = max_mb or DEFAULT_MAX_MB
    elif kind == "declaration":
        text = _text(raw.get("text"), limit=_TEXT_MAX)
        if not text:
            errs.add(f"{p}.text", _("Enter the text the applicant declares (at most %(n)s characters).")
                     % {"n": _TEXT_MAX})
        field["text"] = text or ""
    return field


def _stage(raw: Any, index: int, seen: set[str], errs: _Errors) -> dict[str, Any]:
    p = f"stages.{index}"
    if not isinstance(raw, Mapping):
        errs.add(p, _("Each stage must be an object with a key, a name, a unit, days and actions."))
        return {}
    stage: dict[str, Any] = {"key": _key(raw.get("key"), f"{p}.key", seen, errs, what="stage")}
    name = _text(raw.get("name"), limit=_STAGE_NAME_MAX)
    if not name:
        errs.add(f"{p}.name", _("Enter a name of at most %(n)s characters.") % {"n": _STAGE_NAME_MAX})
    stage["name"] = name or ""
    unit = raw.get("unit")
    stage["unit"] = unit.strip() if isinstance(unit, str) else ""
    if not stage["unit"]:
        errs.add(f"{p}.unit", _("Choose the unit responsible for this stage."))
    days = _int(raw.get("days"))
    if days is None or not DAYS_RANGE[0] <= days <= DAYS_RANGE[1]:
        errs.add(f"{p}.days", _("The deadline must be a whole number of working days between %(lo)s and %(hi)s.")
                 % {"lo": DAYS_RANGE[0], "hi": DAYS_RANGE[1]})
    stage["days"] = days or 0
    actions = raw.get("actions")
    if not isinstance(actions, list | tuple) or not actions:
        errs.add(f"{p}.actions", _("Choose at least one action."))
        actions = []
    unknown = [a for a in actions if a not in STAGE_ACTIONS]
    if unknown:
        errs.add(f"{p}.actions", _("Unknown action: %(actions)s.") % {"actions": ", ".join(map(str, unknown))})
    stage["actions"] = [a for a in STAGE_ACTIONS if a in actions]
    return stage


def validate_schema(schema: Any, organization: Any, *, complete: bool = True) -> dict[str, Any]:
    """The normalized schema, or ``DefinitionInvalid``. ``organization`` (an Organization or its id) owns the
    stages' units. ``complete=False`` (a draft being edited) checks everything given but allows a form without
    fields or stages and a last stage without "resolve"; publishing always checks the complete schema."""
    from folio.organizations.models import Unit

    errs = _Errors()
    if not isinstance(schema, Mapping):
        raise DefinitionInvalid({"schema": [_("The definition must be an object with “fields” and “stages”.")]})
    unknown = sorted(str(k) for k in schema if k not in ("fields", "stages"))
    if unknown:
        errs.add("schema", _("Unknown parts of the definition: %(keys)s.") % {"keys": ", ".join(unknown)})

    raw_fields = schema.get("fields", [])
    fields: list[dict[str, Any]] = []
    if not isinstance(raw_fields, list | tuple):
        errs.add("fields", _("“fields” must be a list."))
    elif len(raw_fields) > MAX_FIELDS:
        errs.add("fields", _("A form may have at most %(n)s fields.") % {"n": MAX_FIELDS})
    else:
        if complete and not raw_fields:
            errs.add("fields", _("The form needs at least one field."))
        seen: set[str] = set()
        fields = [_field(raw, i, seen, errs) for i, raw in enumerate(raw_fields)]

    raw_stages = schema.get("stages", [])
    stages: list[dict[str, Any]] = []
    if not isinstance(raw_stages, list | tuple):
        errs.add("stages", _("“stages” must be a list."))
    elif len(raw_stages) > MAX_STAGES:
        errs.add("stages", _("A procedure may have at most %(n)s stages.") % {"n": MAX_STAGES})
    else:
        if complete and not raw_stages:
            errs.add("stages", _("The procedure needs at least one stage."))
        seen = set()
        stages = [_stage(raw, i, seen, errs) for i, raw in enumerate(raw_stages)]
        codes = {s["unit"] for s in stages if s.get("unit")}
        org_id = getattr(organization, "pk", organization)
        active = set(Unit.objects.filter(organization_id=org_id, is_active=True, code__in=codes)
                     .values_list("code", flat=True)) if codes else set()
        for i, stage in enumerate(stages):
            if stage.get("unit") and stage["unit"] not in active:
                errs.add(f"stages.{i}.unit", _("“%(unit)s” is not an active unit of this organization.")
                         % {"unit": stage["unit"]})
        if complete and stages and "resolve" not in stages[-1].get("actions", []):
            errs.add(f"stages.{len(stages) - 1}.actions",
                     _("The last stage must include the action “Resolve (final decision)”."))

    if errs.errors:
        raise DefinitionInvalid(errs.errors)
    return {"fields": fields, "stages": stages}


def _schema_of(definition: Any) -> Mapping[str, Any]:
    """The schema of a FormDefinition (or of anything with ``schema``), or the schema dict itself."""
    if isinstance(definition, Mapping):
        return definition
    return definition.schema or {}


def fields_of(definition: Any) -> list[dict[str, Any]]:
    return list(_schema_of(definition).get("fields") or [])


def stage_count(definition: Any) -> int:
    return len(_schema_of(definition).get("stages") or [])


def stage_at(definition: Any, index: int) -> dict[str, Any]:
    """The stage at ``index`` (0-based); IndexError when there is none (negative indexes are refused too)."""
    stages = list(_schema_of(definition).get("stages") or [])
    if index < 0 or index >= len(stages):
        raise IndexError(f"stage {index} out of range (0..{len(stages) - 1})")
    return dict(stages[index])


def file_fields(definition: Any) -> list[dict[str, Any]]:
    """The file fields in form order; those with ``required`` true are the required attachments."""
    return [dict(f) for f in fields_of(definition) if f.get("type") == "file"]
