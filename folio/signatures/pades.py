"""PAdES signing and validation with pyHanko: the part of the engine that knows PDF.

Signing: PAdES B-B (B-T with an RFC 3161 timestamp) as an incremental update, so every earlier signature
stays valid; a visible stamp with the signer's lines, the date, the verification code and a QR code that
points to the public verification page, its text in an embedded Roboto subset (PDF/A). Validation:
integrity, signature value, certificate chain against the trust roots given, timestamps and pyHanko's
difference analysis of later revisions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel
from pyhanko.stamp import QRStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from folio.core import pdffonts
from folio.signatures import pki

log = logging.getLogger(__name__)

FIELD_PREFIX = "Firma"
# Slots for visible signatures at the bottom of a page: two per row, rows growing upwards.
SLOT_MARGIN_X = 36
SLOT_BOTTOM = 24
SLOT_HEIGHT = 78
SLOT_GAP = 8
SLOTS_PER_ROW = 2



class EmbeddedFontEngine(FontEngine):
    """pyHanko font engine over Folio's embedded Roboto (``core.pdffonts``): the stamp's text is drawn with a
    TrueType subset embedded in the PDF (PDF/A), not with a non-embedded standard font. Latin text needs no
    shaping; characters Roboto lacks print as "?"."""

    def __init__(self, writer: Any, font: Any, obj_stream: Any = None) -> None:
        super().__init__(writer, "Roboto", embedded_subset=True, obj_stream=obj_stream)
        self._font = font
        self._texts: list[str] = []
        self._ref = writer.allocate_placeholder()
        self._written = False

    @property
    def uses_complex_positioning(self) -> bool:
        return False

    def shape(self, txt: str) -> ShapeResult:
        clean = self._font.clean(txt)
        self._texts.append(clean)
        return ShapeResult(graphics_ops=self._font.encode(clean) + b" Tj", x_advance=self._font.width(clean, 1),
                           y_advance=0)

    def as_resource(self) -> Any:
        return self._ref

    def prepare_write(self) -> None:
        if self._written:
            return
        subset = self._font.subset_for(self._texts or [" "])
        self.writer.add_object(pdffonts.pyhanko_font_dict(self.writer, subset), idnum=self._ref.idnum)
        self._written = True


@dataclass(frozen=True)
class EmbeddedFontFactory(FontEngineFactory):
    weight: int = 400

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> FontEngine:
        return EmbeddedFontEngine(writer, pdffonts.Font(self.weight), obj_stream=obj_stream)


STAMP_STYLE = QRStampStyle(
    stamp_text="%(body)s",
    border_width=1,
    text_box_style=TextBoxStyle(font=EmbeddedFontFactory(), font_size=7, leading=8),
)
TIMESTAMP_TOKEN_ROOM = 8192  # a TSA token with its certificates
ALLOWED_LATER_CHANGES = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING}
KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)


class PdfProblem(Exception):
    """A document that cannot be signed or validated; ``code``: not_pdf, encrypted, damaged, no_signatures,
    bad_placement, field_taken."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


class TimestampFailure(Exception):
    def __init__(self, timeout: bool) -> None:
        super().__init__("timeout" if timeout else "error")
        self.timeout = timeout


def open_pdf(data: bytes) -> PdfFileReader:
    if not data or b"%PDF-" not in data[:1024]:
        raise PdfProblem("not_pdf")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        encrypted = reader.encrypted
        if not encrypted:
            reader.root["/Pages"]["/Count"]
    except PdfProblem:
        raise
    except Exception as exc:
        raise PdfProblem("damaged", str(exc)) from None
    if encrypted:
        raise PdfProblem("encrypted")
    return reader


def open_for_signing(data: bytes) -> IncrementalPdfFileWriter:
    """An incremental writer over ``data``; its reader (``writer.prev``) serves ``plan`` too, so the file is
    parsed once."""
    if not data or b"%PDF-" not in data[:1024]:
        raise PdfProblem("not_pdf")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        encrypted = writer.prev.encrypted
        if not encrypted:
            writer.prev.root["/Pages"]["/Count"]
    except PdfProblem:
        raise
    except Exception as exc:
        raise PdfProblem("encrypted" if "encrypt" in str(exc).lower() else "damaged", str(exc)) from None
    if encrypted:
        raise PdfProblem("encrypted")
    return writer


