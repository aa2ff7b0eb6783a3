"""Archival packages of expedientes as BagIt bags (RFC 8493), and their import into another installation.

One expediente, one bag::

    EXP-2026-000045/
      bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
      data/
        expediente.json      everything needed to rebuild the expediente (schema PACKAGE_SCHEMA)
        metadatos.json       DS 10 metadata under the guide's codes (MGDEE…, MGDDE…)
        indice.xml           the electronic index (XML), and indice.json (JSON)
        trazabilidad.json    the timeline and the access log of the expediente
        documentos/0001-solicitud.pdf …     every document byte for byte
        acumulados/EXP-2026-000031/…        accumulated (nested) expedientes, same layout

``bag-info.txt`` carries Source-Organization, External-Identifier (the IUIe), External-Description,
Bagging-Date, Payload-Oxum and Folio's own Folio-* tags (organization code, index hash, schema).

A series and year (all closed expedientes of a documentary series whose IUIe is of that year) is a **bag of
bags**: an outer bag whose payload holds one complete bag per expediente (``data/EXP-…/``) and
``data/serie.json``; the outer bag validates the whole transfer, each inner bag validates on its own.

The payload is written in one pass: each document is copied from storage in chunks while it is hashed, and
the manifests are written from those hashes (``BagWriter``); a document whose bytes no longer match the
SHA-256 of its index entry stops the export. ``bagit.make_bag`` is not used because it re-reads every file
and changes the process's working directory (``os.chdir``), which is unsafe in a threaded server; the bags
are checked with the ``bagit`` library (``bagit.Bag(path).validate()``) on import and in the tests.
Import validates the bag fully before writing anything, then rebuilds everything in one transaction, checks
every document against its recorded SHA-256 and the index against its recorded hash, and refuses the whole
package (nothing saved, no stored file left) if anything differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import shutil
import tarfile
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import bagit
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from folio.audit.models import AuditEvent
from folio.case_files import exports, selectors
from folio.case_files import permissions as perms
from folio.case_files.models import (
    CaseFile,
    CaseFileCounter,
    CaseFileCustody,
    CaseFileLink,
    CaseFileState,
    IndexEntry,
    LinkKind,
    Party,
)
from folio.files.services import FileRejected, atomic_with_files, file_open, file_store_path
from folio.organizations.models import Unit

# bagit logs every file it hashes at INFO: keep it to warnings.
logging.getLogger("bagit").setLevel(logging.WARNING)

PACKAGE_SCHEMA = "folio-paquete-expediente/1.0"
SERIES_SCHEMA = "folio-paquete-serie/1.0"
CHUNK = 1024 * 1024
ARCHIVABLE = (CaseFileState.CLOSED, CaseFileState.ARCHIVED)
MAX_NESTING = 8


def _refuse(message: str) -> ValidationError:
    return ValidationError({"package": [message]})


# --- writing bags ------------------------------------------------------------------------------------------

def _tag_value(value: Any) -> str:
    return re.sub(r"[\r\n]+", " ", str(value)).strip()


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class BagWriter:
    """Writes one bag: payload files are hashed while they are written and their manifest lines go straight
    to ``manifest-sha256.txt``. An inner bag (``parent``) also reports every file it writes to the outer bag,
    whose payload it is."""

    def __init__(self, root: Path, *, parent: BagWriter | None = None) -> None:
        self.root = root
        self.parent = parent
        (root / "data").mkdir(parents=True)
        self.manifest = (root / "manifest-sha256.txt").open("w", encoding="utf-8", newline="\n")
        self.bytes = 0
        self.files = 0

    def _record(self, rel: str, digest: str, size: int) -> None:
        self.manifest.write(f"{digest}  {rel}\n")
        self.bytes += size
        self.files += 1
        if self.parent is not None:
            self.parent._record_from_child(self, rel, digest, size)

    def _record_from_child(self, child: BagWriter, rel: str, digest: str, size: int) -> None:
        self._record((child.root / rel).relative_to(self.root).as_posix(), digest, size)

    def add_stream(self, rel: str, chunks: Iterable[bytes]) -> tuple[str, int]:
        path = self.root / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with path.open("wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self._record(f"data/{rel}", digest.hexdigest(), size)
        return digest.hexdigest(), size

    def add_bytes(self, rel: str, data: bytes) -> tuple[str, int]:
        return self.add_stream(rel, [data])

    def add_json(self, rel: str, value: Any) -> tuple[str, int]:
        return self.add_bytes(rel, json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False).encode())

    def finish(self, info: dict[str, str]) -> Path:
        """Write bagit.txt, bag-info.txt (with Payload-Oxum and Bagging-Date) and the tag manifest."""
        self.manifest.close()
        (self.root / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
                                             encoding="utf-8")
        tags = {"Bagging-Date": timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%d"),
                "Bag-Software-Agent": f"Folio (bagit.py {bagit.VERSION} compatible)", **info,
                "Payload-Oxum": f"{self.bytes}.{self.files}"}
        lines = [f"{key}: {_tag_value(value)}\n" for key, value in tags.items() if _tag_value(value)]
        (self.root / "bag-info.txt").write_text("".join(lines), encoding="utf-8")
        tag_lines = []
        for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt"):
            digest, size = _sha256_file(self.root / name)
            tag_lines.append(f"{digest}  {name}\n")
            if self.parent is not None:
                self.parent._record_from_child(self, name, digest, size)
        (self.root / "tagmanifest-sha256.txt").write_text("".join(tag_lines), encoding="utf-8")
        if self.parent is not None:
            digest, size = _sha256_file(self.root / "tagmanifest-sha256.txt")
            self.parent._record_from_child(self, "tagmanifest-sha256.txt", digest, size)
        return self.root


def safe_name(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-.")[:80]
    return clean or "documento"


def _user_name(user: Any) -> str | None:
    return user.display_name if user is not None else None


def _entry_record(entry: IndexEntry, path: str | None) -> dict[str, Any]:
    return {
        "position": entry.position,
        "title": entry.title,
        "document_type": entry.document_type,
        "origin": entry.origin,
        "mechanism": entry.mechanism,
        "incorporated_at": exports.utc_iso(entry.incorporated_at),
        "incorporated_by": _user_name(entry.incorporated_by),
        "document_created_at": exports.utc_iso(entry.document_created_at),
        "sha256": entry.sha256,
        "size": entry.size,
        "content_type": entry.content_type,
        "pages": entry.pages,
        "first_page": entry.first_page,
        "last_page": entry.last_page,
        "description": entry.description,
        "physical_location": entry.physical_location,
        "source": entry.source,
        "source_reference": entry.source_reference,
        "external_body_code": entry.external_body_code,
        "access_level": entry.access_level,
        "sensitive_data": entry.sensitive_data,
        "keywords": entry.keywords,
        "advanced_signature": entry.advanced_signature,
        "owner_rut_number": entry.owner_rut_number,
        "version_of": entry.version_of.position if entry.version_of is not None else None,
        "doc_version": entry.doc_version,
        "file": ({"path": path, "name": entry.file.original_name, "content_type": entry.file.content_type}
                 if entry.file is not None and path else None),
        "nested_case_file": entry.nested_case_file.iuie if entry.nested_case_file is not None else None,
    }


def _events(qs: Any) -> list[dict[str, Any]]:
    return [{"seq": e.seq, "occurred_at": exports.utc_iso(e.occurred_at), "actor": e.actor_label or None,
             "action": e.action, "data": e.data, "ip": e.ip, "hash": e.hash} for e in qs]


def _write_case_file(bag: BagWriter, cf: CaseFile, base: str = "", depth: int = 0) -> None:
    """The payload of one expediente under ``data/<base>``; accumulated ones nest under ``acumulados/``."""
    from folio.case_files.services import ConflictError

    if depth > MAX_NESTING:
        raise ConflictError(_("The expedientes are nested too deeply to be packaged."))
    entries = list(IndexEntry.objects.filter(case_file=cf).select_related(
        "file", "version_of", "nested_case_file", "incorporated_by").order_by("position"))
    views = [selectors.EntryView(e, can_open=True, redacted=False) for e in entries]
    parties = list(cf.parties.all())
    links = selectors.case_file_links(cf)
    bag.add_bytes(f"{base}indice.xml", exports.index_as_xml(cf, views))
    bag.add_bytes(f"{base}indice.json", exports.index_as_json(cf, views))
    bag.add_json(f"{base}metadatos.json", exports.case_file_metadata(cf, views, parties=parties, links=links))
    access = AuditEvent.objects.filter(object_type=selectors.OBJECT_TYPE, object_id=str(cf.pk),
                                       organization_id=cf.organization_id,
                                       action__in=selectors.ACCESS_ACTIONS).order_by("seq")
    bag.add_json(f"{base}trazabilidad.json", {
        "iuie": cf.iuie, "time_zone": "UTC", "timeline": _events(selectors.case_file_timeline(cf)),
        "access_log": _events(access)})
    records = []
    for entry in entries:
        path = None
        if entry.file is not None:
            path = f"documentos/{entry.position:04d}-{safe_name(entry.file.original_name)}"
            with file_open(entry.file) as fh:
                digest, _size = bag.add_stream(f"{base}{path}", iter(partial(fh.read, CHUNK), b""))
            if digest != entry.sha256:
                raise ConflictError(_(
                    "Document %(n)s of %(iuie)s no longer matches its SHA-256; nothing was exported. Run "
                    "verify_integrity and restore the file from a backup.") % {"n": entry.position, "iuie": cf.iuie})
        if entry.nested_case_file is not None:
            _write_case_file(bag, entry.nested_case_file, f"{base}acumulados/{entry.nested_case_file.iuie}/",
                             depth + 1)
        records.append(_entry_record(entry, path))
    held = CaseFileCustody.objects.filter(case_file=cf).select_related("unit").order_by("started_at", "id")
    custody = [{"unit_code": c.unit.code, "unit_name": c.unit.name, "started_at": exports.utc_iso(c.started_at),
                "ended_at": exports.utc_iso(c.ended_at), "note": c.note} for c in held]
    org = cf.organization
    bag.add_json(f"{base}expediente.json", {
        "schema": PACKAGE_SCHEMA,
        "organization": {"code": org.code, "name": org.name},
        "producer": {"code": cf.producer_code or org.code, "name": cf.producer_name or org.name},
        "case_file": {
            "iuie": cf.iuie, "year": cf.year, "number": cf.number, "title": cf.title, "subject": cf.subject,
            "summary": cf.summary, "procedure_code": cf.procedure_code, "procedure_name": cf.procedure_name,
            "series_code": cf.series_code, "unit": {"code": cf.unit.code, "name": cf.unit.name},
            "state": cf.state, "archival_phase": cf.archival_phase, "access_level": cf.access_level,
            "sensitive_data": cf.sensitive_data, "created_at": exports.utc_iso(cf.created_at),
            "opened_by": _user_name(cf.opened_by), "suspended_at": exports.utc_iso(cf.suspended_at),
            "suspension_reason": cf.suspension_reason, "closed_at": exports.utc_iso(cf.closed_at),
            "closed_by": _user_name(cf.closed_by), "closing_note": cf.closing_note, "index_hash": cf.index_hash,
            "accumulated_into": cf.accumulated_into.iuie if cf.accumulated_into is not None else None,
        },
        "parties": [{"relation": p.relation, "actor_type": p.actor_type, "rut_number": p.rut_number,
                     "rut_dv": p.rut_dv, "name": p.name, "email": p.email} for p in parties],
        "custody": custody,
        "links": [{"direction": direction, "kind": link.kind, "iuie": other.iuie, "note": link.note}
                  for direction, other, link in links if link.kind == LinkKind.LINKED],
        "entries": records,
    })


def _bag_info(cf: CaseFile, group: str = "") -> dict[str, str]:
    org = cf.organization
    return {
        "Source-Organization": org.name,
        "Organization-Address": org.address,
        "Contact-Email": org.email,
        "External-Identifier": cf.iuie,
        "External-Description": cf.title,
        "Bag-Group-Identifier": group,
        "Folio-Package-Schema": PACKAGE_SCHEMA,
        "Folio-Organization-Code": org.code,
        "Folio-Producer-Code": cf.producer_code or org.code,
        "Folio-Index-Hash": cf.index_hash,
    }


def _archivable(cf: CaseFile) -> None:
    from folio.case_files.services import ConflictError

    if cf.state not in ARCHIVABLE or not cf.index_hash:
        raise ConflictError(_("Only a closed or archived expediente can be packaged: its index must be frozen."))


def _audit_export(actor: Any, cf: CaseFile, bag_root: Path, ip: str | None, **extra: Any) -> None:
    from folio.case_files.services import _audit

    oxum = next((line.split(":", 1)[1].strip() for line in (bag_root / "bag-info.txt").read_text("utf-8").splitlines()
                 if line.startswith("Payload-Oxum:")), "")
    with transaction.atomic():
        _audit("case_file.archive_export", actor, cf, ip, index_hash=cf.index_hash, payload_oxum=oxum, **extra)


def export_case_file(*, actor: Any, case_file: CaseFile, target_dir: Path, ip: str | None = None) -> Path:
    """Write the bag of one closed expediente into ``target_dir``/<IUIe>; returns the bag's directory."""
    from folio.case_files.services import _recording_refusals

    with _recording_refusals(actor, case_file, "archive_export", ip):
        if not perms.can_export_archive(actor, case_file):
            raise PermissionDenied(_("Only the responsible unit, the Oficina de Partes and administrators export "
                                     "archival packages."))
        _archivable(case_file)
    bag = BagWriter(target_dir / case_file.iuie)
    _write_case_file(bag, case_file)
    root = bag.finish(_bag_info(case_file))
    _audit_export(actor, case_file, root, ip)
    return root


