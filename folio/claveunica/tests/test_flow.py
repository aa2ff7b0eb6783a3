"""Citizens sign in with ClaveÚnica: the real client code talks HTTP to the sandbox served by the live server
(authorize form, token, JWKS, userinfo), and every way the trip can go wrong leaves nobody signed in."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

import pytest
from django.utils import timezone

from folio.accounts.models import User
from folio.audit.models import AuditEvent
from folio.claveunica import sandbox
from folio.claveunica.models import SandboxGrant
from folio.claveunica.tests.conftest import Browser


def _citizens() -> Any:
    return User.objects.filter(organization__isnull=True, run_number__isnull=False)


def test_a_citizen_signs_in_and_the_second_time_is_the_same_person(lota_cu: Any, world: Any, live_server: Any,
                                                                  make_browser: Any) -> None:
    browser: Browser = make_browser()
    started = browser.start(next=None)
    assert started.status == 302
    authorize = urllib.parse.urlsplit(started.location)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
        f"{live_server.url}/sandbox/claveunica/openid/authorize/")
    params = urllib.parse.parse_qs(authorize.query)
    assert set(params) == {"client_id", "response_type", "scope", "redirect_uri", "state", "nonce"}  # no PKCE
    assert params["client_id"] == ["sandbox-lota"] and params["response_type"] == ["code"]
    assert params["scope"] == ["openid run name"]
    assert params["redirect_uri"] == [f"{live_server.url}/claveunica/callback/"]
    assert len(params["state"][0]) >= 30

    back = browser.sign_in_at_provider(started)
    assert back.location.startswith(f"{live_server.url}/claveunica/callback/?")
    assert back.query["state"] == params["state"][0] and len(back.query["code"]) == 32
    done = browser.follow(back)
    assert done.status == 302 and done.location == f"{live_server.url}/mis-tramites/", done.body[:300]

    citizen = _citizens().get()
    assert (citizen.run_number, citizen.run_dv, citizen.username) == (44444444, "4", "run-44444444")
    assert citizen.first_name == "María Carmen De los Ángeles" and citizen.last_name == "Del Río González"
    assert citizen.organization_id is None and not citizen.has_usable_password() and not citizen.is_staff
    assert browser.user_id() == citizen.pk
    assert browser.session()["claveunica"] == {"org": world.lota.pk, "staff": False}
    event = AuditEvent.objects.get(action="claveunica.login")
    assert event.organization_id == world.lota.pk and event.actor_id == citizen.pk
    assert event.data == {"kind": "citizen", "created": True}

    # Another browser, another day: the same account, names refreshed from ClaveÚnica.
    User.objects.filter(pk=citizen.pk).update(first_name="Mari", last_name="Del Rio")
    other = make_browser()
    done = other.sign_in(next="/verificar/")
    assert done.status == 302 and done.location == f"{live_server.url}/verificar/"
    assert _citizens().count() == 1 and other.user_id() == citizen.pk
    citizen.refresh_from_db()
    assert citizen.first_name == "María Carmen De los Ángeles" and citizen.last_name == "Del Río González"
    assert AuditEvent.objects.filter(action="claveunica.login").count() == 2


def test_the_sandbox_session_lasts_and_its_logout_ends_it(lota_cu: Any, browser: Browser) -> None:
    assert browser.sign_in().status == 302
    assert browser.cookie(sandbox.SESSION_COOKIE)
    # Within ClaveÚnica's 60 seconds the provider remembers the person: no form.
    again = browser.follow(browser.start())
    assert again.status == 302 and "code=" in again.location
    logout = browser.get(f"{lota_cu.base_url}/api/v1/accounts/app/logout?redirect=http://localhost/")
    assert logout.status == 204 and "Location" not in logout.headers
    assert not browser.cookie(sandbox.SESSION_COOKIE)
    form = browser.follow(browser.start())
    assert form.status == 200 and 'name="password"' in form.body


def test_a_tampered_replayed_or_missing_state_is_refused(lota_cu: Any, browser: Browser) -> None:
    back = browser.sign_in_at_provider(browser.start())
    code, state = back.query["code"], back.query["state"]
    callback = back.location.split("?")[0]
    for query in ({"code": code, "state": state[:-2] + "xy"}, {"code": code}, {"code": code, "state": ""}):
        refused = browser.get(f"{callback}?{urllib.parse.urlencode(query)}")
        assert refused.status == 400 and "no se pudo verificar" in refused.body, refused.body[:300]
        assert browser.user_id() is None
    assert browser.follow(back).status == 302  # the genuine one still works, once
    user_id = browser.user_id()
    assert user_id is not None
    replayed = browser.follow(back)
    assert replayed.status == 400 and "ya fue usado" in replayed.body
    assert _citizens().count() == 1


def test_cancelling_at_claveunica(lota_cu: Any, browser: Browser) -> None:
    form = browser.follow(browser.start())
    back = browser.post(form.url, {**form.inputs(), "cancel": "1"})
    assert back.status == 302 and back.query["error"] == "access_denied" and back.query["state"]
    page = browser.follow(back)
    assert page.status == 400 and "Se canceló el ingreso en ClaveÚnica" in page.body
    assert browser.user_id() is None and not _citizens().exists()


def test_an_expired_code_is_refused_by_the_token_endpoint(lota_cu: Any, browser: Browser) -> None:
    back = browser.sign_in_at_provider(browser.start())
    SandboxGrant.objects.update(code_expires_at=timezone.now() - dt.timedelta(seconds=1))
    page = browser.follow(back)
    assert page.status == 400 and "rechazó el código de ingreso" in page.body, page.body[:500]
    assert browser.user_id() is None and not _citizens().exists()
    assert not AuditEvent.objects.filter(action="claveunica.login").exists()


@pytest.mark.parametrize("claims", [
    {"sub": "44444444", "name": {"nombres": ["María"], "apellidos": ["Del Río"]}},  # no RolUnico
    {"sub": "44444444", "RolUnico": {"numero": 44444444, "tipo": "RUN"}, "name": {}},  # no DV
])
def test_userinfo_without_the_run(lota_cu: Any, browser: Browser, monkeypatch: Any, claims: dict[str, Any]) -> None:
    monkeypatch.setattr(sandbox, "userinfo_claims", lambda run_number: claims)
    page = browser.sign_in()
    assert page.status == 400 and "no envió su RUN" in page.body
    assert browser.user_id() is None and not _citizens().exists()


def test_userinfo_with_a_wrong_check_digit(lota_cu: Any, browser: Browser, monkeypatch: Any) -> None:
    monkeypatch.setattr(sandbox, "userinfo_claims", lambda run_number: {
        "sub": "44444444", "RolUnico": {"DV": "5", "numero": 44444444, "tipo": "RUN"},
        "name": {"nombres": ["María"], "apellidos": ["Del Río"]}})
    page = browser.sign_in()
    assert page.status == 400 and "dígito verificador" in page.body
    assert browser.user_id() is None and not _citizens().exists()


def test_the_id_token_signature_and_nonce_are_checked(lota_cu: Any, browser: Browser, monkeypatch: Any) -> None:
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    impostor = RSAKey.generate_key(2048)
    real_sign = sandbox.sign_id_token

    def forged(claims: dict[str, Any]) -> str:  # right kid and claims, someone else's key
        return jwt.encode({"alg": "RS256", "kid": sandbox.signing_key().kid or ""}, claims, impostor)

    monkeypatch.setattr(sandbox, "sign_id_token", forged)
    page = browser.sign_in()
    assert page.status == 400 and "no se pudo verificar" in page.body
    assert browser.user_id() is None

    monkeypatch.setattr(sandbox, "sign_id_token", lambda claims: real_sign({**claims, "nonce": "otro"}))
    page = Browser(browser.base).sign_in()
    assert page.status == 400 and "no se pudo verificar" in page.body
    assert not _citizens().exists()

    monkeypatch.setattr(sandbox, "sign_id_token", lambda claims: real_sign({**claims, "aud": "otra-app"}))
    assert Browser(browser.base).sign_in().status == 400
    assert not _citizens().exists()


def test_wrong_password_or_unknown_run_at_the_sandbox_form(lota_cu: Any, browser: Browser) -> None:
    form = browser.follow(browser.start())
    for run, password in (("44.444.444-4", "otra"), ("12.345.678-5", "testing"), ("44.444.444-5", "testing")):
        page = browser.post(form.url, {**form.inputs(), "run": run, "password": password})
        assert page.status == 400 and "no es correcto" in page.body
        assert "Location" not in page.headers
    assert not SandboxGrant.objects.exists()


def test_the_sandbox_refuses_unregistered_clients_and_redirect_uris(lota_cu: Any, browser: Browser,
                                                                    live_server: Any) -> None:
    authorize = f"{lota_cu.base_url}/openid/authorize/?"
    good = {"client_id": "sandbox-lota", "response_type": "code", "scope": "openid run name",
            "redirect_uri": lota_cu.redirect_uri, "state": "s" * 40}
    assert browser.get(authorize + urllib.parse.urlencode(good)).status == 200
    for bad in ({"redirect_uri": "https://evil.example/claveunica/callback/"},
                {"redirect_uri": lota_cu.redirect_uri + "?x=1"}, {"client_id": "sandbox-nadie"}, {"client_id": ""}):
        page = browser.get(authorize + urllib.parse.urlencode({**good, **bad}))
        assert page.status == 400 and "Location" not in page.headers, bad
        assert "no está registrad" in page.body
    # A registered client with a wrong response type gets the OAuth2 error back at its redirect URI.
    page = browser.get(authorize + urllib.parse.urlencode({**good, "response_type": "token"}))
    assert page.status == 302 and page.query["error"] == "unsupported_response_type"
