"""The schema contract: validate_schema accepts a good definition (normalized) and names each mistake by its
path with a Spanish message."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.utils import translation

from folio.applications import definitions
from folio.applications.definitions import DefinitionInvalid, validate_schema


@pytest.fixture(autouse=True)
def _spanish() -> Any:
    with translation.override("es"):
        yield


def good_schema() -> dict[str, Any]:
    return {
        "fields": [
            {"key": "nombre", "label": "Nombre completo", "type": "text", "required": True, "help": "Como en su "
             "cédula"},
            {"key": "rut", "label": "RUN", "type": "rut", "required": True},
            {"key": "formato", "label": "Formato", "type": "choice", "choices": ["PDF", "Papel"], "multiple": False},
            {"key": "plano", "label": "Plano", "type": "file", "types": ["pdf", "jpeg"], "max_mb": 5,
             "required": True},
            {"key": "declaro", "label": "Declaración", "type": "declaration", "text": "Declaro que es verdad",
             "required": True},
        ],
        "stages": [
            {"key": "admisibilidad", "name": "Admisibilidad", "unit": "OP", "days": 5,
             "actions": ["request_correction", "approve", "reject"]},
            {"key": "resolucion", "name": "Resolución", "unit": "DOM", "days": 10, "actions": ["resolve"]},
        ],
    }


def errors_of(schema: Any, organization: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(DefinitionInvalid) as info:
        validate_schema(schema, organization, **kwargs)
    return info.value.errors


def test_constants_of_the_contract() -> None:
    assert definitions.FIELD_TYPES == ("text", "textarea", "number", "date", "rut", "email", "phone", "address",
                                       "choice", "file", "declaration")
    assert definitions.STAGE_ACTIONS == ("approve", "reject", "request_correction", "request_report", "resolve")
    assert {"pdf", "jpg", "png"} <= set(definitions.FILE_KINDS)


def test_a_good_schema_is_normalized(world: Any) -> None:
    schema = good_schema()
    schema["fields"][0]["label"] = "  Nombre completo  "
    schema["fields"][0]["choices"] = ["ignored: not a choice field"]
    schema["stages"][0]["actions"] = ["reject", "approve", "request_correction", "approve"]
    out = validate_schema(schema, world.lota)
    assert out["fields"][0] == {"key": "nombre", "label": "Nombre completo", "type": "text", "required": True,
                                "help": "Como en su cédula"}
    assert out["fields"][1] == {"key": "rut", "label": "RUN", "type": "rut", "required": True, "help": ""}
    assert out["fields"][2]["choices"] == ["PDF", "Papel"] and out["fields"][2]["multiple"] is False
    assert out["fields"][3]["types"] == ["pdf", "jpg"] and out["fields"][3]["max_mb"] == 5
    assert out["fields"][4]["text"] == "Declaro que es verdad"
    assert out["stages"][0]["actions"] == ["approve", "reject", "request_correction"]
    assert out["stages"][1] == {"key": "resolucion", "name": "Resolución", "unit": "DOM", "days": 10,
                                "actions": ["resolve"]}
    # Normalizing is idempotent.
    assert validate_schema(out, world.lota) == out
    # The id of the organization does as well as the object.
    assert validate_schema(out, world.lota.pk) == out


def test_defaults_of_optional_attributes(world: Any) -> None:
    schema = good_schema()
    del schema["fields"][3]["max_mb"]
    del schema["fields"][2]["multiple"]
    del schema["fields"][0]["required"]
    out = validate_schema(schema, world.lota)
    assert out["fields"][3]["max_mb"] == definitions.DEFAULT_MAX_MB
    assert out["fields"][2]["multiple"] is False
    assert out["fields"][0]["required"] is False


@pytest.mark.parametrize(("mutate", "path", "fragment"), [
    (lambda s: s["fields"][0].update(key="Nombre"), "fields.0.key", "minúscula"),
    (lambda s: s["fields"][0].update(key="1nombre"), "fields.0.key", "minúscula"),
    (lambda s: s["fields"][0].update(key="a" * 41), "fields.0.key", "minúscula"),
    (lambda s: s["fields"][0].update(key=""), "fields.0.key", "obligatoria"),
    (lambda s: s["fields"][1].update(key="nombre"), "fields.1.key", "nombre"),
    (lambda s: s["fields"][0].update(label=""), "fields.0.label", "etiqueta"),
    (lambda s: s["fields"][0].update(label="x" * 201), "fields.0.label", "200"),
    (lambda s: s["fields"][0].update(type="signature"), "fields.0.type", "tipo de campo"),
    (lambda s: s["fields"][0].update(required="yes"), "fields.0.required", "verdadero o falso"),
    (lambda s: s["fields"][0].update(help=42), "fields.0.help", "ayuda"),
    (lambda s: s["fields"][2].update(choices=[]), "fields.2.choices", "al menos una opción"),
    (lambda s: s["fields"][2].pop("choices"), "fields.2.choices", "al menos una opción"),
    (lambda s: s["fields"][2].update(choices=["PDF", "pdf"]), "fields.2.choices", "repite"),
    (lambda s: s["fields"][2].update(choices=["PDF", "  "]), "fields.2.choices", "opción"),
    (lambda s: s["fields"][2].update(multiple="no"), "fields.2.multiple", "verdadero o falso"),
    (lambda s: s["fields"][3].update(types=[]), "fields.3.types", "al menos un tipo"),
    (lambda s: s["fields"][3].update(types=["exe"]), "fields.3.types", "exe"),
    (lambda s: s["fields"][3].update(max_mb=0), "fields.3.max_mb", "entre 1 y 20"),
    (lambda s: s["fields"][3].update(max_mb=21), "fields.3.max_mb", "entre 1 y 20"),
    (lambda s: s["fields"][3].update(max_mb="mucho"), "fields.3.max_mb", "entre 1 y 20"),
    (lambda s: s["fields"][4].update(text=""), "fields.4.text", "declara"),
    (lambda s: s["fields"].append("nombre"), "fields.5", "objeto"),
    (lambda s: s.update(fields={}), "fields", "lista"),
    (lambda s: s.update(fields=[]), "fields", "al menos un campo"),
    (lambda s: s.update(stages=[]), "stages", "al menos una etapa"),
    (lambda s: s.update(stages="etapa"), "stages", "lista"),
    (lambda s: s.update(extra=1), "schema", "extra"),
    (lambda s: s["stages"][1].update(key="admisibilidad"), "stages.1.key", "admisibilidad"),
    (lambda s: s["stages"][0].update(name=""), "stages.0.name", "nombre"),
    (lambda s: s["stages"][0].update(unit=""), "stages.0.unit", "unidad"),
    (lambda s: s["stages"][0].update(unit="NOPE"), "stages.0.unit", "NOPE"),
    (lambda s: s["stages"][0].update(days=0), "stages.0.days", "entre 1 y 200"),
    (lambda s: s["stages"][0].update(days=201), "stages.0.days", "entre 1 y 200"),
    (lambda s: s["stages"][0].update(days=True), "stages.0.days", "entre 1 y 200"),
    (lambda s: s["stages"][0].update(actions=[]), "stages.0.actions", "al menos una acción"),
    (lambda s: s["stages"][0].update(actions=["approve", "archive"]), "stages.0.actions", "archive"),
    (lambda s: s["stages"][1].update(actions=["approve"]), "stages.1.actions", "Resolver"),
    (lambda s: s["stages"].append(["x"]), "stages.2", "objeto"),
])
def test_each_mistake_is_named_by_its_path(world: Any, mutate: Any, path: str, fragment: str) -> None:
    schema = good_schema()
    mutate(schema)
    errors = errors_of(schema, world.lota)
    assert path in errors, errors
    assert any(fragment in message for message in errors[path]), errors[path]


def test_not_an_object(world: Any) -> None:
    assert "schema" in errors_of(["fields"], world.lota)
    assert "schema" in errors_of(None, world.lota)


def test_every_mistake_is_reported_at_once(world: Any) -> None:
    schema = good_schema()
    schema["fields"][0]["type"] = "nope"
    schema["fields"][2]["choices"] = []
    schema["stages"][0]["days"] = 999
    assert {"fields.0.type", "fields.2.choices", "stages.0.days"} <= set(errors_of(schema, world.lota))


def test_units_must_be_active_and_of_the_same_organization(world: Any) -> None:
    schema = good_schema()
    # Coronel has an OP and a DOM too, but those are Coronel's: Lota's schema names Lota's units.
    assert validate_schema(schema, world.coronel)["stages"][0]["unit"] == "OP"
    world.units["DOM"].is_active = False
    world.units["DOM"].save(update_fields=["is_active"])
    errors = errors_of(schema, world.lota)
    assert list(errors) == ["stages.1.unit"] and "activa" in errors["stages.1.unit"][0]
    from folio.organizations.models import Organization

    empty = Organization.objects.create(code="MUN-X", name="Sin unidades", short_name="X", slug="x")
    assert {"stages.0.unit", "stages.1.unit"} <= set(errors_of(schema, empty))


def test_an_incomplete_draft_may_be_saved(world: Any) -> None:
    assert validate_schema({"fields": [], "stages": []}, world.lota, complete=False) == {"fields": [], "stages": []}
    schema = good_schema()
    schema["stages"][1]["actions"] = ["approve"]
    assert validate_schema(schema, world.lota, complete=False)["stages"][1]["actions"] == ["approve"]
    # What is given is still checked.
    schema["stages"][0]["unit"] = "NOPE"
    assert "stages.0.unit" in errors_of(schema, world.lota, complete=False)


def test_stage_helpers() -> None:
    schema = good_schema()

    class Definition:
        pass

    d = Definition()
    d.schema = schema  # type: ignore[attr-defined]
    assert definitions.stage_count(d) == 2
    assert definitions.stage_at(d, 1)["key"] == "resolucion"
    with pytest.raises(IndexError):
        definitions.stage_at(d, 2)
    with pytest.raises(IndexError):
        definitions.stage_at(d, -1)
    files = definitions.file_fields(d)
    assert [f["key"] for f in files] == ["plano"] and files[0]["required"] is True
    # The returned dicts are copies: changing them does not change the definition.
    files[0]["required"] = False
    definitions.stage_at(d, 0)["days"] = 99
    assert schema["fields"][3]["required"] is True and schema["stages"][0]["days"] == 5
    assert definitions.stage_count(copy.deepcopy(schema)) == 2