def series_case_files(organization_id: int, series_code: str, year: int) -> list[CaseFile]:
    return list(CaseFile.objects.filter(organization_id=organization_id, series_code=series_code, year=year,
                                        state__in=ARCHIVABLE).exclude(index_hash="")
                .select_related("organization", "unit").order_by("number"))


def export_series(*, actor: Any, series_code: str, year: int, target_dir: Path, ip: str | None = None) -> Path:
    """A bag of bags with every closed expediente of ``series_code`` whose IUIe is of ``year``."""
    if not perms.can_export_series(actor):
        raise PermissionDenied(_("Only the Oficina de Partes and administrators export a whole series."))
    series_code = series_code.strip()
    if not series_code:
        raise ValidationError({"series": [_("Give the series code.")]})
    case_files = series_case_files(actor.organization_id, series_code, year)
    if not case_files:
        raise ValidationError({"series": [_("There are no closed expedientes of series %(series)s in %(year)s.") % {
            "series": series_code, "year": year}]})
    org = actor.organization
    group = f"{org.code}/{series_code}/{year}"
    outer = BagWriter(target_dir / safe_name(f"{series_code}-{year}"))
    listing = []
    for cf in case_files:
        inner = BagWriter(outer.root / "data" / cf.iuie, parent=outer)
        _write_case_file(inner, cf)
        inner.finish(_bag_info(cf, group))
        listing.append({"iuie": cf.iuie, "title": cf.title, "index_hash": cf.index_hash,
                        "closed_at": exports.utc_iso(cf.closed_at), "bag": f"data/{cf.iuie}"})
    outer.add_json("serie.json", {"schema": SERIES_SCHEMA, "organization": {"code": org.code, "name": org.name},
                                  "series_code": series_code, "year": year, "expedientes": listing})
    root = outer.finish({
        "Source-Organization": org.name, "Organization-Address": org.address, "Contact-Email": org.email,
        "External-Identifier": group,
        "External-Description": _("Series %(series)s, year %(year)s: %(n)s expedientes") % {
            "series": series_code, "year": year, "n": len(case_files)},
        "Bag-Group-Identifier": group, "Folio-Package-Schema": SERIES_SCHEMA, "Folio-Organization-Code": org.code,
    })
    for cf in case_files:
        _audit_export(actor, cf, root, ip, series=group)
    return root


