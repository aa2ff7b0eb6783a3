"""Demo official documents for Lota, made through the real services: templates with their default signers, a
delegation and an acting appointment, and acts in every state of the circuit (numbers, signatures, PDFs,
verification codes and audit trail are genuine)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone

from folio.accounts.models import User
from folio.acts import services
from folio.acts.models import Act, ActKind, ActTemplate, TemplateStep
from folio.core.rut import check_digit, format_rut

log = logging.getLogger(__name__)

# Signing passphrase of the demo signers (simple electronic signature), printed by load_demo.
SIGNING_PASSPHRASE = "Firma-Lota-2026"  # noqa: S105 — demo data, published in the README
# The demo signers' RUNs (valid modulo-11 check digits; none is a citizen's RUN of the demo): FirmaGob signs
# only for a RUN, and the sandbox's OTP is per RUN (/sandbox/firmagob/otp).
SIGNERS = {"alcalde": (15482637, "8"), "secmun": (13209456, "K"), "jefe.dom": (10736915, "5")}


def _users() -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(username__in=[
        "alcalde", "secmun", "jefe.dom", "dom.lota", "juridico.lota", "admin.lota", "dideco.lota"])}


def _enroll(users: dict[str, User]) -> None:
    """Every load: the demo signers carry their RUN, and an active certificate issued for it (one issued
    before, for no RUN or another one, is renewed with the demo passphrase)."""
    from folio.signatures import pki
    from folio.signatures.selectors import certificate_of, signer_certificate_active
    from folio.signatures.services import signer_enroll

    for username, (number, dv) in SIGNERS.items():
        user = users.get(username)
        if user is None:
            continue
        assert check_digit(number) == dv, username
        if (user.run_number, user.run_dv) != (number, dv):
            user.run_number, user.run_dv = number, dv
            user.save(update_fields=["run_number", "run_dv"])
        cert = signer_certificate_active(user)
        if cert is None or pki.run_of(certificate_of(cert)) != f"{number}-{dv}":
            signer_enroll(signer=user, passphrase=SIGNING_PASSPHRASE, actor=user)


def _default_steps(templates: dict[str, ActTemplate], users: dict[str, User]) -> None:
    plan = {
        ActKind.OFFICIAL_LETTER: [("sign", "alcalde")],
        ActKind.EXEMPT_DECREE: [("endorse", "juridico.lota"), ("sign", "alcalde"), ("sign", "secmun")],
        ActKind.RESOLUTION: [("sign", "alcalde")],
        ActKind.CERTIFICATE: [("sign", "jefe.dom")],
        ActKind.MEMORANDUM: [("sign", "jefe.dom")],
    }
    for kind, steps in plan.items():
        template = templates.get(kind)
        if template is None or template.steps.exists():
            continue
        positions = {"sign": 0, "endorse": 0}
        for step_kind, username in steps:
            if username in users:
                positions[step_kind] += 1
                capacity = "delegated" if kind == ActKind.CERTIFICATE else "own"
                TemplateStep.objects.create(template=template, kind=step_kind, position=positions[step_kind],
                                            user=users[username], capacity=capacity)


def _sign(actor: User, act: Act) -> Act:
    from folio.signatures.services import SignatureError

    try:
        return services.act_sign(actor=actor, act=act, passphrase=SIGNING_PASSPHRASE)
    except SignatureError as exc:  # a signer enrolled elsewhere with another passphrase: leave it waiting
        log.warning("demo: %s could not sign act %s: %s", actor, act.pk, exc.code)
        return act


def load(organization: Any) -> list[tuple[str, str, str]]:
    """Create Lota's templates and a few acts, once. Returns extra lines for the demo's login list."""
    from folio.registry.models import Book, Registration

    runs = ", ".join(f"{username} {format_rut(number, dv)}" for username, (number, dv) in SIGNERS.items())
    note = [("(firma)", SIGNING_PASSPHRASE,
             f"Clave de firma simple de alcalde, secmun y jefe.dom: {SIGNING_PASSPHRASE}; RUN: {runs}")]
    users = _users()
    admin = users.get("admin.lota")
    services.ensure_default_templates(organization, actor=admin)
    _enroll(users)
    if Act.objects.filter(organization=organization).exists() or not {"alcalde", "dom.lota", "jefe.dom",
                                                                       "juridico.lota"} <= set(users):
        return note
    templates = {t.kind: t for t in ActTemplate.objects.filter(organization=organization)}
    _default_steps(templates, users)
    today = timezone.localdate()
    if admin is not None:
        services.delegation_create(actor=admin, delegate_id=users["jefe.dom"].pk, principal_title="Alcalde",
                                   kinds=[ActKind.CERTIFICATE], valid_from=today - dt.timedelta(days=60),
                                   decree_reference="Decreto Alcaldicio Exento N° 45/2026")
        if "secmun" in users:
            services.substitution_create(actor=admin, acting_id=users["secmun"].pk, position_title="Alcalde",
                                         valid_from=today - dt.timedelta(days=40),
                                         valid_until=today - dt.timedelta(days=26),
                                         decree_reference="Decreto Alcaldicio Exento N° 88/2026 (feriado legal)")
    dom, head, mayor, legal = users["dom.lota"], users["jefe.dom"], users["alcalde"], users["juridico.lota"]
    request = (Registration.objects.filter(organization=organization, book=Book.INCOMING, unit__code="DOM")
               .exclude(status__in=["voided", "closed"]).order_by("-id").first())

    # 1. An oficio answering a DOM request, waiting for the director's visación.
    if request is not None:
        act = services.act_create(actor=dom, data=services.ActInput(
            template_id=templates[ActKind.OFFICIAL_LETTER].pk, answers_id=request.pk,
            body="Junto con saludar, y en atención a su presentación, informo a usted que los antecedentes "
                 "fueron revisados por esta Dirección.\n\nPara continuar el trámite debe acompañar el plano de "
                 "ubicación firmado por un arquitecto.",
            endorsers=[services.StepInput(head.pk)], signers=[services.StepInput(mayor.pk)]))
        services.act_submit(actor=dom, act=act)

    # 2. A certificado signed "por orden del Alcalde" by the DOM director, distributed.
    cert = services.act_create(actor=dom, data=services.ActInput(
        template_id=templates[ActKind.CERTIFICATE].pk, subject="Certifica número municipal",
        body="Quien suscribe certifica que a la propiedad ubicada en calle Carlos Cousiño s/n, comuna de Lota, "
             "le corresponde el número municipal 1250.",
        recipient_kind="citizen", recipient_name="Juan Pablo Henríquez Mora"))
    cert = services.act_submit(actor=dom, act=cert)
    cert = _sign(head, cert)
    if cert.state == "numbered":
        services.act_distribute(actor=dom, act=cert, delivery_method="by_hand",
                                reference="Retirado en la DOM por el interesado")

    # 3. A decreto visado by Asesoría Jurídica, signed by the Alcaldesa and the Secretario Municipal.
    decree = services.act_create(actor=legal, data=services.ActInput(
        template_id=templates[ActKind.EXEMPT_DECREE].pk,
        subject="Aprueba convenio de colaboración con la Universidad de Concepción",
        body="CONSIDERANDO:\n\n1. La necesidad de fortalecer la formación de los funcionarios municipales.\n\n"
             "DECRETO:\n\n1. Apruébase el convenio de colaboración suscrito con la Universidad de Concepción.\n\n"
             "2. Impútese el gasto, si lo hubiere, al presupuesto municipal vigente.",
        distribution_unit_ids=[u.pk for u in organization.units.filter(code__in=["AJ", "DAF", "CONTROL"])]))
    decree = services.act_submit(actor=legal, act=decree)
    decree = services.act_endorse(actor=legal, act=decree, comment="Conforme a derecho")
    decree = _sign(mayor, decree)
    if "secmun" in users and decree.state == "in_signature":
        decree = _sign(users["secmun"], decree)
    if decree.state == "numbered":
        services.act_distribute(actor=legal, act=decree)

    # 4. A decreto waiting for the Alcaldesa's signature (for the inbox and batch signing).
    for subject in ("Otorga subvención a la Junta de Vecinos Lota Alto",
                    "Autoriza ocupación de bien nacional de uso público en calle Matta"):
        act = services.act_create(actor=legal, data=services.ActInput(
            template_id=templates[ActKind.EXEMPT_DECREE].pk, subject=subject,
            body="CONSIDERANDO:\n\n1. La solicitud presentada.\n\nDECRETO:\n\n1. Otórgase lo solicitado.",
            endorsers=[]))
        services.act_submit(actor=legal, act=act)

    # 5. A memorándum still in draft.
    services.act_create(actor=dom, data=services.ActInput(
        template_id=templates[ActKind.MEMORANDUM].pk, subject="Solicita apoyo de DIDECO en catastro de viviendas",
        body="Por medio del presente, solicito a usted el apoyo de profesionales de DIDECO para el catastro de "
             "viviendas afectadas por las lluvias.",
        distribution_unit_ids=[u.pk for u in organization.units.filter(code="DIDECO")]))
    return note
