"""Import of the inventory from a spreadsheet in the Nómina layout (.xlsx or .csv; docs/cpat-layout.md).

- The file type is recognised by its bytes (a workbook, or UTF-8/Windows-1252 text); anything else, a broken
  workbook, a file over the size limit or one without a "Nombre" column is refused as a whole
  (``ImportRejected`` → 400) before anything is written.
- Each row is matched to a procedure by its code, else by its name (case and accents ignored); matched rows
  update it, others create one. An empty cell leaves the current value as it is.
- Valid rows are applied together in one transaction; invalid rows are reported with the reasons and not
  applied (a row that is wrong never stops the right ones). ``dry_run`` validates and reports without
  writing. One audit row for the import, plus the usual one per procedure created or changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from folio.audit import services as audit
from folio.organizations.models import Unit
from folio.procedures import layout, services
from folio.procedures.models import DigitalizationLevel, Procedure, Topic
from folio.procedures.text import fold

MAX_ROWS = 5000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024


def max_import_bytes() -> int:
    return int(getattr(settings, "FOLIO_PROCEDURES_IMPORT_MAX_MB", 5)) * 1024 * 1024


class ImportRejected(Exception):
    """The whole file is refused; the message is Spanish and safe to show."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class RowResult:
    row: int  # line of the file (the header is line 1)
    action: str  # created | updated | unchanged | rejected
    name: str = ""
    code: str = ""
    messages: list[str] = field(default_factory=list)
    procedure_id: int | None = None


@dataclass
class ImportReport:
    file_name: str
    file_type: str
    sha256: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def rejected(self) -> int:
        return self.count("rejected")


# --- reading the file ---------------------------------------------------------------------------------------

def _not_a_spreadsheet() -> ImportRejected:
    return ImportRejected(_("The file must be an .xlsx spreadsheet or a .csv file."), "unsupported_type")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return layout.YES if value else layout.NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d-%m-%Y")
    return str(value)


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                raise _not_a_spreadsheet()
            if sum(info.file_size for info in zf.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise ImportRejected(_("The spreadsheet is too large once uncompressed."), "too_large")
    except zipfile.BadZipFile:
        raise ImportRejected(_("The spreadsheet is damaged and cannot be read."), "broken") from None
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = next((ws for ws in wb.worksheets if layout.header_key(ws.title) == layout.header_key(
            layout.SHEET_LIST)), None) or wb.worksheets[0]
        out = []
        for row in sheet.iter_rows(values_only=True):
            out.append([_cell_text(v) for v in row])
            if len(out) > MAX_ROWS + 1:
                break
        wb.close()
    except ImportRejected:
        raise
    except Exception:  # openpyxl raises many kinds of errors on damaged files
        raise ImportRejected(_("The spreadsheet is damaged and cannot be read."), "broken") from None
    return out


def _read_csv(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:8192]:
        raise _not_a_spreadsheet()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # Excel in Spanish saves CSV in Windows-1252
        except UnicodeDecodeError:
            raise _not_a_spreadsheet() from None
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:8192]):
        raise _not_a_spreadsheet()
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    try:
        return [row for _i, row in zip(range(MAX_ROWS + 2), csv.reader(io.StringIO(text), delimiter=delimiter),
                                       strict=False)]
    except csv.Error:
        raise ImportRejected(_("The CSV file is malformed and cannot be read."), "broken") from None


def read_table(data: bytes) -> tuple[str, list[list[str]]]:
    """(file type, rows of cells as text). The type comes from the bytes, never from the file name."""
    if not data:
        raise ImportRejected(_("The file is empty."), "empty")
    if len(data) > max_import_bytes():
        raise ImportRejected(_("The file exceeds the limit of %(mb)s MB.")
                             % {"mb": max_import_bytes() // (1024 * 1024)}, "too_large")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx", _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportRejected(_("Old .xls workbooks are not read: save it as .xlsx (Excel 2007 or later)."),
                             "unsupported_type")
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"Rar!", b"7z")):
        raise _not_a_spreadsheet()
    return "csv", _read_csv(data)


# --- validating rows ---------------------------------------------------------------------------------------------

_url = URLValidator(schemes=["http", "https"])


