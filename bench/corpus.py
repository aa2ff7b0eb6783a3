"""Realistic Spanish correspondence of a Chilean municipality, for the benchmarks.

Subjects, senders, streets and letter bodies are drawn with fixed weights from a seeded generator, so
the same seed gives the same book. The weights make three kinds of search term on purpose:
very common (``solicita``, ``lota``: a large share of all registrations), medium (``luminaria``,
``patente``: about 1 %) and rare (``exhumación``, ``Huenchullán``: a few dozen in a million).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from folio.core.rut import check_digit

# (subject template, unit code, document type, weight). Weights are relative.
SUBJECTS: list[tuple[str, str, int, float]] = [
    ("Solicita certificado de informaciones previas para propiedad en calle {street} N° {num}", "DOM", 40, 60),
    ("Solicita permiso de edificación de obra menor en {sector}", "DOM", 40, 40),
    ("Solicita recepción final de obras en calle {street} N° {num}", "DOM", 40, 20),
    ("Solicita certificado de número en pasaje {street}", "DOM", 40, 25),
    ("Solicita permiso de ocupación de bien nacional de uso público en {street}", "DOM", 40, 10),
    ("Reclamo por luminaria apagada en {sector}", "DIMAO", 34, 12),
    ("Solicita retiro de escombros en calle {street}", "DIMAO", 40, 25),
    ("Denuncia microbasural en sector {sector}", "DIMAO", 16, 18),
    ("Solicita poda de árboles en calle {street} frente al N° {num}", "DIMAO", 40, 20),
    ("Solicita audiencia con la Alcaldesa (Ley del Lobby)", "ALC", 40, 30),
    ("Invitación a ceremonia de aniversario de la junta de vecinos de {sector}", "ALC", 7, 15),
    ("Solicitud de acceso a información pública Ley 20.285", "SECMU", 40, 35),
    ("Remite oficio sobre fiscalización sanitaria en {sector}", "DIDECO", 30, 10),
    ("Solicita ayuda social por emergencia habitacional", "DIDECO", 40, 60),
    ("Solicita aporte para tratamiento médico de familiar", "DIDECO", 40, 25),
    ("Postulación a subvención municipal del club deportivo de {sector}", "DIDECO", 40, 10),
    ("Solicita inscripción en Registro Social de Hogares", "DIDECO", 40, 45),
    ("Solicita patente comercial para almacén de barrio en {street}", "DAF", 40, 12),
    ("Solicita renovación de patente de alcoholes", "DAF", 40, 8),
    ("Remite factura por servicios de mantención de áreas verdes", "DAF", 6, 30),
    ("Solicita devolución de derechos municipales pagados en exceso", "DAF", 40, 10),
    ("Remite decreto de asignación de recursos FNDR", "SECPLAN", 15, 8),
    ("Remite bases de licitación pública para pavimentación de calle {street}", "SECPLAN", 5, 6),
    ("Solicita demarcación de paso peatonal frente a escuela en {street}", "TRANS", 40, 8),
    ("Solicita licencia de conducir clase B", "TRANS", 40, 50),
    ("Solicita permiso de circulación para vehículo de transporte escolar", "TRANS", 40, 15),
    ("Informe de contraloría sobre rendición de cuentas del ejercicio {year}", "CONTROL", 22, 5),
    ("Consulta sobre convenio de colaboración con universidad", "AJ", 11, 5),
    ("Presenta recurso de reposición contra decreto exento N° {num}", "AJ", 40, 8),
    ("Notificación de demanda laboral ante el Juzgado de Letras del Trabajo", "AJ", 29, 4),
    ("Remite memorándum sobre calendario de vacaciones del personal", "RRHH", 25, 20),
    ("Solicita certificado de antigüedad laboral", "RRHH", 40, 15),
    ("Solicita soporte para cuenta de correo institucional", "TI", 40, 10),
    ("Remite acta de sesión ordinaria del Concejo Municipal N° {num}", "SECMU", 1, 12),
    ("Solicita copia autorizada de decreto alcaldicio N° {num}", "SECMU", 40, 10),
    # Rare on purpose: a few dozen per million.
    ("Solicita exhumación de restos en cementerio municipal de Lota Alto", "SECMU", 40, 0.012),
    ("Ofrece retrocompra de terreno expropiado en {sector}", "AJ", 38, 0.01),
]

STREETS = [
    ("Matta", 20), ("Carrera", 15), ("Pedro Aguirre Cerda", 12), ("Baquedano", 10), ("Condell", 9),
    ("O'Higgins", 9), ("Serrano", 6), ("Cousiño", 6), ("Caupolicán", 5), ("Galvarino", 5), ("Los Carrera", 4),
    ("Bannen", 4), ("Arturo Prat", 4), ("Esmeralda", 3), ("Carlos Cousiño", 3), ("Monsalve", 2), ("Bellavista", 2),
    ("Los Aromos", 2), ("El Roble", 1), ("Las Araucarias", 1), ("Lientur", 1), ("Colo Colo", 1),
]
SECTORS = [
    ("Lota Alto", 20), ("Lota Bajo", 20), ("Fundición", 10), ("Villa Alegre", 8), ("Bellavista", 8),
    ("Colcura", 4), ("Chambeque", 4), ("Santa María", 6), ("El Morro", 5), ("Villa Fernández", 3),
    ("Población Juan Pablo II", 3), ("Sector Pabellón 83", 2), ("Playa Blanca", 2), ("Villa Centinela", 2),
]
FIRST_NAMES = [
    "María José", "Juan Pablo", "Rosa Elena", "Luis Alberto", "Camila", "Francisco", "Valentina", "Benjamín",
    "Catalina", "Matías", "Javiera", "Sebastián", "Fernanda", "Diego", "Constanza", "Cristóbal", "Daniela",
    "José Miguel", "Carolina", "Felipe", "Patricia", "Jorge", "Marcela", "Héctor", "Ximena", "Manuel", "Paola",
    "Ricardo", "Claudia", "Sergio", "Verónica", "Rodrigo", "Lorena", "Pedro", "Gloria", "Alejandro", "Teresa",
    "Nicolás", "Carmen", "Tomás", "Isidora", "Vicente", "Antonia", "Joaquín", "Florencia", "Martín", "Sofía",
]
# Chilean surnames with Zipf-like weights; the last ones are rare on purpose.
SURNAMES = [
    ("González", 60), ("Muñoz", 45), ("Rojas", 38), ("Díaz", 33), ("Pérez", 30), ("Soto", 28), ("Contreras", 25),
    ("Silva", 24), ("Martínez", 22), ("Sepúlveda", 21), ("Morales", 20), ("Rodríguez", 19), ("López", 18),
    ("Fuentes", 17), ("Hernández", 16), ("Torres", 15), ("Araya", 14), ("Flores", 14), ("Espinoza", 13),
    ("Valenzuela", 13), ("Castillo", 12), ("Ramírez", 12), ("Reyes", 11), ("Gutiérrez", 11), ("Castro", 10),
    ("Vargas", 10), ("Álvarez", 10), ("Vásquez", 9), ("Tapia", 9), ("Fernández", 9), ("Sánchez", 8),
    ("Carrasco", 8), ("Gómez", 8), ("Cortés", 8), ("Herrera", 7), ("Núñez", 7), ("Jara", 7), ("Vergara", 7),
    ("Rivera", 6), ("Figueroa", 6), ("Riquelme", 6), ("García", 6), ("Miranda", 6), ("Bravo", 5), ("Vera", 5),
    ("Molina", 5), ("Vega", 5), ("Campos", 5), ("Sandoval", 5), ("Orellana", 4), ("Zúñiga", 4), ("Olivares", 4),
    ("Alarcón", 4), ("Gallardo", 4), ("Ortiz", 4), ("Garrido", 4), ("Salazar", 4), ("Guzmán", 4), ("Henríquez", 3),
    ("Saavedra", 3), ("Navarro", 3), ("Aguilera", 3), ("Parra", 3), ("Romero", 3), ("Aravena", 3), ("Vidal", 3),
    ("Pizarro", 3), ("Godoy", 3), ("Peña", 3), ("Cáceres", 3), ("Leiva", 3), ("Escobar", 3), ("Yáñez", 2),
    ("Valdés", 2), ("Oyarzún", 2), ("Salinas", 2), ("Cárdenas", 2), ("Jiménez", 2), ("Ruiz", 2), ("Lagos", 2),
    ("Maldonado", 2), ("Bustos", 2), ("Medina", 2), ("Pino", 2), ("Palma", 2), ("Moreno", 2), ("Sanhueza", 2),
    ("Carvajal", 2), ("Navarrete", 2), ("Sáez", 2), ("Alvarado", 2), ("Donoso", 2), ("Poblete", 2),
    ("Mella", 1.5), ("Quezada", 1.5), ("Fuentealba", 1.5), ("Oses", 1), ("Melo", 1), ("Pinto", 1),
    ("Quilodrán", 0.02), ("Huenchullán", 0.004), ("Catrileo", 0.004),
]
COMPANIES = [
    "Constructora Biobío Sur SpA", "Almacén Don Lucho Ltda.", "Transportes Carbonífera Ltda.",
    "Inmobiliaria Costa de Arauco SpA", "Servicios Ambientales del Sur S.A.", "Comercial Lota Alto Ltda.",
    "Pesquera Golfo de Arauco S.A.", "Ferretería El Minero SpA", "Clínica Dental Bellavista Ltda.",
    "Junta de Vecinos Villa Alegre", "Club Deportivo Lota Schwager", "Sindicato de Pescadores Artesanales de Lota",
]
PUBLIC_BODIES = [
    ("Seremi de Salud Región del Biobío", "AO003"), ("Contraloría Regional del Biobío", "AB001"),
    ("Gobierno Regional del Biobío", "AE004"), ("SERVIU Región del Biobío", "AH002"),
    ("Carabineros de Chile, 3ª Comisaría de Lota", "AC007"), ("Juzgado de Policía Local de Lota", "AJ010"),
    ("Subsecretaría de Desarrollo Regional y Administrativo", "AB002"), ("Dirección del Trabajo", "AK003"),
]
BODY_OPENINGS = [
    "Junto con saludar cordialmente, me dirijo a usted para exponer lo siguiente.",
    "Por medio de la presente, y de conformidad con la normativa vigente, solicito a usted lo que se indica.",
    "Mediante el presente documento vengo en formular la siguiente presentación.",
    "Tengo el agrado de dirigirme a usted con el objeto de plantear la materia que se describe.",
]
BODY_MIDDLES = [
    "Adjunto los antecedentes que acreditan lo expuesto, incluida copia de la cédula de identidad.",
    "La situación afecta a los vecinos del sector desde hace varias semanas y no ha tenido solución.",
    "Se hace presente que la solicitud se funda en la Ley N°19.880 sobre procedimiento administrativo.",
    "Agradeceré que la respuesta se envíe al correo electrónico indicado en esta presentación.",
    "Se acompaña plano de ubicación, fotografías del lugar y certificado de avalúo fiscal.",
    "Esta presentación se realiza dentro del plazo legal y cumple los requisitos establecidos.",
]
BODY_CLOSINGS = [
    "Sin otro particular, saluda atentamente a usted.",
    "Quedando atento a su respuesta, le saluda cordialmente.",
    "Esperando una favorable acogida, se despide atentamente.",
]


@dataclass
class Letter:
    subject: str
    unit_code: str
    document_type: int
    party_kind: str
    party_name: str
    rut_number: int | None
    rut_dv: str
    body_code: str
    email: str
    address: str
    summary: str
    keywords: str
    body: str


def _weighted(items: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    return [i[0] for i in items], [float(i[1]) for i in items]


class Corpus:
    """Draws letters with a seeded generator. ``commune`` names the municipality in the text."""

    def __init__(self, seed: int, commune: str = "Lota") -> None:
        self.rng = random.Random(seed)
        self.commune = commune
        self._subjects = [s[0] for s in SUBJECTS]
        self._subject_cum = _cumulative([s[3] for s in SUBJECTS])
        self._streets, w = _weighted(STREETS)
        self._street_cum = _cumulative(w)
        self._sectors, w = _weighted(SECTORS)
        self._sector_cum = _cumulative(w)
        self._surnames, w = _weighted(SURNAMES)
        self._surname_cum = _cumulative(w)

    def _pick(self, values: list[str], cum: list[float]) -> str:
        return self.rng.choices(values, cum_weights=cum)[0]

    def person(self) -> tuple[str, int, str]:
        rng = self.rng
        name = (f"{rng.choice(FIRST_NAMES)} {self._pick(self._surnames, self._surname_cum)} "
                f"{self._pick(self._surnames, self._surname_cum)}")
        number = rng.randint(4_000_000, 26_000_000)
        return name, number, check_digit(number)

    def letter(self, year: int) -> Letter:
        rng = self.rng
        index = rng.choices(range(len(SUBJECTS)), cum_weights=self._subject_cum)[0]
        template, unit_code, doc_type, _weight = SUBJECTS[index]
        street = self._pick(self._streets, self._street_cum)
        sector = self._pick(self._sectors, self._sector_cum)
        subject = template.format(street=street, sector=sector, num=rng.randint(1, 2999), year=year - 1)
        roll = rng.random()
        rut_number: int | None = None
        rut_dv = body_code = email = ""
        if roll < 0.70:
            kind = "citizen"
            name, rut_number, rut_dv = self.person()
            first = name.split()[0].lower()
            email = f"{first}.{rut_number % 9973}@correo.cl" if rng.random() < 0.5 else ""
        elif roll < 0.85:
            kind = "company"
            name = rng.choice(COMPANIES)
            rut_number = rng.randint(76_000_000, 77_999_999)
            rut_dv = check_digit(rut_number)
            email = "contacto@empresa.cl"
        else:
            kind = "public_body"
            name, body_code = rng.choice(PUBLIC_BODIES)
            email = "oficinadepartes@gob.cl"
        address = f"{street} {rng.randint(1, 2999)}, {sector}, {self.commune}"
        summary = f"{subject}. Ingresado por la Oficina de Partes de {self.commune}."
        keywords = " ".join(subject.lower().split()[:3])
        body = " ".join([
            f"Señor(a) Alcalde(sa) de la I. Municipalidad de {self.commune}:",
            rng.choice(BODY_OPENINGS),
            f"{subject}.",
            rng.choice(BODY_MIDDLES),
            rng.choice(BODY_MIDDLES),
            rng.choice(BODY_CLOSINGS),
            f"{name}. {address}. {self.commune}, Región del Biobío.",
        ])
        return Letter(subject[:500], unit_code, doc_type, kind, name, rut_number, rut_dv, body_code, email,
                      address, summary, keywords, body)


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out