# --- streaming a bag as a tar ---------------------------------------------------------------------------

class TarStream:
    """Iterates a directory as an uncompressed tar, one chunk at a time, and removes ``cleanup`` when the
    response is closed (whether it was read to the end or not)."""

    def __init__(self, root: Path, *, cleanup: Path | None = None) -> None:
        self.root = root
        self.cleanup = cleanup

    def __iter__(self) -> Iterator[bytes]:
        written = 0
        now = int(time.time())
        base = self.root.name
        paths = [self.root, *sorted(self.root.rglob("*"))]
        for path in paths:
            rel = base if path == self.root else f"{base}/{path.relative_to(self.root).as_posix()}"
            info = tarfile.TarInfo(rel)
            info.mtime = now
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
                written += len(header)
                yield header
                continue
            info.size, info.mode = path.stat().st_size, 0o644
            header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
            written += len(header)
            yield header
            with path.open("rb") as fh:
                for chunk in iter(partial(fh.read, CHUNK), b""):
                    written += len(chunk)
                    yield chunk
            padding = (-info.size) % tarfile.BLOCKSIZE
            if padding:
                written += padding
                yield b"\0" * padding
        end = b"\0" * (2 * tarfile.BLOCKSIZE)
        written += len(end)
        yield end + b"\0" * ((-written) % tarfile.RECORDSIZE)

    def close(self) -> None:
        if self.cleanup is not None:
            shutil.rmtree(self.cleanup, ignore_errors=True)
            self.cleanup = None