def _unquote(value: str) -> str:
    # The export writes a leading apostrophe before = + - @ (formula-injection guard); take it off again.
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value


@dataclass
class _Row:
    line: int
    data: dict[str, Any]
    topic_name: str
    errors: list[str]
    name: str
    code: str


def _parse_row(line: int, cells: dict[str, str], units: dict[str, Unit]) -> _Row:
    data: dict[str, Any] = {}
    errors: list[str] = []
    topic_name = ""
    for column in layout.LIST_COLUMNS:
        if column.header not in cells:
            continue
        raw = _unquote(cells[column.header])
        if raw == "":
            continue
        label = column.header
        if column.kind == "text":
            data[column.field] = raw
        elif column.kind == "url":
            try:
                _url(raw)
            except ValidationError:
                errors.append(_("Invalid URL in “%(column)s”: %(value)s.") % {"column": label, "value": raw[:100]})
            else:
                data[column.field] = raw
        elif column.kind == "bool":
            key = fold(raw)
            if key in layout.YES_WORDS:
                data[column.field] = True
            elif key in layout.NO_WORDS:
                data[column.field] = False
            else:
                errors.append(_("“%(value)s” is not valid in “%(column)s”: write Sí or No.")
                              % {"value": raw[:50], "column": label})
        elif column.kind == "level":
            try:
                level = int(raw)
            except ValueError:
                level = -1
            if level not in DigitalizationLevel.values:
                errors.append(_("Invalid digitalization level: %(value)s (a whole number from 0 to 5).")
                              % {"value": raw[:20]})
            else:
                data[column.field] = level
        elif column.kind == "choice":
            key = fold(raw)
            aliases = layout.KIND_ALIASES if column.field == "kind" else layout.AUTH_ALIASES
            value = next((stored for stored, word in column.choices if fold(word) == key), None) or aliases.get(key)
            if value is None:
                words = ", ".join(word for _s, word in column.choices)
                if column.field == "kind":
                    errors.append(_("Unknown type: %(value)s (use one of: %(words)s).")
                                  % {"value": raw[:50], "words": words})
                else:
                    errors.append(_("Unknown user authentication: %(value)s (use one of: %(words)s).")
                                  % {"value": raw[:50], "words": words})
            else:
                data[column.field] = str(value)
        elif column.kind == "unit":
            unit = units.get(fold(raw))
            if unit is None:
                errors.append(_("Unknown unit: %(value)s.") % {"value": raw[:100]})
            else:
                data["unit"] = unit
        elif column.kind == "topic":
            topic_name = raw[:100]
    name = str(data.get("name", "")).strip()
    if not name:
        errors.insert(0, _("The name is missing."))
    code = str(data.get("code", "")).strip()
    if len(code) > 40:
        errors.append(_("The code has more than 40 characters."))
    if len(name) > 200:
        errors.append(_("The name has more than 200 characters."))
    return _Row(line=line, data=data, topic_name=topic_name, errors=errors, name=name, code=code)


def _units_by_key(organization: Any) -> dict[str, Unit]:
    found: dict[str, Unit] = {}
    for unit in Unit.objects.filter(organization=organization):
        for key in (unit.name, unit.acronym, unit.code):
            if key:
                found.setdefault(fold(key), unit)
    return found


# --- applying ---------------------------------------------------------------------------------------------------

