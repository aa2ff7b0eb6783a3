"""Every read of the CPAT inventory, permission-aware, and of the public catalogue.

- ``procedures_visible_to(user)`` is the one place that decides what a member of staff sees: nothing unless
  ``permissions.can_read_inventory``, and only their own organization's procedures. ``procedure_get`` answers
  ``None`` (→ 404) both for "does not exist" and "not yours".
- ``transactions_for`` merges hand-entered monthly figures with those Folio computes from its own
  applications (the rule is in its docstring and in docs/cpat-layout.md).
- ``plan_figures`` and ``prioritization`` are the CTD's indicators (formulas in their docstrings).
- The ``catalogue_*`` functions serve the public /tramites/ pages: published procedures of active
  organizations only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from folio.organizations.models import Organization
from folio.procedures import permissions
from folio.procedures.models import (
    InventorySettings,
    MonthlyTransactions,
    PlanState,
    Procedure,
    Topic,
    TransactionChannel,
    UserAuthentication,
)
from folio.procedures.text import lines, matches, query_words

CHANNELS: tuple[str, ...] = tuple(TransactionChannel.values)


def _zone(organization: Organization) -> ZoneInfo:
    from folio.core.middleware import _zone as zone_of

    return zone_of(organization.time_zone)


def org_today(organization: Organization) -> dt.date:
    return timezone.now().astimezone(_zone(organization)).date()


# --- the inventory (staff) ------------------------------------------------------------------------------------

def procedures_visible_to(user: Any) -> QuerySet[Procedure]:
    if not permissions.can_read_inventory(user):
        return Procedure.objects.none()
    return Procedure.objects.filter(organization_id=user.organization_id)


def topics_with_counts(user: Any) -> QuerySet[Topic]:
    """The user's organization's catalogue topics in catalogue order, each with ``n_procedures`` (all of the
    inventory) and ``n_published``: one query. Nothing unless the user may edit the inventory."""
    if not permissions.can_edit_inventory(user):
        return Topic.objects.none()
    return (Topic.objects.filter(organization_id=user.organization_id)
            .annotate(n_procedures=Count("procedures"),
                      n_published=Count("procedures", filter=Q(procedures__is_published=True)))
            .order_by("position", "name", "pk"))


def topic_get(user: Any, pk: int) -> Topic | None:
    """A topic of the user's organization, with ``n_procedures``; ``None`` (→ 404) when missing or not theirs."""
    return topics_with_counts(user).filter(pk=pk).first()


def procedure_get(user: Any, pk: int) -> Procedure | None:
    return (procedures_visible_to(user).select_related("unit", "topic", "updated_by", "simplification_plan")
            .filter(pk=pk).first())


def procedure_in_own_organization(user: Any, pk: int) -> bool:
    """Whether the procedure exists in the user's organization (to tell a 403 from a 404)."""
    return Procedure.objects.filter(pk=pk, organization_id=getattr(user, "organization_id", None) or 0).exists()


def hand_entered_transactions(procedure: Procedure, year: int) -> dict[str, int | None]:
    """The figures entered by hand for a year, keyed as the transactions form names its fields."""
    return {f"m{r.month}_{r.channel}": r.count
            for r in MonthlyTransactions.objects.filter(procedure=procedure, year=year)}


@dataclass
class InventoryFilters:
    q: str = ""
    unit_id: int | None = None
    topic_id: int | None = None
    kind: str = ""
    level: int | None = None
    published: bool | None = None


def inventory_search(user: Any, filters: InventoryFilters, *, limit: int = 2000) -> list[Procedure]:
    """The inventory list, one query whatever the filters (unit, topic and plan come joined)."""
    qs = procedures_visible_to(user).select_related("unit", "topic", "simplification_plan")
    for word in query_words(filters.q):
        qs = qs.filter(Q(search_text__contains=word) | Q(code__icontains=word))
    if filters.unit_id:
        qs = qs.filter(unit_id=filters.unit_id)
    if filters.topic_id:
        qs = qs.filter(topic_id=filters.topic_id)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.level is not None:
        qs = qs.filter(digitalization_level=filters.level)
    if filters.published is not None:
        qs = qs.filter(is_published=filters.published)
    return list(qs.order_by("name", "pk")[:limit])


# --- monthly transactions -------------------------------------------------------------------------------------

Month = tuple[int, int]


def last_months(today: dt.date, n: int = 12) -> list[Month]:
    """The ``n`` calendar months that end with the current one, oldest first."""
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def year_months(year: int) -> list[Month]:
    return [(year, m) for m in range(1, 13)]


