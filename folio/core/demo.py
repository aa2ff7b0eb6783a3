"""Demo data for the I. Municipalidad de Lota (and a second municipality to show isolation).
Everything goes through the real services, so folios, audit chain and search index are genuine."""

from __future__ import annotations

import datetime as dt
import io
import random

from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen import canvas

from folio.accounts.models import Role, RoleCode, User
from folio.organizations.models import NonWorkingDay, Organization, Unit

DEMO_PASSWORD = "Lota-demo-2026"

UNITS = [
    ("ALC", "Alcaldía", "ALC"),
    ("SECMU", "Secretaría Municipal", "SECMU"),
    ("OP", "Oficina de Partes", "OP"),
    ("DOM", "Dirección de Obras Municipales", "DOM"),
    ("DIDECO", "Dirección de Desarrollo Comunitario", "DIDECO"),
    ("DAF", "Dirección de Administración y Finanzas", "DAF"),
    ("SECPLAN", "Secretaría Comunal de Planificación", "SECPLAN"),
    ("AJ", "Asesoría Jurídica", "AJ"),
    ("TRANS", "Dirección de Tránsito y Transporte Público", "TRÁNSITO"),
    ("CONTROL", "Dirección de Control", "CONTROL"),
    ("DIMAO", "Dirección de Medio Ambiente, Aseo y Ornato", "DIMAO"),
    ("RRHH", "Departamento de Recursos Humanos", "RR.HH."),
    ("TI", "Departamento de Informática", "TI"),
]

# username, first, last, unit, roles, position
STAFF: list[tuple[str, str, str, str, list[str], str]] = [
    ("admin.lota", "Andrea", "Muñoz Riquelme", "TI", [RoleCode.ADMIN], "Administradora de Folio"),
    ("partes.lota", "Patricia", "Soto Sandoval", "OP", [RoleCode.REGISTRY], "Encargada Oficina de Partes"),
    ("dom.lota", "Daniel", "Orellana Mella", "DOM", [RoleCode.OFFICIAL], "Arquitecto DOM"),
    ("jefe.dom", "Jorge", "Fuentealba Vera", "DOM", [RoleCode.HEAD, RoleCode.SIGNER], "Director de Obras Municipales"),
    ("alcalde", "Alicia", "Castro Pinto", "ALC", [RoleCode.SIGNER], "Alcaldesa"),
    ("secmun", "Sergio", "Melo Contreras", "SECMU", [RoleCode.SIGNER, RoleCode.OFFICIAL], "Secretario Municipal"),
    ("ctd.lota", "Camila", "Torres Díaz", "SECPLAN", [RoleCode.DIGITAL_COORDINATOR, RoleCode.OFFICIAL],
     "Coordinadora de Transformación Digital"),
    ("auditor.lota", "Rodrigo", "Alarcón Parra", "CONTROL", [RoleCode.AUDITOR], "Director de Control"),
    ("juridico.lota", "Valentina", "Rojas Leiva", "AJ", [RoleCode.OFFICIAL, RoleCode.HEAD], "Asesora Jurídica"),
    ("dideco.lota", "Francisco", "Navarrete Oses", "DIDECO", [RoleCode.OFFICIAL], "Asistente Social"),
]

SUBJECTS = [
    ("Solicita certificado de informaciones previas", "DOM", 40),
    ("Solicita permiso de edificación obra menor", "DOM", 40),
    ("Reclamo por luminaria apagada en población Fundición", "DIMAO", 34),
    ("Solicita retiro de escombros en calle Matta", "DIMAO", 40),
    ("Solicita audiencia con la Alcaldesa (Ley del Lobby)", "ALC", 40),
    ("Solicitud de acceso a información pública Ley 20.285", "SECMU", 40),
    ("Remite oficio sobre fiscalización sanitaria", "DIDECO", 30),
    ("Solicita ayuda social por emergencia habitacional", "DIDECO", 40),
    ("Solicita patente comercial para almacén de barrio", "DAF", 40),
    ("Remite decreto de asignación de recursos FNDR", "SECPLAN", 30),
    ("Denuncia microbasural en sector Lota Alto", "DIMAO", 16),
    ("Solicita demarcación de paso peatonal frente a escuela", "TRANS", 40),
    ("Informe de contraloría sobre rendición de cuentas", "CONTROL", 22),
    ("Consulta sobre convenio de colaboración con universidad", "AJ", 11),
    ("Solicita permiso de ocupación de bien nacional de uso público", "DOM", 40),
    ("Presenta recurso de reposición contra decreto exento", "AJ", 40),
]
SENDERS = [
    ("citizen", "María José Carrasco Vidal", "16.234.567-9"),
    ("citizen", "Juan Pablo Henríquez Mora", "12.345.678-5"),
    ("citizen", "Rosa Elena Sáez Fuentes", "9.876.543-3"),
    ("citizen", "Luis Alberto Parra Quezada", "18.765.432-7"),
    ("company", "Constructora Biobío Sur SpA", "76.543.210-3"),
    ("company", "Almacén Don Lucho Ltda.", "77.123.456-0"),
    ("public_body", "Seremi de Salud Región del Biobío", ""),
    ("public_body", "Contraloría Regional del Biobío", ""),
    ("public_body", "Gobierno Regional del Biobío", ""),
]


