import pytest
from django.db import connection

@pytest.mark.django_db(transaction=True)
def test_a(world, pdf_bytes):
    from folio.registry import services
    data = services.RegistrationInput(document_type=7, subject="x", party_kind="public_body", party_name="y",
        documents=[services.UploadedDoc(name="a.pdf", data=pdf_bytes())])
    services.registration_create_incoming(actor=world.clerk, data=data)

@pytest.mark.django_db(transaction=True)
def test_b(world):
    assert world.clerk.has_role("registry")
    from folio.audit.models import AuditEvent
    assert AuditEvent.objects.count() == 0
