"""The ClaveÚnica sandbox's endpoints answer like the real ones, and are never there in production."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from folio.claveunica import sandbox, services
from folio.claveunica.models import ClaveUnicaConfig, SandboxClient, SandboxGrant
from folio.claveunica.selectors import client_secret

BASE = "http://testserver"
TOKEN = "/sandbox/claveunica/openid/token/"
USERINFO = "/sandbox/claveunica/openid/userinfo/"


@pytest.fixture
def config(world: Any) -> ClaveUnicaConfig:
    return services.claveunica_sandbox_enable(organization=world.lota, base_url=BASE, actor=world.admin)


def _grant(config: ClaveUnicaConfig, **kwargs: Any) -> SandboxGrant:
    values: dict[str, Any] = {"client": SandboxClient.objects.get(client_id=config.client_id),
                              "code": "c" * 32, "redirect_uri": config.redirect_uri, "nonce": "n-1",
                              "run_number": 44444444, "code_expires_at": timezone.now() + dt.timedelta(minutes=5)}
    values.update(kwargs)
    return SandboxGrant.objects.create(**values)


def _token(client: Client, config: ClaveUnicaConfig, **kwargs: str) -> Any:
    body = {"client_id": config.client_id, "client_secret": client_secret(config) or "", "grant_type":
            "authorization_code", "code": "c" * 32, "redirect_uri": config.redirect_uri, "state": "s" * 40}
    body.update(kwargs)
    return client.post(TOKEN, body)


def test_enable_is_idempotent_and_writes_the_configuration(world: Any, config: ClaveUnicaConfig) -> None:
    assert config.enabled and config.client_id == "sandbox-lota"
    assert config.base_url == f"{BASE}/sandbox/claveunica"
    assert config.redirect_uri == f"{BASE}/claveunica/callback/"
    secret = client_secret(config)
    assert secret and secret.encode() not in bytes(config.client_secret_sealed or b"")
    registered = SandboxClient.objects.get(client_id="sandbox-lota")
    assert registered.redirect_uris == [config.redirect_uri] and secret not in registered.secret_hash
    again = services.claveunica_sandbox_enable(organization=world.lota, base_url=BASE + "/", actor=world.admin)
    assert client_secret(again) == secret
    from folio.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="claveunica.sandbox_enabled").count() == 1
    # Another address is added to the client's redirect URIs (several `make run` ports keep working).
    services.claveunica_sandbox_enable(organization=world.lota, base_url="http://127.0.0.1:8001", actor=None)
    registered.refresh_from_db()
    assert registered.redirect_uris == [config.redirect_uri, "http://127.0.0.1:8001/claveunica/callback/"]


def test_token_answers_the_official_shape_and_refuses_reuse(config: ClaveUnicaConfig, client: Client) -> None:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    _grant(config)
    response = _token(client, config)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    payload = response.json()
    assert set(payload) == {"access_token", "token_type", "expires_in", "id_token"}
    assert payload["token_type"] == "bearer" and payload["expires_in"] == 3600
    keys = KeySet.import_key_set(client.get("/sandbox/claveunica/openid/jwks").json())
    token = jwt.decode(payload["id_token"], keys, algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    assert token.claims["iss"] == f"{BASE}/sandbox/claveunica/openid" and token.claims["aud"] == "sandbox-lota"
    assert token.claims["sub"] == "44444444" and token.claims["nonce"] == "n-1"

    info = client.post(USERINFO, HTTP_AUTHORIZATION=f"Bearer {payload['access_token']}")
    assert info.status_code == 200
    assert info.json() == {"sub": "44444444", "RolUnico": {"DV": "4", "numero": 44444444, "tipo": "RUN"},
                           "name": {"apellidos": ["Del Río", "González"],
                                    "nombres": ["María", "Carmen", "De los Ángeles"]}}
    # The code works once; using it again also revokes the token it gave.
    reused = _token(client, config)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert client.post(USERINFO, HTTP_AUTHORIZATION=f"Bearer {payload['access_token']}").status_code == 401


def test_token_errors(config: ClaveUnicaConfig, client: Client) -> None:
    _grant(config)
    wrong_secret = _token(client, config, client_secret="otro")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    assert _token(client, config, code="x" * 32).json()["error"] == "invalid_grant"
    assert _token(client, config, redirect_uri=f"{BASE}/otra/").json()["error"] == "invalid_grant"
    assert _token(client, config, grant_type="password").json()["error"] == "unsupported_grant_type"
    _grant(config, code="e" * 32, code_expires_at=timezone.now() - dt.timedelta(seconds=1))
    expired = _token(client, config, code="e" * 32)
    assert expired.status_code == 400 and expired.json() == {"error": "invalid_grant",
                                                             "error_description": "el código de autorización expiró"}
    assert client.get(TOKEN).status_code == 405


def test_userinfo_takes_post_with_a_bearer_only(config: ClaveUnicaConfig, client: Client) -> None:
    response = client.get(USERINFO, HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 405 and response["Allow"] == "POST"
    missing = client.post(USERINFO)
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert client.post(USERINFO, HTTP_AUTHORIZATION="Bearer nope").json()["error"] == "invalid_token"


def test_discovery_jwks_and_logout(config: ClaveUnicaConfig, client: Client) -> None:
    discovery = client.get("/sandbox/claveunica/openid/.well-known/openid-configuration").json()
    assert discovery["issuer"] == f"{BASE}/sandbox/claveunica/openid"
    assert discovery["userinfo_endpoint"] == f"{BASE}/sandbox/claveunica/openid/userinfo/"
    assert discovery["jwks_uri"] == f"{BASE}/sandbox/claveunica/openid/jwks"
    assert discovery["response_types_supported"] == ["code"] and "code_challenge_methods_supported" not in discovery
    (key,) = client.get("/sandbox/claveunica/openid/jwks").json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"] and "d" not in key
    logout = client.get("/sandbox/claveunica/api/v1/accounts/app/logout", {"redirect": "http://testserver/"})
    assert logout.status_code == 204 and not logout.has_header("Location")


def test_authorize_form_is_spanish_and_lists_the_test_runs(config: ClaveUnicaConfig, client: Client) -> None:
    response = client.get("/sandbox/claveunica/openid/authorize/", {
        "client_id": config.client_id, "response_type": "code", "scope": "openid run name",
        "redirect_uri": config.redirect_uri, "state": "s" * 40, "nonce": "n"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "44.444.444-4" in body and "99.999.999-9" in body and "Entorno de pruebas" in body
    assert "form-action 'self' http://testserver" in response["Content-Security-Policy"]


def test_the_code_is_bound_to_the_run_and_expires_in_five_minutes(config: ClaveUnicaConfig, client: Client) -> None:
    response = client.post("/sandbox/claveunica/openid/authorize/", {
        "client_id": config.client_id, "response_type": "code", "scope": "openid run name",
        "redirect_uri": config.redirect_uri, "state": "s" * 40, "nonce": "n", "run": "55555555-5",
        "password": "testing"})
    assert response.status_code == 302
    grant = SandboxGrant.objects.get()
    assert len(grant.code) == 32 and grant.run_number == 55555555 and grant.nonce == "n"
    assert dt.timedelta(minutes=4, seconds=50) < grant.code_expires_at - grant.created_at <= dt.timedelta(minutes=5)
    assert response["Location"] == f"{config.redirect_uri}?code={grant.code}&state={'s' * 40}"


@pytest.mark.parametrize("posture", ["production", "sandboxes_off"])
def test_the_sandbox_is_404_when_off_and_refused_in_production(settings: Any, client: Client, world: Any,
                                                               posture: str) -> None:
    if posture == "production":
        settings.FOLIO_ENV = "production"
    else:
        settings.FOLIO_SANDBOXES = False
    assert not sandbox.enabled()
    for path in ("openid/authorize/", "openid/jwks", "openid/.well-known/openid-configuration",
                 "api/v1/accounts/app/logout"):
        assert client.get(f"/sandbox/claveunica/{path}").status_code == 404, path
    for path in ("openid/token/", "openid/userinfo/"):
        assert client.post(f"/sandbox/claveunica/{path}", {}).status_code == 404, path
    with pytest.raises(PermissionDenied):
        services.claveunica_sandbox_enable(organization=world.lota, base_url=BASE, actor=None)
    with pytest.raises(CommandError):
        call_command("claveunica_sandbox", "lota")
    assert not ClaveUnicaConfig.objects.exists() and not SandboxClient.objects.exists()


def test_the_management_command(world: Any, capsys: Any) -> None:
    call_command("claveunica_sandbox", "lota", "--base-url", "http://127.0.0.1:8123")
    config = ClaveUnicaConfig.objects.get(organization=world.lota)
    assert config.base_url == "http://127.0.0.1:8123/sandbox/claveunica"
    assert "sandbox-lota" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("claveunica_sandbox", "nadie")


def test_the_demo_enables_the_sandbox_for_lota(world: Any, monkeypatch: Any) -> None:
    from folio.claveunica import demo

    monkeypatch.setenv("PORT", "8765")
    lines = demo.load(world.lota)
    assert lines and lines[0][1] == "testing"
    config = ClaveUnicaConfig.objects.get(organization=world.lota)
    assert config.redirect_uri == "http://127.0.0.1:8765/claveunica/callback/"
    demo.load(world.lota)
    assert SandboxClient.objects.count() == 1
