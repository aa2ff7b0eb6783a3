"""/api/v1/case-files/: the journey over the API with bearer tokens, refusals and the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from folio.audit.models import AuditEvent
from folio.case_files.models import CaseFile, IndexEntry


@pytest.fixture
def api() -> Callable[[Any], APIClient]:
    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_api_journey(world: Any, api: Any, citizen_request: Any, pdf_bytes: Callable[..., bytes]) -> None:
    dom = api(world.dom)
    response = dom.post("/api/v1/case-files/", {"registration_id": citizen_request.pk, "procedure_code": "CPAT-1",
                                                "procedure_name": "Permiso"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    pk = body["id"]
    assert body["iuie"].startswith("EXP-") and body["state"] == "open"
    assert "incorporate" in body["allowed_actions"] and "resume" not in body["allowed_actions"]
    upload = dom.post(f"/api/v1/case-files/{pk}/entries/", {
        "file": _file(pdf_bytes("Informe", 3)), "title": "Informe", "document_type": 22}, format="multipart")
    assert upload.status_code == 201, upload.json()
    assert (upload.json()["first_page"], upload.json()["last_page"]) == (6, 8)
    paper = dom.post(f"/api/v1/case-files/{pk}/entries/paper/", {
        "title": "Planos", "document_type": 3, "description": "Rollo", "physical_location": "Archivo",
        "pages": 2}, format="json")
    assert paper.status_code == 201 and paper.json()["paper"] is True
    transfer = dom.post(f"/api/v1/case-files/{pk}/transfer/", {"unit_id": world.units["AJ"].pk}, format="json")
    assert transfer.status_code == 200 and transfer.json()["unit"]["code"] == "AJ"
    legal = api(world.legal)
    closed = legal.post(f"/api/v1/case-files/{pk}/close/", {"note": "Resuelto"}, format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed" and closed.json()["index_hash"]
    index = legal.get(f"/api/v1/case-files/{pk}/index/").json()
    assert [e["last_page"] for e in index["entries"]] == [2, 5, 8, 10]
    assert index["index_hash"] == closed.json()["index_hash"]
    xml = legal.get(f"/api/v1/case-files/{pk}/index.xml")
    assert xml.status_code == 200 and xml["Content-Type"].startswith("application/xml")
    metadata = legal.get(f"/api/v1/case-files/{pk}/metadata/").json()
    assert metadata["expediente"]["MGDEE1_1"] == body["iuie"] and len(metadata["documentos"]) == 4
    entries = legal.get(f"/api/v1/case-files/{pk}/entries/").json()
    assert legal.get(f"/api/v1/case-files/{pk}/entries/{entries[0]['id']}/file/").status_code == 200

    refused = legal.post(f"/api/v1/case-files/{pk}/entries/paper/", {
        "title": "x", "document_type": 3, "description": "x", "physical_location": "x", "pages": 1}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    assert legal.post(f"/api/v1/case-files/{pk}/resume/", {}, format="json").status_code == 409
    assert legal.post(f"/api/v1/case-files/{pk}/reopen/", {"reason": "x"}, format="json").status_code == 400

    auditor = api(world.auditor)
    assert auditor.get(f"/api/v1/case-files/{pk}/access-log/").status_code == 200
    assert auditor.post(f"/api/v1/case-files/{pk}/archive/", {}, format="json").status_code == 403
    assert api(world.dideco).get(f"/api/v1/case-files/{pk}/access-log/").status_code == 403
    timeline = auditor.get(f"/api/v1/case-files/{pk}/timeline/").json()
    assert timeline[0]["action"] == "case_file.open"
    assert [c["iuie"] for c in auditor.get("/api/v1/case-files/").json()["results"]] == [body["iuie"]]


def _file(data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("informe.pdf", data, content_type="application/pdf")


def test_api_other_organization_and_bad_input(world: Any, api: Any) -> None:
    dom = api(world.dom)
    pk = dom.post("/api/v1/case-files/", {"title": "Obra", "subject": "x"}, format="json").json()["id"]
    coronel = api(world.other_dom)
    assert coronel.get(f"/api/v1/case-files/{pk}/").status_code == 404
    assert coronel.post(f"/api/v1/case-files/{pk}/close/", {}, format="json").status_code == 404
    assert coronel.get("/api/v1/case-files/").json()["count"] == 0
    assert AuditEvent.objects.filter(action="case_file.denied", actor_id=world.other_dom.pk,
                                     organization_id=world.coronel.pk).count() == 2
    bad = dom.post("/api/v1/case-files/", {"title": "", "subject": "", "access_level": 9}, format="json")
    assert bad.status_code == 400 and "access_level" in bad.json()["error"]["fields"]
    bad = dom.post("/api/v1/case-files/", {"title": "x", "subject": "y", "parties": [{"name": "A", "rut": "1-1"}]},
                   format="json")
    assert bad.status_code == 400
    assert dom.get("/api/v1/case-files/?state=nada").status_code == 400
    assert dom.post(f"/api/v1/case-files/{pk}/transfer/", {"unit_id": world.coronel_units["AJ"].pk},
                    format="json").status_code == 400
    assert dom.post(f"/api/v1/case-files/{pk}/entries/registration/", {"registration_id": 999999},
                    format="json").status_code == 400
    assert CaseFile.objects.count() == 1 and IndexEntry.objects.count() == 0
    assert APIClient().get("/api/v1/case-files/").status_code in (401, 403)


def test_schema_documents_the_case_file_api(client: Any) -> None:
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/case-files/", "/api/v1/case-files/{id}/index/", "/api/v1/case-files/{id}/entries/",
                 "/api/v1/case-files/{id}/transfer/"):
        assert path in text, path