# --- import --------------------------------------------------------------------------------------------

def _unpack(path: Path, tmp: Path) -> Path:
    if path.is_dir():
        return path
    if not path.is_file():
        raise _refuse(_("The package %(path)s does not exist.") % {"path": path.name})
    target = tmp / "unpacked"
    target.mkdir()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for member in zf.infolist():
                destination = (target / member.filename).resolve()
                if not destination.is_relative_to(target.resolve()):
                    raise _refuse(_("The package contains a path outside of it: %(name)s") % {"name": member.filename})
            zf.extractall(target)  # noqa: S202 - every member was checked above
        return target
    try:
        with tarfile.open(path) as tar:
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise _refuse(_("The package is not a BagIt bag, a tar or a zip file (%(error)s).") % {"error": exc}) from None
    return target


def _find_bag(root: Path) -> Path:
    if (root / "bagit.txt").is_file():
        return root
    children = [p for p in root.iterdir() if p.is_dir()]
    if len(children) == 1 and (children[0] / "bagit.txt").is_file():
        return children[0]
    raise _refuse(_("No bagit.txt found: this is not a BagIt bag."))


def _validate(bag_dir: Path) -> bagit.Bag:
    try:
        bag = bagit.Bag(str(bag_dir))
    except bagit.BagError as exc:
        raise _refuse(_("The package is not a valid BagIt bag: %(error)s") % {"error": exc}) from None
    if "sha256" not in bag.algorithms:
        raise _refuse(_("The package has no SHA-256 manifest."))
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in (exc.details or [])[:5]) or str(exc.message)
        raise _refuse(_("The package failed validation, nothing was imported: %(details)s") % {
            "details": details}) from None
    except bagit.BagError as exc:
        raise _refuse(_("The package failed validation, nothing was imported: %(details)s") % {
            "details": exc}) from None
    return bag


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _required_time(value: str | None) -> dt.datetime:
    parsed = _time(value)
    if parsed is None:
        raise _refuse(_("A required date is missing from expediente.json."))
    return parsed


