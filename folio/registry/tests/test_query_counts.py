"""The list, the inbox and their API twins run a fixed number of queries whatever the page holds: the
count is pinned, and it is the same with 5 and with 40 registrations/routings (no N+1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from folio.accounts.services import api_token_create
from folio.registry import services
from folio.registry.models import Registration
from folio.registry.tests.webhelpers import incoming


def _populate(world: Any, start: int, stop: int) -> None:
    """Registrations of every shape the pages render: routed to DOM (the unit, or one official by name),
    restricted ones, some acknowledged, some with a unit, and outgoing answers."""
    for i in range(start, stop):
        reg = incoming(world.clerk, subject=f"Solicita certificado de número {i}",
                       access_level=2 if i % 4 == 0 else 1, unit_id=world.units["DOM"].pk if i % 2 else None,
                       party_kind="company" if i % 3 == 0 else "citizen",
                       party_rut="76.543.210-3" if i % 3 == 0 else "12.345.678-5")
        [routing] = services.registration_route(
            actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk], instruction="response",
            business_days=5 + i % 10, to_user_id=world.dom.pk if i % 5 == 0 else None)
        if i % 3 == 1:
            services.routing_acknowledge(actor=world.dom, routing=routing)
        if i % 7 == 6:
            services.registration_create_outgoing(actor=world.dom, data=services.RegistrationInput(
                document_type=30, subject=f"Responde certificado {i}", party_kind="citizen",
                party_name="Juan Pérez", answers_id=reg.pk, delivery_method="by_hand",
                unit_id=world.units["DOM"].pk))


def _count(request: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = request()
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


@pytest.fixture
def clients(world: Any) -> dict[str, Callable[[], Any]]:
    clerk, dom = Client(), Client()
    clerk.force_login(world.clerk)
    dom.force_login(world.dom)
    _t, clerk_key = api_token_create(user=world.clerk)
    _t, dom_key = api_token_create(user=world.dom)
    api_clerk = Client(HTTP_AUTHORIZATION=f"Bearer {clerk_key}")
    api_dom = Client(HTTP_AUTHORIZATION=f"Bearer {dom_key}")
    return {
        "list (clerk)": lambda: clerk.get("/partes/"),
        "list (official)": lambda: dom.get("/partes/"),
        "list q= (clerk)": lambda: clerk.get("/partes/", {"q": "certificado"}),
        "list q= (official)": lambda: dom.get("/partes/", {"q": "certificado"}),
        "list filters (official)": lambda: dom.get("/partes/", {"book": "E", "unit": world.units["DOM"].pk}),
        "inbox (official)": lambda: dom.get("/bandeja/"),
        "inbox done (official)": lambda: dom.get("/bandeja/", {"estado": "done"}),
        "home (official)": lambda: dom.get("/"),
        "api list (clerk)": lambda: api_clerk.get("/api/v1/registrations/"),
        "api list q= (official)": lambda: api_dom.get("/api/v1/registrations/", {"q": "certificado"}),
        "api list (official)": lambda: api_dom.get("/api/v1/registrations/"),
        "api inbox (official)": lambda: api_dom.get("/api/v1/inbox/"),
    }


# Pinned: a change here means a page gained or lost queries; check it is not per row before updating.
# Every signed-in page costs 5 (session, user, organization, roles, the header's unit); the list adds the
# page, its capped count and the unit filter's choices (+1 for full-text: ids, count, rows); the inbox adds
# the page and one query for both counters. The API pays 2 for the token (with its user) and the roles.
EXPECTED = {
    "list (clerk)": 8,
    "list (official)": 8,
    "list q= (clerk)": 9,
    "list q= (official)": 9,
    "list filters (official)": 9,
    "inbox (official)": 7,
    "inbox done (official)": 7,
    "home (official)": 7,
    "api list (clerk)": 4,
    "api list q= (official)": 5,
    "api list (official)": 4,
    "api inbox (official)": 4,
}


def test_query_counts_do_not_depend_on_page_size(world: Any, clients: dict[str, Callable[[], Any]]) -> None:
    _populate(world, 0, 5)
    for request in clients.values():
        request()  # warm-up: token last-use stamp, content types and other per-process caches
    small = {name: _count(request) for name, request in clients.items()}

    _populate(world, 5, 40)
    assert Registration.objects.filter(book="E").count() == 40
    large = {name: _count(request) for name, request in clients.items()}

    # The pages really are fuller (so the comparison means something)...
    assert len(clients["list (clerk)"]().context["page"].results) == 20
    assert len(clients["inbox (official)"]().context["inbox"].routings) > 20
    assert len(clients["api inbox (official)"]().json()["results"]) > 20
    # ...and cost the same number of queries, which is the pinned one.
    assert large == small
    assert small == EXPECTED


def test_detail_page_queries_do_not_grow_with_documents_and_routings(world: Any, pdf_bytes: Any) -> None:
    client = Client()
    client.force_login(world.clerk)
    counts, api_counts = [], []
    for n in (1, 6):
        reg = incoming(world.clerk, documents=[pdf_bytes(f"Documento {i}") for i in range(n)])
        services.registration_route(actor=world.clerk, registration=reg, instruction="response", business_days=3,
                                    to_unit_ids=[u.pk for u in list(world.units.values())[:n]])
        client.get(f"/partes/{reg.pk}/")
        counts.append(_count(lambda reg=reg: client.get(f"/partes/{reg.pk}/")))
        api_counts.append(_count(lambda reg=reg: client.get(f"/api/v1/registrations/{reg.pk}/")))
    assert counts[0] == counts[1]
    assert api_counts[0] == api_counts[1]
