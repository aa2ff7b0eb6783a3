"""/healthz: 200 when the database and the file storage answer, 503 naming what failed otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.test import Client


def test_healthz_reports_database_and_storage(db: Any, client: Client, settings: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
    assert "max-age=0" in response["Cache-Control"]
    # The probe file is removed again.
    assert not any(p.is_file() for p in Path(settings.MEDIA_ROOT).rglob("*"))


def test_healthz_is_503_when_storage_fails(db: Any, client: Client, settings: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the media directory should be")
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocker)}}}
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["storage"].startswith("error")
