"""Storing files. Every write goes through ``file_store`` inside ``atomic_with_files`` so that a failed
request leaves neither a row without its file nor a file without its row."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from folio.files.inspect import FileRejected, inspect_bytes, inspect_file
from folio.files.models import OcrStatus, StoredFile, TextSource

log = logging.getLogger(__name__)
_local = threading.local()

__all__ = ["FileRejected", "atomic_with_files", "file_ocr", "file_open", "file_purge", "file_store", "file_store_path",
           "ocr_available"]


@contextlib.contextmanager
def atomic_with_files() -> Iterator[None]:
    """``transaction.atomic`` that also deletes the files stored inside the block if it fails.
    (An outer transaction that rolls back later leaves orphans that ``sweep_orphan_files`` removes.)"""
    stack: list[list[str]] = getattr(_local, "stack", [])
    _local.stack = stack
    stored: list[str] = []
    stack.append(stored)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for name in stored:
            with contextlib.suppress(Exception):
                default_storage.delete(name)
        raise
    finally:
        stack.pop()
        if stack:
            stack[-1].extend(stored)


def max_upload_bytes() -> int:
    return int(settings.FOLIO_MAX_UPLOAD_MB) * 1024 * 1024


def read_upload(upload: Any) -> bytes:
    """Read an uploaded file, refusing it as soon as it passes the size limit."""
    limit = max_upload_bytes()
    chunks: list[bytes] = []
    total = 0
    for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
        total += len(chunk)
        if total > limit:
            inspect_bytes(b"x" * (limit + 1), max_bytes=limit)  # raises the standard too_large message
        chunks.append(chunk)
    return b"".join(chunks)


def file_store(*, organization: Any, name: str, data: bytes, actor: Any | None = None) -> StoredFile:
    """Inspect, hash and store ``data``; must run inside ``atomic_with_files``."""
    stack = getattr(_local, "stack", None)
    if not stack:
        raise RuntimeError("file_store must run inside atomic_with_files()")
    info = inspect_bytes(data, max_bytes=max_upload_bytes())
    now = timezone.now()
    storage_name = f"{organization.slug}/{now:%Y/%m}/{uuid.uuid4().hex}{info.extension}"
    saved_name = default_storage.save(storage_name, ContentFile(data))
    stack[-1].append(saved_name)
    needs_ocr = info.content_type.startswith("image/") or (
        info.content_type == "application/pdf" and len(info.text.strip()) < 20
    )
    ocr_status = OcrStatus.NOT_NEEDED
    if needs_ocr:
        ocr_status = OcrStatus.PENDING if ocr_enabled() else OcrStatus.DISABLED
    clean_name = Path(name or "documento").name[:255] or "documento"
    return StoredFile.objects.create(
        organization=organization,
        storage_name=saved_name,
        original_name=clean_name,
        content_type=info.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        pages=info.pages,
        text=info.text,
        text_source=TextSource.EMBEDDED if info.text.strip() else TextSource.NONE,
        ocr_status=ocr_status,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def file_store_path(*, organization: Any, name: str, path: str | Path, actor: Any | None = None,
                    max_bytes: int | None = None, expected_sha256: str = "", with_text: bool = True) -> StoredFile:
    """``file_store`` for a file on disk (a generated copy, a document of an imported package): inspected,
    hashed and saved in chunks, never whole in memory. ``max_bytes`` None means no size limit (files Folio
    generates); ``expected_sha256``, when given, must match or the file is refused; ``with_text`` False keeps
    no search text (and asks for no OCR). Must run inside ``atomic_with_files``."""
    stack = getattr(_local, "stack", None)
    if not stack:
        raise RuntimeError("file_store_path must run inside atomic_with_files()")
    source = Path(path)
    info = inspect_file(source, max_bytes=max_bytes, with_text=with_text)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as fh:
        for chunk in iter(lambda: fh.read(64 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    if expected_sha256 and digest.hexdigest() != expected_sha256:
        raise FileRejected(_("The file does not match its recorded SHA-256."), "hash_mismatch")
    now = timezone.now()
    storage_name = f"{organization.slug}/{now:%Y/%m}/{uuid.uuid4().hex}{info.extension}"
    with source.open("rb") as fh:
        saved_name = default_storage.save(storage_name, File(fh, name=source.name))
    stack[-1].append(saved_name)
    needs_ocr = with_text and (info.content_type.startswith("image/") or (
        info.content_type == "application/pdf" and len(info.text.strip()) < 20
    ))
    ocr_status = OcrStatus.NOT_NEEDED
    if needs_ocr:
        ocr_status = OcrStatus.PENDING if ocr_enabled() else OcrStatus.DISABLED
    clean_name = Path(name or "documento").name[:255] or "documento"
    return StoredFile.objects.create(
        organization=organization,
        storage_name=saved_name,
        original_name=clean_name,
        content_type=info.content_type,
        size=size,
        sha256=digest.hexdigest(),
        pages=info.pages,
        text=info.text,
        text_source=TextSource.EMBEDDED if info.text.strip() else TextSource.NONE,
        ocr_status=ocr_status,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def file_open(stored: StoredFile) -> Any:
    return default_storage.open(stored.storage_name, "rb")


def file_purge(*, stored: StoredFile, reference: str) -> None:
    """Remove the bytes of a stored file for good (final disposition by elimination), keeping its row as
    the record of what existed. Runs inside the caller's transaction: the row is marked now and the bytes
    are deleted only after commit, so a rollback loses nothing. If the deletion itself fails, the bytes
    stay behind a purged row: ``verify_integrity`` names them and ``sweep_orphan_files`` removes them."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("file_purge must run inside the transaction that decides it")
    if stored.purged_at is not None:
        return
    stored.purged_at = timezone.now()
    stored.purge_reference = reference[:200]
    stored.text = ""  # extracted text is content too
    stored.save(update_fields=["purged_at", "purge_reference", "text"])
    name = stored.storage_name

    def _delete() -> None:
        try:
            default_storage.delete(name)
        except Exception:
            log.exception("could not delete the bytes of purged file %s (%s)", stored.pk, name)

    transaction.on_commit(_delete)


