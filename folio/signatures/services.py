"""The signing and verification engine (issue 5). Other apps call only what is listed in ``__all__``.

``sign_pdf`` makes one PAdES signature, either

- ``simple`` (firma electrónica simple): with the signer's certificate, issued by the organization's own CA;
  the private key opens only with the signer's signing passphrase, asked for every time, or
- ``advanced`` (firma electrónica avanzada): through the organization's FirmaGob API v2 credentials, with
  the OTP of the attended purpose ("Propósito General") or without it for the unattended one ("Desatendido").

It returns the signed PDF or raises ``SignatureError``; it never stores anything but its audit row, and it
never returns a half-signed document. Failures are audited too ("signature.failed"): when ``sign_pdf`` runs
inside the caller's transaction and the caller rolls back, that audit row goes with it — catch the error
outside the transaction and call ``signature_failure_record(error)`` (it does nothing if the row was
already committed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pyhanko.sign.timestamps import HTTPTimeStamper

from folio.accounts.models import RoleCode
from folio.audit import services as audit
from folio.signatures import firmagob, pades, pki, sandbox, stamp
from folio.signatures.models import FirmaGobSandboxApp, OrganizationCA, SignatureConfig, SignerCertificate
from folio.signatures.sealing import UnsealError, seal, seal_with_passphrase, unseal, unseal_with_passphrase
from folio.signatures.selectors import (
    FIRMAGOB_SECRET_PURPOSE,
    SANDBOX_SECRET_PURPOSE,
    certificate_of,
    firmagob_credentials,
    is_signer,
    revoked_certificate,
    signature_config,
    signer_certificate_active,
    trust_roots,
    tsa_url_for,
)
from folio.verification.services import verification_url

if TYPE_CHECKING:
    from folio.accounts.models import User
    from folio.organizations.models import Organization

__all__ = [
    "DocumentRejected",
    "SignRequest",
    "SignatureError",
    "SignedPdf",
    "ValidationReport",
    "firmagob_sandbox_enable",
    "sign_pdf",
    "signature_config_save",
    "signature_failure_record",
    "signer_certificate_revoke",
    "signer_enroll",
    "validate_pdf",
]

log = logging.getLogger(__name__)

CA_KEY_PURPOSE = "organization-ca"
MIN_PASSPHRASE = 8
METHODS = ("simple", "advanced")
PURPOSES = ("attended", "unattended")


# --- errors ----------------------------------------------------------------------------------------

def _default_message(code: str) -> str:
    messages = {
        "wrong_passphrase": _("The signing passphrase is not correct. The document was not signed."),
        "otp_expired": _("The one-time code (OTP) has expired. Get a new one and sign again."),
        "otp_invalid": _("The one-time code (OTP) is not valid. Check it and sign again."),
        "provider_error": _("The signature service answered with an error. The document was not signed; "
                            "try again later."),
        "provider_timeout": _("The signature service did not answer in time. The document was not signed; "
                              "try again."),
        "provider_garbage": _("The signature service sent an answer Folio cannot use. The document was not "
                              "signed; try again later."),
        "not_enrolled": _("You have no active signing certificate. Enrol before signing."),
        "not_allowed": _("You are not allowed to make this signature."),
    }
    return messages.get(code, messages["provider_error"])


class SignatureError(Exception):
    """A signature that was not made. ``code``: wrong_passphrase | otp_expired | otp_invalid | provider_error
    | provider_timeout | provider_garbage | not_enrolled | not_allowed; ``message``: translated, safe to show;
    ``detail``: technical, for logs only. ``audited``: the "signature.failed" row is committed."""

    def __init__(self, code: str, message: str | None = None, *, detail: str = "") -> None:
        self.code = code
        self.message = message or _default_message(code)
        self.detail = detail
        self.audited = False
        self.audit_kwargs: dict[str, Any] | None = None
        super().__init__(self.message)


class DocumentRejected(Exception):
    """``validate_pdf`` cannot work on the file. ``code``: not_pdf | encrypted | damaged | no_signatures."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _document_message(code: str) -> str:
    return {
        "not_pdf": _("The file is not a PDF."),
        "encrypted": _("The PDF is password-protected. Upload it without encryption."),
        "damaged": _("The PDF is damaged and cannot be read."),
        "no_signatures": _("The PDF has no electronic signatures to verify."),
        "bad_placement": _("The signature cannot be placed there: check the page and the box."),
        "field_taken": _("That signature field is already signed."),
    }.get(code, _("The PDF is damaged and cannot be read."))


