"""Copias autorizadas: the whole expediente built in the background with progress, one document at once,
foliation stamped on every page, per-document restrictions, verification at /verificar/, refusals, and
memory that does not grow with the size of the expediente."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from folio.audit.models import AuditEvent
from folio.case_files import copies, selectors, services
from folio.case_files.models import AuthorizedCopy, CaseFile, CopyStatus, IndexEntry
from folio.case_files.tests.casefilehelpers import add_pdf, full_case_file
from folio.files.services import file_open
from folio.verification.models import VerificationKind, VerificationRecord
from folio.verification.services import new_code


@pytest.fixture
def cf(world: Any, pdf_bytes: Callable[..., bytes], citizen_request: Any) -> CaseFile:
    return full_case_file(world, pdf_bytes, citizen_request)


def _texts(copy: AuthorizedCopy) -> list[str]:
    assert copy.file is not None
    with file_open(copy.file) as fh:
        pdf = pdfium.PdfDocument(fh.read())
    try:
        return [pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf))]
    finally:
        pdf.close()


def _whole(actor: Any, cf: CaseFile, capture: Any) -> AuthorizedCopy:
    with capture(execute=True):
        copy = services.authorized_copy_request(actor=actor, case_file=cf)
    copy.refresh_from_db()
    return copy


def _entry(cf: CaseFile, position: int) -> IndexEntry:
    return IndexEntry.objects.get(case_file=cf, position=position)


def test_whole_copy_is_built_in_the_background_stamped_and_verifiable(
        world: Any, cf: CaseFile, client: Any, django_capture_on_commit_callbacks: Any) -> None:
    copy = _whole(world.dom, cf, django_capture_on_commit_callbacks)
    assert copy.status == CopyStatus.DONE and copy.file is not None
    # cover + one index page + 2 + 3 pages (registration) + restricted 1 + image 1 + text 1 + paper 1 + sensitive 1
    assert copy.pages_total == copy.pages_done == 12
    texts = _texts(copy)
    assert len(texts) == 12
    assert cf.iuie in texts[0] and copy.code in texts[0] and copy.index_hash in texts[0].replace("\r\n", "")
    assert "María José Carrasco Vidal (12.345.678-5)" in texts[0]  # the responsible unit sees the parties
    index = texts[1]
    for entry in IndexEntry.objects.filter(case_file=cf):
        assert entry.title[:20] in index and entry.sha256[:40] in index.replace("\r\n", "")
    # every page of every document carries its own folio, continuous across the expediente
    for page, folio in zip(range(2, 7), range(1, 6), strict=True):
        assert f"Foja {folio}\r\n" in texts[page] and copy.code in texts[page]
    assert "Solicitud de permiso (página 2)" in texts[3]
    assert "Informe reservado" in texts[7] and "Foja 6" in texts[7]  # the responsible unit reads it
    assert "Foja 7" in texts[8]  # the photograph became a page
    assert "nota.txt" in texts[9] and "Foja 8" in texts[9] and _entry(cf, 5).sha256[:32] in texts[9].replace(
        "\r\n", "")
    assert "Archivo DOM, estante 4" in texts[10] and "Fojas 9–10" in texts[10]
    assert "Informe social" in texts[11] and "Foja 11" in texts[11]

    record = VerificationRecord.objects.get(code=copy.code)
    assert record.kind == VerificationKind.AUTHORIZED_COPY and record.organization_id == cf.organization_id
    assert record.document_id == copy.file_id and record.sha256 == copy.file.sha256
    assert record.public_original is None  # a whole expediente has no single original
    facts = dict(record.facts)
    assert facts["Expediente (IUIe)"] == cf.iuie and facts["Hash del índice (SHA-256)"] == copy.index_hash
    assert copy.index_hash == __import__("folio.case_files.exports", fromlist=["x"]).index_hash(
        cf, selectors.all_entries(cf))
    page = client.get(f"/verificar/{copy.code}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "copia autorizada" in body.lower() and cf.iuie in body and copy.index_hash in body
    assert f"/verificar/{copy.code}/document" in body and f"/verificar/{copy.code}/original" not in body
    download = client.get(f"/verificar/{copy.code}/document")
    with file_open(copy.file) as fh:
        assert b"".join(download.streaming_content) == fh.read()
    actions = list(AuditEvent.objects.filter(object_id=str(cf.pk), action__startswith="case_file.copy")
                   .values_list("action", flat=True))
    assert actions == ["case_file.copy", "case_file.copy_ready"]


def test_a_reader_of_another_unit_gets_only_what_they_may_read(
        world: Any, cf: CaseFile, django_capture_on_commit_callbacks: Any) -> None:
    copy = _whole(world.dideco, cf, django_capture_on_commit_callbacks)
    assert copy.status == CopyStatus.DONE
    assert copy.included_positions == [1, 2, 4, 5]
    assert copy.redacted_positions == [3, 7]
    texts = _texts(copy)
    assert len(texts) == 12  # same foliation: what may not be read is one placeholder page each
    assert "Informe reservado" not in "".join(texts) and "Informe social" not in "".join(texts)
    assert "Documento de acceso restringido" in texts[1]
    assert "no se reproduce" in texts[7] and "Foja 6" in texts[7]
    assert "no se reproduce" in texts[11] and "Foja 11" in texts[11]
    assert "Fotografía de la obra" in texts[1]
    assert "María José Carrasco Vidal" in texts[0] and "12.345.678-5" not in texts[0]  # names, no RUN
    facts = dict(VerificationRecord.objects.get(code=copy.code).facts)
    assert facts["Documentos reproducidos"] == "4 de 7"


def test_copy_of_one_document_is_issued_at_once_with_its_original(
        world: Any, cf: CaseFile, client: Any) -> None:
    copy = services.authorized_copy_request(actor=world.dideco, case_file=cf, entry=_entry(cf, 2))
    assert copy.status == CopyStatus.DONE and copy.pages_total == 4  # cover + 3 pages
    texts = _texts(copy)
    assert [t.count("Foja ") for t in texts[1:]] == [1, 1, 1]
    assert "Foja 3" in texts[1] and "Foja 5" in texts[3]
    record = VerificationRecord.objects.get(code=copy.code)
    assert record.public_original_id == _entry(cf, 2).file_id
    assert dict(record.facts)["SHA-256 del original"] == _entry(cf, 2).sha256
    body = client.get(f"/verificar/{copy.code}").content.decode()
    assert f"/verificar/{copy.code}/original" in body
    original = client.get(f"/verificar/{copy.code}/original")
    with file_open(_entry(cf, 2).file) as fh:
        assert b"".join(original.streaming_content) == fh.read()


def test_a_restricted_document_offers_no_original(world: Any, cf: CaseFile) -> None:
    copy = services.authorized_copy_request(actor=world.dom, case_file=cf, entry=_entry(cf, 3))
    record = VerificationRecord.objects.get(code=copy.code)
    assert record.public_original is None
    assert "Informe reservado" not in str(record.facts)  # its title stays off the public page


def test_refusals_change_nothing_and_denials_are_recorded(world: Any, cf: CaseFile) -> None:
    before = (AuthorizedCopy.objects.count(), VerificationRecord.objects.count())
    with pytest.raises(PermissionDenied):
        services.authorized_copy_request(actor=world.dideco, case_file=cf, entry=_entry(cf, 3))
    denial = AuditEvent.objects.filter(object_id=str(cf.pk), action="case_file.denied").last()
    assert denial is not None and denial.data["attempted"] == "copy" and denial.actor_id == world.dideco.pk
    with pytest.raises(ValidationError):
        services.authorized_copy_request(actor=world.dom, case_file=cf, entry=_entry(cf, 6))  # paper
    with pytest.raises(PermissionDenied):  # another municipality, even through the service
        services.authorized_copy_request(actor=world.other_dom, case_file=cf)
    with pytest.raises(PermissionDenied):
        services.authorized_copy_request(actor=world.citizen, case_file=cf)
    assert (AuthorizedCopy.objects.count(), VerificationRecord.objects.count()) == before


def test_an_empty_index_cannot_be_certified(world: Any) -> None:
    empty = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Vacío", subject="Nada"))
    with pytest.raises(services.ConflictError):
        services.authorized_copy_request(actor=world.dom, case_file=empty)
    assert not AuthorizedCopy.objects.exists()


def test_reading_sensitive_documents_through_a_copy_is_logged(
        world: Any, cf: CaseFile, django_capture_on_commit_callbacks: Any) -> None:
    _whole(world.dom, cf, django_capture_on_commit_callbacks)
    logged = AuditEvent.objects.filter(object_id=str(cf.pk), action="case_file.access", data__what="copy")
    assert sorted(e.data["position"] for e in logged) == [3, 7]


def test_every_role_may_certify_what_it_may_read(world: Any, cf: CaseFile,
                                                 django_capture_on_commit_callbacks: Any) -> None:
    expected = {"admin": [1, 2, 3, 4, 5, 7], "clerk": [1, 2, 3, 4, 5, 7], "dom_head": [1, 2, 3, 4, 5, 7],
                "legal": [1, 2, 4, 5], "signer": [1, 2, 4, 5], "ctd": [1, 2, 4, 5], "auditor": [1, 2, 4, 5]}
    for role, positions in expected.items():
        copy = _whole(getattr(world, role), cf, django_capture_on_commit_callbacks)
        assert copy.status == CopyStatus.DONE and copy.included_positions == positions, role


def test_a_failed_build_is_shown_and_issues_nothing(world: Any, cf: CaseFile,
                                                    django_capture_on_commit_callbacks: Any) -> None:
    stored = _entry(cf, 2).file
    assert stored is not None
    (Path(settings.MEDIA_ROOT) / stored.storage_name).unlink()
    copy = _whole(world.dom, cf, django_capture_on_commit_callbacks)
    assert copy.status == CopyStatus.FAILED and copy.error and copy.file is None
    assert not VerificationRecord.objects.filter(code=copy.code).exists()
    assert AuditEvent.objects.filter(object_id=str(cf.pk), action="case_file.copy_failed").exists()
    # a document copy that fails leaves nothing behind
    with pytest.raises(FileNotFoundError):
        services.authorized_copy_request(actor=world.dom, case_file=cf, entry=_entry(cf, 2))
    assert AuthorizedCopy.objects.count() == 1


def test_progress_is_shown_and_polled_while_building(world: Any, cf: CaseFile, client: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:
    client.force_login(world.dom)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/expedientes/{cf.pk}/copia-autorizada/")
    assert response.status_code == 302 and response["Location"].endswith("#copias")
    copy = AuthorizedCopy.objects.get()
    assert copy.status == CopyStatus.QUEUED
    page = client.get(f"/expedientes/{cf.pk}/").content.decode()
    poll = f'hx-get="/expedientes/{cf.pk}/copias/{copy.pk}/" hx-trigger="every 2s"'
    assert poll in page and "<progress" in page and "<script" not in page.split("copia-")[1][:2000]
    for callback in callbacks:
        callback()
    partial = client.get(f"/expedientes/{cf.pk}/copias/{copy.pk}/")
    assert partial.status_code == 200
    body = partial.content.decode()
    assert "hx-trigger" not in body and f"/expedientes/{cf.pk}/copias/{copy.pk}/pdf/" in body
    pdf = client.get(f"/expedientes/{cf.pk}/copias/{copy.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    # a copy is its requester's: another official of the organization gets a 404
    client.force_login(world.legal)
    assert client.get(f"/expedientes/{cf.pk}/copias/{copy.pk}/pdf/").status_code == 404
    assert client.get(f"/expedientes/{cf.pk}/copias/{copy.pk}/").status_code == 404


def test_copy_pages_and_their_refusals(world: Any, cf: CaseFile, client: Any) -> None:
    client.force_login(world.dideco)
    ok = client.post(f"/expedientes/{cf.pk}/copia-autorizada/documento/", {"copy-position": 1})
    assert ok.status_code == 302
    assert AuthorizedCopy.objects.filter(requested_by=world.dideco, status=CopyStatus.DONE).count() == 1
    denied = client.post(f"/expedientes/{cf.pk}/copia-autorizada/documento/", {"copy-position": 3})
    assert denied.status_code == 403
    assert client.post(f"/expedientes/{cf.pk}/copia-autorizada/documento/", {"copy-position": 99}).status_code == 400
    assert client.post(f"/expedientes/{cf.pk}/copia-autorizada/documento/", {"copy-position": "x"}).status_code == 400
    paper = client.post(f"/expedientes/{cf.pk}/copia-autorizada/documento/", {"copy-position": 6})
    assert paper.status_code == 400 and "papel" in paper.content.decode()
    assert client.get(f"/expedientes/{cf.pk}/copia-autorizada/").status_code == 405
    client.force_login(world.other_dom)
    assert client.post(f"/expedientes/{cf.pk}/copia-autorizada/").status_code == 404
    assert AuthorizedCopy.objects.count() == 1


def test_copies_over_the_api(world: Any, cf: CaseFile, django_capture_on_commit_callbacks: Any) -> None:
    api = APIClient()
    api.force_authenticate(world.dom)
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(f"/api/v1/case-files/{cf.pk}/copies/")
    assert queued.status_code == 202, queued.json()
    copy_id = queued.json()["id"]
    detail = api.get(f"/api/v1/case-files/{cf.pk}/copies/{copy_id}/").json()
    assert detail["status"] == "done" and detail["pages_done"] == detail["pages_total"] == 12
    assert detail["verification_url"].endswith(f"/verificar/{detail['code']}")
    pdf = api.get(detail["file_url"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    one = api.post(f"/api/v1/case-files/{cf.pk}/entries/{_entry(cf, 1).pk}/copy/")
    assert one.status_code == 201 and one.json()["scope"] == "document" and one.json()["document_position"] == 1
    assert [c["id"] for c in api.get(f"/api/v1/case-files/{cf.pk}/copies/").json()] == [one.json()["id"], copy_id]
    api.force_authenticate(world.dideco)
    refused = api.post(f"/api/v1/case-files/{cf.pk}/entries/{_entry(cf, 3).pk}/copy/")
    assert refused.status_code == 403 and refused.json()["error"]["message"]
    paper = api.post(f"/api/v1/case-files/{cf.pk}/entries/{_entry(cf, 6).pk}/copy/")
    assert paper.status_code == 400
    assert api.get(f"/api/v1/case-files/{cf.pk}/copies/{copy_id}/").status_code == 404
    api.force_authenticate(world.other_dom)
    assert api.post(f"/api/v1/case-files/{cf.pk}/copies/").status_code == 404


def _peak_building(world: Any, pdf: Callable[..., bytes], documents: int, pages: int) -> tuple[int, int]:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Grande", subject="Memoria"))
    for n in range(documents):
        add_pdf(world, cf, pdf, f"Documento {n}", pages=pages)
    copy = AuthorizedCopy.objects.create(
        organization_id=cf.organization_id, case_file=cf, requested_by=world.dom, code=new_code(),
        included_positions=list(range(1, documents + 1)), last_position=documents, index_hash="0" * 64,
        requested_at=cf.created_at)
    gc.collect()
    tracemalloc.start()
    try:
        built = copies.build(copy.pk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert built is not None and built.status == CopyStatus.DONE
    return peak, built.pages_total


def test_memory_does_not_grow_with_the_expediente(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    _peak_building(world, pdf_bytes, documents=1, pages=1)  # warm-up: one-time caches (fonts, catalogues)
    small, small_pages = _peak_building(world, pdf_bytes, documents=20, pages=5)
    large, large_pages = _peak_building(world, pdf_bytes, documents=40, pages=10)
    assert (small_pages, large_pages) == (1 + 2 + 100, 1 + 3 + 400)
    # Four times the pages, twice the documents: the peak (Python allocations, tracemalloc) stays under a
    # fixed bound and does not scale with them.
    assert large < 4 * 1024 * 1024, large
    assert large < small * 1.25, (small, large)