class _Plan:
    """One expediente of a package, read and checked before anything is written."""

    def __init__(self, payload: Path, manifest: dict[str, str], rel: str) -> None:
        self.payload = payload  # the directory holding expediente.json
        path = payload / "expediente.json"
        if not path.is_file():
            raise _refuse(_("The package has no expediente.json: it was not made by Folio."))
        try:
            self.data = json.loads(path.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _refuse(_("expediente.json in the package cannot be read.")) from None
        if self.data.get("schema") != PACKAGE_SCHEMA:
            raise _refuse(_("Unknown package schema %(schema)s.") % {"schema": self.data.get("schema")})
        self.cf = self.data["case_file"]
        self.nested: dict[str, _Plan] = {}
        for entry in self.data["entries"]:
            file = entry.get("file")
            if file:
                key = f"{rel}{file['path']}"
                if not (payload / file["path"]).resolve().is_relative_to(payload.resolve()):
                    raise _refuse(_("The package contains a path outside of it: %(name)s") % {"name": file["path"]})
                if manifest.get(key) != entry["sha256"]:
                    raise _refuse(_("Document %(n)s of %(iuie)s does not match its recorded SHA-256.") % {
                        "n": entry["position"], "iuie": self.cf["iuie"]})
            if entry.get("nested_case_file"):
                iuie = entry["nested_case_file"]
                sub = f"acumulados/{iuie}/"
                self.nested[iuie] = _Plan(payload / "acumulados" / iuie, manifest, f"{rel}{sub}")

    def all(self) -> Iterator[_Plan]:
        for child in self.nested.values():
            yield from child.all()
        yield self


def _manifest(bag: bagit.Bag, prefix: str = "data/") -> dict[str, str]:
    """Payload path (relative to ``prefix``) -> SHA-256, from the bag's manifest."""
    return {path[len(prefix):].replace("\\", "/"): hashes["sha256"] for path, hashes in bag.entries.items()
            if path.replace("\\", "/").startswith(prefix) and "sha256" in hashes}


def _check_free(organization: Any, plans: list[_Plan]) -> None:
    seen: set[str] = set()
    for plan in plans:
        cf = plan.cf
        if cf["iuie"] in seen:
            raise _refuse(_("Expediente %(iuie)s appears twice in the package.") % {"iuie": cf["iuie"]})
        seen.add(cf["iuie"])
        if CaseFile.objects.filter(organization=organization).filter(
                Q(iuie=cf["iuie"]) | Q(year=cf["year"], number=cf["number"])).exists():
            raise _refuse(_("Expediente %(iuie)s already exists in %(org)s.") % {
                "iuie": cf["iuie"], "org": organization.name})


def _unit(organization: Any, code: str) -> Unit | None:
    return Unit.objects.filter(organization=organization, code=code).first()


def _create(plan: _Plan, *, organization: Any, actor: Any, unit: Unit, created: dict[str, CaseFile],
            bag_info: dict[str, Any], ip: str | None) -> CaseFile:
    from folio.case_files.services import _audit

    data, c = plan.data, plan.cf
    producer = data.get("producer") or data["organization"]
    own = producer["code"] == organization.code
    cf = CaseFile.objects.create(
        organization=organization, year=c["year"], number=c["number"], iuie=c["iuie"], title=c["title"],
        subject=c["subject"], summary=c["summary"], procedure_code=c["procedure_code"],
        procedure_name=c["procedure_name"], series_code=c["series_code"], unit=unit, state=c["state"],
        archival_phase=c["archival_phase"], access_level=c["access_level"], sensitive_data=c["sensitive_data"],
        opened_by=actor, created_at=_required_time(c["created_at"]), suspended_at=_time(c["suspended_at"]),
        suspension_reason=c["suspension_reason"], closed_at=_time(c["closed_at"]),
        closed_by=actor if c["closed_at"] else None, closing_note=c["closing_note"], index_hash=c["index_hash"],
        producer_code="" if own else producer["code"], producer_name="" if own else producer["name"],
    )
    for p in data["parties"]:
        Party.objects.create(case_file=cf, relation=p["relation"], actor_type=p["actor_type"],
                             rut_number=p["rut_number"], rut_dv=p["rut_dv"] or "", name=p["name"],
                             email=p["email"] or "")
    custody = data.get("custody") or []
    for row in custody:
        held = _unit(organization, row["unit_code"]) or unit
        note = row["note"] if held.code == row["unit_code"] else f"{row['unit_name']} ({row['unit_code']})"
        CaseFileCustody.objects.create(case_file=cf, unit=held, started_at=_required_time(row["started_at"]),
                                       ended_at=_time(row["ended_at"]), assigned_by=actor, note=note[:500])
    if not custody:
        CaseFileCustody.objects.create(case_file=cf, unit=unit, started_at=cf.created_at, assigned_by=actor)
    by_position: dict[int, IndexEntry] = {}
    for e in data["entries"]:
        stored = None
        if e.get("file"):
            source = plan.payload / e["file"]["path"]
            try:
                stored = file_store_path(organization=organization, name=e["file"]["name"], path=source,
                                         actor=actor, expected_sha256=e["sha256"])
            except FileRejected as exc:
                raise _refuse(_("Document %(n)s of %(iuie)s was refused: %(reason)s") % {
                    "n": e["position"], "iuie": c["iuie"], "reason": exc.message}) from None
        nested = created.get(e["nested_case_file"]) if e.get("nested_case_file") else None
        if e.get("nested_case_file") and nested is None:
            raise _refuse(_("The accumulated expediente %(iuie)s is missing from the package.") % {
                "iuie": e["nested_case_file"]})
        entry = IndexEntry.objects.create(
            case_file=cf, position=e["position"], file=stored, nested_case_file=nested, title=e["title"],
            document_type=e["document_type"], origin=e["origin"], mechanism=e["mechanism"],
            incorporated_at=_required_time(e["incorporated_at"]), incorporated_by=None,
            document_created_at=_time(e["document_created_at"]), sha256=e["sha256"], size=e["size"],
            content_type=e["content_type"], pages=e["pages"], first_page=e["first_page"], last_page=e["last_page"],
            description=e["description"], physical_location=e["physical_location"], source=e["source"],
            source_reference=e["source_reference"], external_body_code=e["external_body_code"],
            access_level=e["access_level"], sensitive_data=e["sensitive_data"], keywords=e["keywords"],
            advanced_signature=e["advanced_signature"], owner_rut_number=e["owner_rut_number"],
            version_of=by_position.get(e["version_of"]) if e["version_of"] else None, doc_version=e["doc_version"],
        )
        by_position[entry.position] = entry
    if c["index_hash"] and exports.index_hash(cf, selectors.all_entries(cf)) != c["index_hash"]:
        raise _refuse(_("The index of %(iuie)s in the package does not match its recorded hash; nothing was "
                        "imported.") % {"iuie": c["iuie"]})
    for child_iuie in plan.nested:
        child = created[child_iuie]
        child.accumulated_into = cf
        child.save(update_fields=["accumulated_into"])
        CaseFileLink.objects.create(organization=organization, from_case_file=cf, to_case_file=child,
                                    kind=LinkKind.ACCUMULATED, created_by=actor)
    for link in data.get("links") or []:
        other = CaseFile.objects.filter(organization=organization, iuie=link["iuie"]).first()
        if other is not None and not CaseFileLink.objects.filter(
                from_case_file__in=[cf, other], to_case_file__in=[cf, other]).exists():
            CaseFileLink.objects.create(organization=organization, from_case_file=cf, to_case_file=other,
                                        kind=LinkKind.LINKED, note=link["note"][:500], created_by=actor)
    counter, _new = CaseFileCounter.objects.get_or_create(organization=organization, year=cf.year)
    if counter.last_value < cf.number:  # numbers given later in this organization never collide with it
        CaseFileCounter.objects.filter(pk=counter.pk, last_value__lt=cf.number).update(last_value=cf.number)
    _audit("case_file.import", actor, cf, ip, iuie=cf.iuie, source_organization=data["organization"]["code"],
           producer=producer["code"], index_hash=cf.index_hash, entries=len(data["entries"]),
           opened_by=c.get("opened_by"), closed_by=c.get("closed_by"), bagging_date=bag_info.get("Bagging-Date"),
           payload_oxum=bag_info.get("Payload-Oxum"))
    created[cf.iuie] = cf
    return cf


def import_package(*, actor: Any, organization: Any, path: Path, unit_code: str = "",
                   ip: str | None = None) -> list[CaseFile]:
    """Import a bag made by ``export_case_file`` or ``export_series`` (a directory, .tar, .tar.gz or .zip) into
    ``organization``. All or nothing: a bag that fails validation, a document whose SHA-256 differs or an
    index that does not match its hash refuses the whole package."""
    if not perms.can_import_archive(actor, organization.pk):
        raise PermissionDenied(_("Only an administrator of the organization imports archival packages."))
    with tempfile.TemporaryDirectory(prefix="folio-import-") as tmp:
        bag_dir = _find_bag(_unpack(Path(path), Path(tmp)))
        bag = _validate(bag_dir)
        schema = bag.info.get("Folio-Package-Schema")
        roots: list[tuple[Path, bagit.Bag]] = []
        if schema == SERIES_SCHEMA:
            for inner in sorted(p for p in (bag_dir / "data").iterdir() if (p / "bagit.txt").is_file()):
                roots.append((inner, _validate(inner)))
        elif schema == PACKAGE_SCHEMA:
            roots.append((bag_dir, bag))
        else:
            raise _refuse(_("Unknown package schema %(schema)s.") % {"schema": schema})
        try:
            return _import_plans(roots, organization=organization, actor=actor, unit_code=unit_code, ip=ip)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _refuse(_("expediente.json in the package is incomplete or malformed (%(error)s); nothing was "
                            "imported.") % {"error": f"{type(exc).__name__}: {exc}"[:200]}) from None


def _import_plans(roots: list[tuple[Path, bagit.Bag]], *, organization: Any, actor: Any, unit_code: str,
                  ip: str | None) -> list[CaseFile]:
    plans = [(_Plan(root / "data", _manifest(inner_bag), ""), inner_bag) for root, inner_bag in roots]
    every = [p for plan, _bag in plans for p in plan.all()]
    _check_free(organization, every)
    imported: list[CaseFile] = []
    with atomic_with_files():
        for plan, inner_bag in plans:
            created: dict[str, CaseFile] = {}
            for part in plan.all():
                code = unit_code or part.cf["unit"]["code"]
                unit = _unit(organization, code)
                if unit is None:
                    raise _refuse(_("The unit %(code)s does not exist in %(org)s; create it or choose another "
                                    "unit.") % {"code": code, "org": organization.name})
                _create(part, organization=organization, actor=actor, unit=unit, created=created,
                        bag_info=inner_bag.info, ip=ip)
            imported.append(created[plan.cf["iuie"]])
    return imported
