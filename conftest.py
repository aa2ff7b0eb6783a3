"""Shared test fixtures: two municipalities, their units and a user for every role (personas)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

os.environ.setdefault("FOLIO_ENV", "test")


def pytest_unconfigure(config: Any) -> None:
    """The SQLite test database is a per-process file (settings.py); a connection still open when Django
    removes it (e.g. a live server's keep-alive thread) leaves its -wal and -shm behind: remove them."""
    import contextlib
    import glob

    from django.conf import settings

    if not settings.configured or "sqlite3" not in settings.DATABASES["default"]["ENGINE"]:
        return
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME") or ""
    if not name or name.startswith(("file:", ":memory:")):
        return
    for leftover in glob.glob(glob.escape(name) + "*-wal") + glob.glob(glob.escape(name) + "*-shm"):
        if not os.path.exists(leftover[:-4]):
            with contextlib.suppress(OSError):
                os.remove(leftover)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(tmp_path / "media")}},
    }
    settings.FOLIO_PUBLIC_URL = "http://testserver"
    # Production PBKDF2 costs ~0.4 s per password and `world` sets a dozen: tests hash with MD5 first.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture(autouse=True)
def _audit_trail_flushable(request: Any) -> Any:
    """Transactional tests (live_server, transactional_db) end with a flush, DELETE FROM every table on
    SQLite, which the audit trail's append-only trigger refuses. Empty that table first, with the trigger
    lifted only for that statement. (PostgreSQL flushes with TRUNCATE, which row triggers do not see.)"""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool({"live_server", "transactional_db"} & set(request.fixturenames)) or bool(
        marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if not transactional:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so torn down (flushed) after this
    yield
    import importlib

    from django.db import connection

    if connection.vendor == "sqlite":
        triggers = importlib.import_module("folio.audit.migrations.0002_append_only")
        with connection.cursor() as cursor:
            for sql in [*triggers.SQLITE_REVERSE, "DELETE FROM audit_auditevent", *triggers.SQLITE]:
                cursor.execute(sql)


def make_pdf(text: str = "Carta de prueba para la Oficina de Partes de Lota", pages: int = 1) -> bytes:
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=LETTER)
    for page in range(pages):
        c.drawString(72, 720, f"{text} (página {page + 1})")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def pdf_bytes() -> Callable[..., bytes]:
    return make_pdf


class World:
    """Two municipalities with the same unit codes and one user per role in each."""

    def __init__(self) -> None:
        from folio.accounts.models import RoleCode
        from folio.core import demo
        from folio.organizations.models import Organization, Unit

        self.lota = demo.ensure_organization("MUN-8106", "I. Municipalidad de Lota", "Lota", "lota", "Lota",
                                             demo.UNITS)
        self.coronel = demo.ensure_organization("MUN-8102", "I. Municipalidad de Coronel", "Coronel", "coronel",
                                                "Coronel", demo.UNITS)
        self.units = {u.code: u for u in Unit.objects.filter(organization=self.lota)}
        self.coronel_units = {u.code: u for u in Unit.objects.filter(organization=self.coronel)}
        mk = demo.ensure_user
        self.admin = mk(self.lota, "admin.lota", "Andrea", "Muñoz", "TI", [RoleCode.ADMIN], "Admin")
        self.clerk = mk(self.lota, "partes.lota", "Patricia", "Soto", "OP", [RoleCode.REGISTRY], "Partes")
        self.dom = mk(self.lota, "dom.lota", "Daniel", "Orellana", "DOM", [RoleCode.OFFICIAL], "Arquitecto")
        self.dom_head = mk(self.lota, "jefe.dom", "Jorge", "Fuentealba", "DOM", [RoleCode.HEAD, RoleCode.SIGNER],
                           "Director")
        self.legal = mk(self.lota, "juridico.lota", "Valentina", "Rojas", "AJ", [RoleCode.OFFICIAL], "Abogada")
        self.dideco = mk(self.lota, "dideco.lota", "Francisco", "Navarrete", "DIDECO", [RoleCode.OFFICIAL],
                         "Asistente social")
        self.signer = mk(self.lota, "alcalde", "Alicia", "Castro", "ALC", [RoleCode.SIGNER], "Alcaldesa")
        self.ctd = mk(self.lota, "ctd.lota", "Camila", "Torres", "SECPLAN", [RoleCode.DIGITAL_COORDINATOR], "CTD")
        self.auditor = mk(self.lota, "auditor.lota", "Rodrigo", "Alarcón", "CONTROL", [RoleCode.AUDITOR],
                          "Control")
        self.other_clerk = mk(self.coronel, "partes.coronel", "Claudia", "Reyes", "OP", [RoleCode.REGISTRY],
                              "Partes Coronel")
        self.other_dom = mk(self.coronel, "dom.coronel", "Diego", "Vera", "DOM", [RoleCode.OFFICIAL], "DOM Coronel")
        self.citizen = mk(None, "ciudadano", "Ana", "Pérez", None, [], "")
        self.password = demo.DEMO_PASSWORD
        _ = Organization


@pytest.fixture
def world(db: Any) -> World:
    return World()


@pytest.fixture
def smtp(settings: Any) -> Iterator[Any]:
    """A real SMTP server on loopback (aiosmtpd) that Django's mail goes to; yields its Inbox."""
    from aiosmtpd.controller import Controller

    from folio.core.testing import Inbox, free_port, smtp_settings

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        smtp_settings(settings, controller.port)
        yield inbox
    finally:
        controller.stop()
