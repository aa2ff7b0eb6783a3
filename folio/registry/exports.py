"""Registry book export (libro de ingreso / despacho) for a date range, as .csv or .xlsx."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from folio.registry.models import Registration


def headers() -> list[str]:
    return [
        _("Folio"), _("Status"), _("Received at"), _("Document type"), _("Subject"), _("Party type"),
        _("Name"), _("RUN/RUT"), _("Unit"), _("Mechanism"), _("Channel"), _("Access level"),
        _("Sensitive data"), _("Pages"), _("Answers"), _("Delivery method"), _("Void reason"),
    ]


def row(reg: Registration) -> list[Any]:
    restricted = reg.access_level != 1
    return [
        reg.folio,
        reg.get_status_display(),
        timezone.localtime(reg.received_at).strftime("%d-%m-%Y %H:%M"),
        reg.get_document_type_display(),
        _("(restricted)") if restricted else reg.subject,
        reg.get_party_kind_display(),
        reg.party_name,
        reg.party_rut,
        reg.unit.name if reg.unit else "",
        reg.get_mechanism_display(),
        reg.get_channel_display(),
        reg.get_access_level_display(),
        _("Yes") if reg.sensitive_data else _("No"),
        reg.pages or "",
        reg.answers.folio if reg.answers else "",
        reg.get_delivery_method_display() if reg.delivery_method else "",
        reg.void_reason,
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> Any:
    # Spreadsheet formula injection: a cell starting with = + - @ would be evaluated by Excel.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def csv_stream(registrations: Iterable[Registration]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM so Excel opens UTF-8 correctly
    yield writer.writerow(headers())
    for reg in registrations:
        yield writer.writerow([_safe(v) for v in row(reg)])


def xlsx_bytes(registrations: Iterable[Registration], title: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append(headers())
    for reg in registrations:
        ws.append([_safe(v) for v in row(reg)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
