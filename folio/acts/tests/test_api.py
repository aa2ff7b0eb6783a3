"""The REST API of official documents (/api/v1/acts/): the whole circuit with a bearer token, and its errors."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import timezone

from folio.acts.models import Act, ActKind
from folio.acts.tests.conftest import DOM_PASSPHRASE, PASSPHRASE


def api(user: Any) -> Client:
    from folio.accounts.services import api_token_create

    _token, key = api_token_create(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, data or {}, content_type="application/json")


def test_the_circuit_through_the_api(world: Any, templates: Any, alcaldesa: Any, director: Any,
                                     citizen_request: Any) -> None:
    dom = api(world.dom)
    listing = dom.get("/api/v1/acts/templates/").json()
    oficio = next(t for t in listing if t["kind"] == ActKind.OFFICIAL_LETTER)
    response = post(dom, "/api/v1/acts/", {
        "template_id": oficio["id"], "answers_id": citizen_request.pk, "body": "Informo a usted lo solicitado.",
        "endorsers": [{"user_id": world.dom_head.pk}], "signers": [{"user_id": alcaldesa.pk}],
        "distribution_unit_ids": [world.units["DOM"].pk]})
    assert response.status_code == 201, response.content
    act = response.json()
    assert act["state"] == "draft" and act["number"] is None and act["answers_folio"] == citizen_request.folio
    assert [s["user_id"] for s in act["steps"]] == [world.dom_head.pk, alcaldesa.pk]
    url = f"/api/v1/acts/{act['id']}/"
    response = dom.patch(url, {"subject": "Responde solicitud de CIP", "version": act["version"]},
                         content_type="application/json")
    assert response.status_code == 200 and response.json()["subject"] == "Responde solicitud de CIP"
    stale = dom.patch(url, {"subject": "Otra", "version": act["version"]}, content_type="application/json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    draft_pdf = dom.get(url + "document.pdf")
    assert draft_pdf.status_code == 200 and draft_pdf["Content-Type"] == "application/pdf"
    assert post(dom, url + "submit/").json()["state"] == "in_endorsement"
    assert post(api(world.clerk), url + "endorse/").status_code == 403  # sees it, is not the endorser
    assert post(api(world.legal), url + "endorse/").status_code == 404  # does not even see it
    assert post(api(world.dom_head), url + "endorse/", {"comment": "Visto"}).json()["state"] == "in_signature"
    mayor = api(alcaldesa)
    wrong = post(mayor, url + "sign/", {"passphrase": "equivocada"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_passphrase"
    assert Act.objects.get(pk=act["id"]).number is None
    signed = post(mayor, url + "sign/", {"passphrase": PASSPHRASE})
    assert signed.status_code == 200 and signed.json()["state"] == "numbered" and signed.json()["number"] == 1
    assert signed.json()["verification_url"].endswith(signed.json()["verification_code"])
    bad = post(dom, url + "distribute/", {"delivery_method": "by_hand"})
    assert bad.status_code == 400  # by hand needs who received it
    assert Act.objects.get(pk=act["id"]).state == "numbered"
    done = post(dom, url + "distribute/", {"delivery_method": "by_hand", "reference": "Recibido por la interesada"})
    assert done.status_code == 200 and done.json()["state"] == "distributed" and done.json()["outgoing_folio"]
    again = post(dom, url + "distribute/")
    assert again.status_code == 409
    timeline = dom.get(url + "timeline/").json()
    assert [e["action"] for e in timeline][-2:] == ["act.distribute", "act.refused"]


def test_batch_sign_through_the_api(world: Any, templates: Any, director: Any) -> None:
    dom = api(world.dom)
    ids = []
    for i in range(3):
        created = post(dom, "/api/v1/acts/", {"template_id": templates[ActKind.CERTIFICATE].pk,
                                              "subject": f"Certifica número {i}", "body": "Certifico que sí.",
                                              "signers": [{"user_id": director.pk}]}).json()
        post(dom, f"/api/v1/acts/{created['id']}/submit/")
        ids.append(created["id"])
    other = post(dom, "/api/v1/acts/", {"template_id": templates[ActKind.CERTIFICATE].pk, "subject": "Borrador",
                                        "body": "x"}).json()
    head = api(director)
    result = post(head, "/api/v1/acts/batch-sign/", {"act_ids": [*ids, other["id"], 999999],
                                                     "passphrase": DOM_PASSPHRASE}).json()
    assert result["signed"] == 3 and result["failed"] == 2
    by_id = {r["act_id"]: r for r in result["results"]}
    year = timezone.localdate().year
    assert [by_id[i]["number_display"] for i in ids] == [f"Certificado N° {n}/{year}" for n in (1, 2, 3)]
    assert by_id[other["id"]]["code"] == "conflict" and by_id[999999]["code"] == "not_found"
    assert post(head, "/api/v1/acts/batch-sign/", {"act_ids": []}).status_code == 400


def test_invalid_requests_are_answered_with_400(world: Any, templates: Any) -> None:
    dom = api(world.dom)
    assert dom.get("/api/v1/acts/?state=nope").status_code == 400
    assert dom.get("/api/v1/acts/?page=0").status_code == 400
    assert dom.get("/api/v1/acts/inbox/?kind=x").status_code == 400
    response = post(dom, "/api/v1/acts/", {"template_id": templates["oficio"].pk, "signers": [{"user_id": "x"}]})
    assert response.status_code == 400 and "signers" in response.json()["error"]["fields"]
    response = post(dom, "/api/v1/acts/", {"template_id": templates["oficio"].pk,
                                           "signers": [{"user_id": world.dom.pk}]})
    assert response.status_code == 400 and "signers" in response.json()["error"]["fields"]
    assert not Act.objects.exists()


def test_openapi_schema_documents_the_acts_api(world: Any) -> None:
    client = Client()
    client.force_login(world.dom)
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/acts/", "/api/v1/acts/{id}/sign/", "/api/v1/acts/batch-sign/",
                 "/api/v1/acts/{id}/distribute/"):
        assert path in paths, path
