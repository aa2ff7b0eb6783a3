"""The issue's journey, tried as new users would through the pages: the DOM official drafts an oficio answering
a citizen's request inside its expediente, the DOM director endorses it, the Alcaldesa signs it through the
FirmaGob sandbox (advanced signature, attended purpose, OTP; real HTTP to the live server), it gets its number,
leaves through the libro de despacho and lands in the expediente; poppler's pdfsig validates it, /verificar/
shows it, a modified copy is reported as modified. And the Secretario Municipal batch-signs twenty decretos
with the simple signature."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from folio.acts import selectors, services
from folio.acts.models import Act, ActCounter, ActKind, ActState, StepStatus
from folio.acts.tests.conftest import SECMUN_PASSPHRASE, draft, pdf_text, signed_bytes
from folio.audit.models import AuditEvent
from folio.audit.selectors import verify_chains
from folio.case_files.models import EntrySource, IndexEntry
from folio.registry.models import Book, Registration, RegistrationStatus

VALID_LINE = "Signature Validation: Signature is Valid."


def login(user: Any, password: str) -> Client:
    client = Client()
    assert client.login(username=user.username, password=password)
    return client


def pdfsig(data: bytes, tmp_path: Path, name: str) -> str:
    if shutil.which("pdfsig") is None:
        pytest.skip("poppler's pdfsig is not installed")
    path = tmp_path / name
    path.write_bytes(data)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60, check=False)
    return result.stdout + result.stderr


def test_oficio_from_draft_to_expediente_through_firmagob(
        world: Any, live_server: Any, templates: Any, alcaldesa: Any, citizen_request: Any, tmp_path: Path,
        mailoutbox: Any) -> None:
    from folio.case_files import services as cf_services
    from folio.signatures import sandbox
    from folio.signatures import services as signatures

    # The administrator decides that oficios need the advanced signature, and Lota uses the FirmaGob sandbox.
    admin = login(world.admin, world.password)
    response = admin.post("/actos/politica-de-firma/", {"kind": "oficio", "oficio-requires_advanced": "on"})
    assert response.status_code == 302
    signatures.firmagob_sandbox_enable(organization=world.lota, actor=world.admin, base_url=live_server.url)

    # The DOM official opens the expediente of the request and drafts the oficio that answers it, inside it.
    cf = cf_services.case_file_open(actor=world.dom, registration_id=citizen_request.pk,
                                    data=cf_services.CaseFileInput())
    dom = login(world.dom, world.password)
    page = dom.get(f"/actos/nuevo/?responde={citizen_request.pk}&expediente={cf.pk}")
    assert page.status_code == 200 and citizen_request.folio in page.content.decode()
    response = dom.post("/actos/nuevo/", {"template": templates[ActKind.OFFICIAL_LETTER].pk,
                                          "answers": citizen_request.pk, "case_file": cf.pk})
    assert response.status_code == 302
    act = Act.objects.get()
    assert response["Location"] == f"/actos/{act.pk}/editar/"
    assert act.answers == citizen_request and act.case_file == cf
    assert act.recipient_name == "María José Carrasco Vidal" and citizen_request.folio in act.subject
    # The draft's preview has no number yet.
    preview = dom.get(f"/actos/{act.pk}/documento.pdf")
    assert preview.status_code == 200 and "S/N" in pdf_text(preview.content)
    form = dom.get(f"/actos/{act.pk}/editar/")
    assert form.status_code == 200
    response = dom.post(f"/actos/{act.pk}/editar/", {
        "version": act.version, "subject": act.subject, "antecedents": act.antecedents,
        "body": "Junto con saludar, informo a usted que el certificado de informaciones previas de su "
                "propiedad se encuentra disponible.\n\nSe adjunta al presente.",
        "closing": act.closing, "recipient_kind": "citizen", "recipient_name": act.recipient_name,
        "recipient_email": act.recipient_email, "recipient_address": act.recipient_address,
        "distribution_text": "Interesada\nArchivo DOM", "distribution_units": [world.units["DOM"].pk],
        "access_level": 1, "endorser_1": world.dom_head.pk, "signer_1": alcaldesa.pk, "capacity_1": "own",
        "capacity_2": "own", "capacity_3": "own", "submit": "1",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    act.refresh_from_db()
    assert act.state == ActState.IN_ENDORSEMENT and act.current_step.user == world.dom_head

    # The DOM director finds it in the inbox and endorses it.
    head = login(world.dom_head, world.password)
    inbox = head.get("/actos/bandeja/visaciones/")
    assert act.subject[:40] in inbox.content.decode()
    assert head.post(f"/actos/{act.pk}/visar/", {"version": act.version, "comment": "Conforme"}).status_code == 302
    act.refresh_from_db()
    assert act.state == ActState.IN_SIGNATURE and act.current_step.user == alcaldesa

    # The Alcaldesa signs through FirmaGob with the code of her authenticator app.
    mayor = login(alcaldesa, world.password)
    inbox = mayor.get("/actos/bandeja/firmas/")
    assert f'value="{act.pk}"' in inbox.content.decode()
    detail = mayor.get(f"/actos/{act.pk}/")
    assert "FirmaGob" in detail.content.decode()
    # The policy leaves no room for the simple signature.
    refused = mayor.post(f"/actos/{act.pk}/firmar/", {"method": "simple", "passphrase": "x" * 12})
    assert refused.status_code == 400
    otp = sandbox.current_otp(str(alcaldesa.run_number))
    response = mayor.post(f"/actos/{act.pk}/firmar/", {"method": "advanced", "otp": otp})
    assert response.status_code == 302, response.content.decode()[:3000]
    act.refresh_from_db()
    year = timezone.localdate().year
    assert act.state == ActState.NUMBERED
    assert act.number == 1 and act.number_display == f"Oficio Ord. N° 1/{year}"
    step = act.steps.get(kind="sign")
    assert step.status == StepStatus.DONE and step.method == "advanced" and step.provider == "firmagob"
    assert step.signer_run.startswith("12345678")
    data = signed_bytes(act)
    # The number in the document is the number recorded.
    text = pdf_text(data)
    assert act.number_display in text and act.verification_code in text

    # It leaves through the libro de despacho (by e-mail) and lands in the expediente.
    response = dom.post(f"/actos/{act.pk}/distribuir/", {"version": act.version, "delivery_method": "email"})
    assert response.status_code == 302, response.content.decode()[:3000]
    act.refresh_from_db()
    assert act.state == ActState.DISTRIBUTED
    out = act.outgoing_registration
    assert out is not None and out.book == Book.OUTGOING and out.status == RegistrationStatus.DISPATCHED
    assert out.answers == citizen_request and out.party_email == "mj.carrasco@example.cl"
    assert out.documents.get(role="main").file.sha256 == act.signed_file.sha256
    assert Registration.objects.get(pk=citizen_request.pk).status == RegistrationStatus.CLOSED
    [delivered] = [m for m in mailoutbox if m.to == ["mj.carrasco@example.cl"]]
    assert any(att[1] == data for att in delivered.attachments if isinstance(att, tuple))
    entry = IndexEntry.objects.get(case_file=cf, source=EntrySource.SERVICE)
    assert entry == act.case_file_entry and entry.sha256 == act.signed_file.sha256
    assert entry.source_reference == f"acts.act:{act.pk}" and entry.advanced_signature
    assert act.distributions.filter(unit=world.units["DOM"]).exists()

    # poppler validates the signature; Folio's validation too.
    output = pdfsig(data, tmp_path, "oficio.pdf")
    assert VALID_LINE in output and "Total document signed" in output, output
    report = signatures.validate_pdf(pdf=data, organization=world.lota)
    assert report.intact and not report.modified_after_signing and report.signatures[0]["valid"]

    # Anyone verifies it at /verificar/<code>: what it is, its number, its signer, and (public) the document.
    anonymous = Client()
    page = anonymous.get(f"/verificar/{act.verification_code}")
    body = page.content.decode()
    assert page.status_code == 200
    assert act.number_display in body and "Alicia Castro" in body and act.subject in body
    download = anonymous.get(f"/verificar/{act.verification_code}/document")
    assert download.status_code == 200 and b"".join(download.streaming_content) == data

    # A copy with one byte changed is reported as modified (and pdfsig no longer validates it).
    index = data.find(b"/Producer (") + len(b"/Producer (")
    assert 0 < index < data.find(b"/ByteRange")
    tampered = bytearray(data)
    tampered[index] = ord("X") if tampered[index] != ord("X") else ord("Y")
    report = signatures.validate_pdf(pdf=bytes(tampered), organization=world.lota)
    assert not report.intact and not report.signatures[0]["valid"]
    assert VALID_LINE not in pdfsig(bytes(tampered), tmp_path, "tampered.pdf")
    # The same through /verificar/: the issued file is recognised, the modified copy is reported as such.
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = anonymous.post("/verificar/", {"file": SimpleUploadedFile("oficio.pdf", data, "application/pdf")})
    body = page.content.decode()
    assert page.status_code == 200 and "no ha sido modificado" in body and act.verification_code in body
    page = anonymous.post("/verificar/", {"file": SimpleUploadedFile("copia.pdf", bytes(tampered),
                                                                     "application/pdf")})
    body = page.content.decode()
    assert page.status_code == 200 and "no ha sido modificado" not in body
    assert "fue modificado" in body or "no es válida" in body

    # The timeline tells the story, and the audit chain holds.
    actions = [e.action for e in selectors.act_timeline(act)]
    assert actions == ["act.create", "act.update", "act.submit", "act.endorse", "act.sign", "act.number_assigned",
                       "act.signed", "act.numbered", "act.distribute"]
    assert verify_chains()[1] == []


def test_secretario_municipal_batch_signs_twenty_decretos(world: Any, templates: Any, secmun: Any) -> None:
    decree = templates[ActKind.EXEMPT_DECREE]
    acts = []
    for i in range(20):
        act = draft(world.legal, decree, signers=[secmun], subject=f"Aprueba convenio de colaboración N° {i + 1}",
                    body="CONSIDERANDO:\n\n1. Que es necesario.\n\nDECRETO:\n\n1. Apruébase.")
        acts.append(services.act_submit(actor=world.legal, act=act))
    client = login(secmun, world.password)
    inbox = client.get("/actos/bandeja/firmas/")
    assert inbox.status_code == 200 and all(f'value="{a.pk}"' in inbox.content.decode() for a in acts)
    started = time.monotonic()
    response = client.post("/actos/firma-masiva/", {"acts": [a.pk for a in acts], "method": "simple",
                                                    "passphrase": SECMUN_PASSPHRASE})
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r"20\D+0", body), body[:2000]
    year = timezone.localdate().year
    signed = {a.pk: a for a in Act.objects.filter(pk__in=[a.pk for a in acts])}
    assert {a.state for a in signed.values()} == {ActState.NUMBERED}
    # Numbered in the order they were signed, gap-free, each number printed in its own signed PDF.
    assert [signed[a.pk].number for a in acts] == list(range(1, 21))
    for act in signed.values():
        assert act.number_display == f"Decreto Exento N° {act.number}/{year}"
        assert act.number_display in pdf_text(signed_bytes(act))
    assert ActCounter.objects.get(organization=world.lota, kind=ActKind.EXEMPT_DECREE, year=year).last_value == 20
    assert AuditEvent.objects.filter(action="act.batch_sign").count() == 1
    assert elapsed < 60


def test_demo_like_circuit_with_two_signers_keeps_one_number(
        world: Any, templates: Any, director: Any, secmun: Any) -> None:
    """A decreto signed by the DOM director and then by the Secretario Municipal as ministro de fe: the number
    is printed before the first signature and the second signer signs that same file."""
    from folio.acts.tests.conftest import DOM_PASSPHRASE

    act = draft(world.dom, templates[ActKind.EXEMPT_DECREE], signers=[director, secmun])
    act = services.act_submit(actor=world.dom, act=act)
    act = services.act_sign(actor=director, act=act, passphrase=DOM_PASSPHRASE)
    assert act.state == ActState.IN_SIGNATURE and act.number == 1 and act.current_step.user == secmun
    first = signed_bytes(act)
    act = services.act_sign(actor=secmun, act=act, passphrase=SECMUN_PASSPHRASE)
    assert act.state == ActState.NUMBERED and act.number == 1
    second = signed_bytes(act)
    assert second.startswith(first)
    from folio.signatures import services as signatures

    report = signatures.validate_pdf(pdf=second, organization=world.lota)
    assert report.intact and [s["valid"] for s in report.signatures] == [True, True]
