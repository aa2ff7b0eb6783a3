"""The spreadsheet layout of the CPAT report (docs/cpat-layout.md): the columns of the "Nómina",
"Caracterización" and "Transacciones" sheets, and how values are written and read.

The column titles and the Sí/No, type and channel words are a data-exchange format for the national CPAT,
in Spanish on purpose and the same whatever the user's language: the import reads them back, so they are
fixed strings here, not translations. Headers are matched without regard to case, accents or spaces.
"""

from __future__ import annotations

from dataclasses import dataclass

from folio.procedures.models import (
    AdvancedSignature,
    CaseFileType,
    DataObtention,
    InteroperabilityMedium,
    NotificationMedium,
    OfficialCommunications,
    PlatformScope,
    ProcedureKind,
    StaffAuthentication,
    TransactionChannel,
    UserAuthentication,
    UserType,
)
from folio.procedures.text import fold

YES, NO = "Sí", "No"
NO_INFORMATION = "sin información"
SHEET_LIST, SHEET_CHARACTERIZATION, SHEET_TRANSACTIONS = "Nómina", "Caracterización", "Transacciones"


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # Procedure field, or a pseudo-field ("unit", "topic")
    kind: str = "text"  # text | bool | int | url | choice | level | unit | topic | date
    choices: tuple[tuple[str, str], ...] = ()  # (stored value, word in the file)


KIND_WORDS = ((ProcedureKind.COMMON_FUNCTION, "Función común"), (ProcedureKind.SPECIFIC_FUNCTION, "Función específica"),
              (ProcedureKind.OTHER, "Otra tramitación"))
AUTH_WORDS = ((UserAuthentication.CLAVEUNICA, "ClaveÚnica"), (UserAuthentication.CLAVE_TRIBUTARIA, "Clave Tributaria"),
              (UserAuthentication.OWN, "Mecanismo propio"), (UserAuthentication.NONE, "Sin autenticación"))
CHANNEL_WORDS: dict[str, str] = {TransactionChannel.DIGITAL: "Digital", TransactionChannel.IN_PERSON: "Presencial",
                 TransactionChannel.PHONE: "Telefónico"}

# The Nómina: the DS 12 art. 18 minimum plus what the plan's indicators need. Export and import layout.
LIST_COLUMNS: tuple[Column, ...] = (
    Column("Código", "code"),
    Column("Nombre", "name"),
    Column("Descripción", "description"),
    Column("Tipo", "kind", "choice", KIND_WORDS),
    Column("Unidad responsable", "unit", "unit"),
    Column("Tema", "topic", "topic"),
    Column("Ley que lo origina", "law_number"),
    Column("URL de la ley", "law_url", "url"),
    Column("Requiere datos o documentos de otros órganos", "requires_other_bodies_data", "bool"),
    Column("Enlace al Directorio de Datos", "data_directory_url", "url"),
    Column("Enlace al Catálogo de Servicios", "service_catalogue_url", "url"),
    Column("Requiere Gestor de Autorizaciones", "requires_consent_manager", "bool"),
    Column("Contacto", "contact"),
    Column("Nivel de digitalización", "digitalization_level", "level"),
    Column("Autenticación de usuarios", "user_authentication", "choice", AUTH_WORDS),
    Column("Requiere identidad de persona natural", "requires_natural_person_identity", "bool"),
    Column("Publicado en el catálogo", "is_published", "bool"),
)


