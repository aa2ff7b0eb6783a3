"""Search of the Oficina de Partes (registration_search): Spanish words match whatever the accents
and simple plural/singular; a RUT finds its sender; filters combine with the text; restricted items
and the other municipality's stay out. The same tests run on SQLite FTS5 and PostgreSQL tsvector."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from folio.registry import services
from folio.registry.models import AccessLevel, Registration
from folio.registry.selectors import SearchFilters, registration_search
from folio.registry.tests.servicehelpers import incoming, outgoing, text_doc

SCL = ZoneInfo("America/Santiago")


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, 30, tzinfo=SCL)


class Book:
    """Named registrations of both municipalities."""

    def __init__(self, world: Any) -> None:
        dom, aj = world.units["DOM"], world.units["AJ"]
        self.resolucion = incoming(world.clerk, subject="Remite Resolución exenta sobre patente de alcoholes",
                                   received_at=at(3, 10), party_name="Seremi de Salud", party_kind="public_body",
                                   party_rut="")
        self.patentes = incoming(world.clerk, subject="Solicita renovación de patentes comerciales",
                                 party_name="Rosa Elena Sáez Fuentes", party_rut="9.876.543-3", received_at=at(6, 15))
        self.hidden = incoming(world.clerk, subject="Resolucion reservada del sumario administrativo",
                               access_level=AccessLevel.RESERVED, received_at=at(9, 1))
        services.registration_route(actor=world.clerk, registration=self.hidden, to_unit_ids=[dom.pk],
                                    instruction="report", business_days=5)
        self.legal_only = incoming(world.clerk, subject="Informe jurídico sobre la resolución del contrato",
                                   unit_id=aj.pk, received_at=at(9, 2))
        self.scan = incoming(world.clerk, subject="Carta de vecinos", mechanism=2, received_at=at(9, 3),
                             documents=[text_doc("Los vecinos piden la demolición de la construcción abandonada")])
        self.answer = outgoing(world.dom, subject="Responde sobre resoluciones de patentes")
        self.coronel = incoming(world.other_clerk, subject="Resolución sobre patente comercial de Coronel",
                                party_rut="9.876.543-3")


@pytest.fixture
def book(world: Any) -> Book:
    return Book(world)


def found(user: Any, q: str = "", **filters: Any) -> set[int]:
    page = registration_search(user, SearchFilters(q=q, **filters), page_size=100)
    ids = [r.pk for r in page.results]
    assert len(ids) == len(set(ids)) == page.total, (q, filters)
    return set(ids)


def test_accents_do_not_matter(world: Any, book: Book) -> None:
    expected = {book.resolucion.pk, book.hidden.pk, book.legal_only.pk}
    for q in ("resolucion", "resolución", "RESOLUCIÓN", "Resolucion"):
        assert expected <= found(world.clerk, q), q
    assert book.scan.pk in found(world.clerk, "demolicion construccion")
    assert book.patentes.pk in found(world.clerk, "renovacion")


def test_singular_and_plural_match(world: Any, book: Book) -> None:
    both = {book.resolucion.pk, book.patentes.pk, book.answer.pk}
    assert found(world.clerk, "patentes") == both
    assert found(world.clerk, "patente") == both
    assert book.answer.pk in found(world.clerk, "resolución")      # "resoluciones" in the subject
    assert book.resolucion.pk in found(world.clerk, "resoluciones")
    assert found(world.clerk, "comercial") == {book.patentes.pk}     # "comerciales"


def test_every_word_must_match(world: Any, book: Book) -> None:
    assert found(world.clerk, "resolución alcoholes") == {book.resolucion.pk}
    assert found(world.clerk, "resolución inexistentepalabra") == set()


def test_text_inside_the_attached_document_is_found(world: Any, book: Book) -> None:
    assert found(world.clerk, "demolición") == {book.scan.pk}
    assert found(world.clerk, "abandonada") == {book.scan.pk}


@pytest.mark.parametrize("q", ["9.876.543-3", "9876543-3", "98765433"])
def test_a_rut_finds_its_sender(world: Any, book: Book, q: str) -> None:
    assert found(world.clerk, q) == {book.patentes.pk}
    assert found(world.other_clerk, q) == {book.coronel.pk}


def test_a_folio_finds_its_registration(world: Any, book: Book) -> None:
    assert book.patentes.pk in found(world.clerk, book.patentes.folio)
    assert found(world.clerk, folio=book.patentes.folio.lower()) == {book.patentes.pk}


def test_filters_combine_with_the_text(world: Any, book: Book) -> None:
    clerk = world.clerk
    assert found(clerk, "patentes", book="E") == {book.resolucion.pk, book.patentes.pk}
    assert found(clerk, "patentes", book="S") == {book.answer.pk}
    assert found(clerk, "resolución", status="routed") == {book.hidden.pk}
    assert found(clerk, "resolución", status="registered", book="E") == {book.resolucion.pk, book.legal_only.pk}
    assert found(clerk, "resolución", date_from=dt.date(2026, 9, 1), book="E") == {book.hidden.pk,
                                                                                     book.legal_only.pk}
    assert found(clerk, "resolución", date_to=dt.date(2026, 3, 10)) == {book.resolucion.pk}
    assert found(clerk, "resolución", date_from=dt.date(2026, 9, 2), date_to=dt.date(2026, 9, 2)) == {
        book.legal_only.pk}
    assert found(clerk, "resolución", unit_id=world.units["DOM"].pk, book="E") == {book.hidden.pk}  # routed there
    assert found(clerk, "resolución", unit_id=world.units["AJ"].pk) == {book.legal_only.pk}       # addressed there
    assert found(clerk, "resolución", document_type=7, party="seremi") == {book.resolucion.pk}
    # The same filters without text.
    assert found(clerk, book="S") == {book.answer.pk}
    assert found(clerk, unit_id=world.units["DOM"].pk, book="E") == {book.hidden.pk}
    assert found(clerk, date_from=dt.date(2026, 6, 1), date_to=dt.date(2026, 6, 30)) == {book.patentes.pk}


def test_date_filters_use_the_municipal_day(world: Any) -> None:
    # 23:30 on 31 May in Santiago is already 1 June in UTC: it belongs to 31 May.
    late = incoming(world.clerk, subject="Carta nocturna", received_at=dt.datetime(2026, 5, 31, 23, 30, tzinfo=SCL))
    assert found(world.clerk, "nocturna", date_from=dt.date(2026, 5, 31), date_to=dt.date(2026, 5, 31)) == {late.pk}
    assert found(world.clerk, "nocturna", date_from=dt.date(2026, 6, 1)) == set()


def test_restricted_items_only_for_those_who_may_see_them(world: Any, book: Book) -> None:
    everything = {book.resolucion.pk, book.hidden.pk, book.legal_only.pk}
    assert found(world.clerk, "resolución", book="E") == everything
    assert found(world.admin, "resolución", book="E") == everything
    assert found(world.dom, "resolución", book="E") == everything            # routed to the DOM
    assert found(world.dom_head, "resolución", book="E") == everything
    for user in (world.legal, world.dideco, world.auditor, world.signer, world.ctd):
        assert found(user, "resolución", book="E") == {book.resolucion.pk, book.legal_only.pk}, user.username
        assert found(user, "sumario") == set(), user.username
        assert found(user, status="routed") == set(), user.username


def test_the_other_municipality_never_sees_lota(world: Any, book: Book) -> None:
    for user in (world.other_clerk, world.other_dom):
        assert found(user, "resolución") == {book.coronel.pk}
        assert found(user, "patentes") == {book.coronel.pk}
        assert found(user, "sumario") == set()
        assert found(user) == {book.coronel.pk}
        assert found(user, book.patentes.folio.replace("E-", "")) <= {book.coronel.pk}
    assert found(world.citizen, "resolución") == set()
    assert found(world.citizen) == set()


@pytest.mark.parametrize("q", ['"resolución', 'patente" OR "x', "NEAR(a b)", "*", "-", "a:b", "'; DROP TABLE x; --",
                               "()", "!!!", "ñandú", "ü" * 300])
def test_odd_queries_do_not_break_search(world: Any, book: Book, q: str) -> None:
    found(world.clerk, q)


def test_corrections_are_searchable(world: Any, book: Book) -> None:
    reg = Registration.objects.get(pk=book.patentes.pk)
    services.registration_update(actor=world.clerk, registration=reg, expected_version=reg.version,
                                 subject="Solicita subdivisión predial", summary="", keywords="loteo",
                                 access_level=AccessLevel.PUBLIC, sensitive_data=False)
    assert found(world.clerk, "subdivision") == {reg.pk}
    assert found(world.clerk, "loteo") == {reg.pk}
    assert reg.pk not in found(world.clerk, "renovación")


def test_results_are_paged_newest_first(world: Any) -> None:
    regs = [incoming(world.clerk, subject=f"Oficio número {i} sobre alumbrado") for i in range(5)]
    first = registration_search(world.clerk, SearchFilters(q="alumbrado"), page=1, page_size=2)
    second = registration_search(world.clerk, SearchFilters(q="alumbrado"), page=2, page_size=2)
    third = registration_search(world.clerk, SearchFilters(q="alumbrado"), page=3, page_size=2)
    newest_first = [r.pk for r in reversed(regs)]
    assert [r.pk for r in first.results + second.results + third.results] == newest_first
    assert first.total == 5 and first.has_next and not first.has_previous
    assert not third.has_next and third.has_previous
