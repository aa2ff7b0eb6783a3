"""Demo: online forms for five common municipal procedures, published through the real services.

``load(organization, actor)`` is idempotent: a procedure that already has a published form is left alone, one
that does not exist in the organization (see ``folio.procedures`` demo data) is skipped, and so is a form
whose stages name a unit the organization does not have. Unit codes are those of ``folio.core.demo.UNITS``.
"""

from __future__ import annotations

import logging
from typing import Any

from folio.applications import definition_services as services
from folio.applications.definition_permissions import can_manage_definitions
from folio.applications.definitions import DefinitionInvalid, validate_schema
from folio.applications.models import DefinitionState, FormDefinition

logger = logging.getLogger(__name__)

_TRUTH = "Declaro que los datos y documentos que presento son verídicos."


def _f(key: str, label: str, type_: str, required: bool = True, help: str = "", **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": type_, "required": required, "help": help, **extra}


def _s(key: str, name: str, unit: str, days: int, actions: list[str]) -> dict[str, Any]:
    return {"key": key, "name": name, "unit": unit, "days": days, "actions": actions}


DEFINITIONS: dict[str, dict[str, Any]] = {
    # Ley 20.285 arts. 12 (contents; 5 días to cure) and 14 (20 días hábiles to answer).
    "acceso-informacion-publica": {
        "fields": [
            _f("nombre_solicitante", "Nombre y apellidos", "text"),
            _f("rut_solicitante", "RUN/RUT", "rut", required=False,
               help="Opcional: la Ley 20.285 no exige identificarse con RUN."),
            _f("email", "Correo electrónico", "email", help="Aquí recibirá la respuesta y las notificaciones."),
            _f("direccion", "Dirección", "address", help="Domicilio del solicitante o de su apoderado."),
            _f("informacion_solicitada", "Descripción clara de la información solicitada", "textarea",
               help="Indique con precisión qué documentos o datos pide, de qué período y de qué unidad."),
            _f("formato_preferido", "Formato preferido de entrega", "choice",
               choices=["Documento electrónico (PDF)", "Planilla de datos (Excel o CSV)",
                        "Copia en papel (retiro en la municipalidad)"]),
            _f("medio_notificacion", "Medio de notificación", "choice",
               choices=["Correo electrónico", "Carta certificada al domicilio"]),
            _f("declaracion", "Declaración", "declaration", text=_TRUTH),
        ],
        "stages": [
            _s("analisis_respuesta", "Análisis y respuesta", "SECMU", 20,
               ["request_correction", "request_report", "resolve"]),
        ],
    },
    # LGUC art. 116: the DOM issues the certificado de informaciones previas.
    "certificado-informaciones-previas": {
        "fields": [
            _f("nombre_solicitante", "Nombre completo", "text"),
            _f("rut_solicitante", "RUN/RUT", "rut"),
            _f("email", "Correo electrónico", "email"),
            _f("rol_avaluo", "Rol de avalúo del predio", "text", help="Por ejemplo 123-45 (figura en el pago de "
               "contribuciones)."),
            _f("direccion_predio", "Dirección del predio", "address"),
            _f("plano_ubicacion", "Plano de ubicación", "file", required=False, types=["pdf"], max_mb=10),
        ],
        "stages": [
            _s("revision", "Revisión", "DOM", 2, ["request_correction", "approve", "reject"]),
            _s("emision", "Emisión", "DOM", 5, ["resolve"]),
        ],
    },
    "patente-comercial": {
        "fields": [
            _f("rut_contribuyente", "RUT del contribuyente", "rut"),
            _f("nombre_contribuyente", "Nombre o razón social", "text"),
            _f("email", "Correo electrónico", "email"),
            _f("telefono", "Teléfono", "phone", required=False),
            _f("giro", "Giro o actividad", "text", help="Tal como figura en la iniciación de actividades."),
            _f("direccion_local", "Dirección del local", "address"),
            _f("iniciacion_actividades", "Iniciación de actividades (SII)", "file", types=["pdf"]),
            _f("titulo_local", "Contrato de arriendo o título de dominio del local", "file",
               types=["pdf", "jpg", "png"], max_mb=10),
            _f("informe_sanitario", "Informe o resolución sanitaria", "file", required=False, types=["pdf"],
               help="Solo para giros que lo requieren (alimentos, salud, etc.)."),
            _f("declaracion", "Declaración", "declaration", text=_TRUTH),
        ],
        "stages": [
            _s("revision_documental", "Revisión documental", "DAF", 5, ["request_correction", "approve", "reject"]),
            _s("informe_dom", "Informe DOM", "DOM", 10, ["request_report", "approve", "reject"]),
            _s("resolucion", "Resolución", "DAF", 5, ["resolve"]),
        ],
    },
    # Ocupación de un bien nacional de uso público (calles, veredas, plazas).
    "permiso-bnup": {
        "fields": [
            _f("nombre_solicitante", "Nombre completo o razón social", "text"),
            _f("rut_solicitante", "RUN/RUT", "rut"),
            _f("email", "Correo electrónico", "email"),
            _f("telefono", "Teléfono", "phone"),
            _f("ubicacion", "Ubicación del espacio a ocupar", "address",
               help="Calle, número o intersección y el tramo de vereda o calzada."),
            _f("uso", "Uso que le dará", "choice",
               choices=["Instalación de faena o andamio", "Comercio o feria", "Evento", "Mesas y sillas",
                        "Otro"]),
            _f("superficie_m2", "Superficie a ocupar (m²)", "number"),
            _f("fecha_desde", "Desde", "date"),
            _f("fecha_hasta", "Hasta", "date"),
            _f("croquis", "Croquis de la ocupación", "file", types=["pdf", "jpg", "png"]),
            _f("declaracion", "Declaración", "declaration", text=_TRUTH),
        ],
        "stages": [
            _s("evaluacion_tecnica", "Evaluación técnica", "DOM", 5,
               ["request_correction", "request_report", "approve", "reject"]),
            _s("resolucion", "Resolución y giro de derechos", "DAF", 3, ["resolve"]),
        ],
    },
    # Ley 20.730 (lobby): the authority answers an audience request within 3 días hábiles.
    "audiencia-lobby": {
        "fields": [
            _f("nombre_solicitante", "Nombre completo", "text"),
            _f("rut_solicitante", "RUN/RUT", "rut"),
            _f("email", "Correo electrónico", "email"),
            _f("autoridad", "Autoridad con quien solicita la audiencia", "choice",
               choices=["Alcaldesa", "Concejal o concejala", "Director de Obras Municipales",
                        "Secretario Municipal", "Director de Administración y Finanzas"]),
            _f("materia", "Materia que se tratará", "textarea",
               help="Describa la decisión o el acto sobre el que quiere influir."),
            _f("fecha_propuesta", "Fecha propuesta", "date"),
            _f("representa_a", "Persona o entidad que representa", "text",
               help="Su propio nombre si actúa por sí mismo."),
            _f("remunerado", "¿Recibe remuneración por esta gestión?", "choice", choices=["Sí", "No"]),
            _f("asistentes", "Otras personas que asistirán", "textarea", required=False),
            _f("declaracion", "Declaración", "declaration", text=_TRUTH),
        ],
        "stages": [
            _s("secretaria_municipal", "Secretaría Municipal", "SECMU", 3, ["request_correction", "resolve"]),
        ],
    },
}


def _admin_of(organization: Any) -> Any:
    from folio.accounts.models import RoleCode, User

    return (User.objects.filter(organization=organization, roles__code=RoleCode.ADMIN, is_active=True)
            .order_by("pk").first())


def load(organization: Any, actor: Any = None) -> list[FormDefinition]:
    """Publish the demo forms of ``organization``; ``actor`` (an administrator of it; by default its first
    one) is recorded in the audit trail. Returns the definitions published by this call."""
    from folio.procedures.models import Procedure

    if not can_manage_definitions(actor, organization.pk):
        actor = _admin_of(organization)
    if actor is None:
        logger.warning("demo forms: %s has no administrator; nothing loaded", organization)
        return []
    published: list[FormDefinition] = []
    for slug, schema in DEFINITIONS.items():
        procedure = Procedure.objects.filter(organization=organization, slug=slug).first()
        if procedure is None:
            continue
        if FormDefinition.objects.filter(procedure=procedure, state=DefinitionState.PUBLISHED).exists():
            continue
        try:
            validate_schema(schema, organization)
        except DefinitionInvalid as exc:
            logger.warning("demo form %s skipped for %s: %s", slug, organization, exc)
            continue
        draft = services.definition_draft_create(actor=actor, procedure=procedure)
        draft = services.definition_update(actor=actor, definition=draft, schema=schema, token=None)
        published.append(services.definition_publish(actor=actor, definition=draft, token=None))
    return published
