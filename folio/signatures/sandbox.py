"""Local stand-ins for two external services, so the real client code paths always run (product brief):

- an RFC 3161 time-stamping authority (POST application/timestamp-query → application/timestamp-reply),
  signing with a test TSA certificate through pyHanko's DummyTimeStamper;
- FirmaGob API v2 (POST …/firma/v2/files/tickets) that checks what the real service checks — the
  application key, the JWT HS256 (entity, run, purpose, expiration in the future and at most 30 minutes
  ahead), the OTP for the attended purpose, the checksum and the 5 MB request limit — and signs with a
  "FirmaGob test CA" certificate issued for the RUN in the token: real PAdES, real visible layout.

OTPs: the sandbox is an authenticator-app TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) with a
secret per RUN derived from the key-encryption key. ``current_otp(run)`` (and the page /sandbox/firmagob/otp)
gives the code of the moment; the current step and the one before and after are accepted; a code of the
last 10 minutes that is no longer current is answered as expired (``metadata.otpExpired: true``); anything
else as invalid.

Keys and certificates of the sandboxes live as PEM files under FOLIO_SANDBOX_DIR (never in the database:
the sandboxes are other "services" and must not wait on Folio's write transactions). Neither answers in
production (FOLIO_ENV=production) or when FOLIO_SANDBOXES is off: 404.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import struct
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from defusedxml import ElementTree
from django.conf import settings
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.stamp import StaticStampStyle
from pyhanko.stamp.base import BaseStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from folio.signatures import firmagob, pades, pki

MAX_REQUEST_BYTES = 5 * 1024 * 1024
MAX_TOKEN_AHEAD = dt.timedelta(minutes=30)
CLOCK_LEEWAY = dt.timedelta(seconds=60)
OTP_STEP = 30
OTP_DIGITS = 6
OTP_EXPIRED_WINDOW = 20  # steps (10 minutes)

_lock = threading.RLock()  # a factory may need another material (the CA of a signer)
_cache: dict[str, pki.Issued] = {}
_request_ids = iter(range(int(time.time()) % 1_000_000, 10**12))


def enabled() -> bool:
    return bool(getattr(settings, "FOLIO_SANDBOXES", False)) and settings.FOLIO_ENV != "production"


# --- key material on disk --------------------------------------------------------------------------

def _dir() -> Path:
    return Path(settings.FOLIO_SANDBOX_DIR)


def _read(path: Path) -> pki.Issued:
    data = path.read_bytes()
    cert = x509.load_pem_x509_certificate(data)
    key = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, pki.rsa.RSAPrivateKey)
    return pki.Issued(cert, key)


def _material(name: str, factory: Callable[[], pki.Issued]) -> pki.Issued:
    """Load ``name`` from the sandbox directory, creating it once (atomically, so parallel processes all
    end up with the same key: the loser of the race reads the winner's file)."""
    path = _dir() / f"{name}.pem"
    cache_key = str(path)
    with _lock:
        cached = _cache.get(cache_key)
        if cached is not None and path.exists():
            return cached
        if not path.exists():
            issued = factory()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
            tmp.write_bytes(issued.certificate.public_bytes(serialization.Encoding.PEM) + issued.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        loaded = _read(path)
        _cache[cache_key] = loaded
        return loaded


def firmagob_ca() -> pki.Issued:
    return _material("firmagob-test-ca", lambda: pki.new_root(
        common_name="FirmaGob test CA", organization="Folio sandbox (sin validez legal)"))


def firmagob_signer(run: str, name: str) -> pki.Issued:
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]

    def make() -> pki.Issued:
        from folio.core.rut import check_digit

        return pki.issue_signer(firmagob_ca(), common_name=name, run=f"{int(run)}-{check_digit(int(run))}",
                                organization="Folio sandbox FirmaGob", days=3650)

    return _material(f"firmagob-signer-{run}-{digest}", make)


def tsa_root() -> pki.Issued:
    return _material("tsa-test-ca", lambda: pki.new_root(
        common_name="Folio test TSA CA", organization="Folio sandbox (sin validez legal)"))


def tsa_unit() -> pki.Issued:
    return _material("tsa-test-unit", lambda: pki.issue_tsa(
        tsa_root(), common_name="Folio test TSA", organization="Folio sandbox (sin validez legal)"))


def trust_roots() -> list[x509.Certificate]:
    """The sandbox roots that exist (never creates them): trusted outside production only."""
    roots = []
    for name in ("firmagob-test-ca", "tsa-test-ca"):
        path = _dir() / f"{name}.pem"
        if path.exists():
            with contextlib.suppress(ValueError):
                roots.append(x509.load_pem_x509_certificate(path.read_bytes()))
    return roots


# --- RFC 3161 --------------------------------------------------------------------------------------

def timestamp_reply(query: bytes) -> bytes:
    """A DER TimeStampResp for a DER TimeStampReq (raises ValueError for a malformed query)."""
    try:
        request = tsp.TimeStampReq.load(query)
        _ = request.native  # parse everything now: asn1crypto is lazy
    except Exception as exc:
        raise ValueError("malformed timestamp query") from exc
    unit, root = tsa_unit(), tsa_root()
    stamper = DummyTimeStamper(
        tsa_cert=pki.to_asn1(unit.certificate), tsa_key=pki.key_to_asn1(unit.key),
        certs_to_embed=SimpleCertificateStore.from_certs([pki.to_asn1(root.certificate)]),
    )
    response = asyncio.run(stamper.async_request_tsa_response(request))
    return bytes(response.dump())


# --- TOTP ------------------------------------------------------------------------------------------

def _otp_secret(run: str) -> bytes:
    master = str(settings.FOLIO_KEY_ENCRYPTION_KEY).encode()
    return HKDF(algorithm=hashes.SHA256(), length=20, salt=None,
                info=b"folio:firmagob-sandbox-otp:" + run.encode()).derive(master)


def _otp_at(secret: bytes, step: int) -> str:
    digest = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**OTP_DIGITS).zfill(OTP_DIGITS)


