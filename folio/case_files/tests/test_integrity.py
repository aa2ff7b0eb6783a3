"""``verify_integrity`` also checks the electronic index: every entry's SHA-256 against its stored file and
every closed expediente's recorded index hash against a recomputation, naming what differs."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from folio.case_files import services
from folio.case_files.models import CaseFile, IndexEntry
from folio.case_files.tests.casefilehelpers import add_pdf
from folio.files.models import StoredFile
from folio.files.tests.test_verify_integrity import verify


@pytest.fixture
def case_files(world: Any, pdf_bytes: Callable[..., bytes]) -> tuple[CaseFile, CaseFile]:
    closed = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Cerrado", subject="A"))
    add_pdf(world, closed, pdf_bytes, "Informe", pages=2)
    add_pdf(world, closed, pdf_bytes, "Resolución")
    closed = services.case_file_close(actor=world.dom, case_file=closed)
    other = services.case_file_open(actor=world.other_dom, data=services.CaseFileInput(title="Coronel", subject="B"))
    add_pdf(world, other, pdf_bytes, "Oficio", actor=world.other_dom)
    return closed, other


def _entry(cf: CaseFile, position: int) -> IndexEntry:
    return IndexEntry.objects.select_related("file").get(case_file=cf, position=position)


@contextmanager
def _index_writable() -> Iterator[None]:
    """Lift the append-only triggers for one forged change (what an attacker with database access could do)."""
    triggers = importlib.import_module("folio.case_files.migrations.0002_index_append_only")
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for sql in triggers.POSTGRES_REVERSE if postgres else triggers.SQLITE_REVERSE:
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in triggers.POSTGRES if postgres else triggers.SQLITE:
                cursor.execute(sql)


def test_an_intact_index_passes(case_files: Any) -> None:
    ok, output = verify()
    assert ok, output
    assert "integrity OK: 3 files verified, 3 index entries and 1 closed expedientes checked" in output


def test_a_changed_document_names_its_index_entry(case_files: Any) -> None:
    closed, _other = case_files
    entry = _entry(closed, 2)
    assert entry.file is not None
    path = Path(settings.MEDIA_ROOT) / entry.file.storage_name
    path.write_bytes(path.read_bytes() + b"\n%%EOF anexo")
    ok, output = verify()
    assert not ok
    assert f"file {entry.file.pk} ({entry.file.storage_name})" in output
    assert f"index entry MUN-8106 {closed.iuie} no. 2: its stored file {entry.file.pk} no longer matches" in output
    assert "1 of 3 files differ; 1 index problems" in output


def test_a_file_replaced_with_its_record_is_still_caught_by_the_index(case_files: Any) -> None:
    """Bytes and the file's own row were both changed: the append-only index still holds the true hash."""
    closed, _other = case_files
    entry = _entry(closed, 1)
    assert entry.file is not None
    forged = b"%PDF-1.4 documento reemplazado"
    (Path(settings.MEDIA_ROOT) / entry.file.storage_name).write_bytes(forged)
    StoredFile.objects.filter(pk=entry.file.pk).update(sha256=hashlib.sha256(forged).hexdigest(), size=len(forged))
    ok, output = verify()
    assert not ok
    assert f"index entry MUN-8106 {closed.iuie} no. 1: SHA-256 {entry.sha256} differs from its stored file" in output
    assert "0 of 3 files differ; 1 index problems" in output


def test_a_changed_index_of_a_closed_expediente_is_named(case_files: Any) -> None:
    closed, other = case_files
    with _index_writable():
        IndexEntry.objects.filter(case_file=closed, position=2).update(title="Resolución alterada")
    ok, output = verify()
    assert not ok
    assert f"expediente MUN-8106 {closed.iuie}: index hash" in output and closed.index_hash in output
    assert "MUN-8102" not in output and other.organization.code == "MUN-8102"


def test_a_changed_recorded_hash_is_named(case_files: Any) -> None:
    closed, _other = case_files
    CaseFile.objects.filter(pk=closed.pk).update(index_hash="0" * 64)
    ok, output = verify()
    assert not ok and f"expediente MUN-8106 {closed.iuie}" in output