def demo_pdf(title: str, body: str, pages: int = 1) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=LETTER, invariant=True)
    for page in range(pages):
        c.setFont("Helvetica-Bold", 14)
        c.drawString(72, 720, title[:90])
        c.setFont("Helvetica", 11)
        y = 690
        for line in (body + f" Página {page + 1} de {pages}.").split(". "):
            c.drawString(72, y, line[:95])
            y -= 16
        c.showPage()
    c.save()
    return buf.getvalue()


def _fix_rut(raw: str) -> str:
    from folio.core.rut import check_digit

    if not raw:
        return ""
    number = int(raw.split("-")[0].replace(".", ""))
    return f"{number}-{check_digit(number)}"


def ensure_organization(code: str, name: str, short: str, slug: str, commune: str, units: list[tuple[str, str, str]]
                        ) -> Organization:
    org, _ = Organization.objects.update_or_create(
        slug=slug,
        defaults={"code": code, "name": name, "short_name": short, "commune": commune, "region": "Biobío",
                  "holiday_subdivision": "BI", "email": f"partes@{slug}.cl"},
    )
    for ucode, uname, acronym in units:
        Unit.objects.update_or_create(
            organization=org, code=ucode,
            defaults={"name": uname, "acronym": acronym, "is_registry_office": ucode == "OP",
                      "email": f"{ucode.lower()}@{slug}.cl"},
        )
    return org


def ensure_user(org: Organization | None, username: str, first: str, last: str, unit_code: str | None,
                roles: list[str], position: str, *, superuser: bool = False) -> User:
    user, _ = User.objects.get_or_create(username=username)
    user.first_name, user.last_name, user.position = first, last, position
    user.organization = org
    user.unit = Unit.objects.get(organization=org, code=unit_code) if org and unit_code else None
    user.email = f"{username}@{org.slug}.cl" if org else f"{username}@folio.localhost"
    user.is_staff = superuser or RoleCode.ADMIN in roles
    user.is_superuser = superuser
    user.set_password(DEMO_PASSWORD)
    user.save()
    user.roles.set(Role.objects.filter(code__in=roles))
    return user


def load(*, registrations: int = 300, seed: int = 2026) -> list[tuple[str, str, str]]:
    """Create or refresh the demo. Registrations are only added to an empty book, so running it
    again changes nothing but passwords."""
    from folio.registry import services
    from folio.registry.models import Registration

    lota = ensure_organization("MUN-8106", "I. Municipalidad de Lota", "Lota", "lota", "Lota", UNITS)
    coronel = ensure_organization("MUN-8102", "I. Municipalidad de Coronel", "Coronel", "coronel", "Coronel",
                                  UNITS[:4])
    NonWorkingDay.objects.get_or_create(organization=lota, date=dt.date(2026, 12, 24),
                                        defaults={"reason": "Feriado comunal (decreto alcaldicio)"})
    users = {s[0]: ensure_user(lota, s[0], s[1], s[2], s[3], list(s[4]), s[5]) for s in STAFF}
    ensure_user(coronel, "partes.coronel", "Claudia", "Reyes Sepúlveda", "OP", [RoleCode.REGISTRY],
                "Encargada Oficina de Partes")
    ensure_user(None, "superadmin", "Soporte", "Folio", None, [], "Administración de la plataforma", superuser=True)

    if not Registration.objects.filter(organization=lota).exists():
        _registrations(lota, users, registrations, random.Random(seed))
    from folio.procedures.demo import load as load_procedures

    load_procedures(lota)  # the CPAT inventory and the public catalogue /tramites/
    from folio.case_files.demo import load as load_case_files

    load_case_files(lota)
    from folio.acts.demo import load as load_acts

    acts_logins = load_acts(lota)
    from folio.signatures.demo import load as load_firmagob

    acts_logins += load_firmagob(lota, users.get("admin.lota"))  # the FirmaGob sandbox, where sandboxes are on
    from folio.claveunica.demo import load as load_claveunica

    claveunica_logins = load_claveunica(lota)  # the ClaveÚnica sandbox, where sandboxes are on
    # After the hand-built expedientes: each demo application opens one of its own.
    from folio.applications import demo as applications_demo
    from folio.applications import demo_definitions

    demo_definitions.load(lota, users.get("admin.lota"))  # online forms of five procedures
    applications_demo.load(lota)  # applications in several states, by the ClaveÚnica test citizens
    if not Registration.objects.filter(organization=coronel).exists():
        clerk = User.objects.get(username="partes.coronel")
        services.registration_create_incoming(actor=clerk, data=services.RegistrationInput(
            document_type=7, subject="Carta de vecino de Coronel (no visible para Lota)", party_kind="citizen",
            party_name="Pedro Coronel Reyes", party_rut="11.111.111-1", mechanism=1, channel="paper"))
    logins = [(s[0], DEMO_PASSWORD, s[5]) for s in STAFF]
    logins.append(("partes.coronel", DEMO_PASSWORD, "Oficina de Partes, I. Municipalidad de Coronel"))
    logins.append(("superadmin", DEMO_PASSWORD, "Superusuario de la plataforma (/admin/)"))
    logins.extend(acts_logins)
    logins.extend(claveunica_logins)
    return logins


