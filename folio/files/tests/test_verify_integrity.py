"""``verify_integrity`` re-hashes every stored file: it passes on intact storage and fails, naming
the file, when a file's bytes change on disk or the file disappears (also as ``manage.py``, exit
status non-zero)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from folio.audit.tests.test_verify_audit import manage
from folio.files.models import StoredFile
from folio.registry.services import UploadedDoc
from folio.registry.tests.servicehelpers import incoming, text_doc


def verify() -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_integrity", stdout=out, stderr=err)
    except CommandError as exc:
        return False, err.getvalue() + str(exc)
    return True, out.getvalue()


def path_of(stored: StoredFile) -> Path:
    return Path(settings.MEDIA_ROOT) / stored.storage_name


@pytest.fixture
def files(world: Any, pdf_bytes: Any) -> list[StoredFile]:
    incoming(world.clerk, mechanism=2, documents=[
        text_doc("Carta del vecino"),
        UploadedDoc(name="plano.pdf", data=pdf_bytes("Plano de la obra", pages=2)),
    ])
    incoming(world.other_clerk, mechanism=2, documents=[text_doc("Carta de Coronel")])
    stored = list(StoredFile.objects.order_by("pk"))
    assert len(stored) == 3 and all(path_of(f).is_file() for f in stored)
    return stored


def test_intact_files_pass(files: list[StoredFile]) -> None:
    ok, output = verify()
    assert ok, output
    assert "integrity OK: 3 files verified" in output


def test_changed_bytes_are_named(files: list[StoredFile]) -> None:
    target = files[1]
    raw = bytearray(path_of(target).read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit, same size
    path_of(target).write_bytes(bytes(raw))
    ok, output = verify()
    assert not ok
    assert f"file {target.pk} ({target.storage_name})" in output and "differs from recorded" in output
    assert "1 of 3 files differ" in output
    for other in (files[0], files[2]):
        assert other.storage_name not in output


def test_a_same_size_replacement_is_caught(files: list[StoredFile]) -> None:
    target = files[0]
    size = path_of(target).stat().st_size
    path_of(target).write_bytes(b"x" * size)
    ok, output = verify()
    assert not ok and target.storage_name in output


def test_a_deleted_file_is_named(files: list[StoredFile]) -> None:
    target = files[2]
    path_of(target).unlink()
    ok, output = verify()
    assert not ok
    assert f"file {target.pk} ({target.storage_name}): missing from storage" in output


def test_manage_py_verify_integrity_exit_status(transactional_db: Any, files: list[StoredFile]) -> None:
    ok = manage("verify_integrity")
    assert ok.returncode == 0, ok.stderr
    assert "integrity OK: 3 files verified" in ok.stdout
    with path_of(files[0]).open("ab") as fh:
        fh.write(b"\nanexo agregado despues")
    bad = manage("verify_integrity")
    assert bad.returncode != 0
    assert files[0].storage_name in bad.stderr and "FAILED" in bad.stderr
