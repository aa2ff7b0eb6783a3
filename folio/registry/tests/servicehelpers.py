"""Helpers for the service-level tests of the Oficina de Partes (not a test module): build inputs for
the real services and take snapshots of everything a refused call must leave untouched."""

from __future__ import annotations

from typing import Any

from folio.audit.models import AuditEvent
from folio.files.models import StoredFile
from folio.registry import services
from folio.registry.models import Counter, Registration, Routing
from folio.verification.models import VerificationRecord

RUT = "12.345.678-5"


def data(**overrides: Any) -> services.RegistrationInput:
    """An incoming letter from a citizen, received on paper (no attachment needed)."""
    fields: dict[str, Any] = {
        "document_type": 7, "subject": "Solicita certificado de número", "party_kind": "citizen",
        "party_name": "Juan Pérez Soto", "party_rut": RUT, "mechanism": 1, "channel": "paper",
    }
    fields.update(overrides)
    return services.RegistrationInput(**fields)


def text_doc(text: str = "Carta de prueba", name: str = "carta.txt") -> services.UploadedDoc:
    return services.UploadedDoc(name=name, data=text.encode())


def incoming(actor: Any, **overrides: Any) -> Registration:
    return services.registration_create_incoming(actor=actor, data=data(**overrides))


def outgoing(actor: Any, **overrides: Any) -> Registration:
    fields: dict[str, Any] = {"document_type": 30, "subject": "Responde solicitud", "party_kind": "citizen",
                              "party_name": "Juan Pérez Soto", "documents": [text_doc("Respuesta")]}
    fields.update(overrides)
    return services.registration_create_outgoing(actor=actor, data=data(**fields))


def routed(clerk: Any, unit: Any, **overrides: Any) -> tuple[Registration, Routing]:
    reg = incoming(clerk, **overrides)
    [routing] = services.registration_route(actor=clerk, registration=reg, to_unit_ids=[unit.pk],
                                            instruction="response", business_days=10)
    reg.refresh_from_db()
    return reg, routing


def state() -> dict[str, Any]:
    """Every row a service of the Oficina de Partes may write, as plain values."""
    return {
        "registrations": list(Registration.objects.order_by("pk").values()),
        "routings": list(Routing.objects.order_by("pk").values()),
        "counters": list(Counter.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
        "files": StoredFile.objects.count(),
        "verification": list(VerificationRecord.objects.order_by("pk").values("code", "revoked_at")),
    }
