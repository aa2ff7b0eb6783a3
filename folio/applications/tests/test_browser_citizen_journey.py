"""Issue 4, tried as a new user would, in headless Chromium against the live server.

A citizen finds "Solicitud de acceso a información pública" in the catalogue, starts it online, signs in through
the ClaveÚnica sandbox as 44.444.444-4, files the form, downloads the filing certificate and verifies it at
/verificar/. The Secretaría Municipal official asks for a correction, the citizen answers it (text and a PDF), the
official resolves, and the citizen reads the resolution in /mis-tramites/ but gets 404 for another citizen's
application and certificate. Finally the CTD imports an inventory spreadsheet (one row refused, with its reason)
and the plan's figures move.

Each person has a browser context of their own (cookies). The procedure comes from ``folio.procedures.demo`` (its
entry only) and the form from ``folio.applications.demo_definitions``; the official is the demo's Secretario
Municipal. Set-up shared with ``folio/registry/tests/test_browser_journey.py`` (Chromium binary and flags,
``Browser``, accessibility checks); the ClaveÚnica settings are those of ``folio/claveunica/tests/conftest.py``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from folio.registry.tests.test_browser_journey import CHROMIUM, CHROMIUM_ARGS, Browser, _accessibility_basics

pytestmark = pytest.mark.browser

PROCEDURE_SLUG = "acceso-informacion-publica"
PROCEDURE_NAME = "Solicitud de acceso a información pública"
START_PATH = f"/tramites/lota/{PROCEDURE_SLUG}/iniciar/"
CITIZEN_NAME = "María Carmen De los Ángeles"  # the sandbox's name for 44.444.444-4


@pytest.fixture
def open_browser(transactional_db: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch, settings: Any,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Browser]]:
    """A factory of browsers, each in a context of its own (one per person), all closed at the end."""
    if CHROMIUM is None:
        pytest.skip("no chromium binary (scripts/system-deps.sh installs it)")
    from django.db import connections

    settings.FOLIO_SANDBOX_DIR = tmp_path_factory.mktemp("claveunica-sandbox")
    settings.FOLIO_SANDBOXES = True
    settings.FOLIO_ENV = "test"
    settings.FOLIO_CLAVEUNICA_TIMEOUT = 5
    # Playwright's sync API runs an event loop in this thread; the test still uses the ORM synchronously.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts: list[Any] = []

        def new_browser() -> Browser:
            context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="es-CL",
                                           accept_downloads=True)
            context.set_default_timeout(15_000)
            contexts.append(context)
            return Browser(context.new_page(), live_server.url)

        try:
            yield new_browser
        finally:
            for context in contexts:
                context.close()
            chromium.close()
            # The ORM calls made while Playwright's loop ran used a connection of their own context;
            # close it here, or PostgreSQL refuses to drop the test database at the end of the session.
            connections.close_all()


def _publish_procedure_and_form(world: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The demo's "acceso a información pública" only (not the 28 procedures of the full demo), published in
    the catalogue, with the demo's online form (one stage, Secretaría Municipal, 20 working days)."""
    from folio.applications import demo_definitions
    from folio.applications.models import FormDefinition
    from folio.procedures import demo as procedures_demo

    entry = [p for p in procedures_demo.PROCEDURES if p[0] == PROCEDURE_SLUG]
    monkeypatch.setattr(procedures_demo, "PROCEDURES", entry)
    (procedure,) = procedures_demo.load(world.lota)
    assert procedure.is_published and procedure.unit is not None and procedure.unit.code == "SECMU"
    published = demo_definitions.load(world.lota, world.admin)
    assert [d.procedure_id for d in published] == [procedure.pk]
    assert FormDefinition.objects.get(procedure=procedure, state="published").schema["stages"][0]["unit"] == "SECMU"
    return procedure