@dataclass
class MonthFigures:
    counts: dict[str, int | None] = field(default_factory=dict)  # channel -> count (None: sin información)
    source: str = "none"  # "folio" (computed), "manual" (hand-entered) or "none" (nothing recorded)

    @property
    def total(self) -> int | None:
        known = [c for c in self.counts.values() if c is not None]
        return sum(known) if known else None


def _month_start(year: int, month: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=zone)


def _next_month(year: int, month: int) -> Month:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def transactions_for(organization: Organization, procedure_ids: Iterable[int], months: list[Month]
                     ) -> dict[int, dict[Month, MonthFigures]]:
    """Monthly transactions per procedure, month and channel (digital, presencial, telefónico).

    The rule: a procedure with a published online form runs in Folio, so Folio's own count wins — the
    applications of that procedure whose terminal act (``Application.closed_at``) falls in the month, in
    the organization's time zone, grouped by their channel (0 when there are none). It wins for every month
    from the one its first form was published in, and for any earlier month in which Folio already closed
    an application of it; the months before keep what was entered by hand. Every other procedure shows the
    hand-entered figures (``MonthlyTransactions``; empty = "sin información"). Four queries whatever the
    number of procedures and months.
    """
    from folio.applications.models import Application, FormDefinition
    from folio.applications.selectors import online_procedure_ids

    ids = list(procedure_ids)
    result: dict[int, dict[Month, MonthFigures]] = {pid: {} for pid in ids}
    if not ids or not months:
        return result
    zone = _zone(organization)
    first, last = min(months), max(months)
    wanted = set(months)
    manual = MonthlyTransactions.objects.filter(procedure_id__in=ids, year__gte=first[0], year__lte=last[0])
    for pid, year, month, channel, count in manual.values_list("procedure_id", "year", "month", "channel", "count"):
        if (year, month) in wanted:
            figures = result[pid].setdefault((year, month), MonthFigures(source="manual"))
            figures.counts[channel] = count
    online = online_procedure_ids(ids)
    if not online:
        return result
    since: dict[int, Month | None] = dict.fromkeys(online)
    published = (FormDefinition.objects.filter(procedure_id__in=online, published_at__isnull=False)
                 .values("procedure_id").annotate(first=Min("published_at")))
    for first_row in published:
        local = first_row["first"].astimezone(zone)
        since[first_row["procedure_id"]] = (local.year, local.month)
    computed: dict[int, dict[Month, dict[str, int]]] = defaultdict(dict)
    start, end = _month_start(*first, zone), _month_start(*_next_month(*last), zone)
    apps = (Application.objects.filter(organization=organization, procedure_id__in=online,
                                       closed_at__gte=start, closed_at__lt=end)
            .annotate(month=TruncMonth("closed_at", tzinfo=zone))
            .values("procedure_id", "month", "channel").annotate(n=Count("id")).order_by())
    for app_row in apps:
        month_start: dt.datetime = app_row["month"]
        local = month_start.astimezone(zone) if timezone.is_aware(month_start) else month_start
        computed[app_row["procedure_id"]].setdefault((local.year, local.month), {})[app_row["channel"]] = app_row["n"]
    for pid in online:
        start_month = since[pid]
        for ym in months:
            counted = computed[pid].get(ym)
            if counted is None and start_month is not None and ym < start_month:
                continue  # before Folio ran it: the hand-entered figure (if any) stays
            result[pid][ym] = MonthFigures(source="folio",
                                              counts={ch: (counted or {}).get(ch, 0) for ch in CHANNELS})
    return result


def transactions_total(per_month: dict[Month, MonthFigures]) -> int:
    return sum(f.total or 0 for f in per_month.values())


# --- indicators of the plan -------------------------------------------------------------------------------------

def _pct(part: int, whole: int | None) -> float | None:
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


@dataclass
class PlanFigures:
    inventory: int
    expected: int
    expected_is_default: bool
    identified_pct: float | None
    simplified: int
    simplified_pct: float | None
    goal_pct: int
    goal_progress_pct: float | None  # simplified_pct as a share of the goal, capped at 100
    plans_planned: int
    plans_in_progress: int
    identity_needed: int
    claveunica: int
    claveunica_pct: float | None
    level4: int
    level4_pct: float | None
    published: int
    settings: InventorySettings