# --- the interface ---------------------------------------------------------------------------------

@dataclass
class SignRequest:
    pdf: bytes
    signer: User
    method: str  # "simple" (FES, organization CA) | "advanced" (FEA through FirmaGob)
    verification_code: str  # printed in the stamp and in the QR to {FOLIO_PUBLIC_URL}/verificar/<code>
    stamp_lines: list[str]  # e.g. ["Alicia Castro Pinto", "Alcaldesa", "Por orden del Alcalde"]
    passphrase: str | None = None  # simple: the signer's signing passphrase, every time
    otp: str | None = None  # advanced, attended purpose ("Propósito General")
    purpose: str = "attended"  # "attended" | "unattended" ("Desatendido": no OTP header)
    field_name: str | None = None  # default: the next free "FirmaN"
    page: int = -1  # 0-based; -1 = last page
    box: tuple[int, int, int, int] | None = None  # (x1, y1, x2, y2) in PDF points; default: a free slot
    timestamp: bool = False  # RFC 3161 from the organization's TSA (PAdES B-T); simple method only


@dataclass
class SignedPdf:
    pdf: bytes
    provider: str  # "folio" (organization CA) | "firmagob"
    signer_name: str
    signer_run: str
    certificate_serial: str
    signed_at: dt.datetime


@dataclass
class ValidationReport:
    intact: bool
    modified_after_signing: bool
    # Each: field, signer_name, signer_run, signed_at, valid, intact, trusted, chain (subjects, signer first),
    # timestamped — plus kind ("signature" | "timestamp"), certificate_serial, issuer, revoked.
    signatures: list[dict[str, Any]] = field(default_factory=list)


# --- organization CA and signer certificates -------------------------------------------------------

def _ca_aad(organization_id: int) -> str:
    return f"ca:{organization_id}"


def organization_ca_ensure(organization: Organization) -> OrganizationCA:
    """The organization's CA, created on first use (RSA-3072, 20 years)."""
    existing = OrganizationCA.objects.filter(organization=organization).first()
    if existing is not None:
        return existing
    issued = pki.new_root(common_name=f"CA Folio {organization.name}"[:64], organization=organization.name)
    try:
        with transaction.atomic():
            ca = OrganizationCA.objects.create(
                organization=organization,
                subject=pki.subject_text(issued.certificate.subject),
                serial=issued.serial_hex,
                certificate_pem=issued.certificate_pem,
                key_sealed=seal(issued.key_der, purpose=CA_KEY_PURPOSE, aad=_ca_aad(organization.pk)),
                not_after=issued.certificate.not_valid_after_utc,
            )
            audit.record(action="signature.ca_created", actor=None, organization=organization, obj=ca,
                         data={"serial": ca.serial, "subject": ca.subject})
            return ca
    except IntegrityError:
        return OrganizationCA.objects.get(organization=organization)


def _ca_issuer(ca: OrganizationCA, organization: Organization) -> pki.Issued:
    if ca.organization_id != organization.pk:
        raise SignatureError("not_allowed", detail="CA of another organization")
    try:
        der = unseal(bytes(ca.key_sealed), purpose=CA_KEY_PURPOSE, aad=_ca_aad(organization.pk))
    except UnsealError as exc:
        raise SignatureError("not_allowed", detail="the CA key does not open") from exc
    return pki.Issued(certificate_of(ca), pki.key_from_der(der))