# --- placement -------------------------------------------------------------------------------------

@dataclass
class Placement:
    field_name: str
    page_index: int
    box: tuple[int, int, int, int] | None  # None: the field already exists (empty), sign it in place


def _rect(obj: Any) -> tuple[float, float, float, float] | None:
    try:
        x1, y1, x2, y2 = (float(v) for v in obj["/Rect"])
    except (KeyError, TypeError, ValueError):
        return None
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _signature_rects_on(reader: PdfFileReader, page_ref: Any) -> list[tuple[float, float, float, float]]:
    rects = []
    page = page_ref.get_object()
    for annot_ref in page.get("/Annots", generic.ArrayObject()) or []:
        annot = annot_ref.get_object()
        if annot.get("/Subtype") != "/Widget":
            continue
        ft = annot.get("/FT") or (annot.get("/Parent").get_object().get("/FT") if "/Parent" in annot else None)
        if ft == "/Sig":
            rect = _rect(annot)
            if rect:
                rects.append(rect)
    return rects


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def plan(reader: PdfFileReader, *, field_name: str | None, page: int,
         box: tuple[int, int, int, int] | None) -> Placement:
    page_count = int(reader.root["/Pages"]["/Count"])
    index = page if page >= 0 else page_count + page
    if not 0 <= index < page_count:
        raise PdfProblem("bad_placement", f"page {page} of {page_count}")
    existing = {name: value for name, value, _ref in fields.enumerate_sig_fields(reader)}
    if field_name:
        if field_name in existing:
            if existing[field_name] is not None:
                raise PdfProblem("field_taken", field_name)
            return Placement(field_name, index, None)
    else:
        numbers = [int(m.group(1)) for name in existing if (m := re.fullmatch(rf"{FIELD_PREFIX}(\d+)", name))]
        field_name = f"{FIELD_PREFIX}{max([len(existing), *numbers]) + 1}"
    if box is not None:
        x1, y1, x2, y2 = box
        if x2 - x1 < 20 or y2 - y1 < 20:
            raise PdfProblem("bad_placement", "box too small")
        return Placement(field_name, index, (int(x1), int(y1), int(x2), int(y2)))
    page_ref, _resources = reader.find_page_for_modification(index)
    mediabox = [float(v) for v in page_ref.get_object().get("/MediaBox", [0, 0, 612, 792])]
    width = mediabox[2] - mediabox[0]
    taken = _signature_rects_on(reader, page_ref)
    slot_width = (width - 2 * SLOT_MARGIN_X - SLOT_GAP * (SLOTS_PER_ROW - 1)) / SLOTS_PER_ROW
    for slot in range(64):
        row, col = divmod(slot, SLOTS_PER_ROW)
        slot_x = mediabox[0] + SLOT_MARGIN_X + col * (slot_width + SLOT_GAP)
        slot_y = mediabox[1] + SLOT_BOTTOM + row * (SLOT_HEIGHT + SLOT_GAP)
        candidate = (slot_x, slot_y, slot_x + slot_width, slot_y + SLOT_HEIGHT)
        if not any(_overlaps(candidate, other) for other in taken):
            left, bottom, right, top = (round(v) for v in candidate)
            return Placement(field_name, index, (left, bottom, right, top))
    raise PdfProblem("bad_placement", "no free slot")


# --- signing ---------------------------------------------------------------------------------------

