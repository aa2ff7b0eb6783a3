"""The electronic index as JSON and XML, its canonical hash, and the DS 10 metadata of an expediente and its
documents under the codes of the Guía Técnica de Metadatos (MGDEE… / MGDDE…). Pure functions: callers
pass the entries the user may see (``EntryView``) or, for the hash, every entry."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from folio.case_files.models import CaseFile, IndexEntry
from folio.case_files.selectors import EntryView
from folio.registry.models import DocumentType, Mechanism

INDEX_SCHEMA = "folio-indice-expediente/1.0"
# Version of the metadata schema we follow (the guide is a 2023 draft, "Versión BORRADOR").
METADATA_SCHEMA_VERSION = "MGDE-DS10-2023-borrador"
YES, NO = 1, 2  # the guide encodes booleans as 1 Sí / 2 No

# Tipo relación OAE (MGDEE51_3 / MGDDE61_3)
OAE_AUTHOR, OAE_RECIPIENT, OAE_PRODUCER, OAE_CUSTODY = 1, 2, 3, 4


def utc_iso(value: dt.datetime | None) -> str | None:
    """2026-03-05T14:07:09.123456Z; every time in exports is UTC (DS 10 art. 9)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def guide_datetime(value: dt.datetime | None) -> str | None:
    """The metadata guide's ``aaaa-mm-dd hh:mm:ss``, in UTC."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


# --- canonical index and its hash ----------------------------------------------------------------

def canonical_entry(case_file: CaseFile, entry: IndexEntry) -> dict[str, Any]:
    return {
        "position": entry.position,
        "identifier": f"{case_file.iuie}-D{entry.position:04d}",
        "title": entry.title,
        "document_type": entry.document_type,
        "incorporated_at": utc_iso(entry.incorporated_at),
        "sha256": entry.sha256,
        "pages": entry.pages,
        "first_page": entry.first_page,
        "last_page": entry.last_page,
        "mechanism": entry.mechanism,
        "source": entry.source,
        "access_level": entry.access_level,
        "sensitive_data": entry.sensitive_data,
        "version_of": entry.version_of.position if entry.version_of_id and entry.version_of else None,
        "nested_case_file": entry.nested_case_file.iuie if entry.nested_case_file_id and entry.nested_case_file
        else None,
    }


def canonical_index(case_file: CaseFile, entries: Sequence[IndexEntry]) -> bytes:
    body = {
        "schema": INDEX_SCHEMA,
        # The producing body: an expediente imported from another body's archival package keeps its hash.
        "organization": case_file.producer_code or case_file.organization.code,
        "iuie": case_file.iuie,
        "entries": [canonical_entry(case_file, e) for e in sorted(entries, key=lambda e: e.position)],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def index_hash(case_file: CaseFile, entries: Sequence[IndexEntry]) -> str:
    """SHA-256 over the canonical index (every entry, in order); recorded when the expediente closes."""
    return hashlib.sha256(canonical_index(case_file, entries)).hexdigest()


# --- index export ----------------------------------------------------------------------------------

def _label(choices: Any, value: Any, cache: dict[Any, str]) -> str:
    """The label of ``value`` in ``choices``, translated once per index export, not once per entry."""
    key = (choices, value)
    if key not in cache:
        cache[key] = str(choices(value).label)
    return cache[key]


def _entry_dict(case_file: CaseFile, view: EntryView, labels: dict[Any, str] | None = None) -> dict[str, Any]:
    e = view.entry
    labels = {} if labels is None else labels
    data = canonical_entry(case_file, e)
    data["incorporated_at"] = utc_iso(e.incorporated_at)
    data["document_type_name"] = _label(DocumentType, e.document_type, labels)
    data["mechanism_name"] = _label(Mechanism, e.mechanism, labels)
    data["paper"] = e.is_paper
    data["physical_location"] = e.physical_location
    data["version"] = e.doc_version
    if view.redacted:
        data["title"] = _("Restricted document")
        data["physical_location"] = ""
    return data


def index_as_dict(case_file: CaseFile, views: Sequence[EntryView]) -> dict[str, Any]:
    last = max((v.entry.last_page for v in views), default=0)
    labels: dict[Any, str] = {}
    return {
        "schema": INDEX_SCHEMA,
        "iuie": case_file.iuie,
        "organization": {"code": case_file.organization.code, "name": case_file.organization.name},
        "title": case_file.title,
        "state": case_file.state,
        "time_zone": "UTC",
        "location_time_zone": case_file.organization.time_zone,
        "created_at": utc_iso(case_file.created_at),
        "closed_at": utc_iso(case_file.closed_at),
        "index_hash": case_file.index_hash or None,
        "index_hash_algorithm": "sha256" if case_file.index_hash else None,
        "total_folios": last,
        "entries": [_entry_dict(case_file, v, labels) for v in views],
    }


def index_as_json(case_file: CaseFile, views: Sequence[EntryView]) -> bytes:
    return json.dumps(index_as_dict(case_file, views), ensure_ascii=False, indent=2).encode()


def _xml_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _xml_attr(text: str) -> str:
    text = _xml_text(text)
    for char, entity in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if char in text:
            text = text.replace(char, entity)
    return text


def _xml_leaf(tag: str, text: str, indent: str, attrs: str = "") -> str:
    return f"{indent}<{tag}{attrs}>{_xml_text(text)}</{tag}>" if text else f"{indent}<{tag}{attrs} />"


_HEAD_KEYS = ("title", "state", "time_zone", "location_time_zone", "created_at", "closed_at", "index_hash",
              "index_hash_algorithm", "total_folios")
_ENTRY_KEYS = ("title", "document_type", "document_type_name", "incorporated_at", "sha256", "pages", "first_page",
               "last_page", "mechanism", "mechanism_name", "source", "access_level", "sensitive_data", "paper",
               "physical_location", "version", "version_of", "nested_case_file")


def index_as_xml(case_file: CaseFile, views: Sequence[EntryView]) -> bytes:
    """The index as XML, byte for byte what ``ElementTree.tostring`` gives after ``ElementTree.indent`` (two
    spaces), written straight to text: an index of thousands of entries has tens of thousands of elements,
    and building the tree cost most of the request."""
    data = index_as_dict(case_file, views)
    out = ["<?xml version='1.0' encoding='utf-8'?>\n",
           f'<indiceElectronico esquema="{_xml_attr(INDEX_SCHEMA)}" iuie="{_xml_attr(case_file.iuie)}">',
           "\n  <expediente>"]
    for key in _HEAD_KEYS:
        if data[key] is not None:
            out.append(_xml_leaf(key, str(data[key]), "\n    "))
    out.append(_xml_leaf("organization", data["organization"]["name"], "\n    ",
                         f' code="{_xml_attr(data["organization"]["code"])}"'))
    out.append("\n  </expediente>")
    if not data["entries"]:
        out.append("\n  <entries />")
    else:
        out.append("\n  <entries>")
        for item in data["entries"]:
            start = f'\n    <entry position="{item["position"]}" identifier="{_xml_attr(item["identifier"])}"'
            fields = []
            for key in _ENTRY_KEYS:
                value = item[key]
                if value is None or value == "":
                    continue
                fields.append(_xml_leaf(key, str(value).lower() if isinstance(value, bool) else str(value),
                                        "\n      "))
            out.append(start + ">" + "".join(fields) + "\n    </entry>" if fields else start + " />")
        out.append("\n  </entries>")
    out.append("\n</indiceElectronico>")
    return "".join(out).encode()


# --- DS 10 metadata ----------------------------------------------------------------------------------

def _keywords(entry: IndexEntry, case_file: CaseFile) -> list[str]:
    words = [w.strip() for w in entry.keywords.split(",") if w.strip()]
    if not words:  # MGDDE3_2 is mandatory: fall back to the document type and the expediente's CPAT name
        words = [str(DocumentType(entry.document_type).label)]
        if case_file.procedure_name:
            words.append(case_file.procedure_name)
    return words


def document_metadata(case_file: CaseFile, view: EntryView) -> dict[str, Any]:
    e = view.entry
    org = case_file.organization
    incoming = e.source == "registration" or e.origin is not None
    oae_codes = [org.code]
    oae_relations = [OAE_RECIPIENT if incoming else OAE_PRODUCER]
    if e.external_body_code:
        oae_codes.append(e.external_body_code)
        oae_relations.append(OAE_AUTHOR)
    meta: dict[str, Any] = {
        "MGDDE1_1": f"{case_file.iuie}-D{e.position:04d}",
        "MGDDE1_5": e.doc_version,
        "MGDDE1_6": _("Restricted document") if view.redacted else e.title,
        "MGDDE2_1": e.size,
        "MGDDE2_2": e.pages,
        "MGDDE2_3": e.content_type or None,
        "MGDDE3_2": [] if view.redacted else _keywords(e, case_file),
        "MGDDE4_1": guide_datetime(e.document_created_at or e.incorporated_at),
        "MGDDE4_2": guide_datetime(e.incorporated_at),
        "MGDDE5_1": e.document_type,
        "MGDDE5_2": e.origin,
        "MGDDE5_3": e.mechanism,
        "MGDDE5_5": (e.physical_location or None) if not view.redacted else None,
        "MGDDE61_1": oae_codes,
        "MGDDE61_3": oae_relations,
        "MGDDE7_1": e.access_level,
        "MGDDE7_4": YES if e.sensitive_data else NO,
        "MGDDE8_3": YES if e.advanced_signature else NO,
        "MGDDE9_1": case_file.procedure_code or None,
        "MGDDE9_2": case_file.procedure_name or None,
        "MDGDDE10": METADATA_SCHEMA_VERSION,
        # Not metadata-guide elements, but needed to check the document and its place in the index.
        "sha256": e.sha256 or None,
        "folios": [e.first_page, e.last_page],
        "position": e.position,
    }
    return meta


def case_file_metadata(case_file: CaseFile, views: Sequence[EntryView], *, parties: Sequence[Any],
                       links: Sequence[tuple[str, CaseFile, Any]] = ()) -> dict[str, Any]:
    org = case_file.organization
    visible_parties = list(parties)
    hybrid = any(v.entry.is_paper for v in views)
    linked_ids = [v.entry.nested_case_file.iuie if v.entry.nested_case_file is not None else v.entry.identifier
                  for v in views]
    linked_dates = [guide_datetime(v.entry.incorporated_at) for v in views]
    for _direction, other, link in links:
        linked_ids.append(other.iuie)
        linked_dates.append(guide_datetime(link.created_at))
    expediente = {
        "MGDEE1_1": case_file.iuie,
        "MGDEE1_2": case_file.series_code or None,
        "MGDEE1_3": case_file.number,
        "MGDEE1_4": case_file.state,
        "MGDEE1_5": case_file.title,
        "MGDEE2_1": case_file.summary or None,
        "MGDEE2_2": case_file.subject,
        "MGDEE3_1": guide_datetime(case_file.created_at),
        "MGDEE3_2": guide_datetime(case_file.closed_at),
        # Folio expedientes are born digital; paper items make them hybrid (DS 10 art. 23).
        "MGDEE4_1": Mechanism.DIGITAL.value,
        "MGDEE4_2": case_file.uri,
        "MGDEE51_1": case_file.producer_code or org.code,
        "MGDEE51_2": case_file.producer_name or org.name,
        "MGDEE51_3": [OAE_PRODUCER, OAE_CUSTODY],
        "MGDEE51_4": [case_file.producer_code or org.code, org.code],
        "MGDEE51_5": [case_file.producer_name or org.name, org.name],
        "MGDEE52_1": [p.relation for p in visible_parties],
        "MGDEE52_2": [p.actor_type for p in visible_parties],
        "MGDEE52_3": [p.rut or None for p in visible_parties],
        "MGDEE52_4": [p.name for p in visible_parties],
        "MGDEE53_1": linked_ids,
        "MGDEE53_2": linked_dates,
        "MGDEE6_1": case_file.access_level,
        "MGDEE6_4": YES if case_file.sensitive_data else NO,
        "MGDEE7_1": case_file.procedure_code or None,
        "MGDEE7_2": case_file.procedure_name or None,
        "MGDEE8_1": METADATA_SCHEMA_VERSION,
    }
    return {
        "schema": METADATA_SCHEMA_VERSION,
        "time_zone": "UTC",
        "location_time_zone": org.time_zone,
        "hybrid": hybrid,
        "responsible_unit": {"code": case_file.unit.code, "name": case_file.unit.name},
        "index_hash": case_file.index_hash or None,
        "expediente": expediente,
        "documentos": [document_metadata(case_file, v) for v in views],
    }