def signer_enroll(*, signer: User, passphrase: str, actor: User) -> SignerCertificate:
    """Issue ``signer`` a certificate from the organization's CA; the key is sealed with ``passphrase``.
    Any earlier active certificate of the signer is revoked (renewal, forgotten passphrase). Raises
    SignatureError(not_allowed) when ``actor`` may not do it, ValidationError for a short passphrase."""
    if not is_signer(signer):
        raise SignatureError("not_allowed", _("Only active staff with the signer role can hold a signing "
                                              "certificate."))
    same_org_admin = actor.has_role(RoleCode.ADMIN) and actor.organization_id == signer.organization_id
    if actor.pk != signer.pk and not same_org_admin:
        raise SignatureError("not_allowed", _("Only the signer or an administrator of the same organization "
                                              "can issue a signing certificate."))
    if len(passphrase or "") < MIN_PASSPHRASE:
        raise ValidationError({"passphrase": [_("The signing passphrase must have at least %(count)s "
                                                "characters.") % {"count": MIN_PASSPHRASE}]})
    organization = signer.organization
    assert organization is not None
    ca = organization_ca_ensure(organization)
    issuer = _ca_issuer(ca, organization)
    run = signer.run_display if signer.run_number else ""
    issued = pki.issue_signer(
        issuer, common_name=signer.get_full_name() or signer.username, run=run.replace(".", ""),
        organization=organization.name, unit=signer.unit.name if signer.unit_id and signer.unit else "",
        position=signer.position, email=signer.email,
    )
    sealed = seal_with_passphrase(issued.key_der, passphrase=passphrase, aad=f"signer:{issued.serial_hex}")
    now = timezone.now()
    with transaction.atomic():
        for old in SignerCertificate.objects.select_for_update().filter(user=signer, revoked_at__isnull=True):
            _revoke(old, actor=actor, reason="renewed", now=now)
        cert = SignerCertificate.objects.create(
            organization=organization, ca=ca, user=signer, serial=issued.serial_hex,
            subject=pki.subject_text(issued.certificate.subject), certificate_pem=issued.certificate_pem,
            key_sealed=sealed, not_before=issued.certificate.not_valid_before_utc,
            not_after=issued.certificate.not_valid_after_utc, created_by=actor,
        )
        audit.record(action="signature.certificate_issued", actor=actor, organization=organization, obj=cert,
                     data={"serial": cert.serial, "signer_id": signer.pk, "subject": cert.subject})
    return cert


def _revoke(cert: SignerCertificate, *, actor: Any, reason: str, now: dt.datetime) -> None:
    cert.revoked_at = now
    cert.revoked_by = actor if getattr(actor, "pk", None) else None
    cert.revoked_reason = reason[:255]
    cert.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
    audit.record(action="signature.certificate_revoked", actor=actor, organization=cert.organization, obj=cert,
                 data={"serial": cert.serial, "reason": reason})
    _forget_unlocked(cert.pk)


def signer_certificate_revoke(*, certificate: SignerCertificate, actor: User, reason: str) -> SignerCertificate:
    same_org_admin = actor.has_role(RoleCode.ADMIN) and actor.organization_id == certificate.organization_id
    if actor.pk != certificate.user_id and not same_org_admin:
        raise SignatureError("not_allowed", _("Only the signer or an administrator of the same organization "
                                              "can revoke a signing certificate."))
    with transaction.atomic():
        locked = SignerCertificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.revoked_at is None:
            _revoke(locked, actor=actor, reason=reason or "revoked", now=timezone.now())
    certificate.refresh_from_db()
    return certificate


# --- unlocking a signer's key ----------------------------------------------------------------------
# The scrypt derivation costs tens of milliseconds per signature. A key opened with the right passphrase
# stays in this process's memory for a few minutes, indexed by a keyed hash of (certificate, passphrase):
# a later call still has to present the same passphrase (a wrong one misses the cache and fails scrypt),
# so batch signing does not pay the derivation for every document. FOLIO_SIGNING_KEY_CACHE_SECONDS=0
# turns it off.

_unlock_lock = threading.Lock()
_unlock_pepper = os.urandom(32)
_unlocked: dict[tuple[int, bytes], tuple[float, RSAPrivateKey]] = {}
_UNLOCKED_MAX = 64


def _forget_unlocked(cert_pk: int) -> None:
    with _unlock_lock:
        for key in [k for k in _unlocked if k[0] == cert_pk]:
            del _unlocked[key]


def _unlock(cert: SignerCertificate, passphrase: str) -> RSAPrivateKey:
    ttl = float(getattr(settings, "FOLIO_SIGNING_KEY_CACHE_SECONDS", 300))
    tag = hmac.new(_unlock_pepper, f"{cert.pk}:{cert.serial}\0".encode() + passphrase.encode(),
                   hashlib.sha256).digest()
    slot = (cert.pk, tag)
    now = time.monotonic()
    if ttl > 0:
        with _unlock_lock:
            hit = _unlocked.get(slot)
            if hit is not None and hit[0] > now:
                return hit[1]
    der = unseal_with_passphrase(bytes(cert.key_sealed), passphrase=passphrase, aad=f"signer:{cert.serial}")
    key = pki.key_from_der(der)
    if ttl > 0:
        with _unlock_lock:
            for stale in [k for k, v in _unlocked.items() if v[0] <= now]:
                del _unlocked[stale]
            if len(_unlocked) >= _UNLOCKED_MAX:
                _unlocked.pop(next(iter(_unlocked)))
            _unlocked[slot] = (now + ttl, key)
    return key


