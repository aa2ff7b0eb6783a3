"""A ClaveÚnica stand-in served by Folio under ``/sandbox/claveunica/`` (development, demos, tests), so the real
client code path always runs over HTTP. Same paths and answers as ``accounts.claveunica.gob.cl``:

- ``openid/authorize/``: a Spanish sign-in form (RUN and password). Like ClaveÚnica's testing environment it
  accepts only the official test RUNs 44.444.444-4, 55.555.555-5, 88.888.888-8 and 99.999.999-9 with the
  password ``testing``. It checks ``client_id`` and that ``redirect_uri`` is registered for that client (an
  unregistered one gets an error page, never a redirect), then sends the browser to
  ``redirect_uri?code=…&state=…`` with a 32-character one-time code valid 5 minutes, bound to the client, the
  redirect URI, the nonce and the RUN. Its own session lasts 60 seconds, as ClaveÚnica's does;
- ``openid/token/``: POST form, client_secret_post; answers ``{"access_token", "token_type": "bearer",
  "expires_in": 3600, "id_token"}`` with an RS256 id_token, or an OAuth2 JSON error (``invalid_grant`` …);
- ``openid/userinfo/``: POST only with ``Authorization: Bearer``; the official shape (``sub``, ``RolUnico``,
  ``name`` with arrays);
- ``openid/jwks``, ``openid/.well-known/openid-configuration`` (no ``code_challenge_methods_supported``:
  ClaveÚnica advertises no PKCE) and ``api/v1/accounts/app/logout`` (204, no Location, like the real one).

Codes and tokens are rows (``SandboxClient``, ``SandboxGrant``) so every web worker sees them; the signing key
is a PEM file under ``FOLIO_SANDBOX_DIR``. Nothing answers in production or with FOLIO_SANDBOXES off: 404.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import RSAKey

from folio.claveunica.models import SandboxClient, SandboxGrant
from folio.core.rut import Rut

PREFIX = "/sandbox/claveunica"
TEST_PASSWORD = "testing"  # noqa: S105 — ClaveÚnica's published password of its test RUNs
CODE_TTL = dt.timedelta(minutes=5)
TOKEN_SECONDS = 3600
SESSION_SECONDS = 60
SESSION_COOKIE = "claveunica_sandbox"
SESSION_SALT = "folio.claveunica.sandbox-session"
KEY_FILE = "claveunica-op-key.pem"

# The official test RUNs (chile-norms §1.3), each with a fixed, plausible name.
TEST_PEOPLE: dict[int, tuple[str, list[str], list[str]]] = {
    44444444: ("4", ["María", "Carmen", "De los Ángeles"], ["Del Río", "González"]),
    55555555: ("5", ["Juan", "Pablo"], ["Soto", "Pérez"]),
    88888888: ("8", ["Rosa", "Elena"], ["Sáez", "Fuentes"]),
    99999999: ("9", ["Luis", "Alberto"], ["Parra", "Quezada"]),
}


def enabled() -> bool:
    return bool(getattr(settings, "FOLIO_SANDBOXES", False)) and settings.FOLIO_ENV != "production"


# --- the signing key ----------------------------------------------------------------------------------

_key_lock = threading.Lock()
_key_cache: dict[str, RSAKey] = {}


def signing_key() -> RSAKey:
    """The sandbox's RS256 key, created once under FOLIO_SANDBOX_DIR (atomically: parallel processes all end
    up with the winner's file)."""
    path = Path(settings.FOLIO_SANDBOX_DIR) / KEY_FILE
    with _key_lock:
        cached = _key_cache.get(str(path))
        if cached is not None and path.exists():
            return cached
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
            tmp.write_bytes(pem)
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        loaded = RSAKey.import_key(path.read_bytes(), parameters={"use": "sig", "alg": "RS256"})
        loaded.ensure_kid()
        _key_cache[str(path)] = loaded
        return loaded


def jwks() -> dict[str, Any]:
    return {"keys": [signing_key().as_dict(private=False)]}


def sign_id_token(claims: dict[str, Any]) -> str:
    key = signing_key()
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": key.kid or ""}, claims, key)


def discovery(base: str) -> dict[str, Any]:
    return {
        "issuer": f"{base}/openid",
        "authorization_endpoint": f"{base}/openid/authorize/",
        "token_endpoint": f"{base}/openid/token/",
        "userinfo_endpoint": f"{base}/openid/userinfo/",
        "jwks_uri": f"{base}/openid/jwks",
        "end_session_endpoint": f"{base}/api/v1/accounts/app/logout",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "run", "name"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "claims_supported": ["sub", "RolUnico", "name"],
    }


# --- clients ------------------------------------------------------------------------------------------

def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def client_authenticates(client: SandboxClient | None, secret: str) -> bool:
    return client is not None and hmac.compare_digest(client.secret_hash, hash_secret(secret or ""))