def inventory_import(*, actor: Any, file_name: str, data: bytes, dry_run: bool = False,
                     ip: str | None = None) -> ImportReport:
    """Read, validate and apply an inventory file; see the module docstring."""
    organization = services._require_editor(actor)
    file_type, table = read_table(data)
    report = ImportReport(file_name=file_name[:200], file_type=file_type, sha256=hashlib.sha256(data).hexdigest(),
                          dry_run=dry_run)
    while table and not any(c.strip() for c in table[0]):
        table.pop(0)
    if not table:
        raise ImportRejected(_("The file has no rows."), "empty")
    header = table[0]
    known = {layout.header_key(c.header): c.header for c in layout.LIST_COLUMNS}
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        key = layout.header_key(title)
        if key in known and known[key] not in positions:
            positions[known[key]] = index
        elif title.strip():
            report.ignored_columns.append(title.strip()[:60])
    if "Nombre" not in positions:
        raise ImportRejected(_("The file has no “Nombre” column: use the Nómina layout (docs/cpat-layout.md)."),
                             "no_header")
    body = table[1:]
    if len(body) > MAX_ROWS:
        raise ImportRejected(_("The file has more than %(n)s rows.") % {"n": MAX_ROWS}, "too_many_rows")

    units = _units_by_key(organization)
    existing = list(Procedure.objects.filter(organization=organization).only("id", "code", "name", "version"))
    by_code = {p.code: p for p in existing if p.code}
    by_name: dict[str, Procedure] = {}
    for p in existing:
        by_name.setdefault(fold(p.name), p)
    topics = {fold(t.name): t for t in Topic.objects.filter(organization=organization)}
    seen_codes: dict[str, int] = {}
    seen_targets: dict[int, int] = {}
    seen_new_names: dict[str, int] = {}
    tag = report.sha256[:12]

    with transaction.atomic():
        for offset, cells in enumerate(body, start=2):
            if not any(str(c).strip() for c in cells):
                continue
            values = {h: (cells[i] if i < len(cells) else "") for h, i in positions.items()}
            row = _parse_row(offset, values, units)
            result = RowResult(row=offset, action="rejected", name=row.name[:200], code=row.code)
            report.rows.append(result)
            target: Procedure | None = None
            if row.code:
                if row.code in seen_codes:
                    row.errors.append(_("Duplicated code in the file (also on row %(row)s).")
                                      % {"row": seen_codes[row.code]})
                else:
                    seen_codes[row.code] = offset
                target = by_code.get(row.code)
            if target is None and row.name:
                same_name = by_name.get(fold(row.name))
                if same_name is not None and row.code and same_name.code and same_name.code != row.code:
                    row.errors.append(_("The name belongs to the procedure with code %(code)s; correct the code "
                                        "or the name.") % {"code": same_name.code})
                else:
                    target = same_name
            if target is not None:
                if target.pk in seen_targets:
                    row.errors.append(_("The same procedure is already on row %(row)s.")
                                      % {"row": seen_targets[target.pk]})
                seen_targets.setdefault(target.pk, offset)
            elif row.name:
                if fold(row.name) in seen_new_names:
                    row.errors.append(_("The same procedure is already on row %(row)s.")
                                      % {"row": seen_new_names[fold(row.name)]})
                seen_new_names.setdefault(fold(row.name), offset)
            if row.errors:
                result.messages = row.errors
                continue
            try:
                with transaction.atomic():
                    if row.topic_name:
                        topic = topics.get(fold(row.topic_name))
                        if topic is None:
                            topic, _created = services.topic_get_or_create(actor=actor, name=row.topic_name, ip=ip)
                            topics[fold(topic.name)] = topic
                            result.messages.append(_("New topic: %(topic)s.") % {"topic": topic.name})
                        row.data["topic"] = topic
                    if target is None:
                        created = services.procedure_create(actor=actor, data=row.data, ip=ip,
                                                            audit_data={"import": tag})
                        result.action, result.procedure_id = "created", created.pk
                        by_name.setdefault(fold(created.name), created)
                        if created.code:
                            by_code[created.code] = created
                    else:
                        before = target.version
                        updated = services.procedure_update(actor=actor, procedure=target, data=row.data, ip=ip,
                                                            audit_data={"import": tag})
                        result.action = "updated" if updated.version != before else "unchanged"
                        result.procedure_id = updated.pk
            except ValidationError as exc:
                result.action = "rejected"
                result.messages = [m for ms in (exc.message_dict.values() if hasattr(exc, "error_dict")
                                                else [exc.messages]) for m in ms]
        audit.record(action="procedure.import", actor=actor, organization=organization, ip=ip,
                     object_type="procedures.procedure", object_repr=report.file_name,
                     data={"file": report.file_name, "type": file_type, "sha256": report.sha256,
                           "dry_run": dry_run, "created": report.created, "updated": report.updated,
                           "unchanged": report.unchanged, "rejected": report.rejected,
                           "rejected_rows": [r.row for r in report.rows if r.action == "rejected"][:500]})
        if dry_run:
            transaction.set_rollback(True)
    return report
