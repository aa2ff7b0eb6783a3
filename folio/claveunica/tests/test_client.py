"""The client's wire protocol against a loopback provider that answers as told (exact requests, errors, silence,
garbage), the TLS rule, and the sign-in entry point."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import pytest
from django.test import Client

from folio.accounts.models import User
from folio.claveunica import client as cu
from folio.claveunica import services
from folio.claveunica.models import ClaveUnicaConfig
from folio.claveunica.selectors import claveunica_login_url
from folio.claveunica.tests.conftest import FakeProvider

USERINFO = {"sub": "88888888", "RolUnico": {"DV": "8", "numero": 88888888, "tipo": "RUN"},
            "name": {"apellidos": ["Sáez", "Fuentes"], "nombres": ["Rosa", "Elena"]}}


@pytest.fixture
def fake_config(world: Any, fake_provider: FakeProvider) -> ClaveUnicaConfig:
    config = ClaveUnicaConfig(organization=world.lota, enabled=True, client_id="cid-lota", base_url=fake_provider.url,
                              redirect_uri="http://testserver/claveunica/callback/")
    return services.claveunica_config_save(config=config, actor=world.admin, client_secret="s3cr3t-lota")


def _start(client: Client) -> tuple[str, dict[str, str]]:
    response = client.get("/claveunica/ingresar/", {"municipalidad": "lota", "next": "/verificar/"})
    assert response.status_code == 302, response.content[:300]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response["Location"]).query))
    return query["state"], query


def test_token_and_userinfo_requests_are_exactly_the_guides(client: Client, fake_config: Any,
                                                            fake_provider: FakeProvider) -> None:
    fake_provider.answer("/openid/token/", 200, {"access_token": "at-123", "token_type": "bearer",
                                                 "expires_in": 3600})
    fake_provider.answer("/openid/userinfo/", 200, USERINFO)
    state, _query = _start(client)
    response = client.get("/claveunica/callback/", {"code": "k" * 32, "state": state})
    assert response.status_code == 302 and response["Location"] == "/verificar/"
    token, userinfo = fake_provider.requests
    assert token["method"] == "POST" and token["path"] == "/openid/token/"
    assert token["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert dict(urllib.parse.parse_qsl(token["body"].decode())) == {
        "client_id": "cid-lota", "client_secret": "s3cr3t-lota", "redirect_uri": "http://testserver/claveunica/callback/",
        "grant_type": "authorization_code", "code": "k" * 32, "state": state}
    assert "Authorization" not in token["headers"]  # client_secret_post, not Basic
    assert userinfo["method"] == "POST" and userinfo["path"] == "/openid/userinfo/"
    assert userinfo["headers"]["Authorization"] == "Bearer at-123"
    citizen = User.objects.get(run_number=88888888)
    assert (citizen.run_dv, citizen.first_name, citizen.last_name) == ("8", "Rosa Elena", "Sáez Fuentes")


@pytest.mark.parametrize(("route", "status", "body", "delay"), [
    ("/openid/token/", 500, b"Internal Server Error", 0.0),
    ("/openid/token/", 200, b"<html>no</html>", 0.0),
    ("/openid/token/", 200, b'["not", "an", "object"]', 0.0),
    ("/openid/token/", 200, b'{"token_type": "bearer"}', 0.0),
    ("/openid/token/", 200, b"{}", 3.0),
    ("/openid/userinfo/", 500, b"", 0.0),
    ("/openid/userinfo/", 200, b"garbage", 0.0),
    ("/openid/userinfo/", 200, b"{}", 3.0),
])
def test_provider_failures_are_502_and_nobody_is_signed_in(client: Client, fake_config: Any, settings: Any,
                                                          fake_provider: FakeProvider, route: str, status: int,
                                                          body: bytes, delay: float) -> None:
    settings.FOLIO_CLAVEUNICA_TIMEOUT = 1
    fake_provider.answer("/openid/token/", 200, {"access_token": "at-123", "token_type": "bearer"})
    fake_provider.answer("/openid/userinfo/", 200, USERINFO)
    fake_provider.answer(route, status, body, delay=delay)
    state, _query = _start(client)
    started = time.monotonic()
    response = client.get("/claveunica/callback/", {"code": "k" * 32, "state": state})
    assert time.monotonic() - started < 2.5  # the timeout is honoured
    assert response.status_code == 502
    assert "_auth_user_id" not in client.session and not User.objects.filter(run_number=88888888).exists()


def test_an_oauth_error_from_the_token_endpoint_is_a_clear_400(client: Client, fake_config: Any,
                                                              fake_provider: FakeProvider) -> None:
    fake_provider.answer("/openid/token/", 400, {"error": "invalid_grant"})
    state, _query = _start(client)
    response = client.get("/claveunica/callback/", {"code": "k" * 32, "state": state})
    assert response.status_code == 400 and "_auth_user_id" not in client.session
    assert [r["path"] for r in fake_provider.requests] == ["/openid/token/"]  # no userinfo after a refusal


@pytest.mark.parametrize(("payload", "code"), [
    ({"RolUnico": {"DV": "4", "numero": "44444444", "tipo": "RUN"}}, None),  # numero as text is tolerated
    ({"RolUnico": {"DV": "k", "numero": 10000013}}, None),
    ({"RolUnico": {"DV": "4", "numero": 44444444, "tipo": "DNI"}}, "invalid_run"),
    ({"RolUnico": {"DV": "4", "numero": "44.444.444"}}, "invalid_run"),
    ({"RolUnico": {"DV": "4", "numero": True}}, "invalid_run"),
    ({"RolUnico": "44444444-4"}, "no_run"),
    ({"sub": "44444444"}, "no_run"),
])
def test_identity_from_userinfo(payload: dict[str, Any], code: str | None) -> None:
    if code is None:
        identity = cu.identity_from_userinfo(payload)
        assert identity.run.dv == str(payload["RolUnico"]["DV"]).upper()
        assert identity.first_names == () and identity.last_name == ""
    else:
        with pytest.raises(cu.ClaveUnicaError) as caught:
            cu.identity_from_userinfo(payload)
        assert caught.value.code == code and caught.value.status == 400


def test_tls_is_required_outside_loopback_and_always_in_production(settings: Any) -> None:
    assert cu.url_is_acceptable("https://accounts.claveunica.gob.cl/openid/token/")
    assert cu.url_is_acceptable("http://127.0.0.1:8000/sandbox/claveunica/openid/token/")
    assert cu.url_is_acceptable("http://localhost:8000/x") and cu.url_is_acceptable("http://[::1]:8000/x")
    assert not cu.url_is_acceptable("http://accounts.claveunica.gob.cl/openid/token/")
    assert not cu.url_is_acceptable("ftp://127.0.0.1/") and not cu.url_is_acceptable("")
    settings.FOLIO_ENV = "production"
    assert not cu.url_is_acceptable("http://127.0.0.1:8000/sandbox/claveunica/openid/token/")
    assert cu.url_is_acceptable("https://accounts.claveunica.gob.cl/openid/token/")
    with pytest.raises(cu.ClaveUnicaError) as caught:
        cu.exchange_code(cu.Provider("http://127.0.0.1:9", "c", "s", "https://x/cb"), code="c", state="s")
    assert caught.value.code == "insecure_provider"


def test_an_insecure_provider_address_is_never_called(client: Client, world: Any, fake_provider: FakeProvider,
                                                      settings: Any) -> None:
    config = ClaveUnicaConfig(organization=world.lota, enabled=True, client_id="cid", base_url=fake_provider.url,
                              redirect_uri="https://folio.lota.cl/claveunica/callback/")
    services.claveunica_config_save(config=config, actor=world.admin, client_secret="s")
    settings.FOLIO_ENV = "production"
    response = client.get("/claveunica/ingresar/", {"municipalidad": "lota"})
    assert response.status_code == 502 and not fake_provider.requests


def test_the_entry_point_picks_the_municipality_and_keeps_next_local(client: Client, world: Any,
                                                                     fake_config: Any) -> None:
    # Only Lota has ClaveÚnica: the municipality may be left out.
    response = client.get("/claveunica/ingresar/")
    assert response.status_code == 302
    assert client.get("/claveunica/ingresar/", {"municipalidad": "coronel"}).status_code == 404
    assert client.get("/claveunica/ingresar/", {"municipalidad": "nadie"}).status_code == 404
    # ``next`` must be a path of this site.
    for unsafe in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "http:/evil.example"):
        client.get("/claveunica/ingresar/", {"municipalidad": "lota", "next": unsafe})
        attempts = client.session["claveunica_attempts"]
        assert max(attempts.values(), key=lambda a: a["at"])["next"] == "/mis-tramites/", unsafe
    # Every attempt has its own state; a handful are kept (tabs), the oldest dropped.
    assert len(client.session["claveunica_attempts"]) == 5
    # Two municipalities with ClaveÚnica: the person chooses.
    other = ClaveUnicaConfig(organization=world.coronel, enabled=True, client_id="cid-coronel",
                             base_url="https://accounts.claveunica.gob.cl",
                             redirect_uri="https://folio.coronel.cl/claveunica/callback/")
    services.claveunica_config_save(config=other, actor=_superuser(), client_secret="x")
    page = client.get("/claveunica/ingresar/", {"next": "/verificar/"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "municipalidad=lota" in body and "municipalidad=coronel" in body and "btn-claveunica" in body


def _superuser() -> Any:
    from folio.core import demo

    return demo.ensure_user(None, "root", "Root", "Folio", None, [], "", superuser=True)


def test_the_login_url_helper_and_the_button(world: Any) -> None:
    from django.template.loader import render_to_string

    assert claveunica_login_url(world.lota, "/mis-tramites/") == (
        "/claveunica/ingresar/?municipalidad=lota&next=%2Fmis-tramites%2F")
    assert claveunica_login_url("lota", staff=True) == "/claveunica/ingresar/?municipalidad=lota&personal=1"
    assert claveunica_login_url() == "/claveunica/ingresar/"
    html = render_to_string("claveunica/button.html", {"organization": world.lota, "next": "/mis-tramites/"})
    assert 'class="btn-claveunica"' in html and "Iniciar sesión con ClaveÚnica" in html
    assert 'href="/claveunica/ingresar/?municipalidad=lota&amp;next=%2Fmis-tramites%2F"' in html
    assert "<script" not in html and "style=" not in html
