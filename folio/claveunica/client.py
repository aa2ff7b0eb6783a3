"""ClaveÚnica OpenID Connect client: the wire protocol only (docs/chile-norms §1, Manual de Integración).

Authorization Code flow, exactly as the official guide describes it:

- authorize: full-page GET with ``client_id``, ``response_type=code``, ``scope=openid run name``,
  ``redirect_uri`` and ``state`` (plus a ``nonce``, which ClaveÚnica tolerates; no PKCE: it is not advertised
  and certification reviews the request);
- token: POST ``application/x-www-form-urlencoded`` from the server, with ``client_id``, ``client_secret``,
  ``redirect_uri``, ``grant_type=authorization_code``, ``code`` and ``state`` in the body (client_secret_post);
- id_token (when present): RS256, verified against the provider's JWKS (``iss``, ``aud``, ``exp``, ``nonce``);
- userinfo: **POST** with ``Authorization: Bearer``; the person is ``RolUnico.numero`` + ``RolUnico.DV``
  (never ``sub``), the names the arrays ``name.nombres`` and ``name.apellidos``.

The request parameters are built with Authlib's RFC 6749 helpers and the JOSE work is joserfc (Authlib's JOSE
successor). Authlib's HTTP clients need ``requests`` or ``httpx``, which Folio does not install, so the two
back-channel calls go through ``http.client`` with explicit timeouts, TLS ≥ 1.2 and no redirects — like the
FirmaGob client (``signatures/firmagob.py``).

Every failure is a ``ClaveUnicaError`` whose ``code`` says why; ``detail`` is for logs only.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from django.conf import settings
from django.core.exceptions import ValidationError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from folio.core.rut import Rut

SCOPE = "openid run name"
MAX_RESPONSE_BYTES = 1024 * 1024
JWKS_CACHE_SECONDS = 600
CLOCK_LEEWAY = 60  # seconds of clock difference tolerated on exp/iat

# code → HTTP status of the page shown to the person. 400: the attempt itself is refused (state, code, identity
# that does not check out); 502: ClaveÚnica failed us (errors, silence, answers that are not OAuth2/JSON).
STATUS = {
    "insecure_provider": 502,
    "provider_error": 502,
    "provider_timeout": 502,
    "provider_garbage": 502,
    "token_refused": 400,
    "invalid_id_token": 400,
    "no_run": 400,
    "invalid_run": 400,
}


class ClaveUnicaError(Exception):
    """``code``: insecure_provider | provider_error | provider_timeout | provider_garbage | token_refused |
    invalid_id_token | no_run | invalid_run."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 502)


