"""Demo: a handful of online applications in different states, filed and processed through the real services.

``load(organization)`` is idempotent: it does nothing for a citizen who already has applications in the
organization, and nothing at all when the organization has no published form (``demo_definitions`` publishes
them). The applicants are the ClaveÚnica test users 55.555.555-5 and 88.888.888-8 (names as the sandbox gives
them); 44.444.444-4 is left without applications for the journey of a first-time applicant.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from folio.accounts.models import RoleCode, User
from folio.applications import services
from folio.applications.definitions import fields_of, stage_at, stage_count
from folio.applications.models import Application, DefinitionState, FormDefinition

logger = logging.getLogger(__name__)

CITIZENS = [
    (55555555, "5", "Juan Pablo", "Soto Pérez", "juan.soto@example.cl"),
    (88888888, "8", "Rosa Elena", "Sáez Fuentes", "rosa.saez@example.cl"),
]


def _citizen(number: int, dv: str, first: str, last: str, email: str) -> User:
    user = User.objects.filter(organization__isnull=True, run_number=number).first()
    if user is None:
        user = User(username=f"run-{number}", organization=None, run_number=number, run_dv=dv, first_name=first,
                    last_name=last, email=email)
        user.set_unusable_password()
        user.save()
    elif not user.email:
        user.email = email
        user.save(update_fields=["email"])
    return user


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (120, 80), (15, 105, 196)).save(buf, "PNG")
    return buf.getvalue()


def _answers(definition: FormDefinition, user: User) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Answers that satisfy ``definition`` for ``user``; None when a required file cannot be produced."""
    from folio.core.demo import demo_pdf

    data: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for spec in fields_of(definition):
        key, kind = spec["key"], spec["type"]
        if kind == "text":
            data[key] = user.get_full_name() if "nombre" in key else "Dato de ejemplo"
        elif kind == "textarea":
            data[key] = "Solicitud de demostración presentada en Folio."
        elif kind == "number":
            data[key] = "3"
        elif kind == "date":
            data[key] = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
        elif kind == "rut":
            data[key] = user.run_display
        elif kind == "email":
            data[key] = user.email
        elif kind == "phone":
            data[key] = "+56 9 1234 5678"
        elif kind == "address":
            data[key] = "Calle Matta 123, Lota"
        elif kind == "choice":
            choices = spec.get("choices") or []
            data[key] = [choices[0]] if spec.get("multiple") else choices[0]
        elif kind == "declaration":
            data[key] = "on"
        elif kind == "file":
            types = spec.get("types") or []
            if "pdf" in types:
                files[key] = SimpleUploadedFile(f"{key}.pdf", demo_pdf(spec.get("label", key), "Documento de "
                                                                       "demostración adjunto a la solicitud."))
            elif "png" in types:
                files[key] = SimpleUploadedFile(f"{key}.png", _png())
            elif spec.get("required"):
                return None
    return data, files


def _staff(organization: Any) -> User | None:
    return (User.objects.filter(organization=organization, is_active=True, roles__code=RoleCode.ADMIN)
            .order_by("pk").first())


def _file(user: User, definition: FormDefinition) -> Application | None:
    made = _answers(definition, user)
    if made is None:
        return None
    data, files = made
    return services.application_submit(actor=user, definition=definition, data=data, files=files)


def _resolve(app: Application, staff: User) -> Application:
    """Walk the stages with the administrator and resolve favourably where the definition allows it."""
    while app.stage_index + 1 < stage_count(app.definition):
        if "approve" not in stage_at(app.definition, app.stage_index).get("actions", []):
            return app
        app = services.application_approve(actor=staff, application=app, note="Antecedentes conformes.")
    if "resolve" in stage_at(app.definition, app.stage_index).get("actions", []):
        app = services.application_resolve(actor=staff, application=app, outcome="approved",
                                           text="Se accede a lo solicitado conforme a los antecedentes presentados.")
    return app


def load(organization: Any) -> list[Application]:
    """Create the demo applications of ``organization``; returns those created by this call."""
    definitions = list(FormDefinition.objects.filter(organization=organization, state=DefinitionState.PUBLISHED)
                       .select_related("organization", "procedure").order_by("procedure__name"))
    if not definitions:
        return []
    juan, rosa = (_citizen(*c) for c in CITIZENS)
    staff = _staff(organization)
    created: list[Application] = []
    if not Application.objects.filter(organization=organization, applicant=juan).exists():
        submitted = _file(juan, definitions[0])
        if submitted is not None:
            created.append(submitted)
        in_correction = _file(juan, definitions[1 % len(definitions)])
        if in_correction is not None:
            if staff is not None:
                services.application_request_correction(
                    actor=staff, application=in_correction,
                    message="Adjunte la fotocopia de la cédula de identidad por ambos lados.")
                in_correction.refresh_from_db()
            created.append(in_correction)
    if not Application.objects.filter(organization=organization, applicant=rosa).exists():
        resolved = _file(rosa, definitions[2 % len(definitions)])
        if resolved is not None:
            created.append(_resolve(resolved, staff) if staff is not None else resolved)
    logger.info("demo applications: %s created for %s", len(created), organization)
    return created