# --- signing ---------------------------------------------------------------------------------------

def _local_time(moment: dt.datetime, organization: Any) -> str:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(getattr(organization, "time_zone", "") or settings.TIME_ZONE)
    return moment.astimezone(tz).strftime("%d-%m-%Y %H:%M:%S %Z")


def _stamp_lines(request: SignRequest, method_label: str, when: dt.datetime) -> list[str]:
    return [
        method_label,
        *request.stamp_lines,
        _("Date: %(date)s") % {"date": _local_time(when, request.signer.organization)},
        _("Verification code: %(code)s") % {"code": request.verification_code},
    ]


def _fail(request: SignRequest, code: str, message: str | None = None, *, detail: str = "") -> SignatureError:
    """Build, audit and return the error for the caller to raise."""
    error = SignatureError(code, message, detail=detail)
    signer = request.signer
    error.audit_kwargs = {
        "action": "signature.failed",
        "actor": signer,
        "organization": getattr(signer, "organization", None),
        "object_type": "signatures.signature",
        "object_id": (request.verification_code or "")[:64],
        "object_repr": (request.verification_code or "")[:255],
        "data": {"code": code, "method": request.method, "purpose": request.purpose, "detail": detail[:300]},
    }
    outside = not transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic():
            audit.record(**error.audit_kwargs)
        error.audited = outside
    except Exception:  # the caller's transaction may be unusable; the caller can record it later
        log.exception("could not audit a failed signature")
    log.info("signature refused: %s (%s) %s", code, request.verification_code, detail[:200])
    return error


def signature_failure_record(error: SignatureError) -> None:
    """Commit the "signature.failed" audit row of ``error`` if the caller's rollback took it away."""
    if error.audited or not error.audit_kwargs:
        return
    with transaction.atomic():
        audit.record(**error.audit_kwargs)
    error.audited = True


def _record_success(request: SignRequest, result: SignedPdf, field_name: str) -> None:
    with transaction.atomic():
        audit.record(
            action="signature.signed", actor=request.signer, organization=request.signer.organization,
            object_type="signatures.signature", object_id=request.verification_code[:64],
            object_repr=f"{result.signer_name} · {request.verification_code}"[:255],
            data={"method": request.method, "provider": result.provider, "purpose": request.purpose,
                  "field": field_name, "certificate_serial": result.certificate_serial,
                  "timestamp": bool(request.timestamp and request.method == "simple"),
                  "sha256": hashlib.sha256(result.pdf).hexdigest(),
                  "sha256_before": hashlib.sha256(request.pdf).hexdigest()},
        )


def sign_pdf(request: SignRequest) -> SignedPdf:
    """Sign ``request.pdf`` (see SignRequest). Raises SignatureError; the PDF given is never altered."""
    signer = request.signer
    if request.method not in METHODS or request.purpose not in PURPOSES:
        raise _fail(request, "not_allowed", detail=f"method={request.method!r} purpose={request.purpose!r}")
    if not is_signer(signer):
        raise _fail(request, "not_allowed", _("Only active staff with the signer role can sign documents."))
    if not (request.verification_code or "").strip():
        raise _fail(request, "not_allowed", detail="a verification code is required for the stamp")
    try:
        writer = pades.open_for_signing(request.pdf)
        reader = writer.prev
        placement = pades.plan(reader, field_name=request.field_name, page=request.page, box=request.box)
    except pades.PdfProblem as problem:
        raise _fail(request, "not_allowed", _document_message(problem.code), detail=str(problem)) from None
    url = verification_url(request.verification_code)
    if request.method == "simple":
        result = _sign_simple(request, placement, url, writer)
    else:
        result = _sign_advanced(request, reader, placement, url)
    _record_success(request, result, placement.field_name)
    return result