@dataclass(frozen=True)
class Provider:
    """One organization's registration with ClaveÚnica (or with the sandbox)."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    timeout: float = 10.0

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def issuer(self) -> str:
        return self.root + "/openid"

    @property
    def authorize_url(self) -> str:
        return self.root + "/openid/authorize/"

    @property
    def token_url(self) -> str:
        return self.root + "/openid/token/"

    @property
    def userinfo_url(self) -> str:
        return self.root + "/openid/userinfo/"

    @property
    def jwks_url(self) -> str:
        return self.root + "/openid/jwks"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str | None


@dataclass(frozen=True)
class Identity:
    """The person ClaveÚnica vouches for."""

    run: Rut
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    sub: str = ""

    @property
    def first_name(self) -> str:
        return " ".join(self.first_names)

    @property
    def last_name(self) -> str:
        return " ".join(self.last_names)


# --- transport security ----------------------------------------------------------------------------

def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_is_acceptable(url: str) -> bool:
    """HTTPS always; plain HTTP only to a loopback address (the local sandbox) and never in production."""
    parts = urllib.parse.urlsplit(url or "")
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and settings.FOLIO_ENV != "production" and _is_loopback(parts.hostname)


def _check(url: str) -> None:
    if not url_is_acceptable(url):
        raise ClaveUnicaError("insecure_provider", f"refusing to call {url!r}: HTTPS is required")


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # ClaveÚnica rejects TLS 1.0/1.1; so do we
    return context


def _request(method: str, url: str, *, body: bytes = b"", headers: dict[str, str], timeout: float
             ) -> tuple[int, bytes]:
    _check(url)
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout,
                                                 context=_tls_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=body or None, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        data = response.read(MAX_RESPONSE_BYTES + 1)
    except TimeoutError as exc:
        raise ClaveUnicaError("provider_timeout", f"{method} {url}: {exc or 'timeout'}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise ClaveUnicaError("provider_error", f"{method} {url}: {exc.__class__.__name__}: {exc}") from None
    finally:
        connection.close()
    if len(data) > MAX_RESPONSE_BYTES:
        raise ClaveUnicaError("provider_garbage", f"{method} {url}: answer larger than {MAX_RESPONSE_BYTES} bytes")
    return response.status, data


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ClaveUnicaError("provider_garbage", f"{what}: not JSON: {data[:200]!r}") from None
    if not isinstance(payload, dict):
        raise ClaveUnicaError("provider_garbage", f"{what}: not a JSON object")
    return payload


# --- the flow ----------------------------------------------------------------------------------------

def authorization_url(provider: Provider, *, state: str, nonce: str) -> str:
    """Where the browser goes (full page) to sign in at ClaveÚnica."""
    _check(provider.authorize_url)
    return str(prepare_grant_uri(provider.authorize_url, provider.client_id, "code",
                                 redirect_uri=provider.redirect_uri, scope=SCOPE, state=state, nonce=nonce))


def exchange_code(provider: Provider, *, code: str, state: str) -> Tokens:
    body = prepare_token_request("authorization_code", code=code, redirect_uri=provider.redirect_uri, state=state,
                                 client_id=provider.client_id, client_secret=provider.client_secret)
    status, data = _request("POST", provider.token_url, body=body.encode(), timeout=provider.timeout, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8", "Accept": "application/json"})
    if status == 400 or status == 401:
        try:
            error = _json_object(data, "token").get("error")
        except ClaveUnicaError:
            error = None
        if isinstance(error, str) and error and error != "invalid_client":  # invalid_client: our configuration
            raise ClaveUnicaError("token_refused", f"token endpoint: HTTP {status} {error}")
    if status != 200:
        raise ClaveUnicaError("provider_error", f"token endpoint: HTTP {status} {data[:200]!r}")
    payload = _json_object(data, "token")
    access_token = payload.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ClaveUnicaError("provider_garbage", "token endpoint: no access_token")
    if str(payload.get("token_type", "bearer")).lower() != "bearer":
        raise ClaveUnicaError("provider_garbage", f"token endpoint: token_type {payload.get('token_type')!r}")
    id_token = payload.get("id_token")
    if id_token is not None and not isinstance(id_token, str):
        raise ClaveUnicaError("provider_garbage", "token endpoint: id_token is not a string")
    return Tokens(access_token=access_token, id_token=id_token or None)


_jwks_lock = threading.Lock()
_jwks_cache: dict[str, tuple[float, KeySet]] = {}


def _jwks(provider: Provider, *, refresh: bool = False) -> KeySet:
    now = time.monotonic()
    with _jwks_lock:
        cached = _jwks_cache.get(provider.jwks_url)
        if cached is not None and not refresh and now - cached[0] < JWKS_CACHE_SECONDS:
            return cached[1]
    status, data = _request("GET", provider.jwks_url, timeout=provider.timeout,
                            headers={"Accept": "application/json"})
    if status != 200:
        raise ClaveUnicaError("provider_error", f"jwks: HTTP {status}")
    try:
        keys = KeySet.import_key_set(_json_object(data, "jwks"))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ClaveUnicaError("provider_garbage", f"jwks: {exc}") from None
    with _jwks_lock:
        _jwks_cache[provider.jwks_url] = (now, keys)
    return keys


def verify_id_token(provider: Provider, id_token: str, *, nonce: str) -> dict[str, Any]:
    """The claims of an RS256 id_token signed by a key of the provider's JWKS, for this client and nonce.
    A key not in the cached set (rotation) makes Folio fetch the JWKS once more."""
    token = None
    for refresh in (False, True):
        keys = _jwks(provider, refresh=refresh)
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256"])
            break
        except JoseError as exc:
            if refresh:
                raise ClaveUnicaError("invalid_id_token", f"id_token: {exc}") from None
        except (ValueError, TypeError) as exc:
            raise ClaveUnicaError("invalid_id_token", f"id_token: {exc}") from None
    assert token is not None
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        raise ClaveUnicaError("invalid_id_token", f"id_token claims: {exc}") from None
    return dict(token.claims)


def fetch_userinfo(provider: Provider, access_token: str) -> dict[str, Any]:
    status, data = _request("POST", provider.userinfo_url, timeout=provider.timeout, headers={
        "Authorization": f"Bearer {access_token}", "Accept": "application/json"})
    if status != 200:
        raise ClaveUnicaError("provider_error", f"userinfo: HTTP {status} {data[:200]!r}")
    return _json_object(data, "userinfo")


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(" ".join(str(part).split()) for part in value if isinstance(part, str | int) and str(part).strip())


def identity_from_userinfo(payload: dict[str, Any]) -> Identity:
    """``RolUnico.numero`` (an integer) and ``RolUnico.DV`` checked modulo 11; names from the arrays."""
    rol = payload.get("RolUnico")
    if not isinstance(rol, dict) or rol.get("numero") in (None, "") or rol.get("DV") in (None, ""):
        raise ClaveUnicaError("no_run", "userinfo without RolUnico.numero/DV")
    number, dv = rol.get("numero"), str(rol.get("DV")).strip().upper()
    if isinstance(number, bool) or not isinstance(number, int | str) or not str(number).strip().isdigit():
        raise ClaveUnicaError("invalid_run", f"RolUnico.numero {number!r}")
    kind = rol.get("tipo")
    if kind not in (None, "", "RUN"):
        raise ClaveUnicaError("invalid_run", f"RolUnico.tipo {kind!r}")
    try:
        run = Rut.parse(f"{int(str(number).strip())}-{dv}")
    except ValidationError:
        raise ClaveUnicaError("invalid_run", f"RolUnico {number!r}-{dv!r} fails modulo 11") from None
    raw_name = payload.get("name")
    name: dict[str, Any] = raw_name if isinstance(raw_name, dict) else {}
    sub = payload.get("sub")
    return Identity(run=run, first_names=_names(name.get("nombres")), last_names=_names(name.get("apellidos")),
                    sub=str(sub) if isinstance(sub, str | int) else "")


def authenticate(provider: Provider, *, code: str, state: str, nonce: str) -> Identity:
    """The back channel after the callback: code → tokens → (id_token check) → userinfo → identity."""
    tokens = exchange_code(provider, code=code, state=state)
    claims = verify_id_token(provider, tokens.id_token, nonce=nonce) if tokens.id_token else None
    identity = identity_from_userinfo(fetch_userinfo(provider, tokens.access_token))
    if claims is not None and identity.sub and str(claims.get("sub", "")) != identity.sub:
        raise ClaveUnicaError("invalid_id_token", "id_token and userinfo name different subjects")
    return identity


def logout_url(base_url: str, redirect: str = "") -> str:
    """ClaveÚnica's logout, for the browser (never a popup or iframe: it would leave the session open)."""
    url = base_url.rstrip("/") + "/api/v1/accounts/app/logout"
    return f"{url}?{urllib.parse.urlencode({'redirect': redirect})}" if redirect else url