def plan_figures(organization: Organization) -> PlanFigures:
    """The plan's indicators (seed §5.2 obj. 1 and 4, §8.1), from live data, in two queries.

    - identified: procedures in the inventory ÷ the expected total the CTD set (default: the inventory's size);
    - simplified: procedures whose simplification plan is "done" ÷ procedures in the inventory, against the
      goal (50 % unless set otherwise);
    - ClaveÚnica: procedures that authenticate users with ClaveÚnica ÷ those that need a natural person's
      identity (``requires_natural_person_identity``);
    - digital: procedures at digitalization level 4 or 5 ÷ procedures in the inventory.
    """
    from folio.procedures.services import settings_get

    agg = Procedure.objects.filter(organization=organization).aggregate(
        total=Count("id"),
        simplified=Count("id", filter=Q(simplification_plan__state=PlanState.DONE)),
        planned=Count("id", filter=Q(simplification_plan__state=PlanState.PLANNED)),
        in_progress=Count("id", filter=Q(simplification_plan__state=PlanState.IN_PROGRESS)),
        identity=Count("id", filter=Q(requires_natural_person_identity=True)),
        claveunica=Count("id", filter=Q(requires_natural_person_identity=True,
                                        user_authentication=UserAuthentication.CLAVEUNICA)),
        level4=Count("id", filter=Q(digitalization_level__gte=4)),
        published=Count("id", filter=Q(is_published=True)),
    )
    settings = settings_get(organization)
    total = agg["total"]
    expected = settings.expected_procedures or total
    simplified_pct = _pct(agg["simplified"], total)
    goal = settings.simplification_goal_percent
    return PlanFigures(
        inventory=total, expected=expected, expected_is_default=settings.expected_procedures is None,
        identified_pct=_pct(total, expected), simplified=agg["simplified"], simplified_pct=simplified_pct,
        goal_pct=goal,
        goal_progress_pct=None if simplified_pct is None else min(100.0, round(100.0 * simplified_pct / goal, 1)),
        plans_planned=agg["planned"], plans_in_progress=agg["in_progress"], identity_needed=agg["identity"],
        claveunica=agg["claveunica"], claveunica_pct=_pct(agg["claveunica"], agg["identity"]),
        level4=agg["level4"], level4_pct=_pct(agg["level4"], total), published=agg["published"],
        settings=settings,
    )


@dataclass
class Priority:
    procedure: Procedure
    transactions: int
    people: int
    steps: int
    requirements: int
    units: int
    days: int
    relevance: float
    complexity: float
    score: float
    plan_state: str


# Complexity caps: a procedure at or above every cap scores 100.
CAP_STEPS, CAP_REQUIREMENTS, CAP_UNITS, CAP_DAYS = 10, 10, 4, 30


def complexity_of(steps: int, requirements: int, units: int, days: int) -> float:
    """0–100: 30 % steps (cap 10), 30 % requirements (cap 10), 15 % units involved (cap 4), 25 % working days
    (actual deadline, else the legal one; cap 30)."""
    return round(100 * (0.30 * min(steps / CAP_STEPS, 1) + 0.30 * min(requirements / CAP_REQUIREMENTS, 1)
                        + 0.15 * min(units / CAP_UNITS, 1) + 0.25 * min(days / CAP_DAYS, 1)), 1)


def relevance_of(transactions: int, people: int, max_transactions: int, max_people: int) -> float:
    """0–100 relative to the organization's own inventory, on a log scale (a procedure with 10 times the
    volume is not 10 times as relevant): 70 % transactions of the last 12 months, 30 % people affected."""
    def share(value: int, top: int) -> float:
        return math.log1p(value) / math.log1p(top) if top > 0 else 0.0

    return round(100 * (0.70 * share(transactions, max_transactions) + 0.30 * share(people, max_people)), 1)


def prioritization(organization: Organization) -> list[Priority]:
    """Every procedure of the inventory with its relevance, complexity and priority
    (priority = 0.6 × relevance + 0.4 × complexity: frequent and heavy procedures first), procedures already
    simplified (plan done) last. People affected = the CTD's estimate, else the transactions."""
    procedures = list(Procedure.objects.filter(organization=organization)
                      .select_related("unit", "simplification_plan").order_by("name", "pk"))
    months = last_months(org_today(organization))
    figures = transactions_for(organization, [p.pk for p in procedures], months)
    rows = []
    for p in procedures:
        volume = transactions_total(figures.get(p.pk, {}))
        people = p.citizens_affected if p.citizens_affected is not None else volume
        plan = getattr(p, "simplification_plan", None)
        rows.append((p, volume, people, plan.state if plan else ""))
    max_volume = max((r[1] for r in rows), default=0)
    max_people = max((r[2] for r in rows), default=0)
    out = []
    for p, volume, people, state in rows:
        steps, requirements = len(lines(p.steps)), len(lines(p.requirements))
        days = p.actual_deadline_days or p.legal_deadline_days or 0
        relevance = relevance_of(volume, people, max_volume, max_people)
        complexity = complexity_of(steps, requirements, p.units_involved, days)
        out.append(Priority(procedure=p, transactions=volume, people=people, steps=steps, requirements=requirements,
                            units=p.units_involved, days=days, relevance=relevance, complexity=complexity,
                            score=round(0.6 * relevance + 0.4 * complexity, 1), plan_state=state))
    out.sort(key=lambda r: (r.plan_state == PlanState.DONE, -r.score, r.procedure.name))
    return out