def _sign_simple(request: SignRequest, placement: pades.Placement, url: str, writer: Any) -> SignedPdf:
    signer = request.signer
    cert = signer_certificate_active(signer)
    now = timezone.now()
    if cert is None or cert.not_after <= now or cert.not_before > now + dt.timedelta(minutes=5):
        raise _fail(request, "not_enrolled")
    if cert.organization_id != signer.organization_id or cert.ca.organization_id != signer.organization_id:
        raise _fail(request, "not_allowed", detail="certificate of another organization")
    if not request.passphrase:
        raise _fail(request, "wrong_passphrase", _("Enter your signing passphrase."))
    try:
        key = _unlock(cert, request.passphrase)
    except UnsealError:
        raise _fail(request, "wrong_passphrase", detail=f"certificate {cert.serial}") from None
    certificate = certificate_of(cert)
    timestamper = None
    if request.timestamp:
        tsa_url = tsa_url_for(signer.organization)
        if not tsa_url:
            raise _fail(request, "provider_error", _("No time-stamping authority is configured."))
        config = signature_config(signer.organization)
        timestamper = HTTPTimeStamper(tsa_url, timeout=config.tsa_timeout if config else 10)
    body = pades.stamp_body(_stamp_lines(request, _("Simple electronic signature"), now))
    try:
        signed = pades.sign(
            pdf=request.pdf, key=key, certificate=certificate, chain=[certificate_of(cert.ca)],
            placement=placement, body=body, url=url, signer_name=pki.common_name_of(certificate),
            location=getattr(signer.organization, "commune", ""), timestamper=timestamper, writer=writer,
        )
    except pades.TimestampFailure as failure:
        code = "provider_timeout" if failure.timeout else "provider_error"
        raise _fail(request, code, detail="time-stamping authority") from None
    except pades.PdfProblem as problem:
        raise _fail(request, "not_allowed", _document_message(problem.code), detail=str(problem)) from None
    return SignedPdf(pdf=signed, provider="folio", signer_name=pki.common_name_of(certificate),
                     signer_run=pki.run_of(certificate), certificate_serial=cert.serial, signed_at=now)


def _sign_advanced(request: SignRequest, reader: Any, placement: pades.Placement, url: str) -> SignedPdf:
    signer = request.signer
    creds = firmagob_credentials(signer.organization)
    if creds is None:
        raise _fail(request, "not_allowed", _("FirmaGob is not configured for your organization."))
    if not signer.run_number:
        raise _fail(request, "not_enrolled", _("Your user has no RUN: FirmaGob signs only for a registered RUN."))
    attended = request.purpose == "attended"
    if attended and not (request.otp or "").strip():
        raise _fail(request, "otp_invalid", _("Enter the one-time code (OTP) of your FirmaGob account."))
    if placement.box is None:  # an existing empty field: FirmaGob's layout takes coordinates, not field names
        placement = pades.plan(reader, field_name=None, page=request.page, box=None)
    assert placement.box is not None
    now = timezone.now()
    x1, y1, x2, y2 = placement.box
    png = stamp.render_png(lines=_stamp_lines(request, _("Advanced electronic signature"), now), url=url,
                           width_pt=x2 - x1, height_pt=y2 - y1)
    layout = firmagob.layout_xml(png=png, box=placement.box, page_index=-1 if request.page == -1
                                 else placement.page_index)
    try:
        signed = firmagob.sign_file(
            creds, pdf=request.pdf, description=f"{request.verification_code}.pdf",
            run=firmagob.run_digits(signer.run_number),
            purpose=firmagob.PURPOSES[request.purpose], otp=(request.otp or "").strip() if attended else None,
            layout=layout,
        )
    except firmagob.ProviderError as exc:
        raise _fail(request, exc.code, detail=exc.detail) from None
    newest = _check_provider_pdf(request, signed, before=len(list(reader.embedded_signatures)))
    return SignedPdf(pdf=signed, provider="firmagob", signer_name=newest.signer_name,
                     signer_run=newest.signer_run, certificate_serial=newest.certificate_serial,
                     signed_at=newest.signed_at or now)


def _check_provider_pdf(request: SignRequest, signed: bytes, *, before: int) -> pades.SignatureResult:
    """What FirmaGob sent back must be the same document with exactly one more signature, intact, by the
    requested RUN, and every earlier signature still valid."""
    if before and not signed.startswith(request.pdf):
        raise _fail(request, "provider_garbage", detail="not an incremental update of the document sent")
    try:
        checked = pades.validate(signed, trust_roots=[])
    except pades.PdfProblem as problem:
        raise _fail(request, "provider_garbage", detail=f"signed PDF: {problem.code}") from None
    if len(checked.signatures) != before + 1 or not all(s.valid for s in checked.signatures):
        raise _fail(request, "provider_garbage", detail="signatures broken or missing in the answer")
    newest = checked.signatures[-1]
    if firmagob.run_digits(newest.signer_run.split("-")[0]) != firmagob.run_digits(request.signer.run_number or ""):
        raise _fail(request, "provider_garbage", detail=f"signed by RUN {newest.signer_run!r}")
    return newest


# --- configuration ---------------------------------------------------------------------------------

