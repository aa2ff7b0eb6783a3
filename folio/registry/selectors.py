"""Reads for the Oficina de Partes, always limited to what the asking user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from folio.accounts.models import RoleCode
from folio.registry.models import OPEN_ROUTING, AccessLevel, Registration, Routing
from folio.registry.permissions import REGISTRARS, user_unit_ids


def org_today(organization: Any) -> dt.date:
    return timezone.localdate(timezone=ZoneInfo(organization.time_zone))


def registrations_visible_to(user: Any) -> QuerySet[Registration]:
    """Public registrations of the user's organization; restricted, reserved and secret ones only for
    the Oficina de Partes, their own unit's, and the units (or official) they were routed to."""
    if not user.is_authenticated or not user.organization_id:
        return Registration.objects.none()
    qs = Registration.objects.filter(organization_id=user.organization_id)
    if user.has_role(*REGISTRARS):
        return qs
    units = user_unit_ids(user)
    # Routing only matters for a non-public registration. Saying so inside the EXISTS (it reads the outer
    # row) also keeps PostgreSQL from hashing every routing of the unit before the first row (~100 ms
    # at 1M routings); probed per row instead, the scan stops with the page.
    routed = (Routing.objects.filter(registration=OuterRef("pk")).filter(_routed_to(user, units))
              .filter(GreaterThan(OuterRef("access_level"), AccessLevel.PUBLIC)))
    return qs.filter(
        Q(access_level=AccessLevel.PUBLIC) | Q(unit_id__in=units) | Q(registered_by_id=user.pk) | Exists(routed)
    )


def _routed_to(user: Any, units: list[int]) -> Q:
    """Routings that reach ``user``: to them by name, to their unit as a whole, or (unit heads) to
    anyone in their unit."""
    cond = Q(to_user_id=user.pk) | Q(to_unit_id__in=units, to_user__isnull=True)
    if user.has_role(RoleCode.HEAD):
        cond |= Q(to_unit_id__in=units)
    return cond


def registration_get(user: Any, pk: int) -> Registration | None:
    """Fetch-and-authorise in one step: None (a 404 for the caller) when it does not exist *or* the
    user may not see it, so ids of other organizations reveal nothing."""
    return (
        registrations_visible_to(user)
        .select_related("unit", "registered_by", "answers", "organization")
        .prefetch_related("documents__file", "routings__to_unit", "routings__to_user", "routings__from_unit",
                          "routings__created_by", "responses")
        .filter(pk=pk)
        .first()
    )


def registration_by_folio(user: Any, folio: str) -> Registration | None:
    return registrations_visible_to(user).filter(folio=folio.strip().upper()).first()


@dataclass
class SearchFilters:
    q: str = ""
    book: str = ""
    status: str = ""
    document_type: int | None = None
    unit_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    party: str = ""
    folio: str = ""


def apply_filters(qs: QuerySet[Registration], f: SearchFilters, tz: ZoneInfo) -> QuerySet[Registration]:
    if f.book:
        qs = qs.filter(book=f.book)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.document_type:
        qs = qs.filter(document_type=f.document_type)
    if f.folio:
        qs = qs.filter(folio=f.folio.strip().upper())
    if f.party:
        qs = qs.filter(party_name__icontains=f.party.strip())
    if f.date_from:
        qs = qs.filter(received_at__gte=dt.datetime.combine(f.date_from, dt.time.min, tzinfo=tz))
    if f.date_to:
        qs = qs.filter(received_at__lt=dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    if f.unit_id:
        qs = qs.filter(Q(unit_id=f.unit_id) | Exists(
            Routing.objects.filter(registration=OuterRef("pk"), to_unit_id=f.unit_id)))
    return qs


@dataclass
class SearchPage:
    results: list[Registration]
    total: int
    total_is_capped: bool
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.total_is_capped or self.page * self.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 1


COUNT_CAP = 1000


def registration_search(user: Any, filters: SearchFilters, *, page: int = 1, page_size: int = 20) -> SearchPage:
    from folio.registry import search

    page = max(1, page)
    org = user.organization
    tz = ZoneInfo(org.time_zone) if org else ZoneInfo("America/Santiago")
    qs = apply_filters(registrations_visible_to(user), filters, tz)
    offset = (page - 1) * page_size
    if filters.q.strip():
        ids, total, capped = search.search_ids(qs, filters.q, limit=page_size, offset=offset, cap=COUNT_CAP)
        by_id = {r.pk: r for r in _with_list_relations(Registration.objects.filter(pk__in=ids))}
        results = [by_id[i] for i in ids if i in by_id]
    else:
        results = list(_with_list_relations(qs.order_by("-id"))[offset:offset + page_size])
        total = _capped_count(qs, COUNT_CAP)
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    return SearchPage(results, total, capped, page, page_size)


def _capped_count(qs: QuerySet[Registration], cap: int) -> int:
    return qs.order_by().values("pk")[: cap + 1].count()


def _with_list_relations(qs: QuerySet[Registration]) -> QuerySet[Registration]:
    return qs.select_related("unit")


@dataclass
class InboxPage:
    routings: list[Routing]
    pending: int
    overdue: int
    today: dt.date

    @property
    def acknowledgeable_ids(self) -> set[int]:
        # The inbox only lists routings that reach the user, so every pending one is theirs to acknowledge.
        return {r.pk for r in self.routings if r.status == "pending"}


def inbox_routings(user: Any, *, state: str = "open", limit: int = 50, offset: int = 0) -> InboxPage:
    """A unit's inbox: open routings to the user's unit (or to the user), soonest deadline first."""
    if not user.is_authenticated or not user.organization_id:
        return InboxPage([], 0, 0, timezone.localdate())
    today = org_today(user.organization)
    units = user_unit_ids(user)
    base = Routing.objects.filter(organization_id=user.organization_id).filter(_routed_to(user, units))
    open_qs = base.filter(status__in=OPEN_ROUTING)
    qs = {
        "open": open_qs,
        "overdue": open_qs.filter(due_date__lt=today),
        "done": base.exclude(status__in=OPEN_ROUTING),
    }.get(state, open_qs)
    order = ["-completed_at", "-id"] if state == "done" else ["due_date", "id"]
    # Pick the page's ids first (an index-only scan of routing_inbox_cover_idx), then join only those:
    # sorting every open routing of a large unit with its joins took hundreds of ms at 1M rows.
    page_ids = qs.order_by(*order).values("pk")[offset:offset + limit]
    routings = list(
        Routing.objects.filter(pk__in=page_ids)
        .select_related("registration", "to_unit", "from_unit", "to_user", "registration__unit")
        .order_by(*order)
    )
    # Both counters in one query.
    counts = open_qs.aggregate(pending=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    return InboxPage(routings, counts["pending"], counts["overdue"], today)


def routing_get(user: Any, pk: int) -> Routing | None:
    if not user.is_authenticated or not user.organization_id:
        return None
    routing = (Routing.objects.select_related("registration", "to_unit", "to_user")
               .filter(pk=pk, organization_id=user.organization_id).first())
    if routing is None:
        return None
    if registrations_visible_to(user).filter(pk=routing.registration_id).exists():
        return routing
    return None


def registrations_for_export(user: Any, *, book: str, date_from: dt.date, date_to: dt.date) -> QuerySet[Registration]:
    org = user.organization
    tz = ZoneInfo(org.time_zone)
    filters = SearchFilters(book=book, date_from=date_from, date_to=date_to)
    qs = apply_filters(registrations_visible_to(user), filters, tz)
    return qs.select_related("unit", "answers").order_by("number")
