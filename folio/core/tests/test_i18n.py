"""The Spanish catalogue is complete: every msgid in the code and templates is translated, nothing is fuzzy,
and the compiled .mo matches the .po."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.mo"


def test_catalogue_has_no_untranslated_or_fuzzy_entries() -> None:
    po = polib.pofile(str(PO))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    for entry in po.translated_entries():
        for placeholder in ("%(", "%s"):
            assert entry.msgid.count(placeholder) == (entry.msgstr or entry.msgstr_plural[0]).count(placeholder), entry


def test_compiled_catalogue_matches_po() -> None:
    po = {(e.msgid, e.msgctxt): e.msgstr for e in polib.pofile(str(PO)) if not e.msgid_plural}
    mo = {(e.msgid, e.msgctxt): e.msgstr for e in polib.mofile(str(MO)) if not e.msgid_plural}
    assert po == mo, "run `make messages` (django.mo is stale)"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed")
def test_every_msgid_in_the_source_is_in_the_catalogue(tmp_path: Path) -> None:
    # makemessages on a copy of the source, so the committed catalogue is not touched.
    shutil.copytree(ROOT / "folio", tmp_path / "folio",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "tests"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "folio.settings", "FOLIO_ENV": "test",
           "FOLIO_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    (tmp_path / "locale").mkdir()
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "es", "--no-location"], cwd=tmp_path,
                   env=env, check=True, capture_output=True)
    fresh = polib.pofile(str(tmp_path / "locale" / "es" / "LC_MESSAGES" / "django.po"))
    committed = {e.msgid for e in polib.pofile(str(PO)).translated_entries()}
    missing = sorted(e.msgid for e in fresh if e.msgid and e.msgid not in committed)
    assert missing == [], f"untranslated strings (run `make messages` and translate): {missing[:20]}"


def test_pages_render_in_spanish(client: Any, db: Any) -> None:
    response = client.get("/ingresar/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ingresar a Folio" in body and "Contraseña" in body
    with translation.override("es-cl"):
        from django.utils.translation import gettext

        assert gettext("The file is empty.") == "El archivo está vacío."
