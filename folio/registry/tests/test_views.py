"""The Oficina de Partes web UI through the Django test client: the whole clerk journey, exports,
previews, and who may open what (roles, the other municipality, citizens)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from django.test import Client
from django.utils import timezone

from folio.audit.models import AuditEvent
from folio.files.models import StoredFile
from folio.organizations.calendar import BusinessCalendar
from folio.registry.models import Registration, RegistrationDocument, RegistrationStatus, Routing, RoutingStatus
from folio.registry.selectors import org_today
from folio.registry.tests.webhelpers import VALID_RUT, incoming, pdf_text, snapshot, upload


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


# --- the clerk journey ----------------------------------------------------------------------------

def test_full_clerk_journey(world: Any, pdf_bytes: Any) -> None:
    clerk = login(Client(), world.clerk)
    dom = login(Client(), world.dom)

    form = clerk.get("/partes/ingreso/nuevo/")
    assert form.status_code == 200
    token = re.search(r'name="submission_token" value="([0-9a-f]{32})"', form.content.decode()).group(1)

    # 1. Register an incoming letter with its scan (multipart upload).
    response = clerk.post("/partes/ingreso/nuevo/", {
        "document_type": 40, "subject": "Solicita certificado de informaciones previas calle Matta 123",
        "summary": "Vecino solicita CIP", "party_kind": "citizen", "party_name": "María José Carrasco",
        "party_rut": "16.234.567-2", "party_email": "maria@example.cl", "addressee": "Director de Obras",
        "unit": world.units["DOM"].pk, "mechanism": 3, "access_level": 1, "submission_token": token,
        "files": [upload("carta.pdf", pdf_bytes("Solicito certificado de informaciones previas", pages=2)),
                  upload("plano.pdf", pdf_bytes("Plano de ubicacion"))],
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    reg = Registration.objects.get(submission_token=token)
    assert response["Location"] == f"/partes/{reg.pk}/"
    year = timezone.localtime(reg.received_at).year
    assert reg.folio == f"E-{year}-000001"
    assert reg.status == RegistrationStatus.REGISTERED
    assert reg.party_rut == "16.234.567-2"
    assert reg.pages == 3
    assert [d.file.original_name for d in reg.documents.order_by("position")] == ["carta.pdf", "plano.pdf"]
    assert reg.registered_by == world.clerk

    # 2. The detail page shows it.
    detail = clerk.get(f"/partes/{reg.pk}/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert reg.folio in html and "calle Matta 123" in html and reg.receipt_code in html and "carta.pdf" in html

    # 3. Route it to DOM with a deadline of 10 business days.
    routed = clerk.post(f"/partes/{reg.pk}/derivar/", {
        "units": [world.units["DOM"].pk], "instruction": "response", "business_days": 10, "note": "Urgente",
        "version": reg.version,
    })
    assert routed.status_code == 302
    routing = Routing.objects.get(registration=reg)
    today = org_today(world.lota)
    assert routing.to_unit == world.units["DOM"]
    assert routing.business_days == 10
    assert routing.due_date == BusinessCalendar(world.lota).add_business_days(today, 10)
    assert routing.due_date >= today + dt.timedelta(days=14)  # ten días hábiles span two weekends at least
    assert routing.due_date.weekday() < 5
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.ROUTED

    # 4. DOM's inbox shows it; DOM acknowledges it from there.
    inbox = dom.get("/bandeja/")
    assert inbox.status_code == 200
    assert reg.folio in inbox.content.decode()
    assert f"/partes/derivaciones/{routing.pk}/acusar/" in inbox.content.decode()
    ack = dom.post(f"/partes/derivaciones/{routing.pk}/acusar/", {"next": "/bandeja/"})
    assert ack.status_code == 302 and ack["Location"] == "/bandeja/"
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.ACKNOWLEDGED and routing.acknowledged_by == world.dom
    # An external ``next`` is ignored (no open redirect).
    assert dom.post(f"/partes/derivaciones/{routing.pk}/acusar/",
                    {"next": "https://evil.example/"})["Location"] == f"/partes/{reg.pk}/"

    # 5. DOM answers with an outgoing registration; the form is prefilled from the incoming one.
    answer_form = dom.get(f"/partes/despacho/nuevo/?responde={reg.pk}")
    assert answer_form.status_code == 200
    assert f"Responde {reg.folio}" in answer_form.content.decode()
    answer = dom.post(f"/partes/despacho/nuevo/?responde={reg.pk}", {
        "document_type": 30, "subject": f"Responde {reg.folio}: certificado", "unit": world.units["DOM"].pk,
        "party_kind": "citizen", "party_name": "María José Carrasco", "party_rut": "16.234.567-2",
        "party_email": "maria@example.cl", "delivery_method": "by_hand", "access_level": 1, "answers": reg.pk,
        "files": [upload("respuesta.pdf", pdf_bytes("Se adjunta certificado"))],
    })
    assert answer.status_code == 302, answer.content.decode()[:2000]
    out = Registration.objects.get(answers=reg)
    assert out.folio == f"S-{year}-000001"
    assert out.unit == world.units["DOM"]

    # 6. The incoming one is closed by the answer, its routing completed.
    reg.refresh_from_db()
    routing.refresh_from_db()
    assert reg.status == RegistrationStatus.CLOSED
    assert out.folio in reg.closing_note
    assert routing.status == RoutingStatus.COMPLETED and routing.response == out
    assert reg.folio not in dom.get("/bandeja/").content.decode()
    assert reg.folio in dom.get("/bandeja/?estado=done").content.decode()
    actions = list(AuditEvent.objects.filter(object_id=str(reg.pk), object_type="registry.registration")
                   .order_by("seq").values_list("action", flat=True))
    assert actions == ["registration.create", "registration.route", "routing.acknowledge",
                       "registration.answered", "registration.close"]

    # 7. The receipt is a real PDF with the folio and the verification code in its text.
    receipt = clerk.get(f"/partes/{reg.pk}/comprobante.pdf")
    assert receipt.status_code == 200
    assert receipt["Content-Type"] == "application/pdf"
    data = b"".join(receipt.streaming_content)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert reg.folio in text
    assert reg.receipt_code in text
    assert world.lota.name in text
    # Rendered once and kept: a second download is byte-identical and makes no new file.
    files_before = StoredFile.objects.count()
    assert b"".join(clerk.get(f"/partes/{reg.pk}/comprobante.pdf").streaming_content) == data
    assert StoredFile.objects.count() == files_before

    # 8. Anyone (not signed in) can verify it.
    public = Client()
    verified = public.get(f"/verificar/{reg.receipt_code}")
    assert verified.status_code == 200
    assert reg.folio in verified.content.decode()
    assert reg.receipt_code in verified.content.decode()
    via_form = public.get("/verificar/", {"code": reg.receipt_code.replace("-", "").lower()})
    assert via_form.status_code == 302 and via_form["Location"] == f"/verificar/{reg.receipt_code}"
    download = public.get(f"/verificar/{reg.receipt_code}/document")
    assert download.status_code == 200 and b"".join(download.streaming_content) == data


def test_search_list_finds_by_text_and_by_rut(world: Any, client: Client, pdf_bytes: Any) -> None:
    reg = incoming(world.clerk, subject="Reclamo por luminaria apagada",
                   documents=[pdf_bytes("Poblacion Fundicion sin alumbrado publico")])
    other = incoming(world.clerk, subject="Solicita poda de arbol", party_rut="9.876.543-3")
    login(client, world.clerk)
    by_text = client.get("/partes/", {"q": "alumbrado"}).content.decode()
    assert reg.folio in by_text and other.folio not in by_text
    by_rut = client.get("/partes/", {"q": "9.876.543-3"}).content.decode()
    assert other.folio in by_rut and reg.folio not in by_rut
    # htmx asks only for the results fragment.
    fragment = client.get("/partes/", {"q": "luminaria"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode() and reg.folio in fragment.content.decode()
    # A bad filter is a 400 with the form error, not a crash.
    bad = client.get("/partes/", {"date_from": "2026-05-10", "date_to": "2026-05-01"})
    assert bad.status_code == 400


# --- export and preview ---------------------------------------------------------------------------

def _export_params(world: Any, fmt: str) -> dict[str, str]:
    today = org_today(world.lota)
    return {"book": "E", "date_from": (today - dt.timedelta(days=30)).isoformat(),
            "date_to": today.isoformat(), "format": fmt}


def test_export_csv_and_xlsx(world: Any, client: Client) -> None:
    import csv

    from openpyxl import load_workbook

    first = incoming(world.clerk, subject="Solicita patente comercial")
    second = incoming(world.clerk, subject="=HYPERLINK(\"http://evil\")", access_level=1)
    restricted = incoming(world.clerk, subject="Denuncia reservada", access_level=2)
    incoming(world.other_clerk, subject="Carta de Coronel")
    login(client, world.clerk)

    assert client.get("/partes/exportar/").status_code == 200
    response = client.get("/partes/exportar/", _export_params(world, "csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert len(rows) == 4  # header + the three of Lota, never Coronel's
    folios = [r[0] for r in rows[1:]]
    assert folios == [first.folio, second.folio, restricted.folio]
    assert rows[1][4] == "Solicita patente comercial"
    assert rows[2][4].startswith("'=")  # formula injection neutralised
    assert "Denuncia reservada" not in content  # restricted subjects are not exported
    assert rows[1][7] == VALID_RUT

    xlsx = client.get("/partes/exportar/", _export_params(world, "xlsx"))
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    sheet_rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    assert len(sheet_rows) == 4
    assert [r[0] for r in sheet_rows[1:]] == folios
    assert sheet_rows[1][4] == "Solicita patente comercial"
    assert sheet_rows[0] == rows[0]

    bad = client.get("/partes/exportar/", {**_export_params(world, "csv"), "date_from": "2020-01-01"})
    assert bad.status_code == 400  # more than one year
    assert client.get("/partes/exportar/", {**_export_params(world, "pdf")}).status_code == 400


def test_preview_png_of_a_pdf_page_and_of_an_image(world: Any, client: Client, pdf_bytes: Any) -> None:
    from PIL import Image

    img = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(img, "PNG")
    reg = incoming(world.clerk, documents=[pdf_bytes("Primera pagina", pages=2), img.getvalue()])
    docs = list(RegistrationDocument.objects.filter(registration=reg).order_by("position"))
    login(client, world.clerk)
    for doc, size in ((docs[0], None), (docs[1], (300, 200))):
        response = client.get(f"/partes/{reg.pk}/documentos/{doc.pk}/vista.png")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        with Image.open(io.BytesIO(response.content)) as png:
            assert png.format == "PNG"
            if size:
                assert png.size == size
            else:
                assert png.size[0] > 500  # a letter page at 1.2 × 72 dpi
    assert client.get(f"/partes/{reg.pk}/documentos/{docs[0].pk}/vista.png?pagina=2").status_code == 200
    assert client.get(f"/partes/{reg.pk}/documentos/{docs[0].pk}/vista.png?pagina=3").status_code == 404
    original = client.get(f"/partes/{reg.pk}/documentos/{docs[0].pk}/")
    assert original.status_code == 200 and original["Content-Type"] == "application/pdf"


def test_restricted_documents_log_every_access(world: Any, client: Client, pdf_bytes: Any) -> None:
    reg = incoming(world.clerk, access_level=2, documents=[pdf_bytes("Reservado")])
    doc = reg.documents.get()
    login(client, world.clerk)
    assert client.get(f"/partes/{reg.pk}/").status_code == 200
    assert client.get(f"/partes/{reg.pk}/documentos/{doc.pk}/").status_code == 200
    accesses = AuditEvent.objects.filter(action="registration.access", object_id=str(reg.pk))
    assert [e.data["what"].split(":")[0] for e in accesses.order_by("seq")] == ["detail", "download"]
    # A public-level official of another unit does not even see it.
    login(client, world.dideco)
    assert client.get(f"/partes/{reg.pk}/").status_code == 404


# --- roles ------------------------------------------------------------------------------------------

def test_an_official_cannot_register_incoming(world: Any, client: Client) -> None:
    login(client, world.dom)
    assert client.get("/partes/ingreso/nuevo/").status_code == 403
    before = snapshot()
    response = client.post("/partes/ingreso/nuevo/", {"document_type": 7, "subject": "x", "party_kind": "citizen",
                                                      "party_name": "x", "mechanism": 1})
    assert response.status_code == 403
    assert snapshot() == before
    # ...but may register outgoing correspondence for the own unit.
    assert client.get("/partes/despacho/nuevo/").status_code == 200


def test_auditor_cannot_register_outgoing(world: Any, client: Client) -> None:
    login(client, world.auditor)
    assert client.get("/partes/despacho/nuevo/").status_code == 403
    assert client.get("/partes/ingreso/nuevo/").status_code == 403


def test_anonymous_is_sent_to_login(world: Any, client: Client) -> None:
    for url in ("/partes/", "/bandeja/", "/partes/ingreso/nuevo/", "/partes/exportar/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/ingresar/")


def test_citizen_without_organization_gets_403(world: Any, client: Client) -> None:
    reg = incoming(world.clerk)
    login(client, world.citizen)
    for url in ("/partes/", "/bandeja/", "/partes/ingreso/nuevo/", "/partes/despacho/nuevo/", "/partes/exportar/",
                f"/partes/{reg.pk}/", f"/partes/{reg.pk}/comprobante.pdf"):
        assert client.get(url).status_code == 403, url
    assert client.get("/").status_code == 403


def test_other_municipality_gets_404_and_nothing_changes(world: Any, pdf_bytes: Any) -> None:
    reg = incoming(world.clerk, documents=[pdf_bytes("Carta de Lota")])
    from folio.registry import services

    [routing] = services.registration_route(actor=world.clerk, registration=reg,
                                            to_unit_ids=[world.units["DOM"].pk], instruction="response",
                                            business_days=5)
    reg.refresh_from_db()
    doc = reg.documents.get()
    before = snapshot()
    version = reg.version

    for user in (world.other_clerk, world.other_dom):
        client = login(Client(), user)
        gets = [f"/partes/{reg.pk}/", f"/partes/{reg.pk}/comprobante.pdf",
                f"/partes/{reg.pk}/documentos/{doc.pk}/", f"/partes/{reg.pk}/documentos/{doc.pk}/vista.png",
                f"/partes/despacho/nuevo/?responde={reg.pk}"]
        for url in gets[:4]:
            assert client.get(url).status_code == 404, (user, url)
        # Answering a foreign id simply does not prefill anything from it.
        assert reg.folio not in client.get(gets[4]).content.decode()
        posts = {
            f"/partes/{reg.pk}/derivar/": {"units": [world.coronel_units["DOM"].pk], "instruction": "response"},
            f"/partes/{reg.pk}/cerrar/": {"note": "cerrado desde Coronel"},
            f"/partes/{reg.pk}/anular/": {"reason": "anulado desde Coronel"},
            f"/partes/{reg.pk}/despachar/": {"method": "by_hand", "reference": "x"},
            f"/partes/derivaciones/{routing.pk}/acusar/": {},
            f"/partes/derivaciones/{routing.pk}/rederivar/": {"unit": world.coronel_units["DOM"].pk,
                                                              "instruction": "response"},
        }
        for url, data in posts.items():
            assert client.post(url, data).status_code == 404, (user, url)
        # Their own search and inbox do not show it either.
        assert reg.folio not in client.get("/partes/", {"q": "certificado"}).content.decode()
        assert reg.folio not in client.get("/bandeja/").content.decode()

    reg.refresh_from_db()
    routing.refresh_from_db()
    assert reg.version == version and reg.status == RegistrationStatus.ROUTED
    assert routing.status == RoutingStatus.PENDING
    assert snapshot() == before  # not even a receipt was rendered


def test_official_of_another_unit_cannot_route_close_or_acknowledge(world: Any, client: Client) -> None:
    from folio.registry import services

    reg = incoming(world.clerk)
    [routing] = services.registration_route(actor=world.clerk, registration=reg,
                                            to_unit_ids=[world.units["DOM"].pk], instruction="response",
                                            business_days=5)
    reg.refresh_from_db()
    before = snapshot()
    login(client, world.dideco)  # sees it (public) but it was not routed to DIDECO
    assert client.get(f"/partes/{reg.pk}/").status_code == 200
    assert client.post(f"/partes/{reg.pk}/derivar/", {"units": [world.units["DIDECO"].pk],
                                                      "instruction": "response"}).status_code == 403
    assert client.post(f"/partes/{reg.pk}/cerrar/", {"note": "no me corresponde"}).status_code == 403
    assert client.post(f"/partes/{reg.pk}/anular/", {"reason": "no me corresponde"}).status_code == 403
    assert client.post(f"/partes/derivaciones/{routing.pk}/acusar/").status_code == 403
    assert snapshot() == before


def test_stale_version_is_refused_with_409(world: Any, client: Client) -> None:
    reg = incoming(world.clerk)
    login(client, world.clerk)
    stale = reg.version
    assert client.post(f"/partes/{reg.pk}/derivar/", {"units": [world.units["DOM"].pk], "instruction": "response",
                                                      "version": stale}).status_code == 302
    before = snapshot()
    response = client.post(f"/partes/{reg.pk}/anular/", {"reason": "Ingreso duplicado", "version": stale})
    assert response.status_code == 409
    assert snapshot() == before


def test_void_keeps_the_number_and_revokes_the_receipt(world: Any, client: Client) -> None:
    reg = incoming(world.clerk)
    login(client, world.clerk)
    assert client.post(f"/partes/{reg.pk}/anular/", {"reason": "x"}).status_code == 400  # too short
    assert client.post(f"/partes/{reg.pk}/anular/", {"reason": "Ingreso duplicado por error",
                                                     "version": reg.version}).status_code == 302
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.VOIDED and reg.number == 1
    page = client.get(f"/verificar/{reg.receipt_code}")
    assert page.status_code == 200 and "Ingreso duplicado por error" in page.content.decode()
    assert client.get(f"/verificar/{reg.receipt_code}/document").status_code == 404
    assert incoming(world.clerk).number == 2
