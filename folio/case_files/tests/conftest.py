from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from folio.registry import services as registry_services


@pytest.fixture
def citizen_request(world: Any, pdf_bytes: Callable[..., bytes]) -> Any:
    """A citizen's request registered by the Oficina de Partes of Lota and routed to the DOM."""
    data = registry_services.RegistrationInput(
        document_type=40, subject="Solicita permiso de edificación obra menor", party_kind="citizen",
        party_name="María José Carrasco Vidal", party_rut="12.345.678-5", party_email="mj@example.cl",
        mechanism=3, channel="paper", keywords="permiso, edificación",
        documents=[
            registry_services.UploadedDoc(name="solicitud.pdf", data=pdf_bytes("Solicitud de permiso", 2)),
            registry_services.UploadedDoc(name="plano.pdf", data=pdf_bytes("Plano de la obra", 3),
                                          role="attachment", description="Plano"),
        ],
    )
    reg = registry_services.registration_create_incoming(actor=world.clerk, data=data)
    registry_services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                         instruction="response", business_days=10)
    return reg

