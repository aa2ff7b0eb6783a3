"""The /expedientes/ pages: the same journey through the UI, exports, refusals with their status codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from django.core.files.uploadedfile import SimpleUploadedFile

from folio.audit.models import AuditEvent
from folio.case_files import services
from folio.case_files.models import CaseFile, CaseFileState, IndexEntry
from folio.registry.models import AccessLevel, DocumentType


def _state(cf: CaseFile) -> tuple[Any, ...]:
    fresh = CaseFile.objects.get(pk=cf.pk)
    return fresh.state, fresh.version, fresh.unit_id, IndexEntry.objects.filter(case_file=cf).count()


def test_ui_journey(world: Any, client: Any, citizen_request: Any, pdf_bytes: Callable[..., bytes]) -> None:
    client.force_login(world.dom)
    assert client.get(f"/partes/{citizen_request.pk}/").content.decode().count("/expedientes/nuevo/?registro=") == 1
    page = client.get(f"/expedientes/nuevo/?registro={citizen_request.pk}")
    assert page.status_code == 200 and citizen_request.folio in page.content.decode()
    response = client.post("/expedientes/nuevo/", {
        "registration": citizen_request.pk, "title": "", "subject": "", "procedure_code": "CPAT-12",
        "procedure_name": "Permiso de edificación", "access_level": 1, "party_actor_type": 1})
    assert response.status_code == 302, response.content.decode()[:2000]
    cf = CaseFile.objects.get()
    assert response["Location"] == f"/expedientes/{cf.pk}/"
    detail = client.get(f"/expedientes/{cf.pk}/")
    body = detail.content.decode()
    assert detail.status_code == 200 and cf.iuie in body and "María José Carrasco Vidal" in body

    upload = SimpleUploadedFile("informe.pdf", pdf_bytes("Informe técnico", 2), content_type="application/pdf")
    response = client.post(f"/expedientes/{cf.pk}/incorporar/", {
        "file": upload, "title": "Informe técnico", "document_type": DocumentType.INFORME, "access_level": 1,
        "keywords": "informe, dom", "version": cf.version})
    assert response.status_code == 302, response.content.decode()[:3000]
    response = client.post(f"/expedientes/{cf.pk}/incorporar-papel/", {
        "title": "Planos", "document_type": 3, "description": "Rollo de planos", "physical_location": "Archivo DOM",
        "pages": 3, "access_level": 1})
    assert response.status_code == 302
    response = client.post(f"/expedientes/{cf.pk}/derivar/", {"unit": world.units["AJ"].pk, "note": "Informe"})
    assert response.status_code == 302
    assert [e.last_page for e in IndexEntry.objects.filter(case_file=cf).order_by("position")] == [2, 5, 7, 10]

    client.force_login(world.legal)
    response = client.post(f"/expedientes/{cf.pk}/cerrar/", {"close-note": "Resuelto"})
    assert response.status_code == 302
    cf.refresh_from_db()
    assert cf.state == CaseFileState.CLOSED and cf.index_hash

    index = client.get(f"/expedientes/{cf.pk}/indice.json")
    assert index.status_code == 200 and index["Content-Type"].startswith("application/json")
    data = json.loads(index.content)
    assert data["iuie"] == cf.iuie and data["index_hash"] == cf.index_hash and data["total_folios"] == 10
    assert [(e["position"], e["first_page"], e["last_page"]) for e in data["entries"]] == [
        (1, 1, 2), (2, 3, 5), (3, 6, 7), (4, 8, 10)]
    assert all(e["incorporated_at"].endswith("Z") for e in data["entries"])
    xml = ET.fromstring(client.get(f"/expedientes/{cf.pk}/indice.xml").content)  # noqa: S314 - our own output
    assert xml.get("iuie") == cf.iuie
    assert [n.get("position") for n in xml.iter("entry")] == ["1", "2", "3", "4"]
    assert xml.find("expediente/index_hash").text == cf.index_hash
    metadata = json.loads(client.get(f"/expedientes/{cf.pk}/metadatos.json").content)
    exp = metadata["expediente"]
    for code in ("MGDEE1_1", "MGDEE1_5", "MGDEE2_2", "MGDEE3_1", "MGDEE3_2", "MGDEE4_1", "MGDEE4_2", "MGDEE51_1",
                 "MGDEE51_3", "MGDEE51_4", "MGDEE52_1", "MGDEE52_2", "MGDEE53_1", "MGDEE53_2", "MGDEE6_1",
                 "MGDEE6_4", "MGDEE7_1", "MGDEE8_1"):
        assert exp[code] not in (None, "", []), code
    assert exp["MGDEE1_1"] == cf.iuie and exp["MGDEE7_1"] == "CPAT-12" and exp["MGDEE6_4"] == 2
    assert 2 in exp["MGDEE52_1"] and "12.345.678-5" in exp["MGDEE52_3"]
    assert metadata["hybrid"] is True
    docs = metadata["documentos"]
    assert len(docs) == 4
    for code in ("MGDDE1_1", "MGDDE1_6", "MGDDE2_2", "MGDDE3_2", "MGDDE4_1", "MGDDE4_2", "MGDDE5_1", "MGDDE5_3",
                 "MGDDE61_1", "MGDDE61_3", "MGDDE7_1", "MGDDE7_4", "MGDDE8_3", "MDGDDE10"):
        assert all(d[code] not in (None, "", []) for d in docs), code
    assert docs[2]["MGDDE3_2"] == ["informe", "dom"] and docs[3]["MGDDE5_3"] == 1

    # Incorporating into the closed expediente: 409, nothing changed, the refusal recorded.
    before = _state(cf)
    response = client.post(f"/expedientes/{cf.pk}/incorporar-papel/", {
        "title": "Otro", "document_type": 3, "description": "x", "physical_location": "y", "pages": 1,
        "access_level": 1})
    assert response.status_code == 409
    assert "cerrado" in response.content.decode()
    assert _state(cf) == before
    assert AuditEvent.objects.filter(object_id=str(cf.pk), action="case_file.refused", actor_id=world.legal.pk).exists()

    client.force_login(world.auditor)
    assert client.get(f"/expedientes/{cf.pk}/").status_code == 200
    assert client.get(f"/expedientes/{cf.pk}/accesos/").status_code == 200
    client.force_login(world.dideco)
    assert client.get(f"/expedientes/{cf.pk}/accesos/").status_code == 403
    assert client.get("/expedientes/").status_code == 200


def test_other_organization_gets_404_and_the_attempt_is_recorded(world: Any, client: Any,
                                                                  pdf_bytes: Callable[..., bytes]) -> None:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Lota", subject="x"))
    before = _state(cf)
    client.force_login(world.other_clerk)
    assert client.get(f"/expedientes/{cf.pk}/").status_code == 404
    assert client.get(f"/expedientes/{cf.pk}/indice.json").status_code == 404
    upload = SimpleUploadedFile("x.pdf", pdf_bytes("x"), content_type="application/pdf")
    response = client.post(f"/expedientes/{cf.pk}/incorporar/", {"file": upload, "title": "x", "document_type": 3,
                                                                 "access_level": 1})
    assert response.status_code == 404
    assert client.post(f"/expedientes/{cf.pk}/cerrar/", {}).status_code == 404
    assert _state(cf) == before
    denials = AuditEvent.objects.filter(action="case_file.denied", actor_id=world.other_clerk.pk,
                                        object_id=str(cf.pk))
    assert denials.count() == 4
    assert {e.organization_id for e in denials} == {world.coronel.pk}
    assert cf.iuie not in client.get("/expedientes/").content.decode()


def test_restricted_documents_and_roles(world: Any, client: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Obra", subject="x"))
    public = services.incorporate_upload(actor=world.dom, case_file=cf, name="a.pdf", data=pdf_bytes("a"),
                                         entry=services.EntryInput(title="Público", document_type=22))
    secret = services.incorporate_upload(actor=world.dom, case_file=cf, name="b.pdf", data=pdf_bytes("b"),
                                         entry=services.EntryInput(title="Informe reservado", document_type=22,
                                                                   access_level=AccessLevel.RESERVED))
    client.force_login(world.dideco)
    body = client.get(f"/expedientes/{cf.pk}/").content.decode()
    assert "Informe reservado" not in body and "Público" in body
    assert client.get(f"/expedientes/{cf.pk}/documentos/{public.pk}/").status_code == 200
    assert client.get(f"/expedientes/{cf.pk}/documentos/{secret.pk}/").status_code == 403
    assert "Informe reservado" not in client.get(f"/expedientes/{cf.pk}/indice.json").content.decode()
    # No action forms for a unit that is not responsible.
    assert "/incorporar/" not in body and "/cerrar/" not in body
    client.force_login(world.dom)
    assert client.get(f"/expedientes/{cf.pk}/documentos/{secret.pk}/").status_code == 200
    client.force_login(world.auditor)
    assert client.get(f"/expedientes/{cf.pk}/documentos/{secret.pk}/").status_code == 403
    log = client.get(f"/expedientes/{cf.pk}/accesos/").content.decode()
    assert world.dom.get_full_name() in log and world.dideco.get_full_name() in log
    accesses = AuditEvent.objects.filter(object_id=str(cf.pk), action="case_file.access")
    assert [(e.actor_id, e.data["position"]) for e in accesses] == [(world.dom.pk, secret.position)]
    client.force_login(world.citizen)
    assert client.get("/expedientes/").status_code == 403
    client.logout()
    assert client.get("/expedientes/").status_code == 302


def test_bad_input_is_answered_400_and_changes_nothing(world: Any, client: Any) -> None:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Obra", subject="x"))
    before = _state(cf)
    client.force_login(world.dom)
    assert client.post(f"/expedientes/{cf.pk}/incorporar/", {"title": "x", "document_type": 3}).status_code == 400
    assert client.post(f"/expedientes/{cf.pk}/suspender/", {"suspend-reason": "x"}).status_code == 400
    assert client.post(f"/expedientes/{cf.pk}/derivar/", {"unit": world.coronel_units["AJ"].pk}).status_code == 400
    assert client.post(f"/expedientes/{cf.pk}/incorporar-registro/", {"folio": "E-2026-999999"}).status_code == 400
    assert client.post("/expedientes/nuevo/", {"title": "", "subject": "", "access_level": 1,
                                               "party_actor_type": 1}).status_code == 400
    stale = client.post(f"/expedientes/{cf.pk}/suspender/", {"suspend-reason": "Espera informe",
                                                            "suspend-version": cf.version + 3})
    assert stale.status_code == 409
    assert _state(cf) == before
    assert CaseFile.objects.count() == 1
