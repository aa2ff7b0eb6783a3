"""The public catalogue /tramites/: no login, published procedures of active organizations only, search
without accents, browsing by topic and unit, one municipality shown directly or a chooser, the "Iniciar en
línea" button when the procedure has a published online form, and pinned query counts."""

from __future__ import annotations

from typing import Any

import pytest

from folio.procedures import views
from folio.procedures.models import Procedure, Topic

from .helpers import publish_form


@pytest.fixture
def lota_catalogue(world: Any, make_procedure: Any, topic: Topic) -> dict[str, Procedure]:
    other_topic = Topic.objects.create(organization=world.lota, name="Certificados", slug="certificados", position=2)
    return {
        "cip": make_procedure("Certificado de informaciones previas", slug="certificado-informaciones-previas",
                              topic=other_topic, unit=world.units["DOM"], is_published=True,
                              description="Normas urbanísticas de un terreno.", legal_deadline_days=7,
                              law_number="DFL 458", law_url="https://www.bcn.cl/leychile/navegar?idNorma=13560",
                              requirements="Rol de avalúo\nDirección", cost="0,1 UTM", channel_digital=True),
        "numero": make_procedure("Certificado de número", topic=other_topic, unit=world.units["DOM"],
                                 is_published=True, description="Número municipal de una propiedad."),
        "edificacion": make_procedure("Permiso de edificación", topic=topic, unit=world.units["DOM"],
                                      is_published=True, description="Construir o ampliar una obra."),
        "ayuda": make_procedure("Ayuda social de emergencia", unit=world.units["DIDECO"], is_published=True,
                                description="Apoyo en situaciones de emergencia económica."),
        "oculto": make_procedure("Sumario administrativo", unit=world.units["AJ"], is_published=False,
                                 description="Interno."),
    }


