"""The templates every organization starts with (created on first use, and by the demo). They are data the
organization's administrator edits afterwards; the legal formulas are the usual ones of Chilean municipal
acts. ``{unit}`` in a letterhead is replaced by the drafting unit's name."""

from __future__ import annotations

from typing import Any

from folio.acts.models import ActKind

DEFAULT_TEMPLATES: list[dict[str, Any]] = [
    {
        "kind": ActKind.OFFICIAL_LETTER,
        "name": "Oficio ordinario",
        "numbering_scheme": "Oficio Ord. N° {n}/{year}",
        "antecedents_label": "ANT.:",
        "antecedents": "",
        "subject": "",
        "body": "Junto con saludar, y en atención a lo solicitado, informo a usted lo siguiente:\n\n",
        "closing": "Sin otro particular, saluda atentamente a usted,",
        "distribution": "Destinatario\nArchivo de la unidad\nOficina de Partes",
        "show_from_to": True,
    },
    {
        "kind": ActKind.MEMORANDUM,
        "name": "Memorándum",
        "numbering_scheme": "Memorándum N° {n}/{year}",
        "antecedents_label": "ANT.:",
        "antecedents": "",
        "subject": "",
        "body": "Por medio del presente, informo a usted lo siguiente:\n\n",
        "closing": "Saluda atentamente,",
        "distribution": "Destinatario\nArchivo de la unidad",
        "show_from_to": True,
    },
    {
        "kind": ActKind.EXEMPT_DECREE,
        "name": "Decreto alcaldicio exento",
        "numbering_scheme": "Decreto Exento N° {n}/{year}",
        "antecedents_label": "VISTOS:",
        "antecedents": "Las facultades que me confiere la Ley N° 18.695, Orgánica Constitucional de Municipalidades, "
                       "y sus modificaciones posteriores.",
        "subject": "",
        "body": "CONSIDERANDO:\n\n1. \n\nDECRETO:\n\n1. ",
        "closing": "ANÓTESE, COMUNÍQUESE Y ARCHÍVESE.",
        "distribution": "Secretaría Municipal\nDirección de Control\nOficina de Partes",
        "show_from_to": False,
    },
    {
        "kind": ActKind.RESOLUTION,
        "name": "Resolución exenta",
        "numbering_scheme": "Resolución Exenta N° {n}/{year}",
        "antecedents_label": "VISTOS:",
        "antecedents": "Lo dispuesto en la Ley N° 19.880, que establece las Bases de los Procedimientos "
                       "Administrativos que rigen los Actos de los Órganos de la Administración del Estado.",
        "subject": "",
        "body": "CONSIDERANDO:\n\n1. \n\nRESUELVO:\n\n1. ",
        "closing": "ANÓTESE, NOTIFÍQUESE Y ARCHÍVESE.",
        "distribution": "Interesado\nOficina de Partes",
        "show_from_to": False,
    },
    {
        "kind": ActKind.CERTIFICATE,
        "name": "Certificado",
        "numbering_scheme": "Certificado N° {n}/{year}",
        "antecedents_label": "ANT.:",
        "antecedents": "",
        "subject": "",
        "body": "Quien suscribe certifica que ",
        "closing": "Se extiende el presente certificado a petición del interesado, para los fines que estime "
                   "conveniente.",
        "distribution": "Interesado\nArchivo de la unidad",
        "show_from_to": False,
    },
]


def default_letterhead(organization: Any) -> str:
    return f"{organization.name.upper()}\n{{unit}}"