# The Caracterización: one row per procedure, every section of the CPAT form (export only).
CHARACTERIZATION_COLUMNS: tuple[Column, ...] = (
    Column("Código", "code"),
    Column("Nombre", "name"),
    # 1. Identificación
    Column("Descripción", "description"),
    Column("Tipo", "kind", "choice", KIND_WORDS),
    Column("Área responsable", "unit", "unit"),
    Column("Cargo del responsable", "responsible_position"),
    Column("Acto de inicio", "start_act"),
    Column("Acto de término", "end_act"),
    Column("Producto institucional relacionado", "institutional_product"),
    # 2. Marco normativo
    Column("Número de ley", "law_number"),
    Column("URL de la ley", "law_url", "url"),
    Column("Otras fuentes normativas", "other_legal_sources"),
    # 3. Usuarios
    Column("Pago asociado", "has_payment", "bool"),
    Column("Costo", "cost"),
    Column("Tipo de usuario", "user_type", "choice",
           ((UserType.NATURAL, "Persona natural"), (UserType.LEGAL, "Persona jurídica"), (UserType.BOTH, "Ambas"))),
    Column("Segmento", "segment"),
    Column("Relación con programa social", "social_program"),
    Column("Disponibilidad", "availability"),
    Column("Quién puede solicitarlo", "who_can_apply"),
    Column("Requiere identidad de persona natural", "requires_natural_person_identity", "bool"),
    Column("Personas afectadas al año (estimación)", "citizens_affected", "int"),
    # Requisitos, pasos y plazos
    Column("Requisitos", "requirements"),
    Column("Pasos", "steps"),
    Column("Plazo legal (días hábiles)", "legal_deadline_days", "int"),
    Column("Plazo real (días hábiles)", "actual_deadline_days", "int"),
    Column("Unidades que intervienen", "units_involved", "int"),
    # 4. Soporte electrónico
    Column("Nivel de digitalización", "digitalization_level", "level"),
    Column("Fecha de digitalización", "digitalized_on", "date"),
    Column("Canal digital", "channel_digital", "bool"),
    Column("Canal presencial", "channel_in_person", "bool"),
    Column("Canal telefónico", "channel_phone", "bool"),
    Column("Tipo de expediente", "case_file_type", "choice",
           ((CaseFileType.ELECTRONIC, "Expediente con documentos en formato electrónico"),
            (CaseFileType.MIXED, "Expediente mixto (papel y electrónico)"),
            (CaseFileType.PAPER, "Expediente en papel"), (CaseFileType.NONE, "Sin expediente"))),
    Column("Acceso al expediente por los interesados", "case_file_access", "bool"),
    Column("URL del trámite", "online_url", "url"),
    Column("Ficha ChileAtiende", "chileatiende_url", "url"),
    Column("Número de plataformas", "platform_count", "int"),
    Column("Alcance de las plataformas", "platform_scope", "choice",
           ((PlatformScope.ALL_STAGES, "Soportan todas las etapas"),
            (PlatformScope.SOME_STAGES, "Soportan algunas etapas"), (PlatformScope.NONE, "Sin plataforma"))),
    Column("Plataforma o sistema utilizado", "platform_name"),
    # 5. Identidad digital
    Column("Autenticación de usuarios", "user_authentication", "choice", AUTH_WORDS),
    Column("Autenticación de funcionarios", "staff_authentication", "choice",
           ((StaffAuthentication.CLAVEUNICA, "ClaveÚnica"), (StaffAuthentication.OWN, "Mecanismo propio"),
            (StaffAuthentication.NONE, "Sin autenticación"))),
    Column("Firma electrónica avanzada", "advanced_signature", "choice",
           ((AdvancedSignature.FIRMAGOB, "FirmaGob"), (AdvancedSignature.EXTERNAL, "Provista por un externo"),
            (AdvancedSignature.BOTH, "Ambos tipos"), (AdvancedSignature.NONE, "No utiliza"))),
    # 6. Notificaciones
    Column("Practica notificaciones", "sends_notifications", "bool"),
    Column("Etapas con notificación", "notification_stages"),
    Column("Medio de notificación", "notification_medium", "choice",
           ((NotificationMedium.ELECTRONIC, "Electrónica"), (NotificationMedium.PAPER, "Papel"),
            (NotificationMedium.BOTH, "Electrónica y papel"))),
    # 7. Datos, documentos e interoperabilidad
    Column("Requiere datos o documentos de otros órganos", "requires_other_bodies_data", "bool"),
    Column("Medio de obtención", "data_obtention", "choice",
           ((DataObtention.APPLICANT, "Los presenta el interesado"),
            (DataObtention.INTEROPERABILITY, "Interoperabilidad"),
            (DataObtention.OFFICIAL_REQUEST, "Solicitud por oficio o correo"))),
    Column("Medio para interoperar", "interoperability_medium", "choice",
           ((InteroperabilityMedium.STATE_NETWORK, "Red de Interoperabilidad del Estado o su estándar"),
            (InteroperabilityMedium.OTHER, "Otro mecanismo"), (InteroperabilityMedium.NONE, "No interopera"))),
    Column("Institución", "data_provider"),
    Column("Dato o set de datos", "data_set"),
    Column("Enlace al Directorio de Datos", "data_directory_url", "url"),
    Column("Enlace al Catálogo de Servicios", "service_catalogue_url", "url"),
    Column("Requiere Gestor de Autorizaciones", "requires_consent_manager", "bool"),
    Column("Documentos notariales", "notarial_documents", "bool"),
    Column("Medio para comunicaciones oficiales", "official_communications", "choice",
           ((OfficialCommunications.DOCDIGITAL, "DocDigital"),
            (OfficialCommunications.OWN_AND_DOCDIGITAL, "Propios y DocDigital"),
            (OfficialCommunications.OWN, "Solo medios propios"))),
    Column("Contacto", "contact"),
    Column("Publicado en el catálogo", "is_published", "bool"),
)

