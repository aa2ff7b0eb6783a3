"""Production posture and the background-job queue, exercised as operations would."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"FOLIO_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "folio.settings", **extra})
    return env


def test_production_settings_pass_check_deploy(tmp_path: Path) -> None:
    env = _env(tmp_path, FOLIO_ENV="production", FOLIO_SECRET_KEY=secrets.token_urlsafe(64),
               FOLIO_KEY_ENCRYPTION_KEY=secrets.token_urlsafe(32), FOLIO_ALLOWED_HOSTS="folio.lota.cl")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = _env(tmp_path, FOLIO_ENV="production")
    env.pop("FOLIO_SECRET_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "FOLIO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_key_encryption_key(tmp_path: Path) -> None:
    env = _env(tmp_path, FOLIO_ENV="production", FOLIO_SECRET_KEY=secrets.token_urlsafe(64))
    env.pop("FOLIO_KEY_ENCRYPTION_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "FOLIO_KEY_ENCRYPTION_KEY" in result.stderr


def _database_url(settings_dict: dict[str, Any]) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    return (f"postgres://{settings_dict['USER']}:{settings_dict.get('PASSWORD') or ''}@{settings_dict['HOST']}:"
            f"{settings_dict['PORT']}/{settings_dict['NAME']}")


@pytest.mark.django_db(transaction=True)
def test_database_queue_is_worked_by_a_separate_db_worker(world: Any, settings: Any, tmp_path: Path) -> None:
    """The deployment shape: a job enqueued on the database backend (no broker) is claimed and run by a
    separate `manage.py db_worker` process sharing the database."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from folio.registry import services

    if str(connection.settings_dict["NAME"]).startswith(("file:", ":memory:")) or "mode=memory" in str(
            connection.settings_dict["NAME"]):
        pytest.skip("needs a database file shared with the worker process")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    reg = services.registration_create_incoming(actor=world.clerk, data=services.RegistrationInput(
        document_type=7, subject="Carta para la cola", party_kind="citizen", party_name="Ana Pérez",
        party_rut="12.345.678-5", mechanism=1, channel="paper"))
    services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                instruction="response", business_days=5)
    queued = list(DBTaskResult.objects.values_list("status", flat=True))
    assert queued == ["READY"], "routing must enqueue the unit notification after commit"
    connection.close()
    env = _env(tmp_path, FOLIO_ENV="development", FOLIO_SECRET_KEY="test-worker",
               FOLIO_TASKS_BACKEND="django_tasks_db.DatabaseBackend",
               DATABASE_URL=_database_url(connection.settings_dict),
               FOLIO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    result = subprocess.run([sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay",
                             "--interval", "0.1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"]
