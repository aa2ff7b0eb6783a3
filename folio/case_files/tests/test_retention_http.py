"""Retention schedule and final disposition over the pages (/expedientes/retencion/, /expedientes/disposicion/)
and the API (/api/v1/retention-rules/, /api/v1/dispositions/): status codes per role, the other municipality,
bad input, and nothing changed by a refused request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from folio.accounts.models import RoleCode
from folio.case_files import retention, services
from folio.case_files.models import CaseFile, CaseFileState, DispositionRecord, IndexEntry, RetentionRule
from folio.registry.models import DocumentType

RULE = {"series_code": "DOM-PE", "name": "Permisos de edificación", "active_years": 2, "semi_active_years": 3,
        "disposition": "eliminate", "legal_basis": "Decreto Alcaldicio 100/2026"}


@pytest.fixture
def other_admin(world: Any) -> Any:
    from folio.core import demo

    return demo.ensure_user(world.coronel, "admin.coronel", "Carla", "Ibáñez", "TI", [RoleCode.ADMIN], "Admin")


@pytest.fixture
def api() -> Callable[[Any], APIClient]:
    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def _due(world: Any, pdf: Callable[..., bytes], series: str = "DOM-PE", years_ago: int = 6) -> CaseFile:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title="Permiso de obra menor", subject="Permiso", series_code=series))
    services.incorporate_upload(actor=world.dom, case_file=cf, name="informe.pdf", data=pdf("Informe"),
                                entry=services.EntryInput(title="Informe", document_type=DocumentType.INFORME))
    services.case_file_close(actor=world.dom, case_file=cf)
    CaseFile.objects.filter(pk=cf.pk).update(closed_at=timezone.now() - dt.timedelta(days=365 * years_ago + 5))
    return CaseFile.objects.get(pk=cf.pk)


def _rule(world: Any, **changes: Any) -> RetentionRule:
    return retention.retention_rule_create(actor=world.admin, data=retention.RetentionRuleInput(**{**RULE, **changes}))


# --- pages ---------------------------------------------------------------------------------------------------

def test_schedule_page_per_role(world: Any, client: Any, other_admin: Any) -> None:
    rule = _rule(world)
    client.force_login(world.dom)
    page = client.get("/expedientes/retencion/")
    assert page.status_code == 200 and "DOM-PE" in page.content.decode()
    assert 'name="legal_basis"' not in page.content.decode()
    assert client.post("/expedientes/retencion/", {**RULE, "series_code": "X-1"}).status_code == 403
    assert client.get(f"/expedientes/retencion/{rule.pk}/").status_code == 403
    assert client.post("/expedientes/retencion/aplicar-fases/").status_code == 403
    client.force_login(world.admin)
    assert 'name="legal_basis"' in client.get("/expedientes/retencion/").content.decode()
    response = client.post("/expedientes/retencion/", {**RULE, "series_code": "DOM-AN", "disposition": "transfer"})
    assert response.status_code == 302
    assert client.post("/expedientes/retencion/", {**RULE, "series_code": "X 1"}).status_code == 400
    assert client.post("/expedientes/retencion/", RULE).status_code == 400  # the series already has a rule
    assert client.post("/expedientes/retencion/", {**RULE, "series_code": "X-2", "active_years": -3}).status_code == 400
    assert RetentionRule.objects.count() == 2
    assert client.get(f"/expedientes/retencion/{rule.pk}/").status_code == 200
    response = client.post(f"/expedientes/retencion/{rule.pk}/", {**RULE, "active_years": 4, "version": 1})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.active_years == 4
    assert client.post(f"/expedientes/retencion/{rule.pk}/", {**RULE, "version": 1}).status_code == 409
    assert client.post("/expedientes/retencion/aplicar-fases/").status_code == 302
    client.force_login(other_admin)
    assert client.get(f"/expedientes/retencion/{rule.pk}/").status_code == 404
    assert "<code>DOM-PE</code>" not in client.get("/expedientes/retencion/").content.decode()
    client.force_login(world.citizen)
    assert client.get("/expedientes/retencion/").status_code == 403


def test_disposition_pages_per_role(world: Any, client: Any, pdf_bytes: Callable[..., bytes],
                                    other_admin: Any) -> None:
    _rule(world)
    cf = _due(world, pdf_bytes)
    open_cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title="Abierto", subject="Abierto", series_code="DOM-PE"))
    for user in (world.dom, world.clerk, world.dom_head, world.ctd):
        client.force_login(user)
        assert client.get("/expedientes/disposicion/").status_code == 403
    client.force_login(world.auditor)
    page = client.get("/expedientes/disposicion/")
    assert page.status_code == 200 and cf.iuie in page.content.decode()
    assert 'name="act_number"' not in page.content.decode()
    form = {"action": "eliminate", "case_files": [cf.pk], "act_number": "D.A. 1234/2026", "reason": "Plazo cumplido"}
    assert client.post("/expedientes/disposicion/", form).status_code == 403
    client.force_login(other_admin)
    page = client.get("/expedientes/disposicion/")
    assert page.status_code == 200 and cf.iuie not in page.content.decode()
    assert client.post("/expedientes/disposicion/", form).status_code == 400  # not one of theirs
    assert not DispositionRecord.objects.exists()

    client.force_login(world.admin)
    assert client.get("/expedientes/disposicion/?action=burn").status_code == 400
    assert client.post("/expedientes/disposicion/", {**form, "case_files": []}).status_code == 400
    assert client.post("/expedientes/disposicion/", {**form, "case_files": [open_cf.pk]}).status_code == 409
    response = client.post("/expedientes/disposicion/", form)
    assert response.status_code == 302
    record = DispositionRecord.objects.get()
    assert response["Location"] == f"/expedientes/disposicion/{record.pk}/"
    assert client.post("/expedientes/disposicion/", form).status_code == 409  # approving twice
    detail = client.get(f"/expedientes/disposicion/{record.pk}/")
    assert detail.status_code == 200 and cf.iuie in detail.content.decode()
    csv = client.get(f"/expedientes/disposicion/{record.pk}/inventario.csv")
    assert csv.status_code == 200 and cf.iuie in csv.content.decode("utf-8-sig")
    assert "D.A. 1234/2026" in client.get(f"/expedientes/{cf.pk}/").content.decode()

    client.force_login(world.auditor)
    assert client.get(f"/expedientes/disposicion/{record.pk}/").status_code == 200
    assert client.post(f"/expedientes/disposicion/{record.pk}/ejecutar/", {}).status_code == 403
    client.force_login(other_admin)
    assert client.get(f"/expedientes/disposicion/{record.pk}/").status_code == 404
    assert client.post(f"/expedientes/disposicion/{record.pk}/ejecutar/", {}).status_code == 404
    client.force_login(world.dom)
    assert client.get(f"/expedientes/disposicion/{record.pk}/").status_code == 403
    assert DispositionRecord.objects.get().status == "approved"

    client.force_login(world.admin)
    assert client.post(f"/expedientes/disposicion/{record.pk}/anular/", {"cancel-reason": "no"}).status_code == 400
    assert client.post(f"/expedientes/disposicion/{record.pk}/ejecutar/", {"note": "Acta 3"}).status_code == 302
    assert client.post(f"/expedientes/disposicion/{record.pk}/ejecutar/", {"note": "Acta 3"}).status_code == 409
    cf.refresh_from_db()
    assert cf.state == CaseFileState.ELIMINATED
    entry = IndexEntry.objects.get(case_file=cf)
    gone = client.get(f"/expedientes/{cf.pk}/documentos/{entry.pk}/")
    assert gone.status_code == 410
    page = client.get(f"/expedientes/{cf.pk}/").content.decode()
    assert entry.sha256 in page or entry.sha256[:10] in page


# --- API -------------------------------------------------------------------------------------------------

def test_api_schedule(world: Any, api: Any, other_admin: Any) -> None:
    assert api(world.dom).post("/api/v1/retention-rules/", RULE, format="json").status_code == 403
    admin = api(world.admin)
    response = admin.post("/api/v1/retention-rules/", RULE, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert admin.post("/api/v1/retention-rules/", RULE, format="json").status_code == 400
    assert admin.post("/api/v1/retention-rules/", {**RULE, "series_code": "X", "disposition": "burn"},
                      format="json").status_code == 400
    listed = api(world.dom).get("/api/v1/retention-rules/")
    assert listed.status_code == 200 and [r["series_code"] for r in listed.json()] == ["DOM-PE"]
    response = admin.put(f"/api/v1/retention-rules/{pk}/", {**RULE, "semi_active_years": 10, "version": 1},
                         format="json")
    assert response.status_code == 200 and response.json()["semi_active_years"] == 10
    assert admin.put(f"/api/v1/retention-rules/{pk}/", {**RULE, "version": 1}, format="json").status_code == 409
    assert api(world.auditor).put(f"/api/v1/retention-rules/{pk}/", RULE, format="json").status_code == 403
    assert api(other_admin).get(f"/api/v1/retention-rules/{pk}/").status_code == 404
    assert api(other_admin).put(f"/api/v1/retention-rules/{pk}/", RULE, format="json").status_code == 404
    assert api(other_admin).get("/api/v1/retention-rules/").json() == []
    assert api(world.dom).post("/api/v1/retention-rules/apply-phases/").status_code == 403
    assert admin.post("/api/v1/retention-rules/apply-phases/").json() == {"archived": [], "historic": []}
    assert RetentionRule.objects.get().semi_active_years == 10


def test_api_disposition(world: Any, api: Any, pdf_bytes: Callable[..., bytes], other_admin: Any) -> None:
    _rule(world, disposition="transfer")
    cf = _due(world, pdf_bytes)
    admin = api(world.admin)
    due = admin.get("/api/v1/dispositions/due/")
    assert due.status_code == 200 and [r["iuie"] for r in due.json()["results"]] == [cf.iuie]
    assert due.json()["results"][0]["disposition"] == "transfer"
    assert api(world.auditor).get("/api/v1/dispositions/due/").json()["count"] == 1
    assert api(world.dom).get("/api/v1/dispositions/due/").status_code == 403
    assert admin.get("/api/v1/dispositions/due/?action=burn").status_code == 400
    assert api(other_admin).get("/api/v1/dispositions/due/").json()["count"] == 0
    body = {"action": "transfer", "case_file_ids": [cf.pk], "act_number": "D.A. 77/2026", "reason": "Transferencia"}
    assert api(world.auditor).post("/api/v1/dispositions/", body, format="json").status_code == 403
    assert admin.post("/api/v1/dispositions/", {**body, "action": "eliminate"}, format="json").status_code == 409
    assert admin.post("/api/v1/dispositions/", {**body, "case_file_ids": []}, format="json").status_code == 400
    response = admin.post("/api/v1/dispositions/", body, format="json")
    assert response.status_code == 201, response.json()
    record = response.json()
    assert record["status"] == "approved" and record["items"][0]["iuie"] == cf.iuie
    assert admin.post("/api/v1/dispositions/", body, format="json").status_code == 409
    pk = record["id"]
    assert api(world.auditor).get(f"/api/v1/dispositions/{pk}/").status_code == 200
    assert [r["id"] for r in api(world.auditor).get("/api/v1/dispositions/").json()] == [pk]
    assert api(world.dom).get(f"/api/v1/dispositions/{pk}/").status_code == 403
    assert api(other_admin).get(f"/api/v1/dispositions/{pk}/").status_code == 404
    assert api(other_admin).post(f"/api/v1/dispositions/{pk}/execute/", {}, format="json").status_code == 404
    assert api(world.auditor).post(f"/api/v1/dispositions/{pk}/execute/", {}, format="json").status_code == 403
    done = admin.post(f"/api/v1/dispositions/{pk}/execute/", {"note": "Recibo AN 12", "version": record["version"]},
                      format="json")
    assert done.status_code == 200 and done.json()["status"] == "executed"
    assert done.json()["items"][0]["state"] == "transferred"
    assert admin.post(f"/api/v1/dispositions/{pk}/execute/", {}, format="json").status_code == 409
    assert admin.post(f"/api/v1/dispositions/{pk}/cancel/", {"reason": "Error en el acta"},
                      format="json").status_code == 409
    detail = admin.get(f"/api/v1/case-files/{cf.pk}/").json()
    assert (detail["state"], detail["archival_phase"], detail["allowed_actions"]) == ("transferred", "historic", [])


def test_api_elimination_answers_gone(world: Any, api: Any, pdf_bytes: Callable[..., bytes],
                                      django_capture_on_commit_callbacks: Any) -> None:
    _rule(world)
    cf = _due(world, pdf_bytes)
    record = retention.disposition_approve(actor=world.admin, action="eliminate", case_file_ids=[cf.pk],
                                           act_number="D.A. 9/2026", reason="Plazo cumplido")
    with django_capture_on_commit_callbacks(execute=True):
        api(world.admin).post(f"/api/v1/dispositions/{record.pk}/execute/", {}, format="json")
    entry = IndexEntry.objects.get(case_file=cf)
    assert api(world.dom).get(f"/api/v1/case-files/{cf.pk}/entries/{entry.pk}/file/").status_code == 410
    index = api(world.dom).get(f"/api/v1/case-files/{cf.pk}/index/")
    assert index.status_code == 200 and index.json()["entries"][0]["sha256"] == entry.sha256