TRANSACTION_HEADERS: tuple[str, ...] = ("Código", "Nombre", "Año", "Mes", "Canal", "Transacciones", "Origen")
SOURCE_WORDS = {"folio": "Folio", "manual": "Registro manual", "none": ""}

# Words the import also accepts for the type and the authentication (besides the exported ones).
KIND_ALIASES = {
    "comun": ProcedureKind.COMMON_FUNCTION, "funcion comun": ProcedureKind.COMMON_FUNCTION,
    "procedimiento administrativo de funcion comun": ProcedureKind.COMMON_FUNCTION,
    "common": ProcedureKind.COMMON_FUNCTION,
    "especifica": ProcedureKind.SPECIFIC_FUNCTION, "funcion especifica": ProcedureKind.SPECIFIC_FUNCTION,
    "procedimiento administrativo de funcion especifica": ProcedureKind.SPECIFIC_FUNCTION,
    "specific": ProcedureKind.SPECIFIC_FUNCTION,
    "otra": ProcedureKind.OTHER, "otra tramitacion": ProcedureKind.OTHER, "otras tramitaciones": ProcedureKind.OTHER,
    "other": ProcedureKind.OTHER,
}
AUTH_ALIASES = {
    "claveunica": UserAuthentication.CLAVEUNICA, "clave unica": UserAuthentication.CLAVEUNICA,
    "utiliza claveunica": UserAuthentication.CLAVEUNICA,
    "clave tributaria": UserAuthentication.CLAVE_TRIBUTARIA, "utiliza clave tributaria":
        UserAuthentication.CLAVE_TRIBUTARIA,
    "mecanismo propio": UserAuthentication.OWN, "propio": UserAuthentication.OWN, "propia": UserAuthentication.OWN,
    "sin autenticacion": UserAuthentication.NONE, "ninguna": UserAuthentication.NONE, "no": UserAuthentication.NONE,
}
YES_WORDS = {"si", "s", "yes", "y", "true", "verdadero", "1", "x"}
NO_WORDS = {"no", "n", "false", "falso", "0"}


def word_for(column: Column, value: object) -> str:
    for stored, word in column.choices:
        if stored == value:
            return word
    return "" if value in (None, "") else str(value)


def header_key(text: str) -> str:
    return fold(str(text or "")).replace(":", "").strip()
