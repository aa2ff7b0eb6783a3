"""The pages of /actos/: they render for each role and state, refuse bad input with a 4xx and change nothing."""

from __future__ import annotations

from typing import Any

from django.test import Client

from folio.acts import services
from folio.acts.models import Act, ActKind, ActState
from folio.acts.tests.conftest import DOM_PASSPHRASE, PASSPHRASE, draft, submitted


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_render_in_every_state(world: Any, templates: Any, alcaldesa: Any, director: Any,
                                     citizen_request: Any) -> None:
    dom = client_for(world.dom)
    assert dom.get("/actos/").status_code == 200
    page = dom.get("/actos/nuevo/")
    assert page.status_code == 200 and "Oficio ordinario" in page.content.decode()
    act = draft(world.dom, templates[ActKind.OFFICIAL_LETTER], endorsers=[world.dom_head],
                signers=[director, alcaldesa])
    for user, expected in ((world.dom, ["Editar borrador", "Enviar a visación/firma", "Anular borrador"]),):
        body = client_for(user).get(f"/actos/{act.pk}/").content.decode()
        assert all(text in body for text in expected), body[:3000]
    assert dom.get(f"/actos/{act.pk}/vista.png").status_code == 200
    act = services.act_submit(actor=world.dom, act=act)
    assert "Visar" in client_for(world.dom_head).get(f"/actos/{act.pk}/").content.decode()
    act = services.act_endorse(actor=world.dom_head, act=act)
    body = client_for(director).get(f"/actos/{act.pk}/").content.decode()
    assert "Clave de firma" in body and "Devolver" in body
    act = services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    act = services.act_sign(actor=alcaldesa, act=act, passphrase=PASSPHRASE)
    body = dom.get(f"/actos/{act.pk}/").content.decode()
    assert act.number_display in body and "Distribuir" in body and act.verification_code in body
    assert dom.get(f"/actos/{act.pk}/vista.png").status_code == 200
    assert dom.get(f"/actos/{act.pk}/vista.png?pagina=9").status_code == 404
    assert dom.get("/actos/?state=numbered&kind=oficio&q=Materia").status_code == 200
    assert dom.get("/actos/?state=nope").status_code == 400
    assert "Responder con un documento oficial" in dom.get(f"/partes/{citizen_request.pk}/").content.decode()


def test_edit_form_refuses_bad_input_and_saves_nothing(world: Any, templates: Any, alcaldesa: Any) -> None:
    act = draft(world.dom, templates[ActKind.OFFICIAL_LETTER], signers=[alcaldesa])
    dom = client_for(world.dom)
    base = {"version": act.version, "subject": "Materia", "body": "Texto", "access_level": 1,
            "capacity_1": "own", "capacity_2": "own", "capacity_3": "own"}
    cases = [
        {**base, "subject": ""},
        {**base, "recipient_rut": "12.345.678-0"},
        {**base, "signer_1": world.dom.pk},  # not a signer: not even a choice
        {**base, "signer_1": alcaldesa.pk, "signer_2": alcaldesa.pk},
        {**base, "access_level": 7},
    ]
    before = Act.objects.values().get(pk=act.pk)
    for data in cases:
        response = dom.post(f"/actos/{act.pk}/editar/", data)
        assert response.status_code == 400, data
    assert Act.objects.values().get(pk=act.pk) == before
    stale = dom.post(f"/actos/{act.pk}/editar/", {**base, "version": act.version - 1 or 99})
    assert stale.status_code == 409


def test_circuit_actions_through_the_pages(world: Any, templates: Any, alcaldesa: Any) -> None:
    act = draft(world.dom, templates[ActKind.MEMORANDUM], signers=[alcaldesa],
                distribution_unit_ids=[world.units["DIDECO"].pk])
    dom = client_for(world.dom)
    assert dom.post(f"/actos/{act.pk}/enviar/", {"version": act.version}).status_code == 302
    act.refresh_from_db()
    mayor = client_for(alcaldesa)
    # Send back without a comment: 400, nothing changes; with one: back to draft.
    assert mayor.post(f"/actos/{act.pk}/devolver/", {"version": act.version, "comment": ""}).status_code == 400
    assert mayor.post(f"/actos/{act.pk}/devolver/", {"version": act.version,
                                                     "comment": "Agregar a DAF en la distribución"}).status_code == 302
    act.refresh_from_db()
    assert act.state == ActState.DRAFT and "Agregar a DAF" in dom.get(f"/actos/{act.pk}/").content.decode()
    assert dom.post(f"/actos/{act.pk}/enviar/", {"version": act.version}).status_code == 302
    act.refresh_from_db()
    # Signing without the passphrase: 400; with a wrong one: 400 and a clear message; then it signs.
    assert mayor.post(f"/actos/{act.pk}/firmar/", {"method": "simple"}).status_code == 400
    wrong = mayor.post(f"/actos/{act.pk}/firmar/", {"method": "simple", "passphrase": "equivocada-2026"})
    assert wrong.status_code == 400 and "clave" in wrong.content.decode().lower()
    assert mayor.post(f"/actos/{act.pk}/firmar/", {"method": "simple", "passphrase": PASSPHRASE}).status_code == 302
    act.refresh_from_db()
    assert act.state == ActState.NUMBERED
    # A memorándum has no external recipient: it is distributed to its units only.
    assert dom.post(f"/actos/{act.pk}/distribuir/", {"version": act.version,
                                                     "delivery_method": "email"}).status_code == 400
    assert dom.post(f"/actos/{act.pk}/distribuir/", {"version": act.version}).status_code == 302
    act.refresh_from_db()
    assert act.state == ActState.DISTRIBUTED and act.outgoing_registration is None
    dideco = client_for(world.dideco)
    assert dideco.get(f"/actos/{act.pk}/").status_code == 200  # distributed to DIDECO


