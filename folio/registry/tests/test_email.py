"""E-mail through a real SMTP server on loopback (aiosmtpd): dispatch by e-mail with the PDF attached,
the Message-ID kept as delivery evidence, routing notices to the unit, and a dead SMTP server."""

from __future__ import annotations

from typing import Any

from django.test import Client

from folio.audit.models import AuditEvent
from folio.core.testing import Inbox, free_port, smtp_settings
from folio.registry import services
from folio.registry.models import Registration, RegistrationStatus
from folio.registry.tests.webhelpers import incoming


def _outgoing(world: Any, pdf_bytes: Any, *, email_address: str = "vecina@example.cl") -> Registration:
    return services.registration_create_outgoing(actor=world.dom, data=services.RegistrationInput(
        document_type=30, subject="Responde solicitud de certificado", party_kind="citizen",
        party_name="María José Carrasco", party_email=email_address, delivery_method="email",
        documents=[services.UploadedDoc(name="oficio-respuesta.pdf", data=pdf_bytes("Se adjunta certificado"))]))


def test_dispatch_by_email_is_delivered_over_smtp(world: Any, smtp: Inbox, pdf_bytes: Any,
                                                  django_capture_on_commit_callbacks: Any) -> None:
    out = _outgoing(world, pdf_bytes)
    original = out.documents.get().file
    client = Client()
    client.force_login(world.dom)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/partes/{out.pk}/despachar/", {"method": "email"})
    assert response.status_code == 302

    assert len(smtp.messages) == 1
    mail_from, rcpt, message = smtp.messages[0]
    assert rcpt == ["vecina@example.cl"]
    assert "no-responder@folio.localhost" in mail_from
    assert out.folio in message["Subject"]
    assert world.lota.name in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert out.folio in body and f"/verificar/{out.receipt_code}" in body
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["oficio-respuesta.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    import hashlib

    assert hashlib.sha256(attachments[0].get_content()).hexdigest() == original.sha256

    out.refresh_from_db()
    assert out.status == RegistrationStatus.DISPATCHED
    assert out.delivery_reference == message["Message-ID"]
    assert out.delivery_reference.startswith("<") and out.delivery_reference.endswith(">")
    actions = list(AuditEvent.objects.filter(object_type="registry.registration", object_id=str(out.pk))
                   .order_by("seq").values_list("action", flat=True))
    assert actions == ["registration.create", "registration.dispatch", "registration.delivered"]
    delivered = AuditEvent.objects.get(action="registration.delivered", object_id=str(out.pk))
    assert delivered.data["message_id"] == message["Message-ID"] and delivered.data["to"] == "vecina@example.cl"
    # The detail page's timeline says so.
    assert "vecina@example.cl" in client.get(f"/partes/{out.pk}/").content.decode()


def test_dispatch_by_email_through_the_api(world: Any, smtp: Inbox, pdf_bytes: Any,
                                          django_capture_on_commit_callbacks: Any) -> None:
    from folio.accounts.services import api_token_create

    out = _outgoing(world, pdf_bytes, email_address="empresa@example.cl")
    _t, key = api_token_create(user=world.dom)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/registrations/{out.pk}/dispatch/", {"method": "email"},
                            content_type="application/json")
    assert response.status_code == 200
    assert [m[1] for m in smtp.messages] == [["empresa@example.cl"]]
    timeline = api.get(f"/api/v1/registrations/{out.pk}/timeline/").json()
    assert [e["action"] for e in timeline][-1] == "registration.delivered"
    assert timeline[-1]["data"]["message_id"] == smtp.messages[0][2]["Message-ID"]
    assert api.get(f"/api/v1/registrations/{out.pk}/").json()["delivery_reference"] == smtp.messages[0][2]["Message-ID"]


def test_routing_notifies_the_unit_by_email(world: Any, smtp: Inbox, django_capture_on_commit_callbacks: Any) -> None:
    reg = incoming(world.clerk, subject="Solicita retiro de escombros")
    restricted = incoming(world.clerk, subject="Denuncia con datos sensibles", access_level=2)
    client = Client()
    client.force_login(world.clerk)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/partes/{reg.pk}/derivar/", {"units": [world.units["DOM"].pk],
                                                          "instruction": "response", "business_days": 10}
                           ).status_code == 302
    assert len(smtp.messages) == 1
    _from, rcpt, message = smtp.messages[0]
    assert rcpt == [world.units["DOM"].email] == ["dom@lota.cl"]
    assert reg.folio in message["Subject"]
    body = message.get_content()
    assert "Solicita retiro de escombros" in body and f"/partes/{reg.pk}/" in body
    assert reg.routings.get().due_date.strftime("%d-%m-%Y") in body

    # To one official by name: the notice goes to that person; a restricted subject is not mailed.
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_route(actor=world.clerk, registration=restricted, to_unit_ids=[world.units["DOM"].pk],
                                    instruction="information", business_days=None, to_user_id=world.dom.pk)
    assert len(smtp.messages) == 2
    _from, rcpt, message = smtp.messages[1]
    assert rcpt == [world.dom.email]
    assert "datos sensibles" not in message.get_content()


def test_smtp_down_keeps_the_dispatch_and_records_the_failure(world: Any, settings: Any, pdf_bytes: Any,
                                                              django_capture_on_commit_callbacks: Any) -> None:
    smtp_settings(settings, free_port())  # nothing listens there
    out = _outgoing(world, pdf_bytes)
    reg = incoming(world.clerk)
    client = Client()
    client.force_login(world.dom)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/partes/{out.pk}/despachar/", {"method": "email"})
    assert response.status_code == 302  # no crash
    out.refresh_from_db()
    assert out.status == RegistrationStatus.DISPATCHED
    assert out.delivery_method == "email" and out.delivery_reference == ""
    failed = AuditEvent.objects.get(action="registration.dispatch_failed", object_id=str(out.pk))
    assert failed.data["error"]
    assert not AuditEvent.objects.filter(action="registration.delivered").exists()
    assert client.get(f"/partes/{out.pk}/").status_code == 200
    # A routing notice that cannot be sent does not undo the routing either.
    clerk = Client()
    clerk.force_login(world.clerk)
    with django_capture_on_commit_callbacks(execute=True):
        assert clerk.post(f"/partes/{reg.pk}/derivar/", {"units": [world.units["DOM"].pk],
                                                         "instruction": "response"}).status_code == 302
    assert reg.routings.count() == 1
