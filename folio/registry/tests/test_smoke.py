from __future__ import annotations

from typing import Any

from folio.registry import selectors, services
from folio.registry.models import RegistrationStatus


def test_clerk_journey_smoke(world: Any, pdf_bytes: Any, client: Any) -> None:
    data = services.RegistrationInput(
        document_type=7, subject="Solicita certificado de número", party_kind="citizen",
        party_name="Juan Pérez", party_rut="12.345.678-5", mechanism=3, channel="paper",
        documents=[services.UploadedDoc(name="carta.pdf", data=pdf_bytes("Solicito certificado de numero municipal"))],
    )
    reg = services.registration_create_incoming(actor=world.clerk, data=data)
    assert reg.folio.startswith("E-")
    services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                instruction="response", business_days=10)
    inbox = selectors.inbox_routings(world.dom)
    assert [r.registration_id for r in inbox.routings] == [reg.pk]
    page = selectors.registration_search(world.dom, selectors.SearchFilters(q="certificado numero"))
    assert [r.pk for r in page.results] == [reg.pk]
    assert selectors.registration_search(world.other_clerk, selectors.SearchFilters(q="certificado")).results == []
    services.routing_acknowledge(actor=world.dom, routing=inbox.routings[0])
    out = services.registration_create_outgoing(actor=world.dom, data=services.RegistrationInput(
        document_type=30, subject="Responde", party_kind="citizen", party_name="Juan Pérez", answers_id=reg.pk,
        delivery_method="by_hand", documents=[services.UploadedDoc(name="r.pdf", data=pdf_bytes("respuesta"))]))
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.CLOSED
    assert out.folio.startswith("S-")
    client.force_login(world.clerk)
    assert client.get(f"/partes/{reg.pk}/").status_code == 200
    assert client.get(f"/partes/{reg.pk}/comprobante.pdf").status_code == 200
    assert client.get(f"/verificar/{reg.receipt_code}").status_code == 200
    assert client.get("/partes/?q=certificado").status_code == 200
    assert client.get("/bandeja/").status_code == 200
    assert client.get("/").status_code == 200
