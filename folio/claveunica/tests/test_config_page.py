"""/administracion/claveunica/: each municipality's administrator keeps its own ClaveÚnica credentials; the secret
is write-only and stored sealed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from folio.accounts.models import RoleCode
from folio.audit.models import AuditEvent
from folio.claveunica.models import ClaveUnicaConfig
from folio.claveunica.selectors import client_secret

URL = "/administracion/claveunica/"
SECRET = "secreto-de-produccion-de-lota-1234"


def _form(**kwargs: Any) -> dict[str, Any]:
    values = {"enabled": "on", "client_id": "f3c1a9e2d4b5", "client_secret": SECRET,
              "base_url": "https://accounts.claveunica.gob.cl", "redirect_uri": "https://folio.lota.cl/claveunica/callback/",
              "logout_redirect_uri": "https://folio.lota.cl/", "staff_login_enabled": ""}
    values.update(kwargs)
    return {k: v for k, v in values.items() if v != ""}


def test_the_administrator_configures_claveunica(client: Client, world: Any) -> None:
    client.force_login(world.admin)
    page = client.get(URL)
    assert page.status_code == 200
    assert "http://testserver/claveunica/callback/" in page.content.decode()
    saved = client.post(URL, _form())
    assert saved.status_code == 302
    config = ClaveUnicaConfig.objects.get(organization=world.lota)
    assert config.enabled and config.client_id == "f3c1a9e2d4b5" and client_secret(config) == SECRET
    assert SECRET.encode() not in bytes(config.client_secret_sealed or b"")
    event = AuditEvent.objects.get(action="claveunica.config_changed")
    assert event.organization_id == world.lota.pk and event.data["secret_changed"] is True
    assert SECRET not in str(event.data)

    page = client.get(URL).content.decode()
    assert SECRET not in page and "f3c1a9e2d4b5" in page
    # Saved again without a secret: the stored one stays.
    assert client.post(URL, _form(client_secret="", staff_login_enabled="on")).status_code == 302
    config.refresh_from_db()
    assert client_secret(config) == SECRET and config.staff_login_enabled


@pytest.mark.parametrize(("field", "value"), [
    ("base_url", "http://accounts.claveunica.gob.cl"),
    ("redirect_uri", "http://folio.lota.cl/claveunica/callback/"),
    ("redirect_uri", "https://folio.lota.cl/claveunica/callback/?x=1"),
    ("client_secret", ""),
    ("client_id", ""),
])
def test_the_form_refuses_insecure_or_incomplete_setups(client: Client, world: Any, field: str, value: str) -> None:
    client.force_login(world.admin)
    response = client.post(URL, _form(**{field: value}))
    assert response.status_code == 400
    assert not ClaveUnicaConfig.objects.exists()
    assert SECRET not in response.content.decode()


def test_only_the_administrators_of_the_municipality(client: Client, world: Any) -> None:
    for user in (world.clerk, world.dom_head, world.signer, world.ctd, world.auditor, world.citizen):
        client.force_login(user)
        assert client.get(URL).status_code == 403, user.username
        assert client.post(URL, _form()).status_code == 403, user.username
    assert not ClaveUnicaConfig.objects.exists()
    client.logout()
    assert client.get(URL).status_code == 302


def test_another_municipality_sees_only_its_own(client: Client, world: Any) -> None:
    from folio.core import demo

    client.force_login(world.admin)
    client.post(URL, _form())
    coronel_admin = demo.ensure_user(world.coronel, "admin.coronel", "Carlos", "Vega", "OP", [RoleCode.ADMIN], "TI")
    client.force_login(coronel_admin)
    page = client.get(URL)
    assert page.status_code == 200 and "f3c1a9e2d4b5" not in page.content.decode()
    client.post(URL, _form(client_id="coronel-id", client_secret="secreto-de-coronel-9876"))
    lota, coronel = (ClaveUnicaConfig.objects.get(organization=org) for org in (world.lota, world.coronel))
    assert (lota.client_id, client_secret(lota)) == ("f3c1a9e2d4b5", SECRET)
    assert (coronel.client_id, client_secret(coronel)) == ("coronel-id", "secreto-de-coronel-9876")
    # A sealed secret copied onto another organization's row does not open there.
    ClaveUnicaConfig.objects.filter(pk=coronel.pk).update(client_secret_sealed=lota.client_secret_sealed)
    coronel.refresh_from_db()
    assert client_secret(coronel) is None
