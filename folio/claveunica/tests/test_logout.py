"""Signing out of a ClaveÚnica session closes ClaveÚnica's too: a page that sends the browser to the provider's
logout (204 without Location, so no server redirect), by a link and a static script (the CSP allows no inline
script)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from folio.claveunica import services
from folio.claveunica.models import ClaveUnicaConfig


@pytest.fixture
def config(world: Any) -> ClaveUnicaConfig:
    config = services.claveunica_sandbox_enable(organization=world.lota, base_url="http://127.0.0.1:8000",
                                                actor=world.admin)
    return config


def _claveunica_session(client: Client, user: Any, organization: Any, staff: bool = False) -> None:
    client.force_login(user)
    session = client.session
    session["claveunica"] = {"org": organization.pk, "staff": staff}
    session.save()


@pytest.mark.parametrize("url", ["/claveunica/salir/", "/salir/"])
def test_signing_out_goes_through_claveunica(client: Client, world: Any, config: ClaveUnicaConfig, url: str) -> None:
    _claveunica_session(client, world.citizen, world.lota)
    response = client.post(url)
    assert response.status_code == 200
    body = response.content.decode()
    provider_logout = ("http://127.0.0.1:8000/sandbox/claveunica/api/v1/accounts/app/logout"
                       "?redirect=http%3A%2F%2F127.0.0.1%3A8000%2F")
    assert f'data-logout-url="{provider_logout}"' in body and f'href="{provider_logout}"' in body
    assert 'data-after-url="http://127.0.0.1:8000/"' in body
    assert '<script src="/static/folio/claveunica-logout.js" defer></script>' in body
    assert "<script>" not in body and "_auth_user_id" not in client.session
    assert "Cerrar sesión en ClaveÚnica" in body


def test_the_real_provider_logout_address(client: Client, world: Any) -> None:
    config = ClaveUnicaConfig.objects.create(organization=world.lota, enabled=True, client_id="x",
                                             redirect_uri="https://folio.lota.cl/claveunica/callback/")
    _claveunica_session(client, world.clerk, world.lota, staff=True)
    body = client.post("/salir/").content.decode()
    assert 'href="https://accounts.claveunica.gob.cl/api/v1/accounts/app/logout"' in body
    config.logout_redirect_uri = "https://folio.lota.cl/"
    config.save()
    _claveunica_session(client, world.clerk, world.lota, staff=True)
    body = client.post("/claveunica/salir/").content.decode()
    assert ('href="https://accounts.claveunica.gob.cl/api/v1/accounts/app/logout'
            '?redirect=https%3A%2F%2Ffolio.lota.cl%2F"') in body


def test_a_password_session_signs_out_as_before(client: Client, world: Any, config: ClaveUnicaConfig) -> None:
    client.force_login(world.clerk)
    response = client.post("/salir/")
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    client.force_login(world.clerk)
    response = client.post("/claveunica/salir/")
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    assert client.get("/claveunica/salir/").status_code == 405


def test_the_session_helpers(rf: Any, client: Client, world: Any, config: ClaveUnicaConfig) -> None:
    from folio.claveunica.selectors import claveunica_session, is_claveunica_citizen, is_claveunica_session

    _claveunica_session(client, world.citizen, world.lota)
    request = rf.get("/")
    request.user = world.citizen
    request.session = client.session
    assert is_claveunica_session(request) and is_claveunica_citizen(request)
    assert claveunica_session(request) == type(claveunica_session(request))(organization_id=world.lota.pk,
                                                                             staff=False)
    request.session = {}
    assert not is_claveunica_session(request) and not is_claveunica_citizen(request)
