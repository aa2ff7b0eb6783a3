"""The public verification page (/verificar/): known, unknown and malformed codes."""

from __future__ import annotations

from typing import Any

from django.test import Client


def test_verification_of_unknown_codes(db: Any, client: Client) -> None:
    page = client.get("/verificar/")
    assert page.status_code == 200
    unknown = client.get("/verificar/ABCD-EFGH-JKMN")
    assert unknown.status_code == 404
    assert "ABCD-EFGH-JKMN" in unknown.content.decode()
    assert "verification/not_found.html" in [t.name for t in unknown.templates]
    typed = client.get("/verificar/", {"code": "bad"})
    assert typed.status_code == 404
    assert "verification/not_found.html" in [t.name for t in typed.templates]
    assert "bad" in typed.content.decode()
    blank = client.get("/verificar/", {"code": ""})
    assert blank.status_code == 400
    assert client.get("/verificar/ABCD-EFGH-JKMN/document").status_code == 404



def test_a_known_code_shows_what_was_certified(world: Any, client: Client) -> None:
    from folio.registry.tests.webhelpers import incoming

    reg = incoming(world.clerk, subject="Solicita certificado de número", access_level=2)
    page = client.get(f"/verificar/{reg.receipt_code}")
    assert page.status_code == 200
    html = page.content.decode()
    assert reg.folio in html and world.lota.name in html
    assert "Solicita certificado" not in html  # a restricted subject is not shown to the public
    # Codes are read from paper: lower case and missing dashes are accepted.
    sloppy = client.get("/verificar/", {"code": reg.receipt_code.replace("-", " ").lower()})
    assert sloppy.status_code == 302 and sloppy["Location"] == f"/verificar/{reg.receipt_code}"
