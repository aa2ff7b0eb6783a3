"""Monthly transactions: hand-entered figures, and Folio's own count for procedures with a published online
form (by the month of the terminal act in the organization's time zone, by channel), which wins."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from folio.audit.models import AuditEvent
from folio.procedures import selectors, services
from folio.procedures.models import MonthlyTransactions

from .helpers import closed_application, publish_form

SANTIAGO = ZoneInfo("America/Santiago")
UTC = dt.UTC


def test_hand_entered_figures_and_no_information(world: Any, make_procedure: Any) -> None:
    p = make_procedure()
    changed = services.transactions_save(actor=world.ctd, procedure=p, figures=[
        services.Figure(2026, 3, "digital", 10), services.Figure(2026, 3, "presencial", 25),
        services.Figure(2026, 3, "telefonico", None)])
    assert changed == 3
    figures = selectors.transactions_for(world.lota, [p.pk], [(2026, 2), (2026, 3)])[p.pk]
    assert (2026, 2) not in figures
    march = figures[(2026, 3)]
    assert march.source == "manual" and march.counts == {"digital": 10, "presencial": 25, "telefonico": None}
    assert march.total == 35
    # Saving the same again changes nothing and writes no audit row.
    events = AuditEvent.objects.filter(action="procedure.transactions").count()
    assert services.transactions_save(actor=world.ctd, procedure=p, figures=[
        services.Figure(2026, 3, "digital", 10)]) == 0
    assert AuditEvent.objects.filter(action="procedure.transactions").count() == events


def test_folio_counts_its_applications_by_month_in_local_time_and_wins(world: Any, make_procedure: Any) -> None:
    online = make_procedure("Certificado de informaciones previas")
    offline = make_procedure("Poda de árboles")
    for p in (online, offline):
        services.transactions_save(actor=world.ctd, procedure=p, figures=[
            services.Figure(2026, m, ch, 100) for m in (3, 4) for ch in ("digital", "presencial", "telefonico")])
    definition = publish_form(online)  # published_at unknown: Folio's figures count for every month
    # 1 April 02:30 UTC is still 31 March in Santiago (UTC-3): a March transaction.
    closed_application(online, definition, world.citizen, closed_at=dt.datetime(2026, 4, 1, 2, 30, tzinfo=UTC))
    closed_application(online, definition, world.citizen, closed_at=dt.datetime(2026, 4, 1, 3, 30, tzinfo=UTC))
    closed_application(online, definition, world.citizen, closed_at=dt.datetime(2026, 4, 15, 12, 0, tzinfo=UTC),
                       channel="presencial")
    closed_application(online, definition, world.citizen, closed_at=dt.datetime(2026, 4, 20, 12, 0, tzinfo=UTC),
                       channel="telefonico", state="rejected")
    # Not counted: still open, another month, another procedure.
    from folio.applications.models import Application

    Application.objects.create(organization=world.lota, procedure=online, definition=definition,
                               applicant=world.citizen, state="submitted")
    closed_application(online, definition, world.citizen, closed_at=dt.datetime(2026, 6, 1, 12, tzinfo=UTC))

    figures = selectors.transactions_for(world.lota, [online.pk, offline.pk], [(2026, 3), (2026, 4), (2026, 5)])
    assert figures[online.pk][(2026, 3)].source == "folio"
    assert figures[online.pk][(2026, 3)].counts == {"digital": 1, "presencial": 0, "telefonico": 0}
    assert figures[online.pk][(2026, 4)].counts == {"digital": 1, "presencial": 1, "telefonico": 1}
    assert figures[online.pk][(2026, 5)].counts == {"digital": 0, "presencial": 0, "telefonico": 0}
    assert figures[offline.pk][(2026, 3)].source == "manual"
    assert figures[offline.pk][(2026, 3)].counts["digital"] == 100
    assert (2026, 5) not in figures[offline.pk]


def test_months_before_the_form_was_published_keep_the_hand_entered_figures(world: Any, make_procedure: Any
                                                                            ) -> None:
    p = make_procedure()
    services.transactions_save(actor=world.ctd, procedure=p, figures=[
        services.Figure(2026, m, "presencial", 40) for m in (1, 2, 3)])
    definition = publish_form(p, published_at=dt.datetime(2026, 3, 10, 15, tzinfo=UTC))
    # An application Folio closed before the publication (a pilot) makes that month Folio's too.
    closed_application(p, definition, world.citizen, closed_at=dt.datetime(2026, 1, 20, 15, tzinfo=UTC))
    figures = selectors.transactions_for(world.lota, [p.pk], [(2026, 1), (2026, 2), (2026, 3)])[p.pk]
    assert figures[(2026, 1)].source == "folio" and figures[(2026, 1)].counts["digital"] == 1
    assert figures[(2026, 2)].source == "manual" and figures[(2026, 2)].counts["presencial"] == 40
    assert figures[(2026, 3)].source == "folio" and figures[(2026, 3)].total == 0


def test_a_draft_or_retired_form_does_not_make_it_online(world: Any, make_procedure: Any) -> None:
    from folio.applications.models import FormDefinition

    p = make_procedure()
    definition = FormDefinition.objects.create(organization=world.lota, procedure=p, version=1, state="retired",
                                               schema={})
    closed_application(p, definition, world.citizen, closed_at=dt.datetime(2026, 3, 5, 15, tzinfo=UTC))
    services.transactions_save(actor=world.ctd, procedure=p, figures=[services.Figure(2026, 3, "digital", 7)])
    figures = selectors.transactions_for(world.lota, [p.pk], [(2026, 3)])[p.pk]
    assert figures[(2026, 3)].source == "manual" and figures[(2026, 3)].counts["digital"] == 7


def test_transactions_page_saves_a_year(world: Any, client: Any, make_procedure: Any) -> None:
    p = make_procedure()
    client.force_login(world.ctd)
    response = client.post(f"/cpat/{p.pk}/transacciones/?anio=2025", {"anio": "2025", "m1_digital": "4",
                                                                       "m1_presencial": "0", "m2_digital": ""})
    assert response.status_code == 302 and response["Location"].endswith("?anio=2025")
    rows = {(r.month, r.channel): r.count for r in MonthlyTransactions.objects.filter(procedure=p, year=2025)}
    assert len(rows) == 36
    assert rows[(1, "digital")] == 4 and rows[(1, "presencial")] == 0 and rows[(2, "digital")] is None
    page = client.get(f"/cpat/{p.pk}/transacciones/?anio=2025").content.decode()
    assert 'name="m1_digital" value="4"' in page


def test_last_months_and_year_boundaries() -> None:
    assert selectors.last_months(dt.date(2026, 2, 15), 3) == [(2025, 12), (2026, 1), (2026, 2)]
    assert len(selectors.last_months(dt.date(2026, 2, 15))) == 12
    assert selectors.year_months(2026)[0] == (2026, 1)