CONFIG_FIELDS = ["tsa_url", "tsa_timeout", "firmagob_endpoint", "firmagob_entity", "firmagob_api_token_key",
                 "firmagob_secret_env", "firmagob_timeout"]


def signature_config_save(*, config: SignatureConfig, actor: Any,
                          firmagob_secret: str | None = None) -> SignatureConfig:
    """Save an organization's signature configuration (by its administrator or a platform superuser);
    ``firmagob_secret``, if given, is sealed with the key-encryption key and never stored in clear."""
    allowed = getattr(actor, "is_superuser", False) or (
        actor.has_role(RoleCode.ADMIN) and actor.organization_id == config.organization_id)
    if not allowed:
        raise SignatureError("not_allowed")
    previous = SignatureConfig.objects.filter(pk=config.pk).values(*CONFIG_FIELDS).first() if config.pk else {}
    changed = [name for name in CONFIG_FIELDS if (previous or {}).get(name) != getattr(config, name)]
    with transaction.atomic():
        if firmagob_secret:
            config.firmagob_secret_sealed = seal(firmagob_secret.encode(), purpose=FIRMAGOB_SECRET_PURPOSE,
                                                 aad=f"org:{config.organization_id}")
        config.save()
        audit.record(action="signature.config_changed", actor=actor, organization=config.organization, obj=config,
                     data={"fields": changed, "secret_changed": bool(firmagob_secret)})
    return config


def firmagob_sandbox_enable(*, organization: Organization, actor: Any,
                            base_url: str | None = None) -> SignatureConfig:
    """Register the organization in the local FirmaGob sandbox and point its configuration there
    (development and demos; refused where the sandboxes are off)."""
    if not sandbox.enabled():
        raise SignatureError("not_allowed", _("The sandboxes are disabled in this installation."))
    api_key = f"sandbox-{organization.slug}"
    secret = secrets.token_hex(16)
    with transaction.atomic():
        FirmaGobSandboxApp.objects.update_or_create(
            api_token_key=api_key,
            defaults={"entity": organization.name,
                      "secret_sealed": seal(secret.encode(), purpose=SANDBOX_SECRET_PURPOSE, aad=f"app:{api_key}")},
        )
        config, _created = SignatureConfig.objects.get_or_create(organization=organization)
        config.firmagob_endpoint = (base_url or settings.FOLIO_PUBLIC_URL).rstrip("/") + "/sandbox/firmagob"
        config.firmagob_entity = organization.name
        config.firmagob_api_token_key = api_key
        config.firmagob_secret_env = ""
        config.firmagob_secret_sealed = seal(secret.encode(), purpose=FIRMAGOB_SECRET_PURPOSE,
                                             aad=f"org:{organization.pk}")
        config.save()
        audit.record(action="signature.firmagob_sandbox_enabled", actor=actor, organization=organization,
                     obj=config, data={"endpoint": config.firmagob_endpoint, "api_token_key": api_key})
    return config


# --- validation ------------------------------------------------------------------------------------

def _is_revoked(issuer: str, serial_hex: str, proven_time: dt.datetime | None) -> bool:
    row = revoked_certificate(issuer, serial_hex)
    if row is None or row.revoked_at is None:
        return False
    # A signature proven (timestamped) before the revocation keeps its value; an unproven one does not.
    return proven_time is None or proven_time >= row.revoked_at


def validate_pdf(*, pdf: bytes, organization: Organization | None) -> ValidationReport:
    """Validate every signature of ``pdf`` against the trust roots (of ``organization`` only, when given).
    Raises DocumentRejected when there is nothing to validate (not a PDF, encrypted, damaged, unsigned)."""
    try:
        result = pades.validate(pdf, trust_roots=trust_roots(organization), is_revoked=_is_revoked)
    except pades.PdfProblem as problem:
        raise DocumentRejected(problem.code, _document_message(problem.code)) from None
    signatures = []
    for s in result.signatures:
        revoked = bool(s.certificate_serial) and revoked_certificate(s.issuer, s.certificate_serial) is not None
        signatures.append({
            "field": s.field, "signer_name": s.signer_name, "signer_run": s.signer_run, "signed_at": s.signed_at,
            "valid": s.valid, "intact": s.intact, "trusted": s.trusted, "chain": s.chain,
            "timestamped": s.timestamped, "kind": s.kind, "certificate_serial": s.certificate_serial,
            "issuer": s.issuer, "revoked": revoked,
        })
    return ValidationReport(intact=result.intact, modified_after_signing=result.modified_after_signing,
                            signatures=signatures)