def _secretary(world: Any) -> Any:
    """The demo's Secretario Municipal: an official of the unit of the form's only stage."""
    from folio.accounts.models import RoleCode
    from folio.core import demo

    return demo.ensure_user(world.lota, "secmun", "Sergio", "Melo Contreras", "SECMU",
                            [RoleCode.SIGNER, RoleCode.OFFICIAL], "Secretario Municipal")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def _inventory_xlsx(path: Path) -> Path:
    """The Nómina layout (docs/cpat-layout.md): three new procedures and a row with an unknown unit."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Nómina"
    sheet.append(["Código", "Nombre", "Descripción", "Tipo", "Unidad responsable", "Tema",
                  "Nivel de digitalización", "Autenticación de usuarios", "Requiere identidad de persona natural",
                  "Publicado en el catálogo"])
    sheet.append(["PA-MUN-8106-0101", "Certificado de residencia", "Acredita el domicilio en la comuna.",
                  "Función común", "SECMU", "Certificados", 4, "ClaveÚnica", "Sí", "Sí"])
    sheet.append(["PA-MUN-8106-0102", "Permiso de poda de árboles", "Autoriza podar árboles en la vía pública.",
                  "Función específica", "DIMAO", "Aseo, ornato y medio ambiente", 2, "Sin autenticación", "No",
                  "No"])
    sheet.append(["PA-MUN-8106-0103", "Inscripción en talleres comunitarios", "", "Otra tramitación", "DIDECO",
                  "", 1, "Mecanismo propio", "Sí", "No"])
    sheet.append(["PA-MUN-8106-0104", "Trámite de una unidad que no existe", "", "Función común",
                  "Unidad Inexistente", "", 3, "", "No", "No"])
    workbook.save(path)
    return path


def _figure(page: Any, heading: str) -> str:
    """The big number of one card of /cpat/indicadores/ (the region named by its heading)."""
    return page.get_by_role("region", name=heading).locator(".display-6").inner_text().strip()


def _expect_clean(*browsers: Browser, allowed_404: tuple[str, ...] = ()) -> None:
    for b in browsers:
        errors = [e for e in b.console_errors
                  if not ("404" in e and any(path in e for path in allowed_404))]
        assert errors == [], errors
        assert b.failed_requests == [], b.failed_requests
        assert b.bad_responses == [], b.bad_responses


def test_citizen_applies_online_and_the_ctd_sees_the_figures_move(
        open_browser: Callable[[], Browser], world: Any, live_server: Any, pdf_bytes: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect

    from folio.accounts.models import User
    from folio.applications import services
    from folio.applications.models import Application, ApplicationState
    from folio.claveunica import services as cu_services

    procedure = _publish_procedure_and_form(world, monkeypatch)
    secretary = _secretary(world)
    cu_services.claveunica_sandbox_enable(organization=world.lota, base_url=live_server.url, actor=world.admin)

    # 1. The citizen: catalogue → procedure → "Iniciar en línea" → ClaveÚnica sandbox → back at the form.
    citizen = open_browser()
    page = citizen.page
    citizen.goto("/tramites/")
    _accessibility_basics(page)
    page.get_by_label("¿Qué necesita hacer?").fill("información pública")
    with page.expect_navigation():
        page.get_by_role("button", name="Buscar").click()
    with page.expect_navigation():
        page.get_by_role("link", name=PROCEDURE_NAME).click()
    assert page.url.endswith(f"/tramites/lota/{PROCEDURE_SLUG}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(PROCEDURE_NAME)
    with page.expect_navigation(url="**/sandbox/claveunica/openid/authorize/**"):
        page.get_by_role("link", name="Iniciar en línea").click()
    expect(page.get_by_role("heading", name="Iniciar sesión con ClaveÚnica")).to_be_visible()
    citizen.screenshot("citizen-1-claveunica")
    page.get_by_role("textbox", name="RUN").fill("44.444.444-4")
    page.get_by_role("textbox", name="ClaveÚnica").fill("testing")
    with page.expect_navigation(url=f"**{START_PATH}"):
        page.get_by_role("button", name="Continuar").click()
    person = User.objects.get(run_number=44444444, organization__isnull=True)
    expect(page.get_by_role("navigation").first).to_contain_text(CITIZEN_NAME)
    expect(page.get_by_role("heading", level=1)).to_have_text(PROCEDURE_NAME)
    _accessibility_basics(page)

    # ... fills the form by its labels and submits it.
    page.get_by_label("Nombre y apellidos").fill("María Carmen De los Ángeles Del Río González")
    page.get_by_label("RUN/RUT").fill("44.444.444-4")
    page.get_by_role("textbox", name="Correo electrónico").fill("maria.delrio@example.cl")
    page.get_by_role("textbox", name="Dirección").fill("Pedro Aguirre Cerda 150, Lota")
    page.get_by_label("Descripción clara de la información solicitada").fill(
        "Copia de los decretos alcaldicios sobre el alumbrado público de Lota dictados en 2025.")
    page.get_by_role("group", name="Formato preferido de entrega").get_by_label("Documento electrónico (PDF)").check()
    page.get_by_role("group", name="Medio de notificación").get_by_label("Correo electrónico").check()
    page.get_by_label("Declaro que los datos y documentos que presento son verídicos.").check()
    citizen.screenshot("citizen-2-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Enviar solicitud").click()
    app = Application.objects.get(applicant=person, procedure=procedure)
    assert app.state == ApplicationState.SUBMITTED and app.number and app.case_file is not None
    assert page.url.endswith(f"/mis-tramites/{app.pk}/"), page.inner_text("main")
    expect(page.get_by_text(f"Solicitud presentada con el número {app.number}")).to_be_visible()
    summary = page.get_by_role("region", name="Resumen")
    expect(summary).to_contain_text(app.number)
    expect(summary).to_contain_text(app.case_file.iuie)
    expect(summary).to_contain_text("maria.delrio@example.cl")
    _accessibility_basics(page)
    citizen.screenshot("citizen-3-submitted")

    # ... downloads the filing certificate: a PDF with the number and the verification code shown on the page.
    code = summary.locator("code").inner_text().strip()
    assert app.certificate is not None and code == app.certificate.code
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Descargar el certificado de presentación (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"certificado-{app.number}.pdf"
    certificate = Path(download.path()).read_bytes()
    assert certificate.startswith(b"%PDF-")
    text = _pdf_text(certificate)
    assert app.number in text and app.case_file.iuie in text, text
    match = re.search(r"Código de verificación: ([A-Z0-9-]+)", text)
    assert match is not None and match.group(1) == code, text

    # ... and verifies it at /verificar/ (typed without dashes, in lower case) and at /verificar/<code>.
    citizen.goto("/verificar/")
    page.get_by_label("Código de verificación").fill(code.replace("-", "").lower())
    with page.expect_navigation(url=f"**/verificar/{code}"):
        page.get_by_role("button", name="Verificar", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Documento válido.")
    main = page.locator("main")
    expect(main).to_contain_text(f"Certificado de presentación de la solicitud {app.number}")
    expect(main).to_contain_text(app.case_file.iuie)
    expect(main).not_to_contain_text("44.444.444-4")  # the public page masks the RUN
    _accessibility_basics(page)
    response = citizen.goto(f"/verificar/{code}")
    assert response is not None and response.status == 200
    expect(page.get_by_role("status")).to_contain_text("Documento válido.")

    # 2. The responsible official (Secretaría Municipal) asks for a correction.
    official = open_browser()
    staff_page = official.page
    official.login(secretary.username, world.password)
    official.goto("/solicitudes/")
    _accessibility_basics(staff_page)
    with staff_page.expect_navigation():
        staff_page.get_by_role("link", name=app.number).click()
    assert staff_page.url.endswith(f"/solicitudes/{app.pk}/")
    expect(staff_page.get_by_role("heading", level=1)).to_contain_text(app.number)
    _accessibility_basics(staff_page)
    correction = staff_page.locator("details", has_text="Pedir una corrección al solicitante")
    correction.locator("summary").click()
    correction.get_by_label("¿Qué debe subsanar el solicitante?").fill(
        "Indique el período exacto de los decretos (mes de inicio y de término).")
    with staff_page.expect_navigation():
        correction.get_by_role("button", name="Confirmar").click()
    expect(staff_page.get_by_text("Subsanación solicitada; se notificó al solicitante.")).to_be_visible()
    app.refresh_from_db()
    assert app.state == ApplicationState.CORRECTION_REQUESTED
    official.screenshot("official-1-correction")

    # 3. The citizen sees it in /mis-tramites/ and answers it with a text and a PDF.
    citizen.goto("/mis-tramites/")
    _accessibility_basics(page)
    pending = page.get_by_role("status").filter(has_text="Debe subsanar estas solicitudes")
    expect(pending).to_contain_text(app.number)
    with page.expect_navigation():
        pending.get_by_role("link", name=re.compile(re.escape(app.number))).click()
    _accessibility_basics(page)
    asked = page.get_by_role("region", name="La municipalidad le pide subsanar su solicitud")
    expect(asked).to_contain_text("Indique el período exacto de los decretos")
    answer_pdf = tmp_path / "periodo-decretos.pdf"
    answer_pdf.write_bytes(pdf_bytes("Periodo solicitado: enero a diciembre de 2025"))
    asked.get_by_label("¿Qué subsanó?").fill("El período es de enero a diciembre de 2025; adjunto el detalle.")
    asked.get_by_label("Nuevos documentos (opcional)").set_input_files(answer_pdf)
    with page.expect_navigation():
        asked.get_by_role("button", name="Enviar la subsanación").click()
    assert page.url.endswith(f"/mis-tramites/{app.pk}/"), page.inner_text("main")
    app.refresh_from_db()
    assert app.state == ApplicationState.IN_PROGRESS
    expect(page.get_by_role("heading", level=1)).to_contain_text("En trámite")
    expect(page.get_by_role("region", name="Historial")).to_contain_text("envió su subsanación")
    expect(page.get_by_role("region", name="Documentos")).to_contain_text("periodo-decretos.pdf")
    citizen.screenshot("citizen-4-corrected")

    # 4. The official resolves: approved, with the resolution's text.
    staff_page.reload()
    expect(staff_page.get_by_role("region", name="Requerimientos de subsanación")).to_contain_text("enero a diciembre")
    resolve = staff_page.locator("details", has_text="Resolver")
    resolve.locator("summary").click()
    resolve.get_by_label("Aprobar la solicitud").check()
    resolve.get_by_role("textbox", name="Resolución").fill(
        "Se accede a lo solicitado: se entregan los decretos alcaldicios de enero a diciembre de 2025.")
    with staff_page.expect_navigation():
        resolve.get_by_role("button", name="Confirmar").click()
    expect(staff_page.get_by_text("La solicitud fue resuelta y se notificó al solicitante.")).to_be_visible()
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED and app.resolution_entry_id
    official.screenshot("official-2-resolved")

    # 5. The citizen reads the resolution; another citizen's application does not exist for her.
    citizen.goto("/mis-tramites/")
    row = page.get_by_role("row").filter(has_text=app.number)
    expect(row).to_contain_text("Aprobada")
    with page.expect_navigation():
        row.get_by_role("link", name=app.number).click()
    resolution = page.get_by_role("region", name="Resolución")
    expect(resolution).to_contain_text("Se accede a lo solicitado")
    with page.expect_download() as resolution_download:
        resolution.get_by_role("link", name="Descargar la resolución").click()
    assert Path(resolution_download.value.path()).read_bytes().startswith(b"%PDF-")
    citizen.screenshot("citizen-5-resolved")

    other = User.objects.create(username="run-55555555", run_number=55555555, run_dv="5", first_name="Juan Pablo",
                                last_name="Soto Pérez", email="juan.soto@example.cl")
    others = services.application_submit(actor=other, definition=app.definition, data={
        "nombre_solicitante": "Juan Pablo Soto Pérez", "email": "juan.soto@example.cl",
        "direccion": "Calle Matta 123, Lota", "informacion_solicitada": "Actas del concejo municipal de 2025.",
        "formato_preferido": "Documento electrónico (PDF)", "medio_notificacion": "Correo electrónico",
        "declaracion": "on"}, files={})
    forbidden = (f"/mis-tramites/{others.pk}/", f"/mis-tramites/{others.pk}/certificado.pdf")
    for path in forbidden:
        response = citizen.goto(path)
        assert response is not None and response.status == 404, (path, response and response.status)
        expect(page.locator("main")).not_to_contain_text(others.number)
    citizen.goto("/mis-tramites/")
    expect(page.locator("main")).not_to_contain_text(others.number)

    # 6. The CTD: the plan's figures, the import (checked first, then applied), the figures again.
    ctd = open_browser()
    ctd_page = ctd.page
    ctd.login(world.ctd.username, world.password)
    ctd.goto("/cpat/indicadores/")
    _accessibility_basics(ctd_page)
    # The demo's settings expect 45 procedures; the inventory holds one, at level 4.
    assert _figure(ctd_page, "Trámites identificados") == "2,2 %"
    expect(ctd_page.get_by_role("region", name="Trámites identificados")).to_contain_text(
        "1 en el inventario de 45 esperados")
    assert _figure(ctd_page, "Nivel de digitalización 4 o 5") == "100,0 %"
    ctd.goto("/cpat/importar/")
    _accessibility_basics(ctd_page)
    spreadsheet = _inventory_xlsx(tmp_path / "nomina-lota.xlsx")
    ctd_page.get_by_label("Planilla (.xlsx o .csv)").set_input_files(spreadsheet)
    ctd_page.get_by_label("Solo revisar el archivo, sin cambiar nada").check()
    with ctd_page.expect_navigation():
        ctd_page.get_by_role("button", name="Importar").click()
    report = ctd_page.get_by_role("region", name="Revisión del archivo (no se guardó nada)")
    expect(report.get_by_role("status")).to_contain_text("3 creados")
    expect(report.get_by_role("status")).to_contain_text("1 rechazado")
    refused = report.get_by_role("row").filter(has_text="Trámite de una unidad que no existe")
    expect(refused).to_contain_text("rechazado")
    expect(refused).to_contain_text("Unidad desconocida: Unidad Inexistente.")
    assert world.lota.procedures.count() == 1  # only checked
    ctd_page.get_by_label("Planilla (.xlsx o .csv)").set_input_files(spreadsheet)
    with ctd_page.expect_navigation():
        ctd_page.get_by_role("button", name="Importar").click()
    report = ctd_page.get_by_role("region", name="Informe de la importación")
    expect(report.get_by_role("status")).to_contain_text("nomina-lota.xlsx: 3 creados")
    expect(report.get_by_role("row").filter(has_text="Unidad Inexistente")).to_contain_text("Unidad desconocida")
    expect(report.get_by_role("link", name="Certificado de residencia")).to_be_visible()
    _accessibility_basics(ctd_page)
    ctd.screenshot("ctd-1-import")
    assert world.lota.procedures.count() == 4
    ctd.goto("/cpat/indicadores/")
    assert _figure(ctd_page, "Trámites identificados") == "8,9 %"  # 4 of 45
    expect(ctd_page.get_by_role("region", name="Trámites identificados")).to_contain_text(
        "4 en el inventario de 45 esperados")
    assert _figure(ctd_page, "Nivel de digitalización 4 o 5") == "50,0 %"  # 2 of 4
    expect(ctd_page.get_by_role("main")).to_contain_text("2 trámites están publicados en el catálogo público")
    ctd.screenshot("ctd-2-figures")

    # The imported, published procedure is in the public catalogue.
    citizen.goto("/tramites/lota/")
    expect(page.get_by_role("link", name="Certificado de residencia")).to_be_visible()

    _expect_clean(official, ctd)
    _expect_clean(citizen, allowed_404=forbidden)