def _registrations(org: Organization, users: dict[str, User], count: int, rng: random.Random) -> None:
    from folio.registry import services
    from folio.registry.models import Registration

    clerk = users["partes.lota"]
    units = {u.code: u for u in Unit.objects.filter(organization=org)}
    staff_by_unit: dict[str, User] = {}
    for u in users.values():
        if u.unit and u.unit.code not in staff_by_unit and u.has_role(RoleCode.OFFICIAL):
            staff_by_unit[u.unit.code] = u
    now = timezone.now()
    for i in range(count):
        subject, unit_code, doc_type = rng.choice(SUBJECTS)
        kind, name, rut = rng.choice(SENDERS)
        received = now - dt.timedelta(days=(count - i) * 0.6, minutes=rng.randint(0, 600))
        restricted = rng.random() < 0.12
        pages = rng.randint(1, 3)
        data = services.RegistrationInput(
            document_type=doc_type, subject=subject, party_kind=kind, party_name=name, party_rut=_fix_rut(rut),
            party_body_code="AO001" if kind == "public_body" else "",
            summary=f"{subject}. Ingresado por ventanilla de la Oficina de Partes de Lota.",
            received_at=received, document_date=timezone.localtime(received).date(),
            unit_id=units[unit_code].pk, addressee=units[unit_code].name,
            mechanism=3 if i % 3 else 2, channel="paper" if i % 3 else "electronic",
            access_level=2 if restricted else 1, sensitive_data=restricted and kind == "citizen",
            keywords=" ".join(subject.lower().split()[:3]),
            documents=[services.UploadedDoc(
                name=f"documento-{i + 1:04d}.pdf",
                data=demo_pdf(subject, f"Señor(a) Alcalde(sa): {subject}. Remitente {name}. "
                                       f"Se adjuntan antecedentes. Lota, Región del Biobío.", pages))],
        )
        with transaction.atomic():
            reg = services.registration_create_incoming(actor=clerk, data=data)
            stage = rng.random()
            if stage < 0.15:
                continue
            services.registration_route(actor=clerk, registration=reg, to_unit_ids=[units[unit_code].pk],
                                        instruction="response", business_days=rng.choice([5, 10, 15, 20]))
            if stage < 0.35:
                continue
            official = staff_by_unit.get(unit_code)
            if official is None:
                continue
            routing = reg.routings.get()
            services.routing_acknowledge(actor=official, routing=routing)
            if stage < 0.6:
                continue
            if stage < 0.85:
                out = services.registration_create_outgoing(actor=official, data=services.RegistrationInput(
                    document_type=30, subject=f"Responde {reg.folio}: {subject}"[:500], party_kind=kind,
                    party_name=name, party_rut=_fix_rut(rut), answers_id=reg.pk, delivery_method="by_hand",
                    documents=[services.UploadedDoc(name="respuesta.pdf", data=demo_pdf(
                        f"Ord. respuesta a {reg.folio}", f"Junto con saludar, se responde {subject}."))]))
                services.registration_dispatch(actor=official, registration=out, method="by_hand",
                                               reference="Recibido en ventanilla por el interesado")
            elif stage < 0.95:
                services.registration_close(actor=official, registration=Registration.objects.get(pk=reg.pk),
                                            note="Se archiva: tomado conocimiento.")
            else:
                services.registration_void(actor=clerk, registration=Registration.objects.get(pk=reg.pk),
                                           reason="Ingreso duplicado por error de digitación")