# --- the public catalogue ---------------------------------------------------------------------------------------

def catalogue_organizations() -> list[Organization]:
    """Active organizations with at least one published procedure."""
    return list(Organization.objects.filter(is_active=True, procedures__is_published=True).distinct()
                .order_by("name"))


def catalogue_organization(slug: str) -> Organization | None:
    return Organization.objects.filter(slug=slug, is_active=True).first()


_LIST_FIELDS = ("id", "organization_id", "slug", "name", "description", "search_text", "cost",
                "digitalization_level", "channel_digital", "channel_in_person", "channel_phone",
                "topic__id", "topic__name", "topic__slug", "topic__position",
                "unit__id", "unit__code", "unit__name", "unit__acronym")


@dataclass
class Catalogue:
    organization: Organization
    procedures: list[Procedure]  # the ones shown (after search and filters)
    topics: list[tuple[Any, int]]  # (topic, published procedures) to browse by
    units: list[tuple[Any, int]]
    online_ids: set[int]
    total: int  # published procedures of the organization
    topic: Any = None  # the topic filtered on, if any
    unit: Any = None

    @property
    def by_topic(self) -> list[tuple[Any, list[Procedure]]]:
        """The shown procedures grouped by topic (catalogue order), those without a topic last."""
        groups: dict[int | None, list[Procedure]] = defaultdict(list)
        topics: dict[int | None, Any] = {None: None}
        for p in self.procedures:
            groups[p.topic_id].append(p)
            topics[p.topic_id] = p.topic
        keys = sorted(groups, key=lambda k: (k is None, getattr(topics[k], "position", 0),
                                             getattr(topics[k], "name", "")))
        return [(topics[k], groups[k]) for k in keys]


def catalogue(organization: Organization, *, q: str = "", topic_slug: str = "", unit_code: str = "") -> Catalogue:
    """The organization's published procedures, searched (name and description, accents and case ignored,
    every word must appear) and filtered by topic and unit. Two queries: a municipality publishes
    tens to a few hundred procedures, so they are read once and filtered in memory."""
    from folio.applications.selectors import online_procedure_ids

    published = list(Procedure.objects.filter(organization=organization, is_published=True)
                     .select_related("topic", "unit").only(*_LIST_FIELDS).order_by("name", "pk"))
    # Keyed by primary key, not by model instance: the counts of the facets to browse by.
    topic_counts: dict[int, list[Any]] = {}
    unit_counts: dict[int, list[Any]] = {}
    for p in published:
        if p.topic is not None:
            topic_counts.setdefault(p.topic.pk, [p.topic, 0])[1] += 1
        if p.unit is not None:
            unit_counts.setdefault(p.unit.pk, [p.unit, 0])[1] += 1
    topics = sorted(((t, n) for t, n in topic_counts.values()), key=lambda tn: (tn[0].position, tn[0].name))
    units = sorted(((u, n) for u, n in unit_counts.values()), key=lambda un: un[0].name)
    topic = next((t for t, _n in topics if t.slug == topic_slug), None) if topic_slug else None
    unit = next((u for u, _n in units if u.code == unit_code), None) if unit_code else None
    words = query_words(q)
    shown = [p for p in published
             if (topic_slug == "" or (topic is not None and p.topic_id == topic.pk))
             and (unit_code == "" or (unit is not None and p.unit_id == unit.pk))
             and matches(p.search_text, words)]
    online = online_procedure_ids([p.pk for p in shown]) if shown else set()
    return Catalogue(organization=organization, procedures=shown, topics=topics, units=units, online_ids=online,
                     total=len(published), topic=topic, unit=unit)


def catalogue_procedure(organization: Organization, slug: str) -> Procedure | None:
    return (Procedure.objects.filter(organization=organization, slug=slug, is_published=True)
            .select_related("topic", "unit").first())
