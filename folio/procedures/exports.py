"""Export of the inventory for the national CPAT: .xlsx with the sheets Nómina, Caracterización and
Transacciones, and .csv of the Nómina (layout in ``layout.py`` and docs/cpat-layout.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook

from folio.organizations.models import Organization
from folio.procedures import layout, selectors
from folio.procedures.models import Procedure
from folio.procedures.selectors import Month, MonthFigures

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe(value: Any) -> Any:
    """Spreadsheet formula injection: a cell starting with = + - @ (or a tab or carriage return) would be
    evaluated by Excel; it is written with a leading apostrophe, which the import removes again."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def cell(column: layout.Column, procedure: Procedure) -> Any:
    if column.kind == "unit":
        return procedure.unit.name if procedure.unit else ""
    if column.kind == "topic":
        return procedure.topic.name if procedure.topic else ""
    value = getattr(procedure, column.field)
    if column.kind == "bool":
        return layout.YES if value else layout.NO
    if column.kind == "choice":
        return layout.word_for(column, value)
    if column.kind == "date":
        return value.strftime("%d-%m-%Y") if isinstance(value, dt.date) else ""
    if column.kind in ("int", "level"):
        return "" if value is None else int(value)
    return value or ""


def rows(columns: Sequence[layout.Column], procedures: Iterable[Procedure]) -> Iterator[list[Any]]:
    yield [c.header for c in columns]
    for p in procedures:
        yield [safe(cell(c, p)) for c in columns]


def transaction_rows(procedures: Sequence[Procedure], figures: dict[int, dict[Month, MonthFigures]],
                     months: Sequence[Month]) -> Iterator[list[Any]]:
    yield list(layout.TRANSACTION_HEADERS)
    for p in procedures:
        per_month = figures.get(p.pk, {})
        for year, month in months:
            f = per_month.get((year, month))
            for channel in selectors.CHANNELS:
                count = f.counts.get(channel) if f is not None else None
                yield [safe(p.code), safe(p.name), year, month, layout.CHANNEL_WORDS[channel],
                       layout.NO_INFORMATION if count is None else count,
                       layout.SOURCE_WORDS[f.source] if f is not None else ""]


def export_procedures(organization: Organization, procedures: Iterable[Procedure]) -> list[Procedure]:
    """The procedures as the export needs them (unit and topic joined), in the inventory's order."""
    ids = [p.pk for p in procedures]
    return list(Procedure.objects.filter(organization=organization, pk__in=ids).select_related("unit", "topic")
                .order_by("name", "pk"))


def xlsx_bytes(organization: Organization, procedures: Sequence[Procedure], months: Sequence[Month]) -> bytes:
    figures = selectors.transactions_for(organization, [p.pk for p in procedures], list(months))
    wb = Workbook(write_only=True)
    for title, source in ((layout.SHEET_LIST, rows(layout.LIST_COLUMNS, procedures)),
                          (layout.SHEET_CHARACTERIZATION, rows(layout.CHARACTERIZATION_COLUMNS, procedures)),
                          (layout.SHEET_TRANSACTIONS, transaction_rows(procedures, figures, months))):
        ws = wb.create_sheet(title=title)
        ws.freeze_panes = "A2"
        for row in source:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(procedures: Iterable[Procedure]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM so Excel opens UTF-8 correctly
    for row in rows(layout.LIST_COLUMNS, procedures):
        yield writer.writerow(row)
