"""Full-text search over registrations: SQLite FTS5 by default, PostgreSQL tsvector + GIN at scale.

Both backends take the permission- and filter-aware queryset built by the selectors and only add
the text condition, so search can never show what the list would not. Results come newest first
(the registry order clerks work in), which lets both engines stop after the first page even for a
term that matches half the book.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import snowballstemmer
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from folio.core.rut import Rut
from folio.registry.models import DocumentType, Registration

MAX_INDEXED_CHARS = 200_000
_WORD = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]+)"')
_stemmer = snowballstemmer.stemmer("spanish")


def _fold(word: str) -> str:
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _fold(str(_stemmer.stemWord(word)))


def normalize_words(text: str) -> list[str]:
    """Lower-case, stem (Spanish snowball) and fold the accents of each word. Both engines index and
    query these words, so they match alike: PostgreSQL's own Spanish stemmer does not (after
    ``unaccent`` it stems "resolución" and "resoluciones" differently)."""
    return [_stem(w) for w in _WORD.findall(text.lower())]


def document_text(reg: Registration, file_texts: list[str]) -> str:
    parts = [
        reg.folio,
        reg.folio.replace("-", ""),
        reg.subject,
        reg.summary,
        reg.party_name,
        reg.addressee,
        reg.keywords,
        str(DocumentType(reg.document_type).label),
        reg.party_body_code,
        reg.party_email,
    ]
    if reg.party_rut_number:
        parts.append(f"{reg.party_rut_number}{reg.party_rut_dv} {reg.party_rut_number}")
    text = "\n".join(p for p in parts if p)
    for chunk in file_texts:
        if len(text) >= MAX_INDEXED_CHARS:
            break
        text += "\n" + chunk
    return text[:MAX_INDEXED_CHARS]


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def index_registration(reg: Registration, file_texts: list[str]) -> None:
    body = " ".join(normalize_words(document_text(reg, file_texts)))
    with connection.cursor() as cur:
        if _is_postgres():
            cur.execute(
                "INSERT INTO registry_search (registration_id, organization_id, document) "
                "VALUES (%s, %s, to_tsvector('simple', %s)) "
                "ON CONFLICT (registration_id) DO UPDATE SET document = EXCLUDED.document",
                [reg.pk, reg.organization_id, body],
            )
        else:
            cur.execute("DELETE FROM registry_fts WHERE rowid = %s", [reg.pk])
            cur.execute("INSERT INTO registry_fts (rowid, body) VALUES (%s, %s)", [reg.pk, body])


def _query_terms(q: str) -> tuple[list[list[str]], str]:
    """Split a user query into phrases (quoted) and words; RUTs are reduced to their number."""
    phrases = [normalize_words(p) for p in _PHRASE.findall(q)]
    rest = _PHRASE.sub(" ", q)
    words: list[list[str]] = []
    for token in rest.split():
        try:
            rut = Rut.parse(token) if any(c.isdigit() for c in token) and ("-" in token or "." in token) else None
        except Exception:
            rut = None
        if rut is not None:
            words.append([str(rut.number)])
            continue
        stems = normalize_words(token)
        if len(stems) > 1:
            phrases.append(stems)
        elif stems:
            words.append(stems)
    return [p for p in phrases + words if p], rest


def fts5_match(q: str) -> str:
    groups, _rest = _query_terms(q)
    return " AND ".join('"' + " ".join(g).replace('"', "") + '"' for g in groups)


def _where(qs: QuerySet[Registration]) -> tuple[str, list[Any]]:
    query = qs.query
    compiler = query.get_compiler(using=qs.db)
    compiler.setup_query()
    sql, params = compiler.compile(query.where)
    return sql or "1=1", list(params)


def search_ids(qs: QuerySet[Registration], q: str, *, limit: int, offset: int, cap: int) -> tuple[list[int], int, bool]:
    """Return (ids of the page, total capped at ``cap``, whether the total was capped)."""
    try:
        where_sql, where_params = _where(qs)
    except EmptyResultSet:
        return [], 0, False
    table = Registration._meta.db_table
    if _is_postgres():
        groups, _rest = _query_terms(q)
        if not groups:
            return [], 0, False
        # Every word (or quoted phrase) must occur; the words are already normalized like the index.
        tsquery = " && ".join(["phraseto_tsquery('simple', %s)"] * len(groups))
        base = (
            f'FROM registry_search s JOIN "{table}" ON "{table}"."id" = s.registration_id '
            f"WHERE s.document @@ ({tsquery}) AND ({where_sql})"
        )
        params: list[Any] = [*(" ".join(g) for g in groups), *where_params]
        order = "ORDER BY s.registration_id DESC"
    else:
        match = fts5_match(q)
        if not match:
            return [], 0, False
        # CROSS JOIN fixes SQLite's join order: the FTS5 match drives, the registration is looked up by
        # its primary key. (Left to choose, the planner scans the organization's rows for the count.)
        base = (
            f'FROM registry_fts CROSS JOIN "{table}" ON "{table}"."id" = registry_fts.rowid '
            f"WHERE registry_fts MATCH %s AND ({where_sql})"
        )
        params = [match, *where_params]
        order = "ORDER BY registry_fts.rowid DESC"
    with connection.cursor() as cur:
        cur.execute(f'SELECT "{table}"."id" {base} {order} LIMIT %s OFFSET %s', [*params, limit, offset])
        ids = [row[0] for row in cur.fetchall()]
        cur.execute(f'SELECT COUNT(*) FROM (SELECT 1 {base} LIMIT %s) AS capped', [*params, cap + 1])
        total = cur.fetchone()[0]
    return ids, min(total, cap), total > cap


# DDL, run by the registry migration for the database in use.
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS registry_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')",
]
POSTGRES_DDL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'folio_es') THEN
           CREATE TEXT SEARCH CONFIGURATION folio_es (COPY = spanish);
           ALTER TEXT SEARCH CONFIGURATION folio_es
             ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;
         END IF;
       END $$""",
    """CREATE TABLE IF NOT EXISTS registry_search (
         registration_id bigint PRIMARY KEY REFERENCES registry_registration(id) DEFERRABLE INITIALLY DEFERRED,
         organization_id bigint NOT NULL,
         document tsvector NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS registry_search_document_gin ON registry_search USING gin (document)",
]