class KeySigner(signers.Signer):
    """A pyHanko signer around an RSA key already in memory (pyHanko's SimpleSigner re-parses and re-checks
    the key on every use, and signs once more for the size estimate; both cost tens of milliseconds)."""

    def __init__(self, key: RSAPrivateKey, certificate: x509.Certificate, chain: Iterable[x509.Certificate]):
        super().__init__(
            signing_cert=pki.to_asn1(certificate),
            cert_registry=SimpleCertificateStore.from_certs([pki.to_asn1(c) for c in chain]),
            embed_roots=True,
        )
        self._key = key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        if dry_run:
            return bytes(self._key.key_size // 8)
        return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


def stamp_body(lines: list[str]) -> str:
    return "\n".join(line.replace("\n", " ").strip() for line in lines if line and line.strip())


def _timestamp_failure(exc: BaseException) -> TimestampFailure:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, asyncio.TimeoutError | TimeoutError):
            return TimestampFailure(timeout=True)
        seen = seen.__cause__ or seen.__context__
    return TimestampFailure(timeout=False)


def sign(*, pdf: bytes, key: RSAPrivateKey, certificate: x509.Certificate, chain: list[x509.Certificate],
         placement: Placement, body: str, url: str, signer_name: str, location: str = "",
         timestamper: TimeStamper | None = None, writer: IncrementalPdfFileWriter | None = None) -> bytes:
    """Sign ``pdf`` as an incremental update (through ``writer``, if ``open_for_signing`` made one already).
    Raises PdfProblem or TimestampFailure."""
    writer = writer or IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=placement.field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        name=signer_name or None, location=location or None,
    )
    spec = None
    if placement.box is not None:
        spec = fields.SigFieldSpec(placement.field_name, on_page=placement.page_index, box=placement.box)
    pdf_signer = signers.PdfSigner(
        meta, signer=KeySigner(key, certificate, chain), timestamper=timestamper, stamp_style=STAMP_STYLE,
        new_field_spec=spec,
    )
    # Room for the CMS, sized from what goes in it (pyHanko would otherwise build a throw-away signature — and
    # fetch a throw-away timestamp — to measure it). Hex in the file: two characters per byte.
    der_size = 3072 + sum(len(c.public_bytes(Encoding.DER)) for c in [certificate, *chain])
    if timestamper is not None:
        der_size += TIMESTAMP_TOKEN_ROOM
    try:
        try:
            out = pdf_signer.sign_pdf(writer, appearance_text_params={"url": url, "body": body},
                                      bytes_reserved=2 * der_size)
        except SigningError as exc:
            if "larger than expected" not in str(exc):
                raise
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            out = pdf_signer.sign_pdf(writer, appearance_text_params={"url": url, "body": body})
    except TimestampRequestError as exc:
        raise _timestamp_failure(exc) from exc
    except (SigningError, PdfError) as exc:
        if isinstance(exc.__cause__, TimestampRequestError):
            raise _timestamp_failure(exc.__cause__) from exc
        raise PdfProblem("damaged", str(exc)) from exc
    return out.getvalue()


# --- validation ------------------------------------------------------------------------------------

@dataclass
class SignatureResult:
    field: str
    kind: str  # "signature" | "timestamp"
    signer_name: str
    signer_run: str
    signed_at: dt.datetime | None
    valid: bool
    intact: bool
    trusted: bool
    chain: list[str]
    timestamped: bool
    certificate_serial: str
    issuer: str
    coverage_ok: bool
    later_changes_ok: bool
    error: str = ""


@dataclass
class Validation:
    signatures: list[SignatureResult] = field(default_factory=list)

    @property
    def modified_after_signing(self) -> bool:
        if not self.signatures:
            return False
        return any(not s.intact or not s.later_changes_ok or not s.coverage_ok for s in self.signatures)

    @property
    def intact(self) -> bool:
        return bool(self.signatures) and not self.modified_after_signing and all(s.valid for s in self.signatures)


def _subject_of(cert: asn1_x509.Certificate) -> str:
    return str(cert.subject.human_friendly)


def _attr(cert: asn1_x509.Certificate, name: str) -> str:
    try:
        return str(cert.subject.native.get(name, "") or "")
    except Exception:  # an odd subject must not break a validation report
        return ""


