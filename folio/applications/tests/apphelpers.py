"""Helpers of the application tests: a two-stage procedure with every kind of field, citizens with a RUN, the
answers and files of a complete application."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from folio.applications import services
from folio.applications.definitions import validate_schema
from folio.applications.models import Application, FormDefinition
from folio.procedures.models import Procedure

FIELDS: list[dict[str, Any]] = [
    {"key": "nombre", "label": "Nombre completo", "type": "text", "required": True},
    {"key": "rut", "label": "RUN del propietario", "type": "rut", "required": True},
    {"key": "correo", "label": "Correo electrónico", "type": "email", "required": True},
    {"key": "fecha_obra", "label": "Fecha de inicio de obra", "type": "date", "required": False},
    {"key": "direccion", "label": "Dirección de la obra", "type": "address", "required": True},
    {"key": "tipo", "label": "Tipo de obra", "type": "choice", "required": True,
     "choices": ["Ampliación", "Obra nueva"]},
    {"key": "plano", "label": "Plano de la obra", "type": "file", "required": True, "types": ["pdf"], "max_mb": 1},
    {"key": "foto", "label": "Fotografía", "type": "file", "required": False, "types": ["png", "jpg"], "max_mb": 1},
    {"key": "declaracion", "label": "Declaración", "type": "declaration", "required": True,
     "text": "Declaro que los datos que entrego son verídicos."},
]
STAGES: list[dict[str, Any]] = [
    {"key": "revision", "name": "Revisión técnica", "unit": "DOM", "days": 10,
     "actions": ["approve", "reject", "request_correction", "request_report"]},
    {"key": "resolucion", "name": "Resolución jurídica", "unit": "AJ", "days": 5,
     "actions": ["request_correction", "request_report", "resolve", "reject"]},
]


def make_definition(world: Any, *, organization: Any = None, slug: str = "permiso-obra-menor",
                    stages: list[dict[str, Any]] | None = None, fields: list[dict[str, Any]] | None = None
                    ) -> FormDefinition:
    org = organization or world.lota
    unit = org.units.get(code="DOM")
    procedure = Procedure.objects.create(organization=org, slug=slug, name="Permiso de obra menor", unit=unit,
                                         is_published=True, code=f"CPAT-{slug[:10].upper()}")
    schema = validate_schema({"fields": fields or FIELDS, "stages": stages or STAGES}, org)
    return FormDefinition.objects.create(organization=org, procedure=procedure, version=1, state="published",
                                         schema=schema)


def citizen(world: Any, *, run: int = 55555555, dv: str = "5", email: str = "ana.perez@example.cl") -> Any:
    user = world.citizen
    user.run_number, user.run_dv, user.email = run, dv, email
    user.save(update_fields=["run_number", "run_dv", "email"])
    return user


def other_citizen(world: Any) -> Any:
    from folio.accounts.models import User

    user, _ = User.objects.get_or_create(username="run-88888888", defaults={
        "first_name": "Bruno", "last_name": "Díaz", "run_number": 88888888, "run_dv": "8",
        "email": "bruno@example.cl"})
    return user


def answers(**overrides: Any) -> dict[str, Any]:
    data = {"nombre": "Ana Pérez Soto", "rut": "55.555.555-5", "correo": "ana.perez@example.cl",
            "fecha_obra": "2026-03-02", "direccion": "Calle Matta 123, Lota", "tipo": "Ampliación",
            "declaracion": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (15, 105, 196)).save(buf, "PNG")
    return buf.getvalue()


def uploads(pdf: Callable[..., bytes], **extra: Any) -> dict[str, Any]:
    files = {"plano": SimpleUploadedFile("plano.pdf", pdf("Plano de la ampliación"), "application/pdf")}
    files.update(extra)
    return {k: v for k, v in files.items() if v is not None}


def submit(world: Any, definition: FormDefinition, pdf: Callable[..., bytes], *, actor: Any = None,
           **overrides: Any) -> Application:
    return services.application_submit(actor=actor or citizen(world), definition=definition,
                                       data=answers(**overrides), files=uploads(pdf))


def staff(world: Any, username: str, unit_code: str, roles: list[str], org: Any = None) -> Any:
    from folio.core import demo

    return demo.ensure_user(org or world.lota, username, "Nombre", "Apellido", unit_code, roles, "Funcionario")
