"""Bad input on the web form and on the API: a 4xx with a clear message, and nothing half-saved (no
registration, no stored file row, no file in MEDIA_ROOT, no folio consumed, no audit row)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from folio.accounts.services import api_token_create
from folio.registry.models import Registration
from folio.registry.tests.webhelpers import (
    ELF_BYTES,
    VALID_RUT,
    encrypted_pdf,
    incoming,
    media_files,
    snapshot,
    upload,
    zip_bytes,
)

UI_URL = "/partes/ingreso/nuevo/"
API_URL = "/api/v1/registrations/incoming/"


def es(msgid: str, **params: Any) -> str:
    """The message as the user reads it (es-CL), whatever state the catalogue is in."""
    with translation.override("es-cl"):
        text = gettext(msgid)
    return text % params if params else text


def base_fields(world: Any, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "document_type": 40, "subject": "Solicita patente comercial", "party_kind": "citizen",
        "party_name": "Rosa Elena Sáez", "party_rut": VALID_RUT, "mechanism": 2, "access_level": 1,
        "unit": world.units["DAF"].pk, "submission_token": uuid.uuid4().hex,
    }
    fields.update(overrides)
    return fields


def api_fields(world: Any, **overrides: Any) -> dict[str, Any]:
    fields = base_fields(world, **overrides)
    fields["unit_id"] = fields.pop("unit")
    return fields


@pytest.fixture
def ui(world: Any) -> Client:
    client = Client()
    client.force_login(world.clerk)
    return client


@pytest.fixture
def api(world: Any) -> Client:
    _token, key = api_token_create(user=world.clerk)
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")


def _strings(value: Any) -> list[str]:
    """Every message in a field's errors (a list, or per-file {index: [...]} for the files list)."""
    if isinstance(value, dict):
        return [m for v in value.values() for m in _strings(v)]
    if isinstance(value, list):
        return [m for v in value for m in _strings(v)]
    return [str(value)]


def _pdf(pdf_bytes: Callable[..., bytes]) -> bytes:
    return pdf_bytes("Solicitud de patente comercial")


# (name, file bytes builder, expected message builder)
FILE_CASES: list[tuple[str, Callable[[Callable[..., bytes]], bytes], Callable[[], str]]] = [
    ("corrupt.pdf", lambda p: b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n% truncated in transit",
     lambda: es("The PDF is damaged and cannot be read.")),
    ("encrypted.pdf", lambda p: encrypted_pdf(_pdf(p)),
     lambda: es("The PDF is password-protected. Upload it without encryption.")),
    ("programa.exe", lambda p: ELF_BYTES,
     lambda: es("Unsupported file type. Accepted: PDF, PNG, JPEG, TIFF, TXT, XML, DOCX, XLSX and ODT.")),
    ("fotos.zip", lambda p: zip_bytes({"leeme.txt": b"no es un documento de oficina"}),
     lambda: es("Unsupported file type. Accepted: PDF, PNG, JPEG, TIFF, TXT, XML, DOCX, XLSX and ODT.")),
    ("falso.docx", lambda p: b"PK\x03\x04" + b"\x00" * 200,
     lambda: es("The file is damaged and cannot be read.")),
    ("vacio.pdf", lambda p: b"", lambda: es("The submitted file is empty.")),
]


