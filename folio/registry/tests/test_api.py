"""The REST API under /api/v1/: Bearer tokens from ``create_api_token``, the OpenAPI document and its
docs page, the whole Oficina de Partes flow, and one JSON error shape for every 4xx."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from folio.accounts.models import ApiToken
from folio.accounts.services import api_token_create
from folio.registry.models import Registration, RegistrationStatus, Routing, RoutingStatus
from folio.registry.tests.webhelpers import VALID_RUT, incoming, pdf_text, snapshot, upload


def bearer(key: str) -> Client:
    # CSRF checks on: a token-authenticated client must not need a CSRF cookie.
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")


def token_client(user: Any) -> Client:
    _token, key = api_token_create(user=user)
    return bearer(key)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str) and error["message"].strip()
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error


def post_json(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json")


# --- tokens -------------------------------------------------------------------------------------

def test_create_api_token_command_prints_a_working_token(world: Any) -> None:
    out = io.StringIO()
    call_command("create_api_token", "partes.lota", "--name", "integración", stdout=out)
    key = out.getvalue().strip()
    assert re.fullmatch(r"folio_[A-Za-z0-9_\-]{30,}", key)
    token = ApiToken.objects.get(user=world.clerk)
    assert token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash  # only the hash is kept
    assert token.name == "integración"
    response = bearer(key).get("/api/v1/registrations/")
    assert response.status_code == 200
    assert response.json()["results"] == []
    token.refresh_from_db()
    assert token.last_used_at is not None
    with pytest.raises(CommandError):
        call_command("create_api_token", "nadie", stdout=io.StringIO())


def test_wrong_missing_and_revoked_tokens_are_401(world: Any) -> None:
    token, key = api_token_create(user=world.clerk)
    for headers in ({"HTTP_AUTHORIZATION": "Bearer folio_not-a-real-token"},
                    {"HTTP_AUTHORIZATION": f"Bearer {key} extra"},
                    {}):
        response = Client().get("/api/v1/registrations/", **headers)
        assert_error(response, 401)
        assert response["WWW-Authenticate"] == "Bearer"
    token.revoked_at = timezone.now()
    token.save()
    assert_error(bearer(key).get("/api/v1/registrations/"), 401)
    world.dom.is_active = False
    world.dom.save()
    _t, dom_key = api_token_create(user=world.dom)
    assert_error(bearer(dom_key).get("/api/v1/inbox/"), 401)


def test_session_authenticated_writes_need_csrf(world: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.clerk)
    assert client.get("/api/v1/registrations/").status_code == 200
    reg = incoming(world.clerk)
    before = snapshot()
    assert_error(post_json(client, f"/api/v1/registrations/{reg.pk}/void/", {"reason": "Sin token CSRF"}), 403)
    assert snapshot() == before


# --- schema and docs ----------------------------------------------------------------------------

def test_openapi_schema_describes_our_paths(db: Any) -> None:
    response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Folio API"
    for path in ("/api/v1/registrations/", "/api/v1/registrations/incoming/", "/api/v1/registrations/outgoing/",
                 "/api/v1/registrations/{id}/", "/api/v1/registrations/{id}/route/",
                 "/api/v1/registrations/{id}/close/", "/api/v1/registrations/{id}/void/",
                 "/api/v1/registrations/{id}/dispatch/", "/api/v1/registrations/{id}/timeline/",
                 "/api/v1/inbox/", "/api/v1/routings/{routing_id}/acknowledge/"):
        assert path in schema["paths"], path
    incoming_op = schema["paths"]["/api/v1/registrations/incoming/"]["post"]
    assert "multipart/form-data" in incoming_op["requestBody"]["content"]
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())
    # The default (YAML) rendering works too.
    import yaml

    assert yaml.safe_load(Client().get("/api/v1/schema/").content)["openapi"] == schema["openapi"]


def test_docs_page_serves_swagger_ui_from_local_static(db: Any) -> None:
    client = Client()
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for url in assets:
        assert url.startswith("/"), f"external asset {url}"
        assert not url.startswith("//")
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", html)
    for url in assets:
        if url.startswith("/static/"):
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert b"".join(asset.streaming_content) if asset.streaming else asset.content


# --- the flow -----------------------------------------------------------------------------------

def test_api_flow_register_route_acknowledge_answer_dispatch(world: Any, pdf_bytes: Any) -> None:
    clerk = token_client(world.clerk)
    dom = token_client(world.dom)

    created = clerk.post("/api/v1/registrations/incoming/", {
        "document_type": 40, "subject": "Solicita permiso de edificación obra menor", "party_kind": "citizen",
        "party_name": "Luis Alberto Parra", "party_rut": "18.765.432-7", "party_email": "luis@example.cl",
        "unit_id": world.units["DOM"].pk, "mechanism": 2, "keywords": "permiso obra menor",
        "files": [upload("solicitud.pdf", pdf_bytes("Solicito permiso de edificacion", pages=2)),
                  upload("plano.pdf", pdf_bytes("Plano"))],
    })
    assert created.status_code == 201, created.content
    body = created.json()
    year = timezone.localdate().year
    assert body["folio"] == f"E-{year}-000001"
    assert body["status"] == "registered"
    assert body["party_rut"] == "18.765.432-7"
    assert body["pages"] == 3
    assert body["channel"] == "api"
    assert [d["name"] for d in body["documents"]] == ["solicitud.pdf", "plano.pdf"]
    assert all(len(d["sha256"]) == 64 for d in body["documents"])
    assert body["verification_url"].endswith(f"/verificar/{body['receipt_code']}")
    reg_id = body["id"]

    assert clerk.get(f"/api/v1/registrations/{reg_id}/").json()["folio"] == body["folio"]

    routed = post_json(clerk, f"/api/v1/registrations/{reg_id}/route/", {
        "to_unit_ids": [world.units["DOM"].pk], "instruction": "response", "business_days": 10,
        "version": body["version"]})
    assert routed.status_code == 201, routed.content
    [routing] = routed.json()
    assert routing["to_unit"]["code"] == "DOM" and routing["status"] == "pending" and routing["due_date"]

    inbox = dom.get("/api/v1/inbox/").json()
    assert inbox["pending"] == 1 and inbox["overdue"] == 0
    assert [r["folio"] for r in inbox["results"]] == [body["folio"]]
    assert clerk.get("/api/v1/inbox/").json()["results"] == []  # not routed to the Oficina de Partes

    ack = dom.post(f"/api/v1/routings/{routing['id']}/acknowledge/")
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert_error(dom.post(f"/api/v1/routings/{routing['id']}/acknowledge/"), 409, "conflict")

    answer = dom.post("/api/v1/registrations/outgoing/", {
        "document_type": 30, "subject": "Responde solicitud de permiso", "party_kind": "citizen",
        "party_name": "Luis Alberto Parra", "party_email": "luis@example.cl", "answers_id": reg_id,
        "delivery_method": "by_hand", "files": [upload("ord.pdf", pdf_bytes("Se otorga permiso"))],
    })
    assert answer.status_code == 201, answer.content
    out = answer.json()
    assert out["folio"] == f"S-{year}-000001" and out["answers_folio"] == body["folio"]
    assert out["unit"]["code"] == "DOM"
    closed = clerk.get(f"/api/v1/registrations/{reg_id}/").json()
    assert closed["status"] == "closed" and out["folio"] in closed["closing_note"]
    assert closed["routings"][0]["status"] == "completed"

    assert_error(post_json(dom, f"/api/v1/registrations/{out['id']}/dispatch/", {"method": "by_hand"}), 400)
    dispatched = post_json(dom, f"/api/v1/registrations/{out['id']}/dispatch/",
                           {"method": "by_hand", "reference": "Recibido por el interesado en ventanilla"})
    assert dispatched.status_code == 200, dispatched.content
    assert dispatched.json()["status"] == "dispatched" and dispatched.json()["dispatched_at"]
    assert_error(post_json(dom, f"/api/v1/registrations/{out['id']}/dispatch/",
                           {"method": "by_hand", "reference": "otra vez"}), 403)

    timeline = clerk.get(f"/api/v1/registrations/{reg_id}/timeline/")
    assert timeline.status_code == 200
    assert [e["action"] for e in timeline.json()] == [
        "registration.create", "registration.route", "routing.acknowledge", "registration.answered",
        "registration.close"]
    assert timeline.json()[0]["actor"] == world.clerk.get_full_name()
    out_timeline = [e["action"] for e in dom.get(f"/api/v1/registrations/{out['id']}/timeline/").json()]
    assert out_timeline == ["registration.create", "registration.dispatch"]

    found = clerk.get("/api/v1/registrations/", {"q": "edificacion"}).json()
    assert [r["folio"] for r in found["results"]] == [body["folio"]]
    assert found["count"] == 1 and found["count_capped"] is False
    assert clerk.get("/api/v1/registrations/", {"q": "18.765.432-7"}).json()["count"] == 1
    assert clerk.get("/api/v1/registrations/", {"q": "inexistente"}).json()["count"] == 0
    outgoing_only = clerk.get("/api/v1/registrations/", {"book": "S"}).json()
    assert [r["folio"] for r in outgoing_only["results"]] == [out["folio"]]
    assert [r["folio"] for r in clerk.get("/api/v1/registrations/", {"status": "closed"}).json()["results"]] == [
        body["folio"]]

    # The receipt of an API registration is the same verifiable PDF.
    session = Client()
    session.force_login(world.clerk)
    receipt = b"".join(session.get(f"/partes/{reg_id}/comprobante.pdf").streaming_content)
    assert body["folio"] in pdf_text(receipt) and body["receipt_code"] in pdf_text(receipt)


def test_api_close_and_void(world: Any) -> None:
    clerk = token_client(world.clerk)
    first, second = incoming(world.clerk), incoming(world.clerk, subject="Duplicado")
    closed = post_json(clerk, f"/api/v1/registrations/{first.pk}/close/", {"note": "Se archiva: informativo"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["closing_note"] == "Se archiva: informativo"
    assert_error(post_json(clerk, f"/api/v1/registrations/{first.pk}/void/", {"reason": "Ya no está abierto"}), 403)

    assert_error(post_json(clerk, f"/api/v1/registrations/{second.pk}/void/",
                           {"reason": "Ingreso duplicado", "version": second.version + 5}), 409, "conflict")
    voided = post_json(clerk, f"/api/v1/registrations/{second.pk}/void/",
                       {"reason": "Ingreso duplicado", "version": second.version})
    assert voided.status_code == 200
    assert voided.json()["status"] == "voided" and voided.json()["void_reason"] == "Ingreso duplicado"
    second.refresh_from_db()
    assert second.status == RegistrationStatus.VOIDED and second.number == 2


def test_api_units_lists_only_own_organization(world: Any) -> None:
    units = token_client(world.clerk).get("/api/v1/units/").json()
    assert {u["id"] for u in units} == {u.pk for u in world.units.values()}


# --- permissions --------------------------------------------------------------------------------

def test_official_cannot_register_incoming_by_api(world: Any, pdf_bytes: Any) -> None:
    before = snapshot()
    response = token_client(world.dom).post("/api/v1/registrations/incoming/", {
        "document_type": 7, "subject": "x", "party_kind": "citizen", "party_name": "x", "party_rut": VALID_RUT,
        "files": [upload("c.pdf", pdf_bytes("x"))]})
    assert_error(response, 403, "permission_denied")
    assert snapshot().registrations == before.registrations
    assert snapshot().files_on_disk == before.files_on_disk


def test_citizen_token_sees_nothing_and_writes_nothing(world: Any) -> None:
    reg = incoming(world.clerk)
    citizen = token_client(world.citizen)
    assert citizen.get("/api/v1/registrations/").json()["results"] == []
    assert citizen.get("/api/v1/inbox/").json()["results"] == []
    assert_error(citizen.get(f"/api/v1/registrations/{reg.pk}/"), 404, "not_found")
    assert_error(citizen.post("/api/v1/registrations/incoming/", {"document_type": 7}), 400)


def test_other_municipality_gets_404_json_and_nothing_changes(world: Any) -> None:
    reg = incoming(world.clerk)
    from folio.registry import services

    [routing] = services.registration_route(actor=world.clerk, registration=reg,
                                            to_unit_ids=[world.units["DOM"].pk], instruction="response",
                                            business_days=5)
    out = services.registration_create_outgoing(actor=world.dom, data=services.RegistrationInput(
        document_type=30, subject="Oficio", party_kind="citizen", party_name="Juan", delivery_method="by_hand"))
    before = snapshot()
    for user in (world.other_clerk, world.other_dom):
        client = token_client(user)
        before = snapshot()
        assert_error(client.get(f"/api/v1/registrations/{reg.pk}/"), 404, "not_found")
        assert_error(client.get(f"/api/v1/registrations/{reg.pk}/timeline/"), 404)
        assert_error(post_json(client, f"/api/v1/registrations/{reg.pk}/route/",
                               {"to_unit_ids": [world.coronel_units["DOM"].pk], "instruction": "response"}), 404)
        assert_error(post_json(client, f"/api/v1/registrations/{reg.pk}/close/", {"note": "x"}), 404)
        assert_error(post_json(client, f"/api/v1/registrations/{reg.pk}/void/", {"reason": "desde Coronel"}), 404)
        assert_error(post_json(client, f"/api/v1/registrations/{out.pk}/dispatch/",
                               {"method": "by_hand", "reference": "x"}), 404)
        assert_error(client.post(f"/api/v1/routings/{routing.pk}/acknowledge/"), 404)
        assert client.get("/api/v1/registrations/", {"q": "certificado"}).json()["count"] == 0
        # Answering a foreign registration is refused as a field error, without saying whether it exists.
        answer = client.post("/api/v1/registrations/outgoing/", {
            "document_type": 30, "subject": "x", "party_kind": "citizen", "party_name": "x",
            "answers_id": reg.pk, "unit_id": user.unit_id})
        assert "answers_id" in assert_error(answer, 400)["fields"]
        assert snapshot() == before
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.ROUTED
    assert Routing.objects.get(pk=routing.pk).status == RoutingStatus.PENDING
    assert Registration.objects.get(pk=out.pk).status == RegistrationStatus.REGISTERED


def test_unknown_ids_and_methods_use_the_error_shape(world: Any) -> None:
    client = token_client(world.clerk)
    assert_error(client.get("/api/v1/registrations/999999/"), 404, "not_found")
    assert_error(client.get(f"/api/v1/registrations/{incoming(world.clerk).pk}/route/"), 405)
    assert_error(client.delete("/api/v1/registrations/"), 405)
    assert_error(client.post("/api/v1/registrations/incoming/", "<xml/>", content_type="application/xml"), 415)
