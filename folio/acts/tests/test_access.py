"""Who sees and does what, per role, and nothing of one municipality reaches another (404, never 403)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from folio.acts import selectors, services
from folio.acts.models import Act, ActKind, ActState
from folio.acts.tests.conftest import PASSPHRASE, draft, submitted
from folio.audit.models import AuditEvent
from folio.registry.models import AccessLevel


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acts(world: Any, templates: Any, alcaldesa: Any) -> dict[str, Act]:
    """A DOM draft, a public numbered oficio and a restricted numbered decreto of Lota."""
    dom_draft = draft(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa], subject="Borrador DOM")
    public = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa], subject="Oficio público")
    public = services.act_sign(actor=alcaldesa, act=public, passphrase=PASSPHRASE)
    restricted = submitted(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[alcaldesa],
                           subject="Decreto reservado", access_level=AccessLevel.RESTRICTED)
    restricted = services.act_sign(actor=alcaldesa, act=restricted, passphrase=PASSPHRASE)
    return {"draft": dom_draft, "public": public, "restricted": restricted}


def test_visibility_per_role(world: Any, acts: dict[str, Act]) -> None:
    def visible(user: Any) -> set[str]:
        ids = set(selectors.acts_visible_to(user).values_list("pk", flat=True))
        return {name for name, act in acts.items() if act.pk in ids}

    everything = {"draft", "public", "restricted"}
    assert visible(world.dom) == everything  # author
    assert visible(world.dom_head) == everything  # same unit
    assert visible(world.signer) == everything  # signer of all three
    assert visible(world.clerk) == everything  # Oficina de Partes
    assert visible(world.admin) == everything
    assert visible(world.auditor) == everything
    assert visible(world.dideco) == {"public"}  # another unit: only the public numbered act
    assert visible(world.legal) == {"public"}
    assert visible(world.other_clerk) == set() and visible(world.other_dom) == set()
    assert visible(world.citizen) == set()


def test_another_municipality_gets_404_everywhere(world: Any, acts: dict[str, Act]) -> None:
    act = acts["public"]
    for user in (world.other_clerk, world.other_dom):
        client = client_for(user)
        for url in (f"/actos/{act.pk}/", f"/actos/{act.pk}/editar/", f"/actos/{act.pk}/documento.pdf",
                    f"/actos/{act.pk}/vista.png", f"/api/v1/acts/{act.pk}/", f"/api/v1/acts/{act.pk}/timeline/",
                    f"/api/v1/acts/{act.pk}/document.pdf"):
            assert client.get(url).status_code == 404, url
        for url in (f"/actos/{act.pk}/firmar/", f"/actos/{act.pk}/visar/", f"/actos/{act.pk}/distribuir/",
                    f"/actos/{act.pk}/devolver/", f"/api/v1/acts/{act.pk}/sign/",
                    f"/api/v1/acts/{act.pk}/distribute/", f"/api/v1/acts/{act.pk}/send-back/"):
            assert client.post(url, {"comment": "hola hola", "passphrase": PASSPHRASE}).status_code == 404, url
        listing = client.get("/api/v1/acts/").json()
        assert listing["count"] == 0
        assert act.subject not in client.get("/actos/").content.decode()
    # Their attempts are recorded in their own organization's chain, without revealing anything.
    denied = AuditEvent.objects.filter(action="act.denied", organization_id=world.coronel.pk)
    assert denied.count() >= 14 and not AuditEvent.objects.filter(
        action="act.denied", organization_id=world.lota.pk).exists()
    act.refresh_from_db()
    assert act.state == ActState.NUMBERED


def test_another_unit_cannot_open_a_draft_or_a_restricted_act(world: Any, acts: dict[str, Act]) -> None:
    client = client_for(world.dideco)
    assert client.get(f"/actos/{acts['draft'].pk}/").status_code == 404
    assert client.get(f"/actos/{acts['restricted'].pk}/documento.pdf").status_code == 404
    assert client.get(f"/actos/{acts['public'].pk}/").status_code == 200
    assert client.get(f"/actos/{acts['public'].pk}/documento.pdf").status_code == 200


def test_only_the_author_unit_edits_a_draft(world: Any, acts: dict[str, Act]) -> None:
    act = acts["draft"]
    for user, status in ((world.dom, 200), (world.dom_head, 200), (world.admin, 200), (world.clerk, 403),
                         (world.signer, 403), (world.auditor, 403)):
        assert client_for(user).get(f"/actos/{act.pk}/editar/").status_code == status, user
    response = client_for(world.signer).post(f"/api/v1/acts/{act.pk}/submit/", {}, content_type="application/json")
    assert response.status_code == 403


def test_auditors_and_citizens_cannot_draft(world: Any, templates: Any) -> None:
    assert client_for(world.auditor).get("/actos/nuevo/").status_code == 403
    response = client_for(world.auditor).post("/api/v1/acts/", {"template_id": templates["oficio"].pk},
                                              content_type="application/json")
    assert response.status_code == 403
    citizen = client_for(world.citizen)
    assert citizen.get("/actos/").status_code == 403
    assert citizen.get("/api/v1/acts/").json()["count"] == 0


def test_restricted_acts_log_every_download(world: Any, acts: dict[str, Act]) -> None:
    client = client_for(world.clerk)
    assert client.get(f"/actos/{acts['restricted'].pk}/documento.pdf").status_code == 200
    assert client.get(f"/actos/{acts['public'].pk}/documento.pdf").status_code == 200
    access = AuditEvent.objects.filter(action="act.access")
    assert [e.object_id for e in access] == [str(acts["restricted"].pk)]


def test_public_verification_offers_only_public_documents(world: Any, acts: dict[str, Act]) -> None:
    anonymous = Client()
    public, restricted = acts["public"], acts["restricted"]
    page = anonymous.get(f"/verificar/{public.verification_code}").content.decode()
    assert public.number_display in page and public.subject in page and "Alicia Castro" in page
    assert f"/verificar/{public.verification_code}/document" in page
    page = anonymous.get(f"/verificar/{restricted.verification_code}").content.decode()
    assert restricted.number_display in page and restricted.subject not in page
    assert "/document" not in page
    assert anonymous.get(f"/verificar/{restricted.verification_code}/document").status_code == 404


def test_inboxes_show_what_waits_for_each_one(world: Any, templates: Any, alcaldesa: Any, director: Any) -> None:
    act = submitted(world.dom, templates[ActKind.OFFICIAL_LETTER], endorsers=[world.legal],
                    signers=[director, alcaldesa], subject="Para visar y firmar")
    assert list(selectors.endorsement_inbox(world.legal)) == [act]
    assert not selectors.signature_inbox(director).exists()
    services.act_endorse(actor=world.legal, act=act)
    assert list(selectors.signature_inbox(director)) == [act] and not selectors.signature_inbox(alcaldesa).exists()
    page = client_for(director).get("/actos/bandeja/firmas/").content.decode()
    assert "Para visar y firmar" in page
    assert "Para visar y firmar" not in client_for(alcaldesa).get("/actos/bandeja/firmas/").content.decode()
    api = client_for(director).get("/api/v1/acts/inbox/?kind=sign").json()
    assert [a["id"] for a in api] == [act.pk]
