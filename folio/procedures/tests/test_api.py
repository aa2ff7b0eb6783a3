"""/api/v1/procedures/: read endpoints scoped to the token user's organization."""

from __future__ import annotations

from typing import Any

from django.test import Client

from folio.accounts.services import api_token_create
from folio.procedures import services


def _bearer(user: Any) -> Client:
    _token, key = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_list_detail_figures_with_a_token(world: Any, make_procedure: Any, coronel_ctd: Any) -> None:
    p = make_procedure("Patente comercial", code="PA-1", unit=world.units["DAF"], digitalization_level=4,
                       is_published=True)
    make_procedure("Poda de árboles", digitalization_level=1)
    other = make_procedure("Patente de Coronel", actor=coronel_ctd)
    services.transactions_save(actor=world.ctd, procedure=p, figures=[services.Figure(2026, 1, "digital", 3)])
    services.plan_save(actor=world.ctd, procedure=p, data={"state": "done"})
    api = _bearer(world.ctd)
    body = api.get("/api/v1/procedures/").json()
    assert body["count"] == 2 and {r["name"] for r in body["results"]} == {"Patente comercial", "Poda de árboles"}
    body = api.get("/api/v1/procedures/", {"q": "PATENTE", "level": 4, "published": "true"}).json()
    assert [r["code"] for r in body["results"]] == ["PA-1"]
    assert body["results"][0]["unit"]["code"] == "DAF" and body["results"][0]["plan_state"] == "done"
    detail = api.get(f"/api/v1/procedures/{p.pk}/").json()
    assert detail["name"] == "Patente comercial" and detail["simplification_plan"]["state"] == "done"
    assert len(detail["transactions_last_12_months"]) == 12 and "requires_consent_manager" in detail
    assert api.get(f"/api/v1/procedures/{other.pk}/").status_code == 404
    figures = api.get("/api/v1/procedures/figures/").json()
    assert figures["inventory"] == 2 and figures["simplified"] == 1 and figures["level4_pct"] == 50.0
    ranking = api.get("/api/v1/procedures/prioritization/").json()
    assert ranking[-1]["code"] == "PA-1"  # simplified already: last
    assert api.get("/api/v1/procedures/", {"level": "9"}).status_code == 400
    assert api.get("/api/v1/procedures/", {"kind": "x"}).json()["error"]["code"] == "invalid"


def test_refusals(world: Any, make_procedure: Any, coronel_ctd: Any) -> None:
    p = make_procedure()
    official = _bearer(world.dom)
    assert official.get("/api/v1/procedures/").status_code == 403
    assert official.get(f"/api/v1/procedures/{p.pk}/").status_code == 403
    assert official.get("/api/v1/procedures/figures/").status_code == 403
    coronel = _bearer(coronel_ctd)
    assert coronel.get("/api/v1/procedures/").json()["count"] == 0
    assert coronel.get(f"/api/v1/procedures/{p.pk}/").status_code == 404
    assert Client().get("/api/v1/procedures/").status_code in (401, 403)
    assert _bearer(world.auditor).get(f"/api/v1/procedures/{p.pk}/").status_code == 200


def test_schema_documents_the_endpoints(world: Any, client: Any) -> None:
    client.force_login(world.admin)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/procedures/", "/api/v1/procedures/{id}/", "/api/v1/procedures/figures/",
                 "/api/v1/procedures/prioritization/"):
        assert path in schema, path
