"""The pages: the citizen's start form and /mis-tramites/ (own applications only, 404 for anyone else's), the
staff inbox and detail with the stage actions (roles, other unit, other municipality), the counter filing, bad
input answered with 4xx and Spanish messages, and pinned query counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from folio.applications import services
from folio.applications.models import Application, ApplicationState, ReportRequest
from folio.applications.tests.apphelpers import (
    answers,
    citizen,
    make_definition,
    other_citizen,
    png_bytes,
    submit,
    uploads,
)
from folio.files.models import StoredFile

START = "/tramites/lota/permiso-obra-menor/iniciar/"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(pdf_bytes: Any, action: str, **overrides: Any) -> dict[str, Any]:
    return {**answers(**overrides), **uploads(pdf_bytes), "accion": action}


# --- citizen ---------------------------------------------------------------------------------------------------

def test_start_sends_anonymous_citizens_to_claveunica_and_staff_to_the_counter(world: Any) -> None:
    definition = make_definition(world)
    response = Client().get(START)
    assert response.status_code == 302
    assert response["Location"].startswith("/claveunica/ingresar/?municipalidad=lota&next=")
    response = _client(world.clerk).get(START)
    assert response.status_code == 302 and response["Location"] == f"/solicitudes/presencial/{definition.pk}/"
    assert _client(world.other_clerk).get(START)["Location"] == "/"
    assert _client(world.auditor).get(START)["Location"] == "/"  # may not file at the counter
    assert _client(world.citizen).get(START).status_code == 403  # no RUN
    assert Client().get("/tramites/lota/no-existe/iniciar/").status_code == 404
    definition.state = "retired"
    definition.save()
    assert _client(citizen(world)).get(START).status_code == 404


def test_citizen_saves_a_draft_then_submits_from_the_page(world: Any, pdf_bytes: Any) -> None:
    make_definition(world)
    client = _client(citizen(world))
    page = client.get(START)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Permiso de obra menor" in body and 'name="plano"' in body and 'name="accion" value="guardar"' in body
    response = client.post(START, {"nombre": "Ana", "accion": "guardar", **uploads(pdf_bytes)})
    assert response.status_code == 302 and response["Location"] == START
    draft = Application.objects.get()
    assert draft.state == ApplicationState.DRAFT
    page = client.get(START).content.decode()
    assert 'value="Ana"' in page and "plano.pdf" in page
    mine = client.get("/mis-tramites/").content.decode()
    assert "Permiso de obra menor" in mine and START in mine
    draft_page = client.get(f"/mis-tramites/{draft.pk}/").content.decode()
    assert "Continuar el borrador" in draft_page and "Descartar el borrador" in draft_page
    response = client.post(START, {**answers(), "accion": "enviar"})  # the draft's plano counts
    assert response.status_code == 302
    app = Application.objects.get()
    assert response["Location"] == f"/mis-tramites/{app.pk}/"
    assert app.state == ApplicationState.SUBMITTED
    detail = client.get(response["Location"]).content.decode()
    assert app.number in detail and app.certificate.code in detail and app.case_file.iuie in detail


@pytest.mark.parametrize(("overrides", "files", "message"), [
    ({"rut": "12.345.678-9"}, {}, "dígito verificador"),
    ({"fecha_obra": "2026-13-45"}, {}, "fecha válida"),
    ({}, {"plano": ""}, "Adjunte este archivo"),
    ({}, {"plano": SimpleUploadedFile("plano.pdf", png_bytes(), "application/pdf")}, "se revisa su contenido"),
    ({}, {"plano": SimpleUploadedFile("plano.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10))}, "1 MB"),
])
def test_bad_input_is_a_400_in_spanish_and_nothing_is_saved(world: Any, pdf_bytes: Any, overrides: Any,
                                                            files: Any, message: str) -> None:
    make_definition(world)
    client = _client(citizen(world))
    data = {**_post(pdf_bytes, "enviar", **overrides), **files}
    data = {k: v for k, v in data.items() if v != ""}
    response = client.post(START, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Application.objects.exists() and not StoredFile.objects.exists()


def test_an_unknown_action_is_a_400(world: Any, pdf_bytes: Any) -> None:
    make_definition(world)
    assert _client(citizen(world)).post(START, _post(pdf_bytes, "borrar")).status_code == 400


def test_another_citizens_application_is_404_everywhere(world: Any, pdf_bytes: Any) -> None:
    app = submit(world, make_definition(world), pdf_bytes)
    entry = app.case_file.entries.order_by("position").first()
    owner, stranger = _client(app.applicant), _client(other_citizen(world))
    urls = [f"/mis-tramites/{app.pk}/", f"/mis-tramites/{app.pk}/certificado.pdf",
            f"/mis-tramites/{app.pk}/documentos/{entry.pk}/"]
    for url in urls:
        assert owner.get(url).status_code == 200, url
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/mis-tramites/{app.pk}/desistir/", {"confirm": "on"}).status_code == 404
    assert stranger.post(f"/mis-tramites/{app.pk}/subsanar/", {"text": "hola hola"}).status_code == 404
    assert owner.get("/mis-tramites/999999/").status_code == 404
    # Staff have no citizen portal; anonymous users go to sign in.
    assert _client(world.dom).get("/mis-tramites/")["Location"] == "/solicitudes/"
    assert Client().get("/mis-tramites/")["Location"].startswith("/claveunica/ingresar/")


def test_the_applicant_cannot_download_internal_reports(world: Any, pdf_bytes: Any) -> None:
    app = submit(world, make_definition(world), pdf_bytes)
    report = services.application_request_report(actor=world.dom, application=app, unit_id=world.units["AJ"].pk,
                                                 question="¿Procede según el plan regulador comunal?")
    report = services.application_answer_report(actor=world.legal, report=report,
                                                text="Procede según el plan regulador vigente.")
    owner = _client(app.applicant)
    assert owner.get(f"/mis-tramites/{app.pk}/documentos/{report.answer_entry_id}/").status_code == 404
    assert "Informe de" not in owner.get(f"/mis-tramites/{app.pk}/").content.decode()


def test_correction_answer_and_withdrawal_from_the_portal(world: Any, pdf_bytes: Any) -> None:
    app = submit(world, make_definition(world), pdf_bytes)
    services.application_request_correction(actor=world.dom, application=app,
                                            message="Falta el plano de emplazamiento firmado.")
    owner = _client(app.applicant)
    page = owner.get(f"/mis-tramites/{app.pk}/").content.decode()
    assert "Falta el plano de emplazamiento firmado." in page
    mine = owner.get("/mis-tramites/").content.decode()
    assert "table-warning" in mine
    assert owner.post(f"/mis-tramites/{app.pk}/subsanar/", {"text": "ok"}).status_code == 400
    response = owner.post(f"/mis-tramites/{app.pk}/subsanar/", {
        "text": "Adjunto el plano firmado.",
        "attachments": [SimpleUploadedFile("emplazamiento.pdf", pdf_bytes("Emplazamiento"), "application/pdf")]})
    assert response.status_code == 302
    assert Application.objects.get(pk=app.pk).state == ApplicationState.IN_PROGRESS
    assert owner.post(f"/mis-tramites/{app.pk}/desistir/", {}).status_code == 400  # not confirmed
    assert owner.post(f"/mis-tramites/{app.pk}/desistir/", {"confirm": "on"}).status_code == 302
    assert Application.objects.get(pk=app.pk).state == ApplicationState.WITHDRAWN
    assert owner.post(f"/mis-tramites/{app.pk}/desistir/", {"confirm": "on"}).status_code == 409


def _count(request: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = request()
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def test_mis_tramites_runs_a_fixed_number_of_queries(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    coronel = make_definition(world, organization=world.coronel)
    client = _client(citizen(world))
    submit(world, definition, pdf_bytes)
    few = _count(lambda: client.get("/mis-tramites/"))
    for i in range(6):
        app = submit(world, coronel if i % 2 else definition, pdf_bytes)
        if i % 3 == 0:
            services.application_request_correction(actor=world.dom if not i % 2 else world.other_dom,
                                                    application=app, message="Falta la firma en el plano.")
    services.application_save_draft(actor=client.session and world.citizen, definition=definition, data={},
                                    files={})
    many = _count(lambda: client.get("/mis-tramites/"))
    assert few == many <= 4


# --- staff -----------------------------------------------------------------------------------------------------

def test_inbox_scope_by_role_unit_and_organization(world: Any, pdf_bytes: Any) -> None:
    app = submit(world, make_definition(world), pdf_bytes)
    other = submit(world, make_definition(world, organization=world.coronel), pdf_bytes)
    for user in (world.dom, world.dom_head, world.clerk, world.admin, world.auditor, world.ctd):
        body = _client(user).get("/solicitudes/").content.decode()
        assert app.number in body, user
    assert app.number not in _client(world.legal).get("/solicitudes/").content.decode()
    coronel = _client(world.other_dom).get("/solicitudes/").content.decode()
    assert other.number in coronel and f"/solicitudes/{app.pk}/" not in coronel
    assert _client(world.signer).get("/solicitudes/").status_code == 403
    assert _client(citizen(world)).get("/solicitudes/").status_code == 403
    assert Client().get("/solicitudes/").status_code == 302
    # Filters; a bad one is a 400.
    dom = _client(world.dom)
    assert app.number in dom.get("/solicitudes/", {"estado": "submitted"}).content.decode()
    assert app.number not in dom.get("/solicitudes/", {"estado": "approved"}).content.decode()
    assert app.number not in dom.get("/solicitudes/", {"vencidas": "on"}).content.decode()
    Application.objects.filter(pk=app.pk).update(due_date="2020-01-02")
    overdue = dom.get("/solicitudes/", {"vencidas": "on"}).content.decode()
    assert app.number in overdue and "Vencid" in overdue
    assert dom.get("/solicitudes/", {"estado": "nope"}).status_code == 400
    assert dom.get("/solicitudes/", {"tramite": "abc"}).status_code == 400


def test_detail_roles(world: Any, pdf_bytes: Any) -> None:
    app = submit(world, make_definition(world), pdf_bytes)
    url = f"/solicitudes/{app.pk}/"
    for user in (world.dom, world.clerk, world.admin, world.auditor):
        assert _client(user).get(url).status_code == 200, user
    assert 'action="/solicitudes/' not in _client(world.auditor).get(url).content.decode()
    assert "/aprobar/" in _client(world.dom).get(url).content.decode()
    assert _client(world.legal).get(url).status_code == 404  # another unit
    assert _client(world.other_clerk).get(url).status_code == 404  # another municipality
    assert _client(world.signer).get(url).status_code == 403
    assert _client(citizen(world)).get(url).status_code == 403
    # A unit asked for a report sees it and answers from its inbox.
    report = services.application_request_report(actor=world.dom, application=app, unit_id=world.units["AJ"].pk,
                                                 question="¿Procede según el plan regulador comunal?")
    legal = _client(world.legal)
    assert legal.get(url).status_code == 200
    assert f"/solicitudes/informes/{report.pk}/" in legal.get("/solicitudes/").content.decode()
    assert legal.post(f"/solicitudes/informes/{report.pk}/", {"text": "corto"}).status_code == 400
    assert _client(world.dideco).get(f"/solicitudes/informes/{report.pk}/").status_code == 404
    assert _client(world.dom).get(f"/solicitudes/informes/{report.pk}/").status_code == 403
    response = legal.post(f"/solicitudes/informes/{report.pk}/", {
        "text": "Procede según el plan regulador.",
        "file": SimpleUploadedFile("informe.pdf", pdf_bytes("Informe jurídico"), "application/pdf")})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "answered"
    # Its file is readable to the unit that wrote it through the application, though the expediente is restricted.
    assert legal.get(f"/solicitudes/{app.pk}/documentos/{report.file_entry_id}/").status_code == 200
    assert _client(world.other_clerk).get(f"/solicitudes/{app.pk}/documentos/{report.file_entry_id}/"
                                          ).status_code == 404


def test_stage_actions_through_the_page(world: Any, pdf_bytes: Any) -> None:
    app = submit(world, make_definition(world), pdf_bytes)
    dom, legal = _client(world.dom), _client(world.legal)
    base = f"/solicitudes/{app.pk}/"
    assert _client(world.auditor).post(base + "aprobar/", {"approve-version": app.version}).status_code == 403
    assert legal.post(base + "aprobar/", {}).status_code == 404
    assert dom.post(base + "rechazar/", {"reject-reasons": "corto"}).status_code == 400
    assert dom.post(base + "resolver/", {"resolve-outcome": "approved", "resolve-text": "Se aprueba todo"}
                    ).status_code == 409  # not an action of this stage
    assert dom.post(base + "aprobar/", {"approve-version": app.version - 1}).status_code == 409
    assert dom.post(base + "nada/", {}).status_code == 404
    assert dom.get(base + "aprobar/").status_code == 405
    response = dom.post(base + "informe/", {"request_report-unit": world.units["DIDECO"].pk, "request_report-days": 10,
                                            "request_report-question": "Informe social del grupo familiar.",
                                            "request_report-version": app.version})
    assert response.status_code == 302 and ReportRequest.objects.count() == 1
    app.refresh_from_db()
    response = dom.post(base + "aprobar/", {"approve-version": app.version})
    assert response.status_code == 409 and "pendiente" in response.content.decode()
    report = ReportRequest.objects.get()
    assert dom.post(f"/solicitudes/informes/{report.pk}/cancelar/").status_code == 302
    app.refresh_from_db()
    assert dom.post(base + "aprobar/", {"approve-version": app.version}).status_code == 302
    app.refresh_from_db()
    assert app.stage_index == 1 and app.unit == world.units["AJ"]
    assert dom.get(base).status_code == 404  # it left DOM
    response = legal.post(base + "resolver/", {
        "resolve-outcome": "approved", "resolve-text": "Se otorga el permiso solicitado.",
        "resolve-version": app.version,
        "resolve-signed_pdf": SimpleUploadedFile("res.pdf", pdf_bytes("Resolución"), "application/pdf")})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED
    page = _client(app.applicant).get(f"/mis-tramites/{app.pk}/").content.decode()
    assert "Se otorga el permiso solicitado." in page


def test_counter_filing(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    clerk = _client(world.clerk)
    assert "Permiso de obra menor" in clerk.get("/solicitudes/presencial/").content.decode()
    url = f"/solicitudes/presencial/{definition.pk}/"
    assert clerk.get(url).status_code == 200
    citizen_data = {"solicitante-run": "88.888.888-8", "solicitante-first_name": "Bruno",
                    "solicitante-last_name": "Díaz", "solicitante-email": "bruno@example.cl",
                    "solicitante-channel": "presencial"}
    bad = clerk.post(url, {**citizen_data, "solicitante-run": "88.888.888-7", **answers(), **uploads(pdf_bytes)})
    assert bad.status_code == 400 and "dígito verificador" in bad.content.decode()
    assert not Application.objects.exists() and not StoredFile.objects.exists()
    response = clerk.post(url, {**citizen_data, **answers(rut="88.888.888-8"), **uploads(pdf_bytes)})
    assert response.status_code == 302
    app = Application.objects.get()
    assert app.channel == "presencial" and app.filed_by == world.clerk
    assert (app.applicant.run_number, app.applicant.organization_id) == (88888888, None)
    assert app.applicant.username == "run-88888888"
    assert clerk.get(f"/solicitudes/{app.pk}/certificado.pdf").status_code == 200
    # The same citizen filing again is the same account.
    clerk.post(url, {**citizen_data, "solicitante-channel": "telefonico", **answers(), **uploads(pdf_bytes)})
    assert Application.objects.filter(applicant=app.applicant).count() == 2
    # The unit of the first stage may file; other units may not; other municipalities get 404.
    assert _client(world.dom).get(url).status_code == 200
    assert _client(world.dideco).get(url).status_code == 403
    assert _client(world.other_clerk).get(url).status_code == 404


def test_inbox_and_detail_run_a_fixed_number_of_queries(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    clerk, dom = _client(world.clerk), _client(world.dom)
    apps = [submit(world, definition, pdf_bytes) for _ in range(2)]
    services.application_request_report(actor=world.dom, application=apps[0], unit_id=world.units["AJ"].pk,
                                        question="¿Procede según el plan regulador comunal?")
    counts = {"clerk": _count(lambda: clerk.get("/solicitudes/")), "dom": _count(lambda: dom.get("/solicitudes/")),
              "api": 0}
    for i in range(8):
        app = submit(world, definition, pdf_bytes)
        if i % 3 == 0:
            services.application_request_correction(actor=world.dom, application=app,
                                                    message="Falta la firma en el plano.")
    assert _count(lambda: clerk.get("/solicitudes/")) == counts["clerk"] <= 9
    assert _count(lambda: dom.get("/solicitudes/")) == counts["dom"] <= 9


def test_the_inbox_link_shows_only_to_those_who_may_use_it(world: Any) -> None:
    def nav(user: Any) -> str:
        client = Client()
        client.force_login(user)
        return client.get("/actos/").content.decode()

    assert 'href="/solicitudes/"' in nav(world.dom)
    assert 'href="/solicitudes/"' not in nav(world.signer)  # a signer only: the inbox would answer 403
    client = Client()
    client.force_login(world.signer)
    assert client.get("/solicitudes/").status_code == 403
