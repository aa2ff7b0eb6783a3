"""The form engine: a Django form from a definition, clean JSON-ready answers for every field type, uploads
checked by their bytes, drafts (partial) and the display rows of certificates."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.template.loader import render_to_string
from django.utils import translation
from PIL import Image

from conftest import make_pdf
from folio.applications.formengine import AnswersInvalid, answer_rows, build_form, clean_answers, normalize_phone

SCHEMA: dict[str, Any] = {
    "fields": [
        {"key": "nombre", "label": "Nombre completo", "type": "text", "required": True, "help": "Como en su cédula"},
        {"key": "detalle", "label": "Detalle", "type": "textarea", "required": False, "help": ""},
        {"key": "superficie", "label": "Superficie (m²)", "type": "number", "required": False, "help": ""},
        {"key": "fecha", "label": "Fecha", "type": "date", "required": True, "help": ""},
        {"key": "rut", "label": "RUT", "type": "rut", "required": True, "help": ""},
        {"key": "email", "label": "Correo", "type": "email", "required": True, "help": ""},
        {"key": "telefono", "label": "Teléfono", "type": "phone", "required": False, "help": ""},
        {"key": "direccion", "label": "Dirección", "type": "address", "required": False, "help": ""},
        {"key": "formato", "label": "Formato", "type": "choice", "required": True, "help": "",
         "choices": ["PDF", "Papel"], "multiple": False},
        {"key": "comuna", "label": "Comuna", "type": "choice", "required": False, "help": "",
         "choices": ["Lota", "Coronel", "Arauco", "Curanilahue", "Lebu", "Cañete", "Tirúa"], "multiple": False},
        {"key": "medios", "label": "Medios", "type": "choice", "required": False, "help": "",
         "choices": ["Correo", "Carta", "Teléfono"], "multiple": True},
        {"key": "plano", "label": "Plano", "type": "file", "required": True, "help": "", "types": ["pdf"],
         "max_mb": 1},
        {"key": "foto", "label": "Foto", "type": "file", "required": False, "help": "", "types": ["jpg", "png"],
         "max_mb": 2},
        {"key": "declaro", "label": "Declaración", "type": "declaration", "required": True, "help": "",
         "text": "Declaro que los datos son verídicos"},
    ],
    "stages": [{"key": "revision", "name": "Revisión", "unit": "DOM", "days": 5, "actions": ["resolve"]}],
}


@pytest.fixture(autouse=True)
def _spanish() -> Any:
    with translation.override("es"):
        yield


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def pdf(name: str = "plano.pdf", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else make_pdf("Plano"), content_type="application/pdf")


def good_data() -> dict[str, Any]:
    return {"nombre": "  Ana Pérez ", "detalle": "", "superficie": "12,5", "fecha": "2026-03-02",
            "rut": "12345678-5", "email": "ana@example.cl", "telefono": "9 1234 5678", "direccion": "Pedro Aguirre "
            "Cerda 123, Lota", "formato": "PDF", "comuna": "Lota", "medios": ["Correo", "Carta"], "declaro": "on"}


def errors_of(data: dict[str, Any], files: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(AnswersInvalid) as info:
        clean_answers(SCHEMA, data, files if files is not None else {"plano": pdf()}, **kwargs)
    return info.value.errors


def test_a_complete_application_is_cleaned_to_json_ready_answers() -> None:
    foto = SimpleUploadedFile("../../foto.png", png_bytes(), content_type="application/octet-stream")
    answers, uploads = clean_answers(SCHEMA, good_data(), {"plano": pdf(), "foto": foto})
    assert answers == {
        "nombre": "Ana Pérez", "superficie": "12.5", "fecha": "2026-03-02", "rut": "12.345.678-5",
        "email": "ana@example.cl", "telefono": "+56 9 1234 5678", "direccion": "Pedro Aguirre Cerda 123, Lota",
        "formato": "PDF", "comuna": "Lota", "medios": ["Correo", "Carta"], "plano": "plano.pdf", "foto": "foto.png",
        "declaro": True,
    }
    assert set(uploads) == {"plano", "foto"}
    # The uploads are rewound for whoever stores them.
    assert uploads["plano"].read(5) == b"%PDF-"
    import json

    json.dumps(answers)


def test_json_input_from_the_api_is_accepted() -> None:
    data = {**good_data(), "superficie": 3, "declaro": True, "fecha": "2024-02-29"}
    answers, _ = clean_answers(SCHEMA, data, {"plano": pdf()})
    assert answers["superficie"] == 3 and answers["declaro"] is True and answers["fecha"] == "2024-02-29"
    answers, _ = clean_answers(SCHEMA, {**data, "superficie": 12.75}, {"plano": pdf()})
    assert answers["superficie"] == "12.75"


@pytest.mark.parametrize(("raw", "expected"), [
    ("12345678-5", "12.345.678-5"), ("12.345.678-5", "12.345.678-5"), ("123456785", "12.345.678-5"),
    ("7.654.321-6", "7.654.321-6"), ("10.000.013-k", "10.000.013-K"), (" 6000000 K ", "6.000.000-K"),
])
def test_rut_is_validated_and_formatted(raw: str, expected: str) -> None:
    answers, _ = clean_answers(SCHEMA, {**good_data(), "rut": raw}, {"plano": pdf()})
    assert answers["rut"] == expected


@pytest.mark.parametrize("raw", ["12.345.678-9", "abc", "-5", "0-0"])
def test_invalid_rut(raw: str) -> None:
    errors = errors_of({**good_data(), "rut": raw})
    assert list(errors) == ["rut"] and "RUT" in errors["rut"][0]


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-12-30", "2026-12-30"), ("30-12-2026", "2026-12-30"), ("30/12/2026", "2026-12-30"),
    ("2024-02-29", "2024-02-29"),
])
def test_dates_are_iso(raw: str, expected: str) -> None:
    answers, _ = clean_answers(SCHEMA, {**good_data(), "fecha": raw}, {"plano": pdf()})
    assert answers["fecha"] == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "2025-02-29", "31-04-2026", "mañana", "2026-13-01"])
def test_impossible_dates_are_refused(raw: str) -> None:
    errors = errors_of({**good_data(), "fecha": raw})
    assert list(errors) == ["fecha"] and "fecha válida" in errors["fecha"][0]


@pytest.mark.parametrize(("raw", "expected"), [
    ("100", 100), ("12,5", "12.5"), ("12.50", "12.5"), ("-3", -3), ("0", 0), ("1 000", 1000),
])
def test_numbers(raw: str, expected: Any) -> None:
    answers, _ = clean_answers(SCHEMA, {**good_data(), "superficie": raw}, {"plano": pdf()})
    assert answers["superficie"] == expected


@pytest.mark.parametrize("raw", ["abc", "1e5", "1.000,5", "12,5,1", "1" * 16])
def test_bad_numbers(raw: str) -> None:
    assert list(errors_of({**good_data(), "superficie": raw})) == ["superficie"]


def test_email_is_validated() -> None:
    errors = errors_of({**good_data(), "email": "ana@"})
    assert list(errors) == ["email"] and "correo" in errors["email"][0].lower()


@pytest.mark.parametrize(("raw", "expected"), [
    ("+56 9 1234 5678", "+56 9 1234 5678"), ("+56912345678", "+56 9 1234 5678"), ("912345678", "+56 9 1234 5678"),
    ("9-1234-5678", "+56 9 1234 5678"), ("56912345678", "+56 9 1234 5678"), ("(41) 234 5678", "+56 41 234 5678"),
    ("+56 2 2345 6789", "+56 2 2345 6789"), ("+1 202 555 0100", "+12025550100"), ("0056 9 1234 5678",
                                                                                   "+56 9 1234 5678"),
])
def test_phones(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
    answers, _ = clean_answers(SCHEMA, {**good_data(), "telefono": raw}, {"plano": pdf()})
    assert answers["telefono"] == expected


@pytest.mark.parametrize("raw", ["12345", "+56 9 1234 567", "091234567", "teléfono", "+56 9 1234 56789", "+1 2"])
def test_bad_phones(raw: str) -> None:
    errors = errors_of({**good_data(), "telefono": raw})
    assert list(errors) == ["telefono"] and "+56 9 1234 5678" in errors["telefono"][0]


def test_choices_must_be_among_the_options() -> None:
    assert list(errors_of({**good_data(), "formato": "Fax"})) == ["formato"]
    assert list(errors_of({**good_data(), "comuna": "Santiago"})) == ["comuna"]
    assert list(errors_of({**good_data(), "medios": ["Correo", "Paloma"]})) == ["medios"]
    errors = errors_of({**good_data(), "formato": ""})
    assert "opción" in errors["formato"][0]


def test_declaration_must_be_ticked() -> None:
    data = good_data()
    del data["declaro"]
    errors = errors_of(data)
    assert list(errors) == ["declaro"] and "declaración" in errors["declaro"][0]
    assert list(errors_of({**data, "declaro": "false"})) == ["declaro"]


def test_required_fields_and_required_file() -> None:
    errors = errors_of({}, files={})
    assert set(errors) == {"nombre", "fecha", "rut", "email", "formato", "plano", "declaro"}
    assert "Adjunte" in errors["plano"][0]


def test_a_file_is_recognised_by_its_bytes_not_its_name() -> None:
    disguised = SimpleUploadedFile("plano.pdf", png_bytes(), content_type="application/pdf")
    errors = errors_of(good_data(), {"plano": disguised})
    assert list(errors) == ["plano"] and "PDF" in errors["plano"][0] and "contenido" in errors["plano"][0]
    # A real PDF named like an image is refused where only images are accepted.
    errors = errors_of(good_data(), {"plano": pdf(), "foto": pdf("foto.png")})
    assert list(errors) == ["foto"] and "JPEG, PNG" in errors["foto"][0]
    # Text and unknown bytes are refused too.
    assert list(errors_of(good_data(), {"plano": pdf(data=b"hola, soy un texto")})) == ["plano"]
    assert list(errors_of(good_data(), {"plano": pdf(data=b"\x00\x01\x02" * 50)})) == ["plano"]


def test_damaged_and_empty_files() -> None:
    errors = errors_of(good_data(), {"plano": pdf(data=b"%PDF-1.7\nno es un pdf")})
    assert "dañado" in errors["plano"][0]
    errors = errors_of(good_data(), {"plano": pdf(data=b"")})
    assert list(errors) == ["plano"]


def test_oversize_file() -> None:
    big = make_pdf("x") + b"\n%" + b"0" * (1024 * 1024)
    errors = errors_of(good_data(), {"plano": pdf(data=big)})
    assert list(errors) == ["plano"] and "1 MB" in errors["plano"][0]


def test_a_large_upload_on_disk_is_inspected_from_its_path() -> None:
    upload = TemporaryUploadedFile("plano.pdf", "application/pdf", 0, None)
    upload.write(make_pdf("en disco"))
    upload.flush()
    upload.size = upload.tell()
    try:
        answers, uploads = clean_answers(SCHEMA, good_data(), {"plano": upload})
        assert answers["plano"] == "plano.pdf" and uploads["plano"].read(5) == b"%PDF-"
        upload.seek(0)
        upload.truncate()
        upload.write(png_bytes())
        upload.flush()
        upload.size = upload.tell()
        assert list(errors_of(good_data(), {"plano": upload})) == ["plano"]
    finally:
        upload.close()


def test_partial_skips_required_checks_but_validates_what_is_given() -> None:
    assert clean_answers(SCHEMA, {}, {}, partial=True) == ({}, {})
    answers, uploads = clean_answers(SCHEMA, {"nombre": "Ana", "rut": "12.345.678-5"}, {}, partial=True)
    assert answers == {"nombre": "Ana", "rut": "12.345.678-5"} and uploads == {}
    with pytest.raises(AnswersInvalid) as info:
        clean_answers(SCHEMA, {"rut": "12.345.678-9", "fecha": "2026-02-30"},
                      {"plano": SimpleUploadedFile("p.pdf", png_bytes())}, partial=True)
    assert set(info.value.errors) == {"rut", "fecha", "plano"}


def test_a_file_already_on_record_satisfies_a_required_file_field() -> None:
    answers, uploads = clean_answers(SCHEMA, good_data(), {}, present_files={"plano"})
    assert "plano" not in answers and uploads == {}
    assert "plano" in errors_of(good_data(), {}, present_files={"foto"})


def test_answer_rows_for_certificates() -> None:
    answers, _ = clean_answers(SCHEMA, {**good_data(), "superficie": "1234,5"}, {"plano": pdf()})
    rows = dict(answer_rows(SCHEMA, answers))
    assert list(dict(answer_rows(SCHEMA, answers))) == [f["label"] for f in SCHEMA["fields"]]
    assert rows["Fecha"] == "02-03-2026"
    assert rows["Medios"] == "Correo, Carta"
    assert rows["Declaración"] == "Sí"
    assert rows["Plano"] == "plano.pdf"
    assert rows["Foto"] == "—" and rows["Detalle"] == "—"
    assert rows["Superficie (m²)"] == "1.234,5"
    assert rows["RUT"] == "12.345.678-5"
    assert dict(answer_rows(SCHEMA, {"plano": {"name": "x.pdf", "id": 3}, "superficie": 1500}))["Plano"] == "x.pdf"
    assert dict(answer_rows(SCHEMA, {}))["Declaración"] == "No"
    assert dict(answer_rows(SCHEMA, None))["Nombre completo"] == "—"


def test_built_form_widgets_and_rendering() -> None:
    form = build_form(SCHEMA)
    html = render_to_string("applications/definitions/_fields.html", {"form": form})
    assert 'type="date"' in html and 'type="email"' in html and 'type="tel"' in html
    assert 'accept=".pdf"' in html and 'accept=".jpg,.jpeg,.png"' in html
    assert 'type="radio"' in html and 'name="formato"' in html  # few options: radio buttons
    assert '<select name="comuna"' in html  # many options: a list
    assert html.count('type="checkbox" name="medios"') == 3
    assert '<label class="form-label" for="id_nombre">Nombre completo' in html
    assert 'aria-describedby="id_nombre-help"' in html and "Como en su cédula" in html
    assert "<legend" in html and "Formato" in html
    assert 'for="id_declaro">Declaro que los datos son verídicos</label>' in html
    assert "Aceptado: PDF, hasta 1 MB." in html
    assert form.is_multipart()
    assert form.fields["nombre"].required and not build_form(SCHEMA, partial=True).fields["nombre"].required


def test_initial_answers_are_shown_again() -> None:
    form = build_form(SCHEMA, initial={"fecha": "2026-03-02", "medios": ["Carta"], "declaro": True})
    html = render_to_string("applications/definitions/_fields.html", {"form": form})
    assert 'value="2026-03-02"' in html
    assert 'value="Carta" class="form-check-input" id="id_medios_1" checked' in html


def test_bound_form_shows_errors_per_field() -> None:
    form = build_form(SCHEMA, data={**good_data(), "rut": "1-1"}, files={"plano": pdf()})
    assert not form.is_valid()
    html = render_to_string("applications/definitions/_fields.html", {"form": form})
    assert 'aria-invalid="true"' in html and 'id="id_rut-err"' in html