def current_otp(run: str, at: float | None = None) -> str:
    return _otp_at(_otp_secret(firmagob.run_digits(run)), int((at if at is not None else time.time()) // OTP_STEP))


def otp_check(run: str, otp: str, at: float | None = None) -> str:
    """"ok", "expired" or "invalid"."""
    otp = (otp or "").strip()
    if len(otp) != OTP_DIGITS or not otp.isdigit():
        return "invalid"
    secret = _otp_secret(firmagob.run_digits(run))
    step = int((at if at is not None else time.time()) // OTP_STEP)
    if any(hmac.compare_digest(_otp_at(secret, s), otp) for s in (step - 1, step, step + 1)):
        return "ok"
    if any(hmac.compare_digest(_otp_at(secret, s), otp) for s in range(step - OTP_EXPIRED_WINDOW, step - 1)):
        return "expired"
    return "invalid"


# --- FirmaGob tickets ------------------------------------------------------------------------------

class Refusal(Exception):
    def __init__(self, status: int, message: str, *, otp_expired: bool = False, received: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.otp_expired = otp_expired
        self.received = received

    def payload(self) -> dict[str, Any]:
        return {
            "error": self.message,
            "files": [],
            "metadata": {"otpExpired": self.otp_expired, "filesSigned": 0, "signedFailed": self.received,
                         "objectsReceived": self.received},
            "idSolicitud": next(_request_ids),
        }


def _claims(token: str, secret: str) -> dict[str, Any]:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise Refusal(401, "Token inválido")
    try:
        header = json.loads(firmagob.b64url_decode(parts[0]))
        claims = json.loads(firmagob.b64url_decode(parts[1]))
        signature = firmagob.b64url_decode(parts[2])
    except ValueError:
        raise Refusal(401, "Token inválido") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        raise Refusal(401, "Token inválido: se requiere HS256")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise Refusal(401, "Token inválido: firma incorrecta")
    return claims


def _expiration(text: Any, now: dt.datetime) -> None:
    if not isinstance(text, str):
        raise Refusal(401, "Token inválido: falta expiration")
    clean = text.strip().removesuffix("Z").split(".")[0]
    try:
        local = dt.datetime.strptime(clean, firmagob.EXPIRATION_FORMAT).replace(tzinfo=firmagob.CHILE)
    except ValueError:
        raise Refusal(401, "Token inválido: expiration con formato incorrecto") from None
    if local <= now:
        raise Refusal(401, "Token expirado")
    if local > now + MAX_TOKEN_AHEAD + CLOCK_LEEWAY:
        raise Refusal(401, "Token inválido: expiration supera 30 minutos")


def _checksum_ok(item: dict[str, Any], content_b64: str, raw: bytes) -> bool:
    given = str(item.get("checksum") or "").strip()
    if not given:
        return False
    # The official example's definition, and the hex SHA-256 of the file some clients send (chile-norms §2.3).
    return hmac.compare_digest(given, firmagob.checksum(content_b64)) or hmac.compare_digest(
        given.lower(), hashlib.sha256(raw).hexdigest())


def _layout(xml: Any) -> tuple[bool, tuple[int, int, int, int] | None, int, bytes | None]:
    """(visible, box, page_index, png) from an AgileSignerConfig document."""
    if not xml:
        return False, None, -1, None
    try:
        root = ElementTree.fromstring(str(xml))
    except Exception:
        raise ValueError("layout no es XML válido") from None
    visible = root.find(".//Visible")
    if visible is None or (visible.get("active") or "true").lower() != "true":
        return False, None, -1, None
    try:
        box = tuple(int(float((visible.findtext(tag) or "").strip())) for tag in ("llx", "lly", "urx", "ury"))
    except ValueError:
        raise ValueError("layout con coordenadas inválidas") from None
    page_text = (visible.findtext("page") or "LAST").strip().upper()
    page_index = -1 if page_text == "LAST" else int(page_text) - 1 if page_text.isdigit() else -2
    if page_index < -1:
        raise ValueError("layout con página inválida")
    png = None
    value = (visible.findtext("BASE64VALUE") or "").strip()
    if value:
        try:
            png = base64.b64decode(value, validate=True)
        except ValueError:
            raise ValueError("layout con imagen inválida") from None
    return True, box, page_index, png  # type: ignore[return-value]


def _sign_one(pdf: bytes, *, run: str, layout: Any) -> bytes:
    from folio.signatures.selectors import sandbox_signer_name

    reader = pades.open_pdf(pdf)
    visible, box, page_index, png = _layout(layout)
    placement = pades.plan(reader, field_name=None, page=page_index, box=box)
    signer_cert = firmagob_signer(run, sandbox_signer_name(run))
    ca = firmagob_ca()
    style: BaseStampStyle | None = None
    if visible and png:
        with Image.open(io.BytesIO(png)) as img:
            picture = img.convert("RGB")
        style = StaticStampStyle(background=PdfImage(picture), border_width=0, background_opacity=1.0,
                                 background_layout=pades.STAMP_STYLE.background_layout)
    elif visible:
        style = pades.STAMP_STYLE
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name=placement.field_name, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES,
                                        name=pki.common_name_of(signer_cert.certificate))
    spec = fields.SigFieldSpec(placement.field_name, on_page=placement.page_index,
                               box=placement.box if visible else None)
    pdf_signer = signers.PdfSigner(
        meta, signer=pades.KeySigner(signer_cert.key, signer_cert.certificate, [ca.certificate]),
        stamp_style=style, new_field_spec=spec,
    )
    params = {"url": "https://firma.digital.gob.cl/", "body": "Firmado con FirmaGob (sandbox)"}
    return pdf_signer.sign_pdf(writer, appearance_text_params=params).getvalue()


def handle_ticket(body: bytes, otp_header: str | None, now: dt.datetime | None = None) -> tuple[int, dict[str, Any]]:
    """The sandbox's answer (HTTP status, JSON payload) to one POST …/files/tickets."""
    from folio.signatures.selectors import sandbox_app_secret

    now = now or dt.datetime.now(dt.UTC)
    try:
        if len(body) > MAX_REQUEST_BYTES:
            raise Refusal(400, "La solicitud supera el tamaño máximo de 5 MB")
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Refusal(400, "El cuerpo de la solicitud no es JSON válido") from None
        if not isinstance(request, dict):
            raise Refusal(400, "El cuerpo de la solicitud no es JSON válido")
        files = request.get("files")
        received = len(files) if isinstance(files, list) else 0
        found = sandbox_app_secret(str(request.get("api_token_key") or ""))
        if found is None:
            raise Refusal(401, "api_token_key no registrada", received=received)
        entity, secret = found
        claims = _claims(str(request.get("token") or ""), secret)
        if claims.get("entity") != entity:
            raise Refusal(401, "Entidad no corresponde a la aplicación", received=received)
        run = str(claims.get("run") or "")
        if not run.isdigit() or not 1 <= len(run) <= 9:
            raise Refusal(401, "RUN inválido: sin puntos, guion ni dígito verificador", received=received)
        purpose = claims.get("purpose")
        if purpose not in (firmagob.PURPOSE_ATTENDED, firmagob.PURPOSE_UNATTENDED):
            raise Refusal(401, "Propósito inválido", received=received)
        _expiration(claims.get("expiration"), now)
        if purpose == firmagob.PURPOSE_ATTENDED:
            if not otp_header:
                raise Refusal(401, "Se requiere OTP para el propósito general", received=received)
            verdict = otp_check(run, otp_header, now.timestamp())
            if verdict == "expired":
                raise Refusal(401, "OTP expirado", otp_expired=True, received=received)
            if verdict != "ok":
                raise Refusal(401, "OTP inválido", received=received)
        elif otp_header:
            raise Refusal(400, "El propósito Desatendido no admite OTP", received=received)
        if not isinstance(files, list) or not files:
            raise Refusal(400, "No se recibieron archivos")
    except Refusal as refusal:
        return refusal.status, refusal.payload()
    out_files = []
    for item in files:
        out_files.append(_ticket_file(item, run=run))
    signed = sum(1 for f in out_files if f["status"] == "OK")
    return 200, {
        "files": out_files,
        "metadata": {"otpExpired": False, "filesSigned": signed, "signedFailed": len(out_files) - signed,
                     "objectsReceived": len(out_files)},
        "idSolicitud": next(_request_ids),
    }


def _ticket_file(item: Any, *, run: str) -> dict[str, Any]:
    def failed(reason: str, description: str = "") -> dict[str, Any]:
        return {"content": None, "status": "error", "description": description, "contentType": "application/pdf",
                "documentStatus": reason, "checksum_original": None}

    if not isinstance(item, dict):
        return failed("Archivo con formato inválido")
    description = str(item.get("description") or "")[:200]
    if item.get("content-type") != "application/pdf":
        return failed("El sandbox sólo firma application/pdf", description)
    content = item.get("content")
    if not isinstance(content, str):
        return failed("Archivo sin contenido", description)
    try:
        raw = base64.b64decode(content, validate=True)
    except ValueError:
        return failed("Contenido no es base64", description)
    if not _checksum_ok(item, content, raw):
        return failed("Checksum no coincide", description)
    try:
        signed = _sign_one(raw, run=run, layout=item.get("layout"))
    except pades.PdfProblem as problem:
        return failed(f"Documento no firmable ({problem.code})", description)
    except ValueError as exc:
        return failed(str(exc), description)
    return {
        "content": base64.b64encode(signed).decode("ascii"),
        "status": "OK",
        "description": description,
        "contentType": "application/pdf",
        "documentStatus": "Firmado",
        "checksum_original": item.get("checksum"),
    }