def test_single_municipality_is_shown_directly(world: Any, client: Any, lota_catalogue: Any) -> None:
    response = client.get("/tramites/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "I. Municipalidad de Lota" in body
    assert "Certificado de informaciones previas" in body and "Ayuda social de emergencia" in body
    assert "Sumario administrativo" not in body
    assert body.index("Obras y construcción") < body.index("Certificados")  # topics in catalogue order


def test_several_municipalities_get_a_chooser(world: Any, client: Any, lota_catalogue: Any, coronel_ctd: Any,
                                              make_procedure: Any) -> None:
    make_procedure("Patente comercial de Coronel", actor=coronel_ctd, is_published=True)
    body = client.get("/tramites/").content.decode()
    assert 'href="/tramites/lota/"' in body and 'href="/tramites/coronel/"' in body
    assert "Certificado de informaciones previas" not in body
    chosen = client.get("/tramites/?municipalidad=coronel").content.decode()
    assert "Patente comercial de Coronel" in chosen and "Certificado de informaciones previas" not in chosen
    lota = client.get("/tramites/lota/").content.decode()
    assert "Certificado de informaciones previas" in lota and "Patente comercial de Coronel" not in lota
    assert client.get("/tramites/?municipalidad=no-existe").status_code == 404
    # An inactive organization disappears from the catalogue.
    world.coronel.is_active = False
    world.coronel.save(update_fields=["is_active"])
    assert "Certificado de informaciones previas" in client.get("/tramites/").content.decode()
    assert client.get("/tramites/coronel/").status_code == 404


@pytest.mark.parametrize(("query", "expected", "absent"), [
    ("informacion", ["Certificado de informaciones previas"], ["Certificado de número"]),
    ("NÚMERO", ["Certificado de número"], ["Permiso de edificación"]),
    ("numero", ["Certificado de número"], ["Ayuda social"]),
    ("certificado previas", ["Certificado de informaciones previas"], ["Certificado de número"]),
    ("urbanisticas", ["Certificado de informaciones previas"], []),  # description, without the accent
    ("emergencia económica", ["Ayuda social de emergencia"], []),
    ("sumario", [], ["Sumario administrativo"]),  # unpublished: never found
])
def test_search_ignores_accents_and_case(world: Any, client: Any, lota_catalogue: Any, query: str,
                                         expected: list[str], absent: list[str]) -> None:
    response = client.get("/tramites/lota/", {"q": query})
    assert response.status_code == 200
    shown = [p.name for p in response.context["cat"].procedures]
    for name in expected:
        assert name in shown
    for name in absent:
        assert not any(s.startswith(name) for s in shown)


def test_browse_by_topic_and_unit(world: Any, client: Any, lota_catalogue: Any) -> None:
    cat = client.get("/tramites/lota/", {"tema": "certificados"}).context["cat"]
    assert {p.name for p in cat.procedures} == {"Certificado de informaciones previas", "Certificado de número"}
    cat = client.get("/tramites/lota/", {"unidad": "DIDECO"}).context["cat"]
    assert [p.name for p in cat.procedures] == ["Ayuda social de emergencia"]
    cat = client.get("/tramites/lota/", {"unidad": "DOM", "q": "permiso"}).context["cat"]
    assert [p.name for p in cat.procedures] == ["Permiso de edificación"]
    cat = client.get("/tramites/lota/", {"tema": "no-existe"}).context["cat"]
    assert cat.procedures == []
    page = client.get("/tramites/lota/").content.decode()
    assert 'href="/tramites/lota/?tema=certificados"' in page and 'href="/tramites/lota/?unidad=DOM"' in page
    assert "Asesoría Jurídica" not in page  # only units with published procedures are offered


def test_procedure_page(world: Any, client: Any, lota_catalogue: Any) -> None:
    response = client.get("/tramites/lota/certificado-informaciones-previas/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("Certificado de informaciones previas", "Normas urbanísticas de un terreno.", "Rol de avalúo",
                 "0,1 UTM", "https://www.bcn.cl/leychile/navegar?idNorma=13560", "DFL 458",
                 "Dirección de Obras Municipales"):
        assert text in body, text
    assert "7" in body
    assert "/iniciar/" not in body  # no published online form


def test_unpublished_and_other_organizations_are_404(world: Any, client: Any, lota_catalogue: Any,
                                                     coronel_ctd: Any, make_procedure: Any) -> None:
    assert client.get("/tramites/lota/sumario-administrativo/").status_code == 404
    assert client.get("/tramites/lota/no-existe/").status_code == 404
    assert client.get("/tramites/coronel/certificado-informaciones-previas/").status_code == 404
    assert client.get("/tramites/no-existe/certificado-informaciones-previas/").status_code == 404
    client.force_login(world.ctd)  # staff see the same: the catalogue is public data only
    assert client.get("/tramites/lota/sumario-administrativo/").status_code == 404


def test_online_button_when_a_form_is_published(world: Any, client: Any, lota_catalogue: Any,
                                                monkeypatch: Any) -> None:
    publish_form(lota_catalogue["cip"])
    monkeypatch.setattr(views, "_online_start_url",
                        lambda org, p: f"/tramites/{org.slug}/{p.slug}/iniciar/")
    body = client.get("/tramites/lota/certificado-informaciones-previas/").content.decode()
    assert 'href="/tramites/lota/certificado-informaciones-previas/iniciar/"' in body
    listing = client.get("/tramites/lota/").context["cat"]
    assert listing.online_ids == {lota_catalogue["cip"].pk}
    body = client.get("/tramites/lota/certificado-de-numero/").content.decode()
    assert "/iniciar/" not in body


def test_online_start_url_is_built_only_when_the_url_exists(world: Any, lota_catalogue: Any) -> None:
    from django.urls import NoReverseMatch, reverse

    try:
        expected = reverse("applications:start", kwargs={"org_slug": "lota",
                                                          "procedure_slug": "certificado-informaciones-previas"})
    except NoReverseMatch:
        expected = ""
    assert views._online_start_url(world.lota, lota_catalogue["cip"]) == expected


def test_catalogue_query_counts(world: Any, client: Any, lota_catalogue: Any, django_assert_max_num_queries: Any,
                                make_procedure: Any) -> None:
    with django_assert_max_num_queries(3):
        assert client.get("/tramites/").status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get("/tramites/lota/", {"q": "certificado", "tema": "certificados"}).status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get("/tramites/lota/certificado-informaciones-previas/").status_code == 200
    for i in range(20):
        make_procedure(f"Trámite adicional {i}", is_published=True, unit=world.units["DAF"])
    with django_assert_max_num_queries(3):
        assert client.get("/tramites/lota/").status_code == 200


def test_catalogue_is_keyboard_and_screen_reader_friendly(world: Any, client: Any, lota_catalogue: Any) -> None:
    body = client.get("/tramites/lota/").content.decode()
    assert '<label class="form-label" for="q">' in body and 'role="search"' in body
    assert 'aria-live="polite"' in body and '<html lang="es-CL">' in body
    assert "tabindex=\"-1\"" in body  # the skip link target
