"""Text helpers of the inventory: accent-insensitive search keys, slugs, lines of requirements and steps."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_SPACES = re.compile(r"\s+")


def fold(value: str) -> str:
    """Lower-case, without accents or diacritics (á→a, ñ→n, ü→u) and with single spaces, so that "Número"
    and "numero" meet on both SQLite and PostgreSQL without database extensions."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", plain.casefold()).strip()


def search_key(*parts: str) -> str:
    return fold(" ".join(p for p in parts if p))


def query_words(query: str) -> list[str]:
    """The words of a search (folded); every one must appear."""
    return [w for w in fold(query).split(" ") if w][:10]


def matches(key: str, words: Iterable[str]) -> bool:
    return all(w in key for w in words)


def lines(value: str) -> list[str]:
    """Non-empty lines of a one-per-line field (requirements, steps), without list bullets."""
    out = []
    for raw in (value or "").splitlines():
        item = raw.strip().lstrip("-•*·").strip()
        if item:
            out.append(item)
    return out
