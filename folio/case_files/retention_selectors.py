"""Reads of the retention schedule and of final dispositions, limited to what the asking user may see.

When an expediente is due: its retention runs from its closing date (local date in the organization's time
zone) for the active plus the semi-active years of its series' rule; it is due for final disposition on the
anniversary (``add_years``), if the rule says eliminate or transfer. Only closed or archived expedientes
that were not accumulated into another one (those go with the one that holds them) and that are in no
approved or executed disposition are listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from folio.case_files import permissions as perms
from folio.case_files.models import (
    CaseFile,
    CaseFileState,
    DispositionItem,
    DispositionRecord,
    FinalDisposition,
    RetentionRule,
)

DISPOSABLE_STATES = (CaseFileState.CLOSED, CaseFileState.ARCHIVED)


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus whole years; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def subtract_years(day: dt.date, years: int) -> dt.date:
    """``day`` minus whole years; 29 February becomes 28 February. ``add_years(c, n) <= t`` exactly when
    ``c <= subtract_years(t, n)``, which lets the database do the filtering."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return dt.date(day.year - years, 2, 28)


def local_today(organization: Any) -> dt.date:
    return timezone.localtime(timezone.now(), ZoneInfo(organization.time_zone)).date()


def closed_on(case_file: CaseFile, tz: ZoneInfo) -> dt.date | None:
    return case_file.closed_at.astimezone(tz).date() if case_file.closed_at else None


def closed_on_or_before(day: dt.date, tz: ZoneInfo) -> Q:
    """Closed on ``day`` or earlier, in local time: closed_at before the next local midnight."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return Q(closed_at__lt=midnight)


# --- the schedule ------------------------------------------------------------------------------------

def retention_rules_for(user: Any) -> QuerySet[RetentionRule]:
    if not perms.can_read_retention(user):
        return RetentionRule.objects.none()
    return RetentionRule.objects.filter(organization_id=user.organization_id).select_related("updated_by")


def retention_rule_get(user: Any, pk: int) -> RetentionRule | None:
    """None (a 404) when it does not exist or belongs to another organization."""
    return retention_rules_for(user).filter(pk=pk).first()


def rules_by_series(organization_id: int) -> dict[str, RetentionRule]:
    return {r.series_code: r for r in RetentionRule.objects.filter(organization_id=organization_id)}


# --- what is due ---------------------------------------------------------------------------------------

@dataclass
class DueCaseFile:
    case_file: CaseFile
    rule: RetentionRule
    closed_on: dt.date
    due_on: dt.date
    entries: int

    @property
    def action(self) -> str:
        return self.rule.disposition


def _in_active_disposition() -> Exists:
    return Exists(DispositionItem.objects.filter(case_file=OuterRef("pk"), active=True))


def due_queryset(organization: Any, *, today: dt.date | None = None, series_code: str = "",
                 action: str = "") -> tuple[QuerySet[CaseFile], dict[str, RetentionRule]]:
    """The expedientes of ``organization`` due for final disposition on ``today`` (local date), and the
    rules by series. Unfiltered by user: callers check ``can_read_dispositions`` first."""
    tz = ZoneInfo(organization.time_zone)
    today = today or local_today(organization)
    rules = rules_by_series(organization.pk)
    due = Q(pk__in=[])
    for code, rule in rules.items():
        if rule.disposition == FinalDisposition.KEEP or (series_code and code != series_code) \
                or (action and rule.disposition != action):
            continue
        due |= Q(series_code=code) & closed_on_or_before(subtract_years(today, rule.total_years), tz)
    qs = (CaseFile.objects.filter(organization=organization, state__in=DISPOSABLE_STATES,
                                  accumulated_into__isnull=True, closed_at__isnull=False)
          .filter(due).exclude(_in_active_disposition()))
    return qs, rules


def due_rows(case_files: Any, rules: dict[str, RetentionRule], organization: Any) -> list[DueCaseFile]:
    """Rows for display: the rule applied, the closing and due dates and the number of documents."""
    tz = ZoneInfo(organization.time_zone)
    rows = []
    for cf in case_files:
        rule = rules[cf.series_code]
        closed = closed_on(cf, tz)
        assert closed is not None
        rows.append(DueCaseFile(cf, rule, closed, add_years(closed, rule.total_years),
                                getattr(cf, "entry_count", 0)))
    return rows


def due_for_disposition(user: Any, *, today: dt.date | None = None, series_code: str = "",
                        action: str = "") -> QuerySet[CaseFile] | None:
    """None when ``user`` may not see the due list (administrators and auditors may); otherwise the due
    expedientes, oldest closing first, each annotated with ``entry_count``."""
    if not perms.can_read_dispositions(user):
        return None
    qs, _rules = due_queryset(user.organization, today=today, series_code=series_code, action=action)
    return qs.select_related("unit").annotate(entry_count=Count("entries")).order_by("closed_at", "id")


def without_rule_count(user: Any) -> int:
    """Closed or archived expedientes whose series has no rule (or that have no series): they are never
    due, which the administrator should know."""
    if not perms.can_read_dispositions(user):
        return 0
    codes = RetentionRule.objects.filter(organization_id=user.organization_id).values("series_code")
    return (CaseFile.objects.filter(organization_id=user.organization_id, state__in=DISPOSABLE_STATES,
                                    accumulated_into__isnull=True)
            .exclude(series_code__in=codes).count())


# --- disposition records ----------------------------------------------------------------------------

def dispositions_visible_to(user: Any) -> QuerySet[DispositionRecord]:
    if not perms.can_read_dispositions(user):
        return DispositionRecord.objects.none()
    return (DispositionRecord.objects.filter(organization_id=user.organization_id)
            .select_related("approved_by", "executed_by", "cancelled_by")
            .annotate(item_count=Count("items")))


def disposition_get(user: Any, pk: int) -> DispositionRecord | None:
    """None (a 404) when it does not exist, belongs to another organization or ``user`` may not read it."""
    return dispositions_visible_to(user).filter(pk=pk).first()


def disposition_items(record: DispositionRecord) -> QuerySet[DispositionItem]:
    return DispositionItem.objects.filter(record=record).select_related("case_file", "carried_by").order_by("id")


def case_file_disposition(case_file: CaseFile) -> DispositionItem | None:
    """The approved or executed disposition an expediente is in, if any (for its page)."""
    return (DispositionItem.objects.filter(case_file=case_file, active=True)
            .select_related("record", "record__approved_by", "record__executed_by").first())