def test_cancel_a_draft(world: Any, templates: Any, alcaldesa: Any) -> None:
    act = draft(world.dom, templates[ActKind.CERTIFICATE], signers=[alcaldesa])
    dom = client_for(world.dom)
    assert dom.post(f"/actos/{act.pk}/anular/", {"version": act.version, "reason": ""}).status_code == 400
    assert client_for(world.legal).post(f"/actos/{act.pk}/anular/", {"version": act.version,
                                                                     "reason": "No corresponde"}).status_code == 404
    assert dom.post(f"/actos/{act.pk}/anular/", {"version": act.version,
                                                 "reason": "Se redactó por error"}).status_code == 302
    act.refresh_from_db()
    assert act.state == ActState.CANCELLED


def test_batch_sign_page_reports_each_document(world: Any, templates: Any, alcaldesa: Any, monkeypatch: Any) -> None:
    from folio.signatures import services as signatures

    acts = [submitted(world.dom, templates[ActKind.CERTIFICATE], signers=[alcaldesa], subject=f"Certificado {i}")
            for i in range(3)]
    real = signatures.sign_pdf
    calls = {"n": 0}

    def second_fails(request: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise signatures.SignatureError("provider_error")
        return real(request)

    monkeypatch.setattr(signatures, "sign_pdf", second_fails)
    mayor = client_for(alcaldesa)
    assert mayor.post("/actos/firma-masiva/", {"method": "simple", "passphrase": PASSPHRASE}).status_code == 400
    response = mayor.post("/actos/firma-masiva/", {"acts": [a.pk for a in acts], "method": "simple",
                                                   "passphrase": PASSPHRASE})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Firmados: 2. No firmados: 1." in body
    states = {a.pk: (a.state, a.number) for a in Act.objects.filter(pk__in=[a.pk for a in acts])}
    assert states[acts[0].pk] == (ActState.NUMBERED, 1)
    assert states[acts[1].pk] == (ActState.IN_SIGNATURE, None)
    assert states[acts[2].pk] == (ActState.NUMBERED, 2)


def test_batch_with_a_wrong_passphrase_stops_after_the_first(world: Any, templates: Any, alcaldesa: Any) -> None:
    from folio.audit.models import AuditEvent

    acts = [submitted(world.dom, templates[ActKind.CERTIFICATE], signers=[alcaldesa]) for _ in range(4)]
    results = services.act_sign_batch(actor=alcaldesa, act_ids=[a.pk for a in acts], passphrase="no-es-la-clave")
    assert [r.code for r in results] == ["wrong_passphrase"] + ["not_attempted"] * 3
    assert not Act.objects.filter(number__isnull=False).exists()
    # One wrong passphrase was tried once, not four times.
    assert AuditEvent.objects.filter(action="signature.failed").count() == 1


def test_new_inside_an_expediente_needs_the_right_to_incorporate(world: Any, templates: Any,
                                                                  citizen_request: Any) -> None:
    from folio.case_files import services as cf_services

    cf = cf_services.case_file_open(actor=world.dom, registration_id=citizen_request.pk,
                                    data=cf_services.CaseFileInput())
    dideco = client_for(world.dideco)
    response = dideco.post("/actos/nuevo/", {"template": templates[ActKind.MEMORANDUM].pk, "case_file": cf.pk})
    assert response.status_code == 400
    assert "no puede incorporar documentos" in response.content.decode()
    assert not Act.objects.exists()
    dom = client_for(world.dom)
    response = dom.post("/actos/nuevo/", {"template": templates[ActKind.MEMORANDUM].pk, "case_file": cf.pk})
    assert response.status_code == 302 and Act.objects.get().case_file == cf