@pytest.mark.parametrize(("name", "make", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_ui_rejects_bad_files(world: Any, ui: Client, pdf_bytes: Any, name: str, make: Any, message: Any) -> None:
    before = snapshot()
    response = ui.post(UI_URL, {**base_fields(world), "files": [upload(name, make(pdf_bytes))]})
    assert response.status_code == 400
    assert escape(message()) in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(("name", "make", "message"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_api_rejects_bad_files(world: Any, api: Client, pdf_bytes: Any, name: str, make: Any, message: Any) -> None:
    before = snapshot()
    response = api.post(API_URL, {**api_fields(world), "files": [upload(name, make(pdf_bytes))]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    assert any(message() in m for m in _strings(error["fields"]["files"])), error
    assert snapshot() == before


def test_oversized_file_is_refused_on_ui_and_api(world: Any, ui: Client, api: Client, settings: Any) -> None:
    settings.FOLIO_MAX_UPLOAD_MB = 1
    big = b"%PDF-1.4\n" + b"0" * (1536 * 1024)
    expected = es("The file exceeds the maximum size of %(mb)s MB.", mb=1)
    before = snapshot()
    response = ui.post(UI_URL, {**base_fields(world), "files": [upload("grande.pdf", big)]})
    assert response.status_code == 400
    assert escape(expected) in response.content.decode()
    assert snapshot() == before
    response = api.post(API_URL, {**api_fields(world), "files": [upload("grande.pdf", big)]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_large"
    assert expected in response.json()["error"]["message"]
    assert snapshot() == before


@pytest.mark.parametrize("client_kind", ["ui", "api"])
def test_batch_with_one_bad_file_saves_nothing(world: Any, ui: Client, api: Client, pdf_bytes: Any,
                                               client_kind: str) -> None:
    files = [upload("carta.pdf", pdf_bytes("Carta principal")),
             upload("anexo-danado.pdf", b"%PDF-1.4\nnot really a pdf"),
             upload("anexo.pdf", pdf_bytes("Anexo en buen estado"))]
    before = snapshot()
    if client_kind == "ui":
        response = ui.post(UI_URL, {**base_fields(world), "files": files})
        assert response.status_code == 400
        html = response.content.decode()
        assert "anexo-danado.pdf" in html and "carta.pdf:" not in html
    else:
        response = api.post(API_URL, {**api_fields(world), "files": files})
        assert response.status_code == 400
        messages = response.json()["error"]["fields"]["files"]
        assert len(messages) == 1 and messages[0].startswith("anexo-danado.pdf")
    after = snapshot()
    assert after == before
    assert media_files() == []  # the good files stored before the bad one were removed again


def _future() -> str:
    return (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")


FIELD_CASES: list[tuple[str, Callable[[Any], dict[str, Any]], str, Callable[[], str]]] = [
    ("invalid_rut", lambda w: {"party_rut": "12.345.678-9"}, "party_rut",
     lambda: es("The RUT %(rut)s has an invalid check digit.", rut="12.345.678-9")),
    ("garbage_rut", lambda w: {"party_rut": "abc"}, "party_rut",
     lambda: es("Enter a valid RUT, for example 12.345.678-5.")),
    ("missing_subject", lambda w: {"subject": ""}, "subject", lambda: es("This field is required.")),
    ("missing_sender", lambda w: {"party_name": "  "}, "party_name", lambda: ""),
    ("future_reception", lambda w: {"received_at": _future()}, "received_at",
     lambda: es("The reception date cannot be in the future.")),
    ("future_document_date", lambda w: {"document_date": (timezone.localdate() + dt.timedelta(days=3)).isoformat()},
     "document_date", lambda: es("The document date cannot be in the future.")),
    ("bad_document_type", lambda w: {"document_type": 999}, "document_type", lambda: ""),
    ("no_document", lambda w: {"files": []}, "files",
     lambda: es("Attach the document (or choose the physical incorporation mechanism).")),
]


@pytest.mark.parametrize(("case", "change", "field", "message"), FIELD_CASES, ids=[c[0] for c in FIELD_CASES])
def test_ui_rejects_bad_fields(world: Any, ui: Client, pdf_bytes: Any, case: str, change: Any, field: str,
                               message: Any) -> None:
    data = {**base_fields(world), "files": [upload("carta.pdf", _pdf(pdf_bytes))], **change(world)}
    before = snapshot()
    response = ui.post(UI_URL, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    if message():
        assert message() in form.errors[field]
        assert escape(message()) in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(("case", "change", "field", "message"), FIELD_CASES, ids=[c[0] for c in FIELD_CASES])
def test_api_rejects_bad_fields(world: Any, api: Client, pdf_bytes: Any, case: str, change: Any, field: str,
                                message: Any) -> None:
    data = {**api_fields(world), "files": [upload("carta.pdf", _pdf(pdf_bytes))], **change(world)}
    if isinstance(data.get("received_at"), str) and data["received_at"]:
        data["received_at"] = timezone.localtime(timezone.now() + dt.timedelta(days=2)).isoformat()
    before = snapshot()
    response = api.post(API_URL, data)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"].get(field), error
    if message() and field != "subject":
        assert message() in error["fields"][field]
    assert snapshot() == before


def test_unit_of_another_organization_is_refused(world: Any, ui: Client, api: Client, pdf_bytes: Any) -> None:
    foreign = world.coronel_units["DOM"].pk
    before = snapshot()
    response = ui.post(UI_URL, {**base_fields(world, unit=foreign), "files": [upload("c.pdf", _pdf(pdf_bytes))]})
    assert response.status_code == 400
    assert response.context["form"].errors["unit"]
    response = api.post(API_URL, {**api_fields(world, unit=foreign), "files": [upload("c.pdf", _pdf(pdf_bytes))]})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["unit_id"] == [es("Choose a unit of your organization.")]
    # Routing to a foreign unit is refused the same way.
    reg = incoming(world.clerk)
    before = snapshot()
    response = api.post(f"/api/v1/registrations/{reg.pk}/route/", {"to_unit_ids": [foreign],
                        "instruction": "response"}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["to_unit_ids"] == [es("Choose units of your organization.")]
    response = ui.post(f"/partes/{reg.pk}/derivar/", {"units": [foreign], "instruction": "response"})
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("client_kind", ["ui", "api"])
def test_double_submission_is_refused_and_numbers_nothing(world: Any, ui: Client, api: Client, pdf_bytes: Any,
                                                          client_kind: str) -> None:
    token = uuid.uuid4().hex
    if client_kind == "ui":
        def send() -> Any:
            return ui.post(UI_URL, {**base_fields(world, submission_token=token),
                                    "files": [upload("carta.pdf", _pdf(pdf_bytes))]})
    else:
        def send() -> Any:
            return api.post(API_URL, {**api_fields(world, submission_token=token),
                                      "files": [upload("carta.pdf", _pdf(pdf_bytes))]})
    first = send()
    assert first.status_code in (201, 302)
    reg = Registration.objects.get(submission_token=token)
    before = snapshot()
    second = send()
    assert second.status_code == 409
    if client_kind == "ui":
        assert reg.folio in second.content.decode()
    else:
        error = second.json()["error"]
        assert error["code"] == "conflict" and reg.folio in error["message"]
    assert snapshot() == before
    assert Registration.objects.filter(submission_token=token).count() == 1


def test_api_rejects_non_numeric_and_unknown_values(world: Any, api: Client) -> None:
    reg = incoming(world.clerk)
    before = snapshot()
    cases = [
        ("get", "/api/v1/registrations/?page=abc", None, "page"),
        ("get", "/api/v1/registrations/?book=X", None, "book"),
        ("get", "/api/v1/registrations/?date_from=31-02-2026", None, "date_from"),
        ("get", "/api/v1/inbox/?state=whatever", None, "state"),
        ("post", f"/api/v1/registrations/{reg.pk}/route/", {"to_unit_ids": [], "instruction": "response"},
         "to_unit_ids"),
        ("post", f"/api/v1/registrations/{reg.pk}/route/", {"to_unit_ids": [world.units["DOM"].pk],
                                                             "instruction": "pray", "business_days": 0},
         "instruction"),
        ("post", f"/api/v1/registrations/{reg.pk}/void/", {"reason": "no"}, "reason"),
        ("post", f"/api/v1/registrations/{reg.pk}/close/", {}, "note"),
    ]
    for method, url, body, field in cases:
        response = api.get(url) if method == "get" else api.post(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.content)
        error = response.json()["error"]
        assert error["code"] == "invalid" and field in error["fields"], (url, error)
    malformed = api.post(f"/api/v1/registrations/{reg.pk}/route/", "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert set(malformed.json()["error"]) == {"code", "message", "fields"}
    assert snapshot() == before


@pytest.mark.parametrize("case", ["corrupt", "oversized"])
def test_bad_delivery_evidence_is_refused_and_nothing_is_dispatched(world: Any, settings: Any, pdf_bytes: Any,
                                                                   case: str) -> None:
    from folio.registry import services

    settings.FOLIO_MAX_UPLOAD_MB = 1
    out = services.registration_create_outgoing(actor=world.dom, data=services.RegistrationInput(
        document_type=30, subject="Oficio de respuesta", party_kind="citizen", party_name="Juan Pérez",
        delivery_method="certified_mail", documents=[services.UploadedDoc(name="o.pdf", data=_pdf(pdf_bytes))]))
    evidence = b"%PDF-1.4\nbroken" if case == "corrupt" else b"%PDF-1.4\n" + b"0" * (1536 * 1024)
    expected = (es("The PDF is damaged and cannot be read.") if case == "corrupt"
                else es("The file exceeds the maximum size of %(mb)s MB.", mb=1))
    ui = Client()
    ui.force_login(world.dom)
    _t, key = api_token_create(user=world.dom)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    before = snapshot()

    response = ui.post(f"/partes/{out.pk}/despachar/", {"method": "certified_mail",
                                                        "evidence": upload("acuse.pdf", evidence)})
    assert response.status_code == 400
    assert any(expected in e for e in response.context["dispatch_form"].errors["evidence"])
    assert snapshot() == before

    response = api.post(f"/api/v1/registrations/{out.pk}/dispatch/", {"method": "certified_mail",
                                                                      "evidence": upload("acuse.pdf", evidence)})
    assert response.status_code == 400
    assert any(expected in e for e in response.json()["error"]["fields"]["evidence"])
    assert snapshot() == before
    out.refresh_from_db()
    assert out.status == "registered" and out.dispatched_at is None
