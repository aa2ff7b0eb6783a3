"""FirmaGob API v2 client (chile-norms.md §2), the wire protocol only.

POST {endpoint}/firma/v2/files/tickets with a JSON body ``{api_token_key, token, files}``:

- ``token`` is a JWT HS256 signed with the application's secret, claims ``entity``, ``run`` (digits only, no
  dots, hyphen or check digit), ``purpose`` ("Propósito General" | "Desatendido"), ``expiration`` (local
  Chilean time ``YYYY-MM-DDTHH:MM:SS``, now + 5 minutes, as the official examples) and ``iat``;
- each file carries ``content-type``, ``description``, ``checksum`` (as the official Java example: base64 of
  the SHA-256 of the base64 content string), ``content`` (base64) and ``layout`` (AgileSignerConfig XML for
  the visible signature);
- the ``OTP`` header goes only with the attended purpose ("Propósito General"), never with "Desatendido".

The answer is parsed in its camelCase and snake_case variants (``otpExpired``/``OTP_expired``,
``filesSigned``/``files_signed`` …). Every failure becomes a ``ProviderError`` with one of the codes of
``SignatureError``; nothing here touches the database.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

PATH = "/firma/v2/files/tickets"
PURPOSE_ATTENDED = "Propósito General"
PURPOSE_UNATTENDED = "Desatendido"
PURPOSES = {"attended": PURPOSE_ATTENDED, "unattended": PURPOSE_UNATTENDED}
CHILE = ZoneInfo("America/Santiago")
EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%S"
TOKEN_LIFETIME = dt.timedelta(minutes=5)
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class ProviderError(Exception):
    """``code``: provider_error | provider_timeout | provider_garbage | otp_expired | otp_invalid."""

    def __init__(self, code: str, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.status = status


@dataclass
class Credentials:
    endpoint: str
    entity: str
    api_token_key: str
    secret: str
    timeout: float = 30

    @property
    def url(self) -> str:
        return self.endpoint.rstrip("/") + PATH


# --- JWT HS256 -------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    # Tolerates standard base64 too: some published clients encode the JWT header that way.
    text = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def expiration_text(now: dt.datetime | None = None, lifetime: dt.timedelta = TOKEN_LIFETIME) -> str:
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(CHILE) + lifetime
    return moment.strftime(EXPIRATION_FORMAT)


def make_jwt(*, secret: str, entity: str, run: str, purpose: str, now: dt.datetime | None = None,
             lifetime: dt.timedelta = TOKEN_LIFETIME) -> str:
    now = now or dt.datetime.now(dt.UTC)
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"entity": entity, "run": run, "expiration": expiration_text(now, lifetime), "purpose": purpose,
              "iat": int(now.timestamp())}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()))
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def run_digits(run_number: int | str) -> str:
    """The RUN as FirmaGob wants it: digits only, without dots, hyphen or check digit."""
    return "".join(ch for ch in str(run_number) if ch.isdigit())


# --- request body ----------------------------------------------------------------------------------

def checksum(content_b64: str) -> str:
    """As the official example: base64 of the SHA-256 of the base64 string (UTF-8)."""
    return base64.b64encode(hashlib.sha256(content_b64.encode("utf-8")).digest()).decode("ascii")


def layout_xml(*, png: bytes, box: tuple[int, int, int, int], page_index: int) -> str:
    """AgileSignerConfig for a visible signature: llx/lly lower-left, urx/ury upper-right (PDF points);
    ``page`` is LAST or the 1-based page number."""
    llx, lly, urx, ury = box
    page = "LAST" if page_index == -1 else str(page_index + 1)
    image = base64.b64encode(png).decode("ascii")
    return (
        '<AgileSignerConfig><Application id="THIS-CONFIG"><pdfPassword/><Signature>'
        '<Visible active="true" layer2="false" label="true" pos="1">'
        f"<llx>{int(llx)}</llx><lly>{int(lly)}</lly><urx>{int(urx)}</urx><ury>{int(ury)}</ury>"
        f"<page>{escape(page)}</page><image>BASE64</image><BASE64VALUE>{image}</BASE64VALUE>"
        "</Visible></Signature></Application></AgileSignerConfig>"
    )


def build_body(creds: Credentials, *, token: str, pdf: bytes, description: str, layout: str | None) -> bytes:
    content = base64.b64encode(pdf).decode("ascii")
    item: dict[str, Any] = {"content-type": "application/pdf", "description": description,
                            "checksum": checksum(content), "content": content}
    if layout:
        item["layout"] = layout
    return json.dumps({"api_token_key": creds.api_token_key, "token": token, "files": [item]},
                      ensure_ascii=False).encode("utf-8")


# --- response --------------------------------------------------------------------------------------

def _pick(data: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "si", "sí"}
    return bool(value)


def metadata_of(payload: dict[str, Any]) -> dict[str, Any]:
    meta = _pick(payload, "metadata", "meta_data", "metaData")
    meta = meta if isinstance(meta, dict) else {}
    return {
        "otp_expired": _truthy(_pick(meta, "otpExpired", "OTP_expired", "otp_expired", "OTPExpired")),
        "files_signed": _pick(meta, "filesSigned", "files_signed"),
        "signed_failed": _pick(meta, "signedFailed", "signed_failed", "files_failed"),
        "objects_received": _pick(meta, "objectsReceived", "objects_received", "objectReceived"),
    }


def _error_text(payload: dict[str, Any]) -> str:
    for key in ("error", "message", "mensaje", "detail"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value[:500]
    return ""


def parse_response(status: int, raw: bytes, *, attended: bool) -> bytes:
    """The signed PDF of the first file, or ProviderError."""
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        payload = None
    if status >= 500:
        raise ProviderError("provider_error", f"HTTP {status}", status)
    if not isinstance(payload, dict):
        if status >= 400:
            raise ProviderError("provider_error", f"HTTP {status}", status)
        raise ProviderError("provider_garbage", "the answer is not a JSON object", status)
    meta = metadata_of(payload)
    if meta["otp_expired"]:
        raise ProviderError("otp_expired", _error_text(payload), status)
    if status >= 400:
        text = _error_text(payload)
        if attended and status in (400, 401, 403) and "otp" in text.lower():
            raise ProviderError("otp_invalid", text, status)
        raise ProviderError("provider_error", text or f"HTTP {status}", status)
    files = _pick(payload, "files", "hashes")
    if not isinstance(files, list) or not files or not isinstance(files[0], dict):
        raise ProviderError("provider_garbage", "no files in the answer", status)
    first = files[0]
    file_status = str(_pick(first, "status", "Status") or "")
    if file_status.upper() != "OK":
        text = str(_pick(first, "documentStatus", "document_status", "error") or file_status)[:500]
        if attended and "otp" in text.lower():
            raise ProviderError("otp_invalid", text, status)
        raise ProviderError("provider_error", text, status)
    content = _pick(first, "content", "Content")
    if not isinstance(content, str) or not content:
        raise ProviderError("provider_garbage", "empty content", status)
    try:
        signed = base64.b64decode(content, validate=True)
    except ValueError:
        raise ProviderError("provider_garbage", "content is not base64", status) from None
    if b"%PDF-" not in signed[:1024]:
        raise ProviderError("provider_garbage", "content is not a PDF", status)
    return signed


# --- transport -------------------------------------------------------------------------------------
# http.client rather than urllib: urllib rewrites header names ("Otp"), and the OTP header goes as "OTP".

def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderError("provider_error", "the endpoint is not an http(s) URL")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        raw = response.read(MAX_RESPONSE_BYTES + 1)
        if len(raw) > MAX_RESPONSE_BYTES:
            raise ProviderError("provider_garbage", "answer too large", response.status)
        return response.status, raw
    finally:
        connection.close()


def sign_file(creds: Credentials, *, pdf: bytes, description: str, run: str, purpose: str, otp: str | None,
              layout: str | None, now: dt.datetime | None = None) -> bytes:
    """One ticket with one PDF; returns the signed PDF bytes as FirmaGob sent them."""
    attended = purpose == PURPOSE_ATTENDED
    token = make_jwt(secret=creds.secret, entity=creds.entity, run=run, purpose=purpose, now=now)
    body = build_body(creds, token=token, pdf=pdf, description=description, layout=layout)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if attended:
        headers["OTP"] = otp or ""
    try:
        status, raw = _post(creds.url, body, headers, creds.timeout)
    except ProviderError:
        raise
    except TimeoutError as exc:
        raise ProviderError("provider_timeout", str(exc) or "timeout") from None
    except http.client.RemoteDisconnected as exc:
        raise ProviderError("provider_error", str(exc) or "disconnected") from None
    except OSError as exc:  # refused, unreachable, TLS
        raise ProviderError("provider_error", str(exc) or type(exc).__name__) from None
    except (http.client.HTTPException, ValueError) as exc:  # a malformed status line or headers
        raise ProviderError("provider_garbage", str(exc) or type(exc).__name__) from None
    return parse_response(status, raw, attended=attended)