def ocr_available() -> bool:
    try:
        import ocrmypdf  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


def ocr_enabled() -> bool:
    return bool(settings.FOLIO_OCR_ENABLED) and ocr_available()


def _tesseract_has_spanish() -> bool:
    try:
        out = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=20, check=False)
    except OSError:
        return False
    return "spa" in out.stdout.split()


def file_ocr(*, stored: StoredFile) -> StoredFile:
    """Recognise Spanish text in a scan. The original stays untouched: OCR text is search data only."""
    import ocrmypdf
    import pypdfium2 as pdfium
    from PIL import Image

    from folio.files.inspect import PDFIUM_LOCK

    language = ["spa"] if _tesseract_has_spanish() else ["eng"]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        with file_open(stored) as fh:
            data = fh.read()
        if stored.is_image:
            from io import BytesIO

            with Image.open(BytesIO(data)) as img:
                frames = []
                for i in range(getattr(img, "n_frames", 1)):
                    img.seek(i)
                    frames.append(img.convert("RGB"))
                frames[0].save(src, "PDF", resolution=300.0, save_all=True, append_images=frames[1:])
        else:
            src.write_bytes(data)
        out = Path(tmp) / "out.pdf"
        try:
            ocrmypdf.ocr(
                src, out, language=language, output_type="pdf", skip_text=True, progress_bar=False,
                optimize=0, jobs=1,
            )
            with PDFIUM_LOCK:  # the worker may run tasks in threads; PDFium is not thread-safe
                pdf = pdfium.PdfDocument(str(out))
                text = "\n".join(pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf)))
                pdf.close()
        except Exception:
            log.exception("OCR failed for stored file %s", stored.pk)
            StoredFile.objects.filter(pk=stored.pk).update(ocr_status=OcrStatus.FAILED)
            stored.ocr_status = OcrStatus.FAILED
            return stored
    stored.text = text.replace("\x00", " ")[:200_000]
    stored.text_source = TextSource.OCR
    stored.ocr_status = OcrStatus.DONE
    stored.save(update_fields=["text", "text_source", "ocr_status"])
    return stored
