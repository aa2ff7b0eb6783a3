"""The public upload on /verificar/ (results in Spanish, bad files answered with 400) and the signer's
certificate page."""

from __future__ import annotations

import io
from typing import Any

import pikepdf
from django.test import Client
from django.utils import timezone

from folio.signatures import services
from folio.signatures.models import SignerCertificate
from folio.signatures.tests.conftest import PASSPHRASE, flip_signed_byte, sign_request


def _upload(client: Client, data: bytes, name: str = "decreto.pdf") -> Any:
    upload = io.BytesIO(data)
    upload.name = name
    return client.post("/verificar/", {"file": upload})


def test_uploading_a_signed_pdf_shows_its_signatures_in_spanish(
        signer: Any, world: Any, client: Client, pdf_bytes: Any) -> None:
    signed = services.sign_pdf(sign_request(pdf_bytes("Decreto", 2), signer)).pdf
    page = client.get("/verificar/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    response = _upload(client, signed)
    assert response.status_code == 200
    html = response.content.decode()
    assert "no ha sido modificado desde que fue firmado" in html
    assert "Alicia Castro" in html and "12345678-5" in html and "CA Folio I. Municipalidad de Lota" in html
    assert "Válida" in html and "Firma 1" in html


def test_a_modified_copy_is_reported_as_modified(signer: Any, client: Client, pdf_bytes: Any) -> None:
    signed = services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer)).pdf
    response = _upload(client, flip_signed_byte(signed))
    assert response.status_code == 200
    html = response.content.decode()
    assert "fue modificado después de ser firmado" in html and "No válida" in html


def test_the_issued_document_is_recognised_by_its_bytes(signer: Any, world: Any, client: Client,
                                                        pdf_bytes: Any) -> None:
    from django.db import transaction

    from folio.verification.services import verification_issue

    signed = services.sign_pdf(sign_request(pdf_bytes("Decreto", 1), signer)).pdf
    with transaction.atomic():
        record = verification_issue(organization=world.lota, kind="signed_act", obj=world.lota,
                                    title="Decreto Exento N° 1/2026", facts=[])
        import hashlib

        record.sha256 = hashlib.sha256(signed).hexdigest()
        record.save()
    html = _upload(client, signed).content.decode()
    assert record.code in html


def test_bad_files_are_answered_with_400(client: Client, db: Any, pdf_bytes: Any) -> None:
    cases = {
        b"Esto no es un PDF": "no es un PDF",
        pdf_bytes("Sin firmas", 1): "no tiene firmas",
        b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF": "",
    }
    encrypted = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf_bytes("Secreto", 1))) as doc:
        doc.save(encrypted, encryption=pikepdf.Encryption(owner="dueño", user="lector"))
    cases[encrypted.getvalue()] = "contraseña"
    for data, text in cases.items():
        response = _upload(client, data)
        assert response.status_code == 400, data[:20]
        assert text in response.content.decode()
        assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert client.post("/verificar/", {}).status_code == 400


def test_a_signer_gets_a_certificate_from_the_page(world: Any, client: Client) -> None:
    client.force_login(world.signer)
    page = client.get("/firma/certificado/")
    assert page.status_code == 200 and "Mi certificado de firma" in page.content.decode()
    wrong = client.post("/firma/certificado/", {"password": "no", "passphrase": PASSPHRASE,
                                                "passphrase_again": PASSPHRASE})
    assert wrong.status_code == 400 and not SignerCertificate.objects.exists()
    mismatch = client.post("/firma/certificado/", {"password": world.password, "passphrase": PASSPHRASE,
                                                   "passphrase_again": PASSPHRASE + "x"})
    assert mismatch.status_code == 400
    done = client.post("/firma/certificado/", {"password": world.password, "passphrase": PASSPHRASE,
                                               "passphrase_again": PASSPHRASE})
    assert done.status_code == 302
    cert = SignerCertificate.objects.get(user=world.signer, revoked_at__isnull=True)
    assert cert.not_after > timezone.now()
    assert cert.serial in client.get("/firma/certificado/").content.decode()
    client.force_login(world.clerk)
    assert client.get("/firma/certificado/").status_code == 403
    client.logout()
    assert client.get("/firma/certificado/").status_code == 302
