"""REST API of applications for staff: list and detail scoped to the organization and unit, bearer token."""

from __future__ import annotations

from typing import Any

from django.test import Client

from folio.accounts.services import api_token_create
from folio.applications import services
from folio.applications.tests.apphelpers import make_definition, submit


def _api(user: Any) -> Client:
    _t, key = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_list_and_detail_are_scoped(world: Any, pdf_bytes: Any) -> None:
    app = submit(world, make_definition(world), pdf_bytes)
    other = submit(world, make_definition(world, organization=world.coronel), pdf_bytes)
    dom = _api(world.dom)
    listing = dom.get("/api/v1/applications/").json()
    assert listing["count"] == 1 and listing["open"] == 1 and listing["overdue"] == 0
    [row] = listing["results"]
    assert row["number"] == app.number and row["state"] == "submitted" and row["applicant_run"] == "55.555.555-5"
    detail = dom.get(f"/api/v1/applications/{app.pk}/").json()
    assert detail["case_file_iuie"] == app.case_file.iuie and detail["certificate_code"] == app.certificate.code
    assert detail["certificate_url"].endswith(f"/verificar/{app.certificate.code}")
    assert {"label": "Dirección de la obra", "value": "Calle Matta 123, Lota"} in detail["answers"]
    assert _api(world.legal).get("/api/v1/applications/").json()["count"] == 0
    assert _api(world.legal).get(f"/api/v1/applications/{app.pk}/").status_code == 404
    assert _api(world.clerk).get("/api/v1/applications/").json()["count"] == 1
    assert _api(world.other_clerk).get(f"/api/v1/applications/{app.pk}/").status_code == 404
    assert _api(world.other_clerk).get("/api/v1/applications/").json()["results"][0]["number"] == other.number
    assert _api(world.signer).get("/api/v1/applications/").status_code == 403
    assert Client().get("/api/v1/applications/").status_code in (401, 403)
    bad = dom.get("/api/v1/applications/", {"state": "nope", "page": "x"})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"state", "page"}
    services.application_request_correction(actor=world.dom, application=app,
                                            message="Falta la firma del propietario en el plano.")
    assert dom.get("/api/v1/applications/", {"state": "correction"}).json()["count"] == 1
    detail = dom.get(f"/api/v1/applications/{app.pk}/").json()
    assert detail["state"] == "correction" and len(detail["corrections"]) == 1


def test_the_api_is_in_the_schema(world: Any) -> None:
    schema = _api(world.dom).get("/api/v1/schema/").content.decode()
    assert "/api/v1/applications/" in schema and "applications_list" in schema
