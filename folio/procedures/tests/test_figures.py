"""The CTD's plan figures and the prioritization: documented formulas, settings, query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from folio.procedures import selectors, services
from folio.procedures.selectors import complexity_of, relevance_of

# Pinned query counts (session, user and roles included); they must not grow with the inventory. When a
# change adds a query on purpose, update the number in the same change.
INVENTORY_PAGE = 8
FIGURES_PAGE = 7
PRIORITIZATION_PAGE = 8
DETAIL_PAGE = 10


def test_figures_follow_the_documented_formulas(world: Any, make_procedure: Any) -> None:
    assert selectors.plan_figures(world.lota).identified_pct is None  # empty inventory: no percentage
    a = make_procedure("A", digitalization_level=4, requires_natural_person_identity=True,
                       user_authentication="claveunica")
    b = make_procedure("B", digitalization_level=5, requires_natural_person_identity=True,
                       user_authentication="own")
    c = make_procedure("C", digitalization_level=2)
    make_procedure("D", digitalization_level=0, user_authentication="claveunica")  # no identity needed
    services.plan_save(actor=world.ctd, procedure=a, data={"state": "done"})
    services.plan_save(actor=world.ctd, procedure=b, data={"state": "in_progress"})
    services.plan_save(actor=world.ctd, procedure=c, data={"state": "planned"})
    f = selectors.plan_figures(world.lota)
    assert (f.inventory, f.expected, f.expected_is_default, f.identified_pct) == (4, 4, True, 100.0)
    assert (f.simplified, f.simplified_pct, f.goal_pct, f.goal_progress_pct) == (1, 25.0, 50, 50.0)
    assert (f.plans_in_progress, f.plans_planned) == (1, 1)
    assert (f.identity_needed, f.claveunica, f.claveunica_pct) == (2, 1, 50.0)
    assert (f.level4, f.level4_pct) == (2, 50.0)
    services.settings_save(actor=world.ctd, expected_procedures=16, simplification_goal_percent=25)
    f = selectors.plan_figures(world.lota)
    assert (f.expected, f.identified_pct, f.goal_progress_pct) == (16, 25.0, 100.0)
    services.plan_save(actor=world.ctd, procedure=b, data={"state": "done"})
    assert selectors.plan_figures(world.lota).simplified == 2


def test_figures_page_queries_are_pinned(world: Any, client: Any, make_procedure: Any,
                                         django_assert_max_num_queries: Any) -> None:
    for i in range(3):
        make_procedure(f"T{i}")
    client.force_login(world.ctd)
    client.get("/cpat/indicadores/")
    with django_assert_max_num_queries(FIGURES_PAGE):
        assert client.get("/cpat/indicadores/").status_code == 200
    with django_assert_max_num_queries(PRIORITIZATION_PAGE):
        assert client.get("/cpat/priorizacion/").status_code == 200
    for i in range(3, 30):
        p = make_procedure(f"T{i}", steps="a\nb")
        services.transactions_save(actor=world.ctd, procedure=p, figures=[services.Figure(2026, 1, "digital", i)])
        services.plan_save(actor=world.ctd, procedure=p, data={"state": "planned"})
    with django_assert_max_num_queries(FIGURES_PAGE):
        assert client.get("/cpat/indicadores/").status_code == 200
    with django_assert_max_num_queries(PRIORITIZATION_PAGE):
        assert client.get("/cpat/priorizacion/").status_code == 200
    with django_assert_max_num_queries(DETAIL_PAGE):
        assert client.get(f"/cpat/{p.pk}/").status_code == 200


def test_scores() -> None:
    assert complexity_of(0, 0, 0, 0) == 0
    assert complexity_of(10, 10, 4, 30) == 100 == complexity_of(50, 50, 9, 300)
    assert complexity_of(5, 5, 2, 15) == 50
    assert relevance_of(0, 0, 0, 0) == 0
    assert relevance_of(1000, 1000, 1000, 1000) == 100
    assert 0 < relevance_of(10, 10, 1000, 1000) < relevance_of(100, 100, 1000, 1000) < 100


def test_prioritization_orders_by_priority_and_puts_simplified_last(world: Any, make_procedure: Any,
                                                                    client: Any) -> None:
    today = selectors.org_today(world.lota)
    heavy = make_procedure("Permiso de edificación", steps="a\nb\nc\nd\ne\nf", requirements="1\n2\n3\n4\n5\n6\n7",
                           units_involved=3, actual_deadline_days=45)
    frequent = make_procedure("Permiso de circulación", steps="pagar", requirements="SOAP", legal_deadline_days=1)
    small = make_procedure("Certificado de número", steps="pedir", requirements="rol")
    done = make_procedure("Patente", steps="a\nb\nc\nd\ne\nf\ng\nh", requirements="1\n2\n3\n4\n5\n6\n7\n8",
                          units_involved=4, actual_deadline_days=60, citizens_affected=5000)
    services.plan_save(actor=world.ctd, procedure=done, data={"state": "done"})
    services.transactions_save(actor=world.ctd, procedure=frequent, figures=[
        services.Figure(today.year, today.month, "digital", 800)])
    services.transactions_save(actor=world.ctd, procedure=heavy, figures=[
        services.Figure(today.year, today.month, "presencial", 30)])
    old = today.replace(day=1) - dt.timedelta(days=400)
    services.transactions_save(actor=world.ctd, procedure=small, figures=[
        services.Figure(old.year, old.month, "presencial", 5000)])  # more than 12 months ago: not counted
    rows = selectors.prioritization(world.lota)
    assert [r.procedure.name for r in rows][-1] == "Patente"
    by_name = {r.procedure.name: r for r in rows}
    assert by_name["Permiso de circulación"].transactions == 800 and by_name["Certificado de número"].transactions == 0
    assert by_name["Permiso de edificación"].complexity > by_name["Permiso de circulación"].complexity
    assert by_name["Permiso de circulación"].relevance > by_name["Permiso de edificación"].relevance
    assert rows[0].score >= rows[1].score >= rows[2].score
    assert by_name["Patente"].people == 5000
    client.force_login(world.auditor)
    assert client.get("/cpat/priorizacion/").status_code == 200


def test_inventory_list_filters_and_pinned_queries(world: Any, client: Any, make_procedure: Any, topic: Any,
                                                   django_assert_max_num_queries: Any) -> None:
    make_procedure("Permiso de edificación", code="PA-1", unit=world.units["DOM"], topic=topic,
                   digitalization_level=2, is_published=True)
    make_procedure("Poda de árboles", unit=world.units["DIMAO"], kind="common", digitalization_level=1)
    client.force_login(world.ctd)

    def names(**params: Any) -> list[str]:
        response = client.get("/cpat/", params)
        assert response.status_code == 200
        return [p.name for p in response.context["procedures"]]

    assert names() == ["Permiso de edificación", "Poda de árboles"]
    assert names(q="ARBOLES") == ["Poda de árboles"]
    assert names(q="pa-1") == ["Permiso de edificación"]
    assert names(unit=world.units["DIMAO"].pk) == ["Poda de árboles"]
    assert names(topic=topic.pk) == ["Permiso de edificación"]
    assert names(kind="common") == ["Poda de árboles"]
    assert names(level="2") == ["Permiso de edificación"]
    assert names(published="1") == ["Permiso de edificación"]
    assert names(published="0") == ["Poda de árboles"]
    assert client.get("/cpat/", {"level": "9"}).status_code == 400
    assert client.get("/cpat/", {"unit": world.coronel_units["DOM"].pk}).status_code == 400
    client.get("/cpat/")
    with django_assert_max_num_queries(INVENTORY_PAGE):
        assert client.get("/cpat/", {"q": "permiso"}).status_code == 200
    for i in range(40):
        make_procedure(f"Trámite {i}", unit=world.units["DAF"], topic=topic)
    with django_assert_max_num_queries(INVENTORY_PAGE):
        assert client.get("/cpat/").status_code == 200