class Refusal(Exception):
    """An authorization request the sandbox will not redirect back (unknown client, unregistered URI)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AuthorizeRequest:
    client: SandboxClient
    redirect_uri: str
    state: str
    nonce: str
    response_type: str
    scope: str

    def params(self) -> dict[str, str]:
        return {"client_id": self.client.client_id, "redirect_uri": self.redirect_uri, "state": self.state,
                "nonce": self.nonce, "response_type": self.response_type, "scope": self.scope}


def authorize_request(params: Any) -> AuthorizeRequest:
    from django.utils.translation import gettext as _

    client_id = (params.get("client_id") or "").strip()
    client = SandboxClient.objects.filter(client_id=client_id).first() if client_id else None
    if client is None:
        raise Refusal(_("The application (client_id) is not registered in the ClaveÚnica sandbox."))
    redirect_uri = params.get("redirect_uri") or ""
    if redirect_uri not in (client.redirect_uris or []):
        raise Refusal(_("The redirect_uri is not registered for this application in the ClaveÚnica sandbox."))
    return AuthorizeRequest(client=client, redirect_uri=redirect_uri, state=params.get("state") or "",
                            nonce=(params.get("nonce") or "")[:255], response_type=params.get("response_type") or "",
                            scope=params.get("scope") or "")


def protocol_error(request: AuthorizeRequest) -> str | None:
    """An error to send back to the client (by redirect) for a request of a registered client."""
    if request.response_type != "code":
        return "unsupported_response_type"
    if "openid" not in request.scope.split():
        return "invalid_scope"
    return None


def redirect_to_client(request: AuthorizeRequest, **params: str) -> str:
    if request.state:
        params["state"] = request.state
    parts = urllib.parse.urlsplit(request.redirect_uri)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def authenticate_person(run_text: str, password: str) -> int | None:
    """The RUN number of a test person when the RUN and password are right."""
    try:
        run = Rut.parse(run_text)
    except ValidationError:
        return None
    if run.number not in TEST_PEOPLE or not hmac.compare_digest(password.encode(), TEST_PASSWORD.encode()):
        return None
    return run.number


def issue_code(request: AuthorizeRequest, run_number: int) -> str:
    now = timezone.now()
    # Codes and tokens older than a day are of no use to anyone: prune them as new ones are made.
    SandboxGrant.objects.filter(created_at__lt=now - dt.timedelta(days=1)).delete()
    code = secrets.token_hex(16)  # 32 characters, like ClaveÚnica's
    SandboxGrant.objects.create(client=request.client, code=code, redirect_uri=request.redirect_uri,
                                nonce=request.nonce, run_number=run_number, code_expires_at=now + CODE_TTL)
    return code


# --- token and userinfo -------------------------------------------------------------------------------

def _error(status: int, error: str, description: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": error, "error_description": description}


def token(form: Any, *, issuer: str) -> tuple[int, dict[str, Any]]:
    """The token endpoint: (HTTP status, JSON body)."""
    if form.get("grant_type") != "authorization_code":
        return _error(400, "unsupported_grant_type", "grant_type debe ser authorization_code")
    client = SandboxClient.objects.filter(client_id=form.get("client_id") or "").first()
    if not client_authenticates(client, form.get("client_secret") or ""):
        return _error(401, "invalid_client", "client_id o client_secret incorrectos")
    assert client is not None
    now = timezone.now()
    grant = SandboxGrant.objects.filter(code=form.get("code") or "", client=client).first()
    if grant is None:
        return _error(400, "invalid_grant", "código de autorización desconocido")
    if grant.redirect_uri != (form.get("redirect_uri") or ""):
        return _error(400, "invalid_grant", "redirect_uri no coincide con la de la autorización")
    if grant.code_used_at is not None:
        # A code used twice may have been stolen: the token it gave stops working too (RFC 6749 §4.1.2).
        SandboxGrant.objects.filter(pk=grant.pk).update(token_expires_at=now)
        return _error(400, "invalid_grant", "el código de autorización ya fue usado")
    if grant.code_expires_at <= now:
        return _error(400, "invalid_grant", "el código de autorización expiró")
    access_token = secrets.token_urlsafe(32)
    claimed = SandboxGrant.objects.filter(pk=grant.pk, code_used_at__isnull=True).update(
        code_used_at=now, access_token_hash=hash_secret(access_token),
        token_expires_at=now + dt.timedelta(seconds=TOKEN_SECONDS))
    if claimed != 1:
        return _error(400, "invalid_grant", "el código de autorización ya fue usado")
    issued_at = int(now.timestamp())
    claims: dict[str, Any] = {"iss": issuer, "sub": str(grant.run_number), "aud": client.client_id,
                              "iat": issued_at, "auth_time": issued_at, "exp": issued_at + TOKEN_SECONDS}
    if grant.nonce:
        claims["nonce"] = grant.nonce
    return 200, {"access_token": access_token, "token_type": "bearer", "expires_in": TOKEN_SECONDS,
                 "id_token": sign_id_token(claims)}


def userinfo_claims(run_number: int) -> dict[str, Any]:
    """What ClaveÚnica's userinfo answers for a person (the official example's shape)."""
    dv, first_names, last_names = TEST_PEOPLE[run_number]
    return {"sub": str(run_number), "RolUnico": {"DV": dv, "numero": run_number, "tipo": "RUN"},
            "name": {"apellidos": list(last_names), "nombres": list(first_names)}}


def userinfo(authorization: str) -> tuple[int, dict[str, Any]]:
    scheme, _sep, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return _error(401, "invalid_request", "falta el token de acceso (Authorization: Bearer)")
    grant = SandboxGrant.objects.filter(access_token_hash=hash_secret(value.strip()),
                                        token_expires_at__gt=timezone.now()).first()
    if grant is None:
        return _error(401, "invalid_token", "token de acceso inválido o expirado")
    return 200, userinfo_claims(grant.run_number)
