"""The signature policy the administrator sets: types that need FEA, delegated signature ("Por orden del
Alcalde"), acting signers ("Alcalde (S)") recorded on the act and in the stamp; templates and their defaults."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from folio.acts import services
from folio.acts.models import ActKind, ActState, ActTemplate, SignaturePolicy
from folio.acts.tests.conftest import (
    DOM_PASSPHRASE,
    PASSPHRASE,
    SECMUN_PASSPHRASE,
    pdf_text,
    signed_bytes,
    stamp_text,
    submitted,
)
from folio.audit.models import AuditEvent


def today() -> dt.date:
    return timezone.localdate()


def test_delegated_signature_is_recorded_on_the_act_and_in_the_stamp(world: Any, templates: Any,
                                                                     director: Any) -> None:
    services.delegation_create(actor=world.admin, delegate_id=director.pk, principal_title="Alcalde",
                               kinds=[ActKind.CERTIFICATE], valid_from=today() - dt.timedelta(days=1),
                               decree_reference="Decreto Alcaldicio N° 100/2026")
    act = submitted(world.dom, templates[ActKind.CERTIFICATE], signers=[director], capacities=["delegated"])
    act = services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    step = act.steps.get()
    assert step.capacity_label == "Por orden del Alcalde" and step.delegation is not None
    data = signed_bytes(act)
    assert "Por orden del Alcalde" in pdf_text(data)  # printed under the signature
    assert "Por orden del Alcalde" in stamp_text(data)  # and in the stamp
    event = AuditEvent.objects.get(action="act.sign")
    assert event.data["capacity"] == "delegated" and event.data["capacity_label"] == "Por orden del Alcalde"
    # The delegation covers certificados only: a decreto "por orden" is refused at submission.
    decree = submitted_or_error(world, templates[ActKind.EXEMPT_DECREE], director, "delegated")
    assert isinstance(decree, ValidationError)


def submitted_or_error(world: Any, template: ActTemplate, signer: Any, capacity: str) -> Any:
    try:
        return submitted(world.dom, template, signers=[signer], capacities=[capacity])
    except ValidationError as exc:
        return exc


def test_acting_signer_signs_as_alcalde_subrogante(world: Any, templates: Any, secmun: Any) -> None:
    services.substitution_create(actor=world.admin, acting_id=secmun.pk, position_title="Alcalde",
                                 valid_from=today(), valid_until=today() + dt.timedelta(days=15),
                                 decree_reference="Decreto Alcaldicio N° 200/2026")
    act = submitted(world.legal, templates[ActKind.EXEMPT_DECREE], signers=[secmun], capacities=["acting"])
    act = services.act_sign(actor=secmun, act=act, passphrase=SECMUN_PASSPHRASE)
    step = act.steps.get()
    assert step.capacity_label == "Alcalde (S)" and step.position_label == "Alcalde (S)"
    assert step.substitution is not None
    assert "Alcalde (S)" in pdf_text(signed_bytes(act)) and "Alcalde (S)" in stamp_text(signed_bytes(act))


def test_a_delegation_that_ended_before_signing_is_refused(world: Any, templates: Any, director: Any) -> None:
    delegation = services.delegation_create(
        actor=world.admin, delegate_id=director.pk, principal_title="Alcalde", kinds=[ActKind.CERTIFICATE],
        valid_from=today())
    act = submitted(world.dom, templates[ActKind.CERTIFICATE], signers=[director], capacities=["delegated"])
    services.delegation_end(actor=world.admin, delegation=delegation)
    with pytest.raises(ValidationError):
        services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    act.refresh_from_db()
    assert act.state == ActState.IN_SIGNATURE and act.number is None


def test_who_may_sign_in_their_own_capacity(world: Any, templates: Any, alcaldesa: Any, director: Any) -> None:
    services.policy_save(actor=world.admin, kind=ActKind.EXEMPT_DECREE, requires_advanced=False,
                         own_signer_ids=[alcaldesa.pk])
    with pytest.raises(ValidationError, match=r"propio|own"):
        submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[director])
    act = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[alcaldesa])
    assert services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE).state == ActState.NUMBERED


def test_types_that_require_fea_refuse_the_simple_signature(world: Any, templates: Any, alcaldesa: Any) -> None:
    services.policy_save(actor=world.admin, kind=ActKind.RESOLUTION, requires_advanced=True, own_signer_ids=[])
    act = submitted(world.dom, templates[ActKind.RESOLUTION], signers=[alcaldesa])
    with pytest.raises(ValidationError, match="FirmaGob"):
        services.act_sign(actor=alcaldesa, act=act, method="simple", passphrase=PASSPHRASE)
    act.refresh_from_db()
    assert act.number is None
    client = Client()
    client.force_login(alcaldesa)
    page = client.get(f"/actos/{act.pk}/").content.decode()
    assert 'value="simple"' not in page and 'value="advanced"' in page


def test_only_the_administrator_sets_policy_and_templates(world: Any, templates: Any) -> None:
    for user in (world.dom, world.dom_head, world.clerk, world.signer, world.other_clerk):
        with pytest.raises(PermissionDenied):
            services.policy_save(actor=user, kind=ActKind.OFFICIAL_LETTER, requires_advanced=True,
                                 own_signer_ids=[])
        with pytest.raises(PermissionDenied):
            services.delegation_create(actor=user, delegate_id=world.dom_head.pk, principal_title="Alcalde",
                                       kinds=["oficio"], valid_from=today())
        client = Client()
        client.force_login(user)
        assert client.get("/actos/plantillas/").status_code == 403
        assert client.get("/actos/politica-de-firma/").status_code == 403
        assert client.post("/actos/politica-de-firma/", {"kind": "oficio",
                                                         "oficio-requires_advanced": "on"}).status_code == 403
    assert not SignaturePolicy.objects.filter(requires_advanced=True).exists()
    # Coronel's administrator does not reach Lota's templates.
    from folio.accounts.models import RoleCode
    from folio.core import demo

    coronel_admin = demo.ensure_user(world.coronel, "admin.coronel", "Ana", "Admin", "OP", [RoleCode.ADMIN], "TI")
    client = Client()
    client.force_login(coronel_admin)
    assert client.get(f"/actos/plantillas/{templates[ActKind.OFFICIAL_LETTER].pk}/").status_code == 404


def test_administrator_edits_a_template_and_it_shows_in_new_drafts(world: Any, templates: Any,
                                                                    alcaldesa: Any) -> None:
    client = Client()
    client.force_login(world.admin)
    assert client.get("/actos/plantillas/").status_code == 200
    template = templates[ActKind.EXEMPT_DECREE]
    form = {"kind": "decreto_exento", "name": "Decreto alcaldicio exento", "numbering_scheme": "D.A.E. N° {n}-{year}",
            "letterhead": "I. MUNICIPALIDAD DE LOTA\nSECRETARÍA MUNICIPAL", "antecedents_label": "VISTOS:",
            "antecedents": "La Ley N° 18.695.", "subject": "", "body": "DECRETO:\n\n1. ", "closing": "ANÓTESE.",
            "distribution": "Archivo", "access_level": "1", "is_active": "on", "signer_1": alcaldesa.pk,
            "capacity_1": "own", "capacity_2": "own", "capacity_3": "own"}
    bad = client.post(f"/actos/plantillas/{template.pk}/", {**form, "numbering_scheme": "Decreto {numero}"})
    assert bad.status_code == 400
    assert client.post(f"/actos/plantillas/{template.pk}/", form).status_code == 302
    template.refresh_from_db()
    assert template.numbering_scheme == "D.A.E. N° {n}-{year}"
    act = services.act_create(actor=world.legal, data=services.ActInput(template_id=template.pk,
                                                                       subject="Nombra comisión"))
    assert act.antecedents == "La Ley N° 18.695." and [s.user for s in act.steps.all()] == [alcaldesa]
    act = services.act_submit(actor=world.legal, act=act)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    assert act.number_display == f"D.A.E. N° 1-{timezone.localdate().year}"
    assert "SECRETARÍA MUNICIPAL" in pdf_text(signed_bytes(act))
    assert AuditEvent.objects.filter(action="act_template.update").exists()


def test_default_templates_exist_on_first_use(world: Any) -> None:
    assert not ActTemplate.objects.filter(organization=world.lota).exists()
    client = Client()
    client.force_login(world.dom)
    assert client.get("/actos/nuevo/").status_code == 200
    kinds = set(ActTemplate.objects.filter(organization=world.lota).values_list("kind", flat=True))
    assert kinds == set(ActKind.values)
    assert not ActTemplate.objects.filter(organization=world.coronel).exists()
    assert services.ensure_default_templates(world.lota) == []  # only once


def test_policy_page_round_trip(world: Any, templates: Any, alcaldesa: Any, secmun: Any) -> None:
    client = Client()
    client.force_login(world.admin)
    assert client.get("/actos/politica-de-firma/").status_code == 200
    response = client.post("/actos/politica-de-firma/", {"kind": "decreto_exento",
                                                         "decreto_exento-requires_advanced": "on",
                                                         "decreto_exento-own_signers": [alcaldesa.pk]})
    assert response.status_code == 302
    policy = SignaturePolicy.objects.get(organization=world.lota, kind="decreto_exento")
    assert policy.requires_advanced and list(policy.own_signers.all()) == [alcaldesa]
    response = client.post("/actos/politica-de-firma/subrogancias/", {
        "acting": secmun.pk, "position_title": "Alcalde", "valid_from": today().isoformat()})
    assert response.status_code == 302
    bad = client.post("/actos/politica-de-firma/delegaciones/", {
        "delegate": secmun.pk, "principal_title": "Alcalde", "kinds": ["oficio"],
        "valid_from": today().isoformat(), "valid_until": (today() - dt.timedelta(days=3)).isoformat()})
    assert bad.status_code == 400
    bad = client.post("/actos/politica-de-firma/delegaciones/", {
        "delegate": world.dom.pk, "principal_title": "Alcalde", "kinds": ["oficio"],
        "valid_from": today().isoformat()})
    assert bad.status_code == 400  # not a signer