def _chain(status: Any, embedded: Any) -> list[str]:
    path = getattr(status, "validation_path", None)
    if path is not None:
        try:
            # The path runs from the trust anchor to the signer; shown signer first.
            certs = [path.leaf, *reversed(list(path.iter_authorities()))]
            return [_subject_of(c) for c in certs if c is not None]
        except Exception:  # fall back to the embedded certificates below
            log.debug("no usable validation path", exc_info=True)
    cert = embedded.signer_cert
    chain = [_subject_of(cert)]
    by_subject = {c.subject.dump(): c for c in embedded.other_embedded_certs}
    seen = {cert.subject.dump()}
    while cert.issuer.dump() in by_subject and cert.issuer.dump() not in seen:
        cert = by_subject[cert.issuer.dump()]
        seen.add(cert.subject.dump())
        chain.append(_subject_of(cert))
    return chain


def validate(pdf: bytes, *, trust_roots: list[x509.Certificate],
             is_revoked: Callable[[str, str, dt.datetime | None], bool] | None = None) -> Validation:
    """Validate every signature and document timestamp of ``pdf``. ``is_revoked(issuer_dn, serial_hex,
    proven_time)`` lets the caller apply its own revocation list (Folio's CAs publish no CRL)."""
    reader = open_pdf(pdf)
    embedded = list(reader.embedded_signatures)
    if not embedded:
        raise PdfProblem("no_signatures")
    roots = [pki.to_asn1(c) for c in trust_roots]
    results: list[SignatureResult] = []
    last_revision = max(e.signed_revision for e in embedded)
    for emb in embedded:
        vc = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        is_ts = emb.sig_object_type == "/DocTimeStamp"
        try:
            if is_ts:
                status: Any = validate_pdf_timestamp(emb, validation_context=vc)
            else:
                ts_vc = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
                status = validate_pdf_signature(emb, signer_validation_context=vc, ts_validation_context=ts_vc,
                                                key_usage_settings=KEY_USAGE)
        except Exception as exc:  # a broken signature is reported, not raised
            results.append(_broken(emb, str(exc)))
            continue
        cert = status.signing_cert
        ts_status = getattr(status, "timestamp_validity", None)
        proven_time = None
        if is_ts:
            proven_time = getattr(status, "timestamp", None)
        elif ts_status is not None and ts_status.intact and ts_status.valid:
            proven_time = ts_status.timestamp
        signed_at = proven_time or getattr(status, "signer_reported_dt", None)
        serial = format(cert.serial_number, "X")
        trusted = bool(status.trusted)
        if trusted and is_revoked is not None and is_revoked(cert.issuer.human_friendly, serial, proven_time):
            trusted = False
        coverage = status.coverage
        if emb.signed_revision == last_revision:
            coverage_ok = coverage == SignatureCoverageLevel.ENTIRE_FILE
        else:
            coverage_ok = coverage is not None and coverage >= SignatureCoverageLevel.ENTIRE_REVISION
        level = status.modification_level
        later_ok = (level is None or level in ALLOWED_LATER_CHANGES) and status.docmdp_ok is not False
        results.append(SignatureResult(
            field=emb.field_name or "",
            kind="timestamp" if is_ts else "signature",
            signer_name=_attr(cert, "common_name") or _subject_of(cert),
            signer_run=_attr(cert, "serial_number"),
            signed_at=signed_at,
            valid=bool(status.intact and status.valid),
            intact=bool(status.intact),
            trusted=trusted,
            chain=_chain(status, emb),
            timestamped=bool(is_ts or (ts_status is not None and ts_status.intact and ts_status.valid)),
            certificate_serial=serial,
            issuer=str(cert.issuer.human_friendly),
            coverage_ok=coverage_ok,
            later_changes_ok=later_ok,
        ))
    return Validation(results)


def _broken(emb: Any, error: str) -> SignatureResult:
    try:
        cert = emb.signer_cert
        name, run, serial = _attr(cert, "common_name"), _attr(cert, "serial_number"), format(cert.serial_number, "X")
        issuer = str(cert.issuer.human_friendly)
    except Exception:
        name = run = serial = issuer = ""
    return SignatureResult(field=getattr(emb, "field_name", "") or "", kind="signature", signer_name=name,
                           signer_run=run, signed_at=None, valid=False, intact=False, trusted=False, chain=[],
                           timestamped=False, certificate_serial=serial, issuer=issuer, coverage_ok=False,
                           later_changes_ok=False, error=error[:300])
