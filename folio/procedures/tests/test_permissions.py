"""Who may see and change the inventory: the CTD and administrators edit; unit heads and auditors read;
other staff get 403; anonymous users go to the login page; the second municipality never sees Lota's
records (404) and a denied write leaves no trace."""

from __future__ import annotations

from typing import Any

import pytest

from folio.audit.models import AuditEvent
from folio.procedures.models import Procedure

READ_PAGES = ["/cpat/", "/cpat/indicadores/", "/cpat/priorizacion/", "/cpat/exportar/",
              "/cpat/exportar/?format=csv"]
EDIT_PAGES = ["/cpat/nuevo/", "/cpat/importar/"]


@pytest.mark.parametrize("role", ["ctd", "admin"])
def test_editors_read_and_change(world: Any, client: Any, make_procedure: Any, role: str) -> None:
    p = make_procedure()
    client.force_login(getattr(world, role))
    for url in [*READ_PAGES, *EDIT_PAGES, f"/cpat/{p.pk}/", f"/cpat/{p.pk}/editar/", f"/cpat/{p.pk}/transacciones/",
                f"/cpat/{p.pk}/simplificacion/"]:
        assert client.get(url).status_code == 200, url
    response = client.post(f"/cpat/{p.pk}/publicacion/", {"publish": "1", "version": p.version})
    assert response.status_code == 302
    assert Procedure.objects.get(pk=p.pk).is_published


@pytest.mark.parametrize("role", ["auditor", "dom_head"])
def test_heads_and_auditors_read_only(world: Any, client: Any, make_procedure: Any, role: str) -> None:
    p = make_procedure()
    client.force_login(getattr(world, role))
    for url in [*READ_PAGES, f"/cpat/{p.pk}/"]:
        assert client.get(url).status_code == 200, url
    body = client.get(f"/cpat/{p.pk}/").content.decode()
    assert f"/cpat/{p.pk}/editar/" not in body
    before = AuditEvent.objects.count()
    for url in [*EDIT_PAGES, f"/cpat/{p.pk}/editar/", f"/cpat/{p.pk}/transacciones/", f"/cpat/{p.pk}/simplificacion/"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/cpat/nuevo/", {"name": "Otro"}).status_code == 403
    assert client.post(f"/cpat/{p.pk}/publicacion/", {"publish": "1"}).status_code == 403
    assert client.post("/cpat/indicadores/", {"simplification_goal_percent": 60}).status_code == 403
    assert AuditEvent.objects.count() == before
    assert not Procedure.objects.get(pk=p.pk).is_published
    assert Procedure.objects.filter(organization=world.lota).count() == 1


@pytest.mark.parametrize("role", ["dom", "clerk", "signer"])
def test_other_staff_get_403(world: Any, client: Any, make_procedure: Any, role: str) -> None:
    p = make_procedure()
    client.force_login(getattr(world, role))
    for url in [*READ_PAGES, *EDIT_PAGES, f"/cpat/{p.pk}/", f"/cpat/{p.pk}/editar/"]:
        assert client.get(url).status_code == 403, url
    assert "/cpat/" not in client.get("/tramites/").content.decode()


def test_anonymous_is_sent_to_login(world: Any, client: Any, make_procedure: Any) -> None:
    p = make_procedure()
    for url in [*READ_PAGES, *EDIT_PAGES, f"/cpat/{p.pk}/", f"/cpat/{p.pk}/editar/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/ingresar/" in response["Location"], url
    response = client.post(f"/cpat/{p.pk}/publicacion/", {"publish": "1"})
    assert response.status_code == 302 and not Procedure.objects.get(pk=p.pk).is_published


def test_citizen_without_organization_gets_403(world: Any, client: Any) -> None:
    client.force_login(world.citizen)
    assert client.get("/cpat/").status_code == 403


def test_second_municipality_never_sees_lota(world: Any, client: Any, make_procedure: Any, coronel_ctd: Any) -> None:
    lota = make_procedure("Permiso de edificación", code="PA-1")
    mine = make_procedure("Patente de Coronel", actor=coronel_ctd)
    client.force_login(coronel_ctd)
    listing = client.get("/cpat/").content.decode()
    assert "Patente de Coronel" in listing and "Permiso de edificación" not in listing
    for url in (f"/cpat/{lota.pk}/", f"/cpat/{lota.pk}/editar/", f"/cpat/{lota.pk}/transacciones/",
                f"/cpat/{lota.pk}/simplificacion/"):
        assert client.get(url).status_code == 404, url
    before = AuditEvent.objects.count()
    assert client.post(f"/cpat/{lota.pk}/editar/", {"name": "X", "version": 1}).status_code == 404
    assert client.post(f"/cpat/{lota.pk}/publicacion/", {"publish": "1"}).status_code == 404
    assert AuditEvent.objects.count() == before
    assert Procedure.objects.get(pk=lota.pk).name == "Permiso de edificación"
    export = b"".join(client.get("/cpat/exportar/?format=csv").streaming_content).decode()
    assert "Patente de Coronel" in export and "Permiso de edificación" not in export
    assert client.get(f"/cpat/{mine.pk}/").status_code == 200
    # Non-readers of Coronel: a Lota id is a 404 too (existence is not revealed), their own a 403.
    client.force_login(world.other_clerk)
    assert client.get(f"/cpat/{lota.pk}/").status_code == 404
    assert client.get(f"/cpat/{mine.pk}/").status_code == 403


def test_services_refuse_non_editors(world: Any, make_procedure: Any, coronel_ctd: Any) -> None:
    from django.core.exceptions import PermissionDenied

    from folio.procedures import services

    p = make_procedure()
    for actor in (world.auditor, world.dom, world.dom_head, world.citizen):
        with pytest.raises(PermissionDenied):
            services.procedure_create(actor=actor, data={"name": "X"})
        with pytest.raises(PermissionDenied):
            services.procedure_update(actor=actor, procedure=p, data={"name": "X"})
    with pytest.raises(PermissionDenied):
        services.procedure_set_published(actor=coronel_ctd, procedure=p, published=True)
    with pytest.raises(PermissionDenied):
        services.plan_save(actor=coronel_ctd, procedure=p, data={"state": "done"})


def test_nav_links(world: Any, client: Any) -> None:
    client.force_login(world.ctd)
    body = client.get("/tramites/").content.decode()
    assert 'href="/cpat/"' in body and 'href="/cpat/indicadores/"' in body and 'href="/tramites/"' in body
    client.force_login(world.dom)
    body = client.get("/tramites/").content.decode()
    assert 'href="/cpat/"' not in body and 'href="/tramites/"' in body
    client.logout()
    assert 'href="/tramites/"' in client.get("/tramites/").content.decode()
