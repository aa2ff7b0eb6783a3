"""Demo data of the CPAT inventory: Lota's catalogue topics and 28 real municipal procedures with their
characterization, 12 months of hand-entered transactions and a few simplification plans, so the public
catalogue and the CTD's figures show something real. Everything goes through ``services`` (audited).
Idempotent: procedures are looked up by slug and only missing things are added."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from folio.accounts.models import RoleCode, User
from folio.organizations.models import Organization, Unit
from folio.procedures import selectors, services
from folio.procedures.models import MonthlyTransactions, Procedure, SimplificationPlan, Topic

BCN = "https://www.bcn.cl/leychile/navegar?"
LAWS = {
    "municipal": ("DFL 1/2006, Ley 18.695 Orgánica Constitucional de Municipalidades", BCN + "idNorma=251693"),
    "rentas": ("DL 3.063/1979, Ley de Rentas Municipales", BCN + "idNorma=18967"),
    "lguc": ("DFL 458/1975, Ley General de Urbanismo y Construcciones", BCN + "idNorma=13560"),
    "oguc": ("DS 47/1992 MINVU, Ordenanza General de Urbanismo y Construcciones", BCN + "idNorma=8201"),
    "transparencia": ("Ley 20.285 sobre acceso a la información pública", BCN + "idNorma=276363"),
    "lobby": ("Ley 20.730 que regula el lobby", BCN + "idNorma=1060115"),
    "alcoholes": ("Ley 19.925 sobre expendio y consumo de bebidas alcohólicas", BCN + "idNorma=220208"),
    "transito": ("DFL 1/2007 MTT, Ley de Tránsito (texto refundido de la Ley 18.290)", BCN + "idNorma=1007469"),
    "organizaciones": ("Ley 19.418 sobre juntas de vecinos y demás organizaciones comunitarias",
                       BCN + "idLey=19418"),
    "rsh": ("Ley 20.379, Sistema Intersectorial de Protección Social", BCN + "idLey=20379"),
    "procedimiento": ("Ley 19.880 de bases de los procedimientos administrativos", BCN + "idNorma=210676"),
    "medioambiente": ("Ley 19.300 sobre bases generales del medio ambiente", BCN + "idNorma=30667"),
    "subvenciones": ("Ley 19.862 de registros de personas jurídicas receptoras de fondos públicos",
                     BCN + "idLey=19862"),
    "bienestar": ("DFL 1/2006, Ley 18.695 art. 4 letra c) (asistencia social)", BCN + "idNorma=251693"),
}

TOPICS = [
    ("Obras y construcción", "obras-y-construccion"),
    ("Patentes y comercio", "patentes-y-comercio"),
    ("Tránsito y vehículos", "transito-y-vehiculos"),
    ("Ayuda social y becas", "ayuda-social-y-becas"),
    ("Aseo, ornato y medio ambiente", "aseo-ornato-y-medio-ambiente"),
    ("Certificados", "certificados"),
    ("Transparencia y participación", "transparencia-y-participacion"),
    ("Organizaciones comunitarias", "organizaciones-comunitarias"),
]

LOTA_CONTACT = "Oficina de Informaciones, Pedro Aguirre Cerda 302, Lota · (41) 240 5400 · oirs@lota.cl"

# slug, name, topic slug, unit code, law key, kind, level, published, monthly volume, extra fields
PROCEDURES: list[tuple[str, str, str, str, str, str, int, bool, int, dict[str, Any]]] = [
    ("patente-comercial", "Patente comercial", "patentes-y-comercio", "DAF", "rentas", "specific", 3, True, 22, {
        "description": "Permiso para ejercer una actividad comercial, de servicios o profesional en un local de la "
                       "comuna. Se paga cada semestre.",
        "who_can_apply": "Personas naturales y empresas que tengan un local o domicilio comercial en Lota.",
        "requirements": "Formulario de solicitud\nIniciación de actividades ante el SII\nRol de avalúo o contrato "
                        "de arriendo del local\nInforme favorable de la Dirección de Obras (zonificación)\n"
                        "Resolución sanitaria, si corresponde",
        "steps": "Presentar la solicitud con los antecedentes\nRevisión de zonificación por la DOM\nCálculo del "
                 "valor por Rentas\nPago en Tesorería\nEntrega de la patente",
        "cost": "Entre 2,5 por mil y 5 por mil del capital propio, con un mínimo de 1 UTM y un máximo de 8.000 UTM "
                "al año", "has_payment": True, "legal_deadline_days": 10, "actual_deadline_days": 15,
        "units_involved": 3, "user_type": "both", "start_act": "Solicitud del contribuyente",
        "end_act": "Decreto de otorgamiento y giro de la patente", "responsible_position": "Jefe de Rentas y Patentes",
        "requires_other_bodies_data": True, "data_obtention": "applicant", "data_provider": "Servicio de Impuestos "
        "Internos", "data_set": "Iniciación de actividades", "channel_digital": True,
        "user_authentication": "claveunica", "requires_natural_person_identity": True, "citizens_affected": 900,
        "availability": "Lunes a viernes, 8:30 a 13:30 horas; en línea todo el día",
    }),
    ("patente-alcoholes", "Patente de alcoholes", "patentes-y-comercio", "DAF", "alcoholes", "specific", 1, True, 2, {
        "description": "Permiso para vender bebidas alcohólicas (botillerías, restaurantes, bares y otros). Requiere "
                       "acuerdo del Concejo Municipal y opinión de la junta de vecinos.",
        "who_can_apply": "Personas naturales o jurídicas que cumplan los requisitos de la Ley 19.925.",
        "requirements": "Solicitud\nCertificado de antecedentes\nDeclaración jurada de no estar afecto a "
                        "inhabilidades (art. 4 Ley 19.925)\nResolución sanitaria\nInforme de zonificación de la DOM\n"
                        "Opinión de la junta de vecinos",
        "steps": "Presentar la solicitud\nConsulta a la junta de vecinos\nInforme de Carabineros\nAcuerdo del "
                 "Concejo Municipal\nPago y entrega", "cost": "Según la categoría de la Ley 19.925 (entre 0,5 y 3 UTM "
        "por semestre)", "has_payment": True, "legal_deadline_days": 30, "actual_deadline_days": 60,
        "units_involved": 4, "notarial_documents": True, "citizens_affected": 40,
    }),
    ("feria-libre", "Permiso de feria libre o comercio ambulante", "patentes-y-comercio", "DAF", "rentas", "specific",
     1, True, 12, {
        "description": "Permiso para vender en ferias libres o en la vía pública en los lugares que fija la "
                       "ordenanza municipal.",
        "who_can_apply": "Personas naturales mayores de 18 años.",
        "requirements": "Solicitud\nCédula de identidad\nRegistro Social de Hogares (para rebaja)",
        "cost": "Derecho municipal según la ordenanza local, por semestre", "has_payment": True,
        "legal_deadline_days": 10, "citizens_affected": 150,
    }),
    ("permiso-bnup", "Permiso de ocupación de bien nacional de uso público", "obras-y-construccion", "DOM", "rentas",
     "specific", 3, True, 8, {
        "description": "Autorización para usar temporalmente la calle, la vereda o una plaza: instalar andamios, "
                       "dejar materiales de construcción, poner mesas o un kiosco.",
        "who_can_apply": "Personas naturales o jurídicas que necesiten ocupar un espacio público.",
        "requirements": "Solicitud con la ubicación y el plazo\nCroquis de la ocupación\nCédula de identidad o "
                        "RUT de la empresa",
        "steps": "Solicitud\nVisita a terreno de la DOM\nCálculo de derechos\nPago\nEmisión del permiso",
        "cost": "Derechos por metro cuadrado y día según la ordenanza local", "has_payment": True,
        "legal_deadline_days": 10, "actual_deadline_days": 12, "units_involved": 2, "channel_digital": True,
        "user_authentication": "claveunica", "requires_natural_person_identity": True,
    }),
    ("permiso-edificacion", "Permiso de edificación", "obras-y-construccion", "DOM", "lguc", "specific", 2, True, 9, {
        "description": "Autorización para construir, ampliar o modificar una obra. Incluye obra nueva, ampliaciones "
                       "y obras menores.",
        "who_can_apply": "El propietario del terreno, representado por un arquitecto.",
        "requirements": "Solicitud firmada por el propietario y el arquitecto\nCertificado de informaciones previas\n"
                        "Planos de arquitectura y especificaciones técnicas\nCálculo estructural, si corresponde\n"
                        "Informe de revisor independiente, si corresponde\nFactibilidad de agua potable y "
                        "alcantarillado\nDeclaración de dominio",
        "steps": "Ingreso del expediente\nRevisión de admisibilidad\nRevisión técnica\nObservaciones al "
                 "arquitecto\nPago de derechos\nOtorgamiento del permiso",
        "cost": "1,5 % del presupuesto de la obra (obra nueva); 0,75 % en obras menores", "has_payment": True,
        "legal_deadline_days": 30, "actual_deadline_days": 45, "units_involved": 2, "case_file_type": "mixed",
        "requires_other_bodies_data": True, "data_obtention": "applicant", "data_provider": "ESSBIO",
        "data_set": "Certificado de factibilidad sanitaria", "platform_count": 1, "platform_scope": "some",
        "platform_name": "DOM en Línea (MINVU)", "citizens_affected": 110,
    }),
    ("certificado-informaciones-previas", "Certificado de informaciones previas (CIP)", "certificados", "DOM", "lguc",
     "specific", 4, True, 25, {
        "description": "Documento que indica las normas urbanísticas que se aplican a un terreno: uso de suelo, "
                       "alturas, línea oficial y afectaciones a utilidad pública.",
        "who_can_apply": "Cualquier persona; no es necesario ser el propietario.",
        "requirements": "Rol de avalúo o dirección del terreno", "steps": "Solicitud en línea\nPago\nEmisión",
        "cost": "0,1 UTM aproximadamente, según la ordenanza de derechos", "has_payment": True,
        "legal_deadline_days": 7, "actual_deadline_days": 5, "channel_digital": True, "user_authentication":
        "claveunica", "requires_natural_person_identity": True, "case_file_type": "electronic",
        "case_file_access": True, "platform_count": 1, "platform_scope": "all", "platform_name": "Folio",
        "advanced_signature": "firmagob", "sends_notifications": True, "notification_medium": "electronic",
        "notification_stages": "Término", "digitalized_on": dt.date(2025, 6, 2),
    }),
    ("certificado-numero", "Certificado de número", "certificados", "DOM", "oguc", "specific", 3, True, 18, {
        "description": "Certifica el número municipal asignado a una propiedad.",
        "who_can_apply": "El propietario o quien acredite interés.", "requirements": "Rol de avalúo",
        "cost": "Derecho municipal según la ordenanza local", "has_payment": True, "legal_deadline_days": 5,
        "channel_digital": True,
    }),
    ("recepcion-final", "Recepción final de obras", "obras-y-construccion", "DOM", "lguc", "specific", 1, True, 6, {
        "description": "Certifica que una obra se construyó conforme al permiso y puede usarse.",
        "who_can_apply": "El propietario de la obra con permiso de edificación.",
        "requirements": "Solicitud firmada por el propietario y el arquitecto\nCertificados de instalaciones "
                        "(agua, alcantarillado, electricidad y gas)\nInforme del arquitecto\nLibro de obras",
        "steps": "Solicitud\nInspección de la obra\nRevisión de certificados\nOtorgamiento",
        "cost": "Sin costo adicional al permiso", "legal_deadline_days": 30, "actual_deadline_days": 40,
        "requires_other_bodies_data": True, "data_obtention": "applicant", "data_provider": "SEC y ESSBIO",
    }),
    ("acceso-informacion-publica", "Solicitud de acceso a información pública", "transparencia-y-participacion",
     "SECMU", "transparencia", "common", 4, True, 30, {
        "description": "Pida cualquier información que tenga la municipalidad: documentos, contratos, actas, "
                       "decretos. La respuesta es gratuita, salvo el costo de reproducción.",
        "who_can_apply": "Cualquier persona, sin necesidad de explicar para qué.",
        "requirements": "Nombre y dirección o correo electrónico del solicitante\nDescripción clara de la "
                        "información que pide",
        "steps": "Presentar la solicitud\nDerivación a la unidad que tiene la información\nRespuesta",
        "cost": "Gratuito", "legal_deadline_days": 20, "actual_deadline_days": 15, "channel_digital": True,
        "user_authentication": "claveunica", "requires_natural_person_identity": False, "case_file_type":
        "electronic", "case_file_access": True, "platform_count": 2, "platform_scope": "all",
        "platform_name": "Portal de Transparencia del Estado y Folio", "sends_notifications": True,
        "notification_medium": "electronic", "notification_stages": "Prórroga, respuesta",
        "official_communications": "own_docdigital",
    }),
    ("audiencia-lobby", "Solicitud de audiencia (Ley del Lobby)", "transparencia-y-participacion", "ALC", "lobby",
     "common", 4, True, 4, {
        "description": "Pida una reunión con la Alcaldesa, los concejales o directivos para tratar un interés "
                       "particular. Queda registrada en la agenda pública.",
        "who_can_apply": "Lobbistas, gestores de intereses particulares y cualquier persona.",
        "requirements": "Nombre y datos de quienes asistirán\nMateria que se tratará\nA quién representa",
        "cost": "Gratuito", "legal_deadline_days": 3, "channel_digital": True, "user_authentication": "claveunica",
        "requires_natural_person_identity": True, "platform_name": "Plataforma Ley del Lobby",
    }),
    ("permiso-circulacion", "Permiso de circulación", "transito-y-vehiculos", "TRANS", "rentas", "specific", 4, True,
     700, {
        "description": "Permiso anual para que un vehículo circule. Se paga en marzo (vehículos livianos), mayo "
                       "(buses y taxis) o septiembre (camiones), en una o dos cuotas.",
        "who_can_apply": "El propietario del vehículo.",
        "requirements": "Permiso de circulación anterior\nRevisión técnica vigente\nSeguro obligatorio (SOAP)\n"
                        "Certificado de homologación o análisis de gases, si corresponde",
        "steps": "Pago en línea o en la Dirección de Tránsito\nEmisión del permiso",
        "cost": "Según la tasación fiscal del vehículo (tabla del SII)", "has_payment": True,
        "legal_deadline_days": 1, "channel_digital": True, "user_authentication": "claveunica",
        "requires_natural_person_identity": True, "requires_other_bodies_data": True, "data_obtention":
        "interoperability", "interoperability_medium": "state_network", "data_provider": "Registro Civil y "
        "Ministerio de Transportes", "data_set": "Revisión técnica y SOAP", "citizens_affected": 7000,
    }),
    ("licencia-conducir", "Licencia de conducir", "transito-y-vehiculos", "TRANS", "transito", "specific", 2, True,
     120, {
        "description": "Obtención, renovación o cambio de clase de la licencia de conducir.",
        "who_can_apply": "Personas mayores de 18 años (17 con autorización para clase B) con domicilio en Lota.",
        "requirements": "Cédula de identidad\nCertificado de estudios (8º básico)\nCertificado de residencia\n"
                        "Examen psicotécnico, teórico y práctico\nHoja de vida del conductor",
        "steps": "Reserva de hora\nExamen médico y psicotécnico\nExamen teórico\nExamen práctico\nPago\nEntrega",
        "cost": "Derechos municipales según la clase de licencia", "has_payment": True, "legal_deadline_days": 20,
        "actual_deadline_days": 25, "units_involved": 1, "requires_natural_person_identity": True,
        "requires_other_bodies_data": True, "data_obtention": "request", "data_provider": "Registro Civil",
        "data_set": "Hoja de vida del conductor", "citizens_affected": 1300,
    }),
    ("certificado-residencia", "Certificado de residencia", "certificados", "DIDECO", "municipal", "specific", 3, True,
     60, {
        "description": "Acredita que una persona vive en la comuna.",
        "who_can_apply": "Personas que vivan en Lota.",
        "requirements": "Cédula de identidad\nDocumento que acredite domicilio (boleta de servicio o contrato)",
        "cost": "Gratuito", "legal_deadline_days": 2, "channel_digital": True, "user_authentication": "claveunica",
        "requires_natural_person_identity": True,
    }),
    ("registro-social-hogares", "Registro Social de Hogares", "ayuda-social-y-becas", "DIDECO", "rsh", "specific", 4,
     True, 150, {
        "description": "Ingreso, actualización o rectificación de los datos del hogar en el Registro Social de "
                       "Hogares, que se usa para postular a beneficios del Estado.",
        "who_can_apply": "Personas mayores de 18 años y su hogar.",
        "requirements": "Cédula de identidad de los integrantes del hogar\nDocumento que acredite domicilio",
        "cost": "Gratuito", "legal_deadline_days": 30, "channel_digital": True, "user_authentication": "claveunica",
        "requires_natural_person_identity": True, "requires_other_bodies_data": True, "data_obtention":
        "interoperability", "interoperability_medium": "state_network", "data_provider":
        "Ministerio de Desarrollo Social y Familia", "platform_name": "Plataforma RSH", "citizens_affected": 4000,
        "social_program": "Sistema Intersectorial de Protección Social",
    }),
    ("ayuda-social", "Ayuda social de emergencia", "ayuda-social-y-becas", "DIDECO", "bienestar", "specific", 1, True,
     45, {
        "description": "Apoyo de la municipalidad en situaciones de emergencia: alimentos, materiales de "
                       "construcción, medicamentos o pago de servicios básicos.",
        "who_can_apply": "Familias de Lota en situación de vulnerabilidad.",
        "requirements": "Cédula de identidad\nRegistro Social de Hogares vigente\nInforme social\nDocumentos que "
                        "acrediten la necesidad (boletas, recetas, presupuestos)",
        "steps": "Solicitud de atención\nVisita domiciliaria\nInforme social\nDecreto de ayuda\nEntrega",
        "cost": "Gratuito", "legal_deadline_days": 10, "actual_deadline_days": 20, "units_involved": 2,
        "requires_natural_person_identity": True, "social_program": "Programa de asistencia social municipal",
    }),
    ("becas-municipales", "Becas municipales de educación superior", "ayuda-social-y-becas", "DIDECO", "municipal",
     "specific", 2, True, 15, {
        "description": "Apoyo económico a estudiantes de Lota en la educación superior. Postulación una vez al año.",
        "who_can_apply": "Estudiantes con domicilio en Lota, Registro Social de Hogares y buen rendimiento.",
        "requirements": "Formulario de postulación\nCertificado de alumno regular\nConcentración de notas\n"
                        "Registro Social de Hogares",
        "cost": "Gratuito", "legal_deadline_days": 30, "requires_natural_person_identity": True,
    }),
    ("poda-arboles", "Solicitud de poda o tala de árboles", "aseo-ornato-y-medio-ambiente", "DIMAO", "municipal",
     "specific", 2, True, 20, {
        "description": "Pida la poda o el retiro de un árbol en la vía pública que sea un riesgo o dañe cables o "
                       "veredas.", "who_can_apply": "Vecinos de Lota.",
        "requirements": "Dirección exacta\nFotografía del árbol, si es posible", "cost": "Gratuito",
        "legal_deadline_days": 20, "actual_deadline_days": 35, "channel_phone": True,
    }),
    ("retiro-voluminosos", "Retiro de residuos voluminosos", "aseo-ornato-y-medio-ambiente", "DIMAO", "municipal",
     "specific", 2, True, 55, {
        "description": "Retiro de muebles, colchones, electrodomésticos y otros objetos grandes que no recoge el "
                       "camión de la basura.", "who_can_apply": "Vecinos de Lota.",
        "requirements": "Dirección\nDescripción de los objetos", "cost": "Gratuito una vez al trimestre",
        "legal_deadline_days": 10, "channel_phone": True,
    }),
    ("denuncia-microbasural", "Denuncia de microbasural", "aseo-ornato-y-medio-ambiente", "DIMAO", "medioambiente",
     "specific", 3, True, 14, {
        "description": "Avise de un lugar donde se acumula basura para que la municipalidad la retire y fiscalice.",
        "who_can_apply": "Cualquier persona.", "requirements": "Ubicación del microbasural\nFotografía, si es "
        "posible", "cost": "Gratuito", "legal_deadline_days": 5, "channel_digital": True, "channel_phone": True,
        "user_authentication": "none",
    }),
    ("certificado-deuda-aseo", "Certificado de deuda de derechos de aseo", "certificados", "DAF", "rentas", "specific",
     3, True, 10, {
        "description": "Acredita si una propiedad tiene deuda de derechos de aseo domiciliario, para vender o "
                       "postular a beneficios.", "who_can_apply": "El propietario o quien acredite interés.",
        "requirements": "Rol de avalúo", "cost": "Gratuito", "legal_deadline_days": 3, "channel_digital": True,
    }),
    ("exencion-aseo", "Exención del pago de derechos de aseo", "aseo-ornato-y-medio-ambiente", "DIDECO", "rentas",
     "specific", 1, True, 16, {
        "description": "Rebaja o exención del cobro de aseo domiciliario para hogares vulnerables.",
        "who_can_apply": "Propietarios u ocupantes de viviendas con Registro Social de Hogares en los tramos que "
                         "fija la ordenanza.",
        "requirements": "Cédula de identidad\nRegistro Social de Hogares\nRol de avalúo de la vivienda\n"
                        "Declaración jurada de ingresos", "steps": "Solicitud\nEvaluación social\nDecreto de exención",
        "cost": "Gratuito", "legal_deadline_days": 20, "units_involved": 2, "requires_natural_person_identity": True,
        "social_program": "Registro Social de Hogares",
    }),
    ("espacio-publico-evento", "Uso de espacio público para eventos", "transparencia-y-participacion", "SECMU",
     "municipal", "specific", 1, True, 7, {
        "description": "Autorización para hacer una actividad en una plaza, calle o recinto municipal: ferias, "
                       "actos, actividades deportivas o culturales.",
        "who_can_apply": "Personas y organizaciones.",
        "requirements": "Solicitud con fecha, hora y lugar\nPlan de seguridad y aseo\nSeguro, si corresponde",
        "cost": "Según la ordenanza local; gratuito para organizaciones comunitarias", "legal_deadline_days": 15,
        "units_involved": 3,
    }),
    ("subvencion-municipal", "Subvención municipal a organizaciones", "organizaciones-comunitarias", "DIDECO",
     "subvenciones", "specific", 1, True, 3, {
        "description": "Aporte de la municipalidad a proyectos de organizaciones sin fines de lucro de la comuna.",
        "who_can_apply": "Organizaciones con personalidad jurídica vigente inscritas en el registro de receptores "
                         "de fondos públicos.",
        "requirements": "Formulario de proyecto\nCertificado de personalidad jurídica vigente\nInscripción en el "
                        "registro de la Ley 19.862\nRendición de subvenciones anteriores",
        "steps": "Postulación\nEvaluación técnica\nAcuerdo del Concejo\nDecreto y convenio\nRendición",
        "cost": "Gratuito", "legal_deadline_days": 60, "actual_deadline_days": 90, "units_involved": 4,
        "user_type": "legal",
    }),
    ("personalidad-juridica", "Personalidad jurídica de organizaciones comunitarias", "organizaciones-comunitarias",
     "SECMU", "organizaciones", "specific", 1, True, 5, {
        "description": "Constitución de juntas de vecinos, clubes deportivos, agrupaciones y otras organizaciones "
                       "comunitarias, y certificados de su vigencia.",
        "who_can_apply": "Los vecinos que forman la organización (mínimo según la Ley 19.418).",
        "requirements": "Acta de constitución\nEstatutos\nNómina de socios con firma\nElección de la directiva",
        "steps": "Asamblea constitutiva ante ministro de fe\nDepósito del acta en la Secretaría Municipal\n"
                 "Revisión\nInscripción en el Registro Civil",
        "cost": "Gratuito", "legal_deadline_days": 30, "units_involved": 2, "user_type": "legal",
        "requires_other_bodies_data": True, "data_obtention": "request", "data_provider": "Registro Civil",
        "data_set": "Registro Nacional de Personas Jurídicas sin Fines de Lucro",
    }),
    ("reclamo-oirs", "Reclamos, sugerencias y felicitaciones (OIRS)", "transparencia-y-participacion", "SECMU",
     "procedimiento", "common", 3, True, 40, {
        "description": "Presente un reclamo, una sugerencia o una felicitación sobre la atención o los servicios "
                       "municipales.", "who_can_apply": "Cualquier persona.",
        "requirements": "Descripción del caso\nDatos de contacto para la respuesta", "cost": "Gratuito",
        "legal_deadline_days": 15, "channel_digital": True, "channel_phone": True,
    }),
    # In the inventory, not (yet) published in the catalogue: internal or common-function procedures.
    ("compras-publicas", "Compras públicas (licitaciones)", "", "DAF", "municipal", "common", 4, False, 10, {
        "description": "Adquisición de bienes y servicios por licitación pública en Mercado Público.",
        "cost": "", "legal_deadline_days": 60, "units_involved": 4,
    }),
    ("permisos-administrativos", "Permisos administrativos del personal", "", "RRHH", "municipal", "common", 2, False,
     30, {"description": "Solicitud y registro de permisos y feriados del personal municipal.",
          "legal_deadline_days": 3}),
    ("sumario-administrativo", "Sumario administrativo", "", "AJ", "procedimiento", "common", 0, False, 1, {
        "description": "Investigación de la responsabilidad administrativa de un funcionario.",
        "legal_deadline_days": 20, "actual_deadline_days": 120, "units_involved": 2}),
]

# slug -> (state, after-values, documents the State holds)
PLANS: dict[str, tuple[str, dict[str, Any], str]] = {
    "certificado-informaciones-previas": ("done", {"steps_after": 3, "requirements_after": 1, "days_after": 5},
                                          "Certificado de avalúo fiscal (SII)"),
    "acceso-informacion-publica": ("done", {"steps_after": 3, "requirements_after": 2, "days_after": 15}, ""),
    "permiso-circulacion": ("done", {"steps_after": 2, "requirements_after": 1, "days_after": 1},
                            "Revisión técnica (MTT)\nSeguro obligatorio SOAP"),
    "patente-comercial": ("in_progress", {"steps_after": 3, "requirements_after": 3, "days_after": 10},
                          "Iniciación de actividades (SII)\nRol de avalúo (SII)"),
    "permiso-edificacion": ("planned", {"steps_after": 4, "requirements_after": 5, "days_after": 30},
                            "Certificado de informaciones previas (emitido por la propia DOM)"),
    "ayuda-social": ("planned", {"requirements_after": 2, "days_after": 10}, "Registro Social de Hogares (MDSF)"),
}


def _actor(organization: Organization) -> User:
    user = (User.objects.filter(organization=organization, roles__code=RoleCode.DIGITAL_COORDINATOR).first()
            or User.objects.filter(organization=organization, roles__code=RoleCode.ADMIN).first())
    if user is None:
        from folio.core.demo import ensure_user

        user = ensure_user(organization, f"ctd.{organization.slug}", "Coordinación", "Digital", None,
                           [RoleCode.DIGITAL_COORDINATOR], "Coordinador/a de Transformación Digital")
    return user


def load(organization: Organization, *, seed: int = 21180) -> list[Procedure]:
    """Create (or complete) the demo inventory of ``organization``; returns its procedures."""
    actor = _actor(organization)
    units = {u.code: u for u in Unit.objects.filter(organization=organization)}
    topics: dict[str, Topic] = {}
    for position, (name, slug) in enumerate(TOPICS, start=1):
        topics[slug], _ = Topic.objects.get_or_create(organization=organization, slug=slug,
                                                      defaults={"name": name, "position": position})
    rng = random.Random(seed)
    existing = {p.slug: p for p in Procedure.objects.filter(organization=organization)}
    months = selectors.last_months(selectors.org_today(organization))
    code_number = 0
    out = []
    for slug, name, topic_slug, unit_code, law, kind, level, published, volume, extra in PROCEDURES:
        code_number += 1
        procedure = existing.get(slug)
        if procedure is None:
            law_number, law_url = LAWS[law]
            data: dict[str, Any] = {
                "slug": slug, "name": name, "code": f"PA-MUN-{organization.code[-4:]}-{code_number:04d}",
                "kind": kind, "topic": topics.get(topic_slug), "unit": units.get(unit_code),
                "law_number": law_number, "law_url": law_url, "digitalization_level": level,
                "contact": LOTA_CONTACT if organization.slug == "lota" else organization.email,
                "user_type": "natural", "channel_in_person": True, "staff_authentication": "own",
                "official_communications": "own_docdigital", "start_act": "Solicitud del interesado",
                "end_act": "Resolución o certificado de la unidad",
                "responsible_position": f"Director/a de {units[unit_code].name}" if unit_code in units else "",
                "availability": "Lunes a viernes, 8:30 a 13:30 horas",
                "case_file_type": "electronic" if level >= 4 else "paper",
                **extra,
            }
            if data.get("channel_digital") and not data.get("online_url"):
                data["online_url"] = f"https://www.lota.cl/tramites/{slug}"
            data["is_published"] = published
            procedure = services.procedure_create(actor=actor, data=data)
        out.append(procedure)
        if not MonthlyTransactions.objects.filter(procedure=procedure).exists():
            figures = []
            digital_share = {4: 0.7, 3: 0.35}.get(procedure.digitalization_level, 0.0)
            for index, (year, month) in enumerate(months):
                if index == 0 and volume < 5:
                    continue  # a month without information, as CPAT allows
                n = max(0, round(volume * rng.uniform(0.7, 1.3)))
                digital = round(n * digital_share)
                phone = round((n - digital) * 0.1) if procedure.channel_phone else 0
                figures += [services.Figure(year, month, "digital", digital),
                            services.Figure(year, month, "presencial", n - digital - phone),
                            services.Figure(year, month, "telefonico", phone)]
            services.transactions_save(actor=actor, procedure=procedure, figures=figures)
        plan = PLANS.get(slug)
        if plan is not None and not SimplificationPlan.objects.filter(procedure=procedure).exists():
            state, after, documents = plan
            from folio.procedures.text import lines

            today = timezone.localdate()
            services.plan_save(actor=actor, procedure=procedure, data={
                "state": state, "summary": "Se eliminan requisitos que el Estado ya tiene y se habilita la "
                                           "tramitación en línea con ClaveÚnica.",
                "steps_before": len(lines(procedure.steps)) or None,
                "requirements_before": len(lines(procedure.requirements)) or None,
                "days_before": procedure.actual_deadline_days or procedure.legal_deadline_days,
                "documents_state_holds": documents, "starts_on": today - dt.timedelta(days=200),
                "due_on": today + dt.timedelta(days=120),
                "done_on": today - dt.timedelta(days=30) if state == "done" else None, **after})
    if services.settings_get(organization).pk is None:
        services.settings_save(actor=actor, expected_procedures=45, simplification_goal_percent=50)
    return out
