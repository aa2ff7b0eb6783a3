"""The CPAT spreadsheet: the export opens with openpyxl with the documented sheets and columns; the import
reads the same Nómina layout (xlsx or csv), reports row by row, applies the valid rows and refuses files
that are not spreadsheets."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from folio.audit.models import AuditEvent
from folio.procedures import imports, layout, selectors, services
from folio.procedures.models import Procedure, Topic

DOC_HEADERS = [
    "Código", "Nombre", "Descripción", "Tipo", "Unidad responsable", "Tema", "Ley que lo origina", "URL de la ley",
    "Requiere datos o documentos de otros órganos", "Enlace al Directorio de Datos",
    "Enlace al Catálogo de Servicios", "Requiere Gestor de Autorizaciones", "Contacto", "Nivel de digitalización",
    "Autenticación de usuarios", "Requiere identidad de persona natural", "Publicado en el catálogo",
]


def _xlsx(rows: list[list[Any]], title: str = "Nómina") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv(rows: list[list[Any]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue().encode(encoding)


def _upload(client: Any, data: bytes, name: str = "nomina.xlsx", dry_run: bool = False) -> Any:
    payload: dict[str, Any] = {"file": SimpleUploadedFile(name, data)}
    if dry_run:
        payload["dry_run"] = "on"
    return client.post("/cpat/importar/", payload)


def test_documented_layout_matches_the_code() -> None:
    assert [c.header for c in layout.LIST_COLUMNS] == DOC_HEADERS
    with open("docs/cpat-layout.md", encoding="utf-8") as fh:
        doc = fh.read()
    for column in (*layout.LIST_COLUMNS, *layout.CHARACTERIZATION_COLUMNS):
        assert f"| {column.header} |" in doc, column.header
    for header in layout.TRANSACTION_HEADERS:
        assert f"| {header} |" in doc, header


def test_export_xlsx_has_the_three_sheets(world: Any, client: Any, make_procedure: Any, topic: Topic) -> None:
    p = make_procedure("Permiso de edificación", code="PA-9", unit=world.units["DOM"], topic=topic,
                       digitalization_level=2, law_number="DFL 458", is_published=True,
                       law_url="https://www.bcn.cl/leychile/navegar?idNorma=13560", requires_other_bodies_data=True,
                       description="=HYPERLINK(\"http://evil\")")
    make_procedure("Otro de Coronel", actor=_coronel_ctd(world))
    services.transactions_save(actor=world.ctd, procedure=p, figures=[services.Figure(2026, 5, "digital", 12)])
    client.force_login(world.auditor)
    response = client.get("/cpat/exportar/?format=xlsx&year=2026")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content), read_only=True)
    assert wb.sheetnames == ["Nómina", "Caracterización", "Transacciones"]
    nomina = list(wb["Nómina"].iter_rows(values_only=True))
    assert list(nomina[0]) == DOC_HEADERS
    assert len(nomina) == 2  # Lota's procedure only
    row = dict(zip(DOC_HEADERS, nomina[1], strict=True))
    assert row["Código"] == "PA-9" and row["Unidad responsable"] == "Dirección de Obras Municipales"
    assert row["Tema"] == "Obras y construcción" and row["Nivel de digitalización"] == 2
    assert row["Requiere datos o documentos de otros órganos"] == "Sí" and row["Publicado en el catálogo"] == "Sí"
    assert row["Descripción"].startswith("'=")  # formula-injection guard
    carac = list(wb["Caracterización"].iter_rows(values_only=True))
    assert list(carac[0]) == [c.header for c in layout.CHARACTERIZATION_COLUMNS] and len(carac) == 2
    tx = list(wb["Transacciones"].iter_rows(values_only=True))
    assert list(tx[0]) == list(layout.TRANSACTION_HEADERS)
    assert len(tx) == 1 + 12 * 3
    may = [r for r in tx[1:] if r[3] == 5]
    assert ("PA-9", "Permiso de edificación", 2026, 5, "Digital", 12, "Registro manual") in may
    assert any(r[4] == "Presencial" and r[5] == "sin información" for r in may)


def _coronel_ctd(world: Any) -> Any:
    from folio.accounts.models import RoleCode
    from folio.core import demo

    return demo.ensure_user(world.coronel, "ctd.coronel", "Carla", "Tapia", "OP", [RoleCode.DIGITAL_COORDINATOR],
                            "CTD")


def test_export_csv_is_the_nomina(world: Any, client: Any, make_procedure: Any) -> None:
    make_procedure("Patente comercial", code="PA-1", contact="+56 41 2405400")
    client.force_login(world.ctd)
    response = client.get("/cpat/exportar/?format=csv")
    assert response.status_code == 200 and 'filename="cpat-lota-' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == DOC_HEADERS and rows[1][0] == "PA-1" and rows[1][12] == "'+56 41 2405400"
    assert client.get("/cpat/exportar/?format=pdf").status_code == 400


def test_export_then_import_round_trips(world: Any, client: Any, make_procedure: Any, topic: Topic) -> None:
    make_procedure("Permiso de edificación", code="PA-9", unit=world.units["DOM"], topic=topic,
                   contact="-- llame al 600", digitalization_level=2)
    client.force_login(world.ctd)
    exported = client.get("/cpat/exportar/?format=xlsx").content
    response = _upload(client, exported)
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 0, 1, 0)
    assert Procedure.objects.get(code="PA-9").contact == "-- llame al 600"


def test_import_creates_updates_and_reports_rejected_rows(world: Any, client: Any, make_procedure: Any) -> None:
    existing = make_procedure("Patente comercial", code="PA-1", digitalization_level=1)
    by_name = make_procedure("Poda de árboles")
    rows = [
        [*DOC_HEADERS[:6], "Nivel de digitalización", "URL de la ley", "Publicado en el catálogo", "Columna rara"],
        ["PA-1", "Patente comercial", "Nueva descripción", "Función específica", "DAF", "Patentes", "4", "", "Sí", "x"],
        ["", "PODA DE ÁRBOLES", "", "común", "DIMAO", "", "2", "", "", ""],
        ["PA-3", "Certificado de número", "", "Otra tramitación", "Dirección de Obras Municipales", "Certificados",
         "3", "https://www.bcn.cl/leychile/navegar?idNorma=8201", "no", ""],
        ["PA-4", "", "Sin nombre", "", "", "", "", "", "", ""],
        ["PA-5", "Trámite con unidad desconocida", "", "", "Ministerio del Interior", "", "", "", "", ""],
        ["PA-6", "Nivel inválido", "", "", "", "", "7", "", "", ""],
        ["PA-7", "URL inválida", "", "", "", "", "", "no-es-url", "", ""],
        ["PA-3", "Código duplicado", "", "", "", "", "", "", "", ""],
        ["PA-8", "Tipo inválido", "", "de los raros", "", "", "", "", "", ""],
        ["PA-9", "Publicación inválida", "", "", "", "", "", "", "quizás", ""],
        ["", "", "", "", "", "", "", "", "", ""],
    ]
    client.force_login(world.ctd)
    response = _upload(client, _xlsx(rows))
    assert response.status_code == 200
    report = response.context["report"]
    assert [r.action for r in report.rows] == ["updated", "updated", "created"] + ["rejected"] * 7
    assert report.ignored_columns == ["Columna rara"]
    messages = {r.row: " ".join(r.messages) for r in report.rows}
    assert "nombre" in messages[5]
    assert "Ministerio del Interior" in messages[6]
    assert "7" in messages[7] and "URL" in messages[8] and "fila 4" in messages[9]
    assert "de los raros" in messages[10] and "quizás" in messages[11]
    existing.refresh_from_db()
    assert existing.description == "Nueva descripción" and existing.digitalization_level == 4
    assert existing.is_published and existing.topic.name == "Patentes" and existing.version == 2
    by_name.refresh_from_db()
    assert by_name.kind == "common" and by_name.unit == world.units["DIMAO"] and by_name.digitalization_level == 2
    created = Procedure.objects.get(code="PA-3")
    assert created.name == "Certificado de número" and created.kind == "other" and not created.is_published
    assert created.topic.slug == "certificados"
    assert Procedure.objects.filter(organization=world.lota).count() == 3
    event = AuditEvent.objects.get(action="procedure.import")
    assert event.data["created"] == 1 and event.data["updated"] == 2 and event.data["rejected"] == 7
    assert event.data["rejected_rows"] == [5, 6, 7, 8, 9, 10, 11]
    assert AuditEvent.objects.filter(action="procedure.create", data__import=report.sha256[:12]).count() == 1


def test_import_dry_run_writes_nothing(world: Any, client: Any) -> None:
    client.force_login(world.ctd)
    before = AuditEvent.objects.count()
    response = _upload(client, _csv([["Nombre", "Tema"], ["Patente comercial", "Patentes"]]), "n.csv", dry_run=True)
    assert response.status_code == 200
    assert response.context["report"].created == 1 and response.context["report"].dry_run
    assert not Procedure.objects.exists() and not Topic.objects.exists()
    assert AuditEvent.objects.count() == before


def test_import_csv_from_excel_in_spanish(world: Any, client: Any) -> None:
    # Excel in Spanish writes ";" and Windows-1252.
    data = _csv([["CÓDIGO", "nombre", "Nivel de digitalizacion"], ["PA-1", "Inscripción de organización", "1"]],
                delimiter=";", encoding="cp1252")
    client.force_login(world.ctd)
    response = _upload(client, data, "nomina.csv")
    assert response.status_code == 200, response.context["form"].errors
    assert Procedure.objects.get(code="PA-1").name == "Inscripción de organización"


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"%PDF-1.7\n...", "nomina.xlsx", "planilla"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "nomina.csv", "planilla"),
    (b"PK\x03\x04 not really a zip", "nomina.xlsx", "dañada"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "nomina.xls", ".xlsx"),
    (b"", "vacio.csv", ""),
    (b"Codigo,Descripcion\nPA-1,sin columna nombre\n", "nomina.csv", "Nombre"),
])
def test_import_refuses_files_that_are_not_spreadsheets(world: Any, client: Any, data: bytes, name: str,
                                                        message: str) -> None:
    client.force_login(world.ctd)
    before = AuditEvent.objects.count()
    response = _upload(client, data, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Procedure.objects.exists() and AuditEvent.objects.count() == before


def test_import_refuses_a_zip_that_is_not_a_workbook_and_a_broken_workbook(world: Any, client: Any) -> None:
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    client.force_login(world.ctd)
    assert _upload(client, docx.getvalue(), "nomina.xlsx").status_code == 400
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("xl/workbook.xml", "<not-xml")
        zf.writestr("[Content_Types].xml", "<Types/>")
    response = _upload(client, broken.getvalue(), "nomina.xlsx")
    assert response.status_code == 400 and "dañada" in response.content.decode()
    truncated = _xlsx([["Nombre"], ["Patente"]])[:300]
    assert _upload(client, truncated, "nomina.xlsx").status_code == 400


def test_import_size_limit(world: Any, client: Any, settings: Any) -> None:
    settings.FOLIO_PROCEDURES_IMPORT_MAX_MB = 1
    client.force_login(world.ctd)
    big = b"Nombre\n" + b"Patente comercial muy larga\n" * 60_000
    response = _upload(client, big, "nomina.csv")
    assert response.status_code == 400 and "1 MB" in response.content.decode()
    with pytest.raises(imports.ImportRejected):
        imports.inventory_import(actor=world.ctd, file_name="n.csv", data=big)


def test_import_moves_the_plan_figures(world: Any, client: Any, make_procedure: Any) -> None:
    make_procedure("Patente comercial", code="PA-1", digitalization_level=1)
    services.settings_save(actor=world.ctd, expected_procedures=10, simplification_goal_percent=50)
    before = selectors.plan_figures(world.lota)
    assert (before.inventory, before.identified_pct, before.level4_pct, before.claveunica_pct) == (1, 10.0, 0.0, None)
    rows = [["Código", "Nombre", "Nivel de digitalización", "Autenticación de usuarios",
             "Requiere identidad de persona natural"],
            ["PA-1", "Patente comercial", "4", "ClaveÚnica", "Sí"],
            ["PA-2", "Certificado de residencia", "5", "Clave Única", "si"],
            ["PA-3", "Licencia de conducir", "2", "Mecanismo propio", "Sí"],
            ["PA-4", "Poda de árboles", "1", "", "No"],
            ["PA-5", "", "9", "", ""]]
    client.force_login(world.ctd)
    assert _upload(client, _xlsx(rows)).status_code == 200
    after = selectors.plan_figures(world.lota)
    assert after.inventory == 4 and after.identified_pct == 40.0
    assert after.level4 == 2 and after.level4_pct == 50.0
    assert (after.identity_needed, after.claveunica, after.claveunica_pct) == (3, 2, 66.7)
    page = client.get("/cpat/indicadores/").content.decode()
    assert "40,0 %" in page and "66,7 %" in page


def test_only_editors_import(world: Any, client: Any) -> None:
    client.force_login(world.auditor)
    assert _upload(client, _csv([["Nombre"], ["X"]]), "n.csv").status_code == 403
    assert not Procedure.objects.exists()
