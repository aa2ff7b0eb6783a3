"""Embedded Roboto for text that Folio writes into PDFs itself (the visible signature stamp, the number, date and
verification code printed on an act): a TrueType subset embedded as a Type0 / CIDFontType2 font (Identity-H,
``/FontFile2``, widths and a ToUnicode CMap), so the text is PDF/A-compliant, looks like the rest of the
document and can be extracted.

The program comes from Folio's own static files (the Latin and Latin Extended WOFF2 files of Roboto, merged
once per process). Glyph ids are those of the merged font and every subset keeps them (``retain_gids``), so
text is encoded the same way whichever subset ends up embedded: the "core" subset (Latin-1 and common
punctuation; built once, ~12 kB compressed) or, for text with other Latin letters, a subset with those letters
added (cached). Nothing is subset per document.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

FONT_DIR = Path(settings.BASE_DIR) / "folio" / "static" / "vendor" / "fonts"
WEIGHTS = (400, 700)
CORE_CHARS = (
    "".join(chr(c) for c in range(0x20, 0x7F))
    + "".join(chr(c) for c in range(0xA0, 0x100))
    + "‐‑–—‘’‚“”„•…‹›€™−"
)
FALLBACK = "?"
_lock = threading.Lock()
for _name in ("fontTools", "fontTools.merge", "fontTools.subset"):  # they report every table at INFO
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class _Merged:
    """The merged Latin + Latin Extended font of one weight: its bytes and the metrics Folio needs."""

    program: bytes
    base_name: str
    units_per_em: int
    gids: dict[str, int]  # character -> glyph id
    advances: dict[int, int]  # glyph id -> advance width in font units
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]
    italic_angle: float
    weight: int


@lru_cache(maxsize=len(WEIGHTS))
def _merged(weight: int) -> _Merged:
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    if weight not in WEIGHTS:
        raise ValueError(f"no embedded Roboto of weight {weight}")
    parts = []
    for part in ("latin", "latin-ext"):
        font = TTFont(FONT_DIR / f"roboto-{part}-{weight}-normal.woff2")
        font.flavor = None
        for tag in ("GPOS", "GSUB", "GDEF", "STAT", "fpgm", "prep", "cvt ", "gasp"):  # no shaping, no hinting
            if tag in font:
                del font[tag]
        buffer = io.BytesIO()
        font.save(buffer)
        buffer.seek(0)
        parts.append(buffer)
    merged = Merger().merge(parts)
    out = io.BytesIO()
    merged.save(out)
    font = TTFont(io.BytesIO(out.getvalue()))
    order = font.getGlyphOrder()
    index = {name: gid for gid, name in enumerate(order)}
    cmap = font.getBestCmap()
    head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
    return _Merged(
        program=out.getvalue(),
        base_name=str(font["name"].getDebugName(6) or f"Roboto-{weight}").replace(" ", ""),
        units_per_em=int(head.unitsPerEm),
        gids={chr(code): index[name] for code, name in cmap.items() if name in index},
        advances={index[name]: int(adv) for name, (adv, _lsb) in font["hmtx"].metrics.items()},
        ascent=int(hhea.ascent), descent=int(hhea.descent), cap_height=int(getattr(os2, "sCapHeight", 0) or 0),
        bbox=(int(head.xMin), int(head.yMin), int(head.xMax), int(head.yMax)),
        italic_angle=float(getattr(font["post"], "italicAngle", 0) or 0), weight=weight,
    )


@dataclass(frozen=True)
class Subset:
    """A subset ready to embed: zlib-compressed program and ToUnicode CMap, widths in 1/1000 em."""

    name: str  # "ABCDEF+Roboto-Regular"
    program_z: bytes
    program_length: int
    widths: dict[int, float]  # glyph id -> width (1000 units per em), glyphs of this subset only
    to_unicode_z: bytes
    flags: int
    bbox: tuple[float, float, float, float]
    italic_angle: float
    ascent: float
    descent: float
    cap_height: float
    stem_v: int

    def w_array(self) -> list[Any]:
        """The /W entry: runs of consecutive glyph ids."""
        out: list[Any] = []
        run: list[float] = []
        first = previous = -2
        for gid in sorted(self.widths):
            if gid != previous + 1 and run:
                out += [first, run]
                run = []
            if not run:
                first = gid
            run.append(self.widths[gid])
            previous = gid
        if run:
            out += [first, run]
        return out


def _to_unicode(pairs: dict[int, str]) -> bytes:
    lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
             "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
             "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange"]
    items = sorted(pairs.items())
    for start in range(0, len(items), 100):
        chunk = items[start:start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{gid:04X}> <{text.encode('utf-16-be').hex().upper()}>" for gid, text in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


@lru_cache(maxsize=32)
def _subset(weight: int, chars: frozenset[str]) -> Subset:
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    merged = _merged(weight)
    gids = sorted({0} | {merged.gids[c] for c in chars if c in merged.gids})
    options = ft_subset.Options()
    options.retain_gids = True
    options.hinting = False
    options.notdef_outline = True
    options.layout_features = []
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "STAT", "gasp", "fpgm", "prep", "cvt "]
    options.name_IDs = ["*"]
    options.glyph_names = False
    font = TTFont(io.BytesIO(merged.program))
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(gids=gids)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    program = out.getvalue()
    scale = 1000 / merged.units_per_em
    widths = {gid: round(merged.advances.get(gid, 0) * scale, 3) for gid in gids}
    unicode_of: dict[int, str] = {}
    for char, gid in sorted(merged.gids.items(), key=lambda item: ord(item[0]), reverse=True):
        if gid in widths and gid:
            unicode_of[gid] = char  # the lowest code point wins (space over no-break space)
    digest = hashlib.sha256(program).digest()
    tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
    return Subset(
        name=f"{tag}+{merged.base_name}", program_z=zlib.compress(program, 9), program_length=len(program),
        widths=widths, to_unicode_z=zlib.compress(_to_unicode(unicode_of), 9), flags=4,
        bbox=tuple(round(v * scale, 3) for v in merged.bbox),  # type: ignore[arg-type]
        italic_angle=merged.italic_angle, ascent=round(merged.ascent * scale, 3),
        descent=round(merged.descent * scale, 3), cap_height=round(merged.cap_height * scale, 3),
        stem_v=int(10 + 220 * (merged.weight - 50) / 900),
    )


class Font:
    """Roboto of one weight: measure and encode text (glyph ids of the merged font), then embed the subset that
    covers what was encoded."""

    def __init__(self, weight: int = 400) -> None:
        with _lock:
            self._merged = _merged(weight)
        self.weight = weight

    def covers(self, text: str) -> bool:
        return all(c in self._merged.gids for c in text)

    def clean(self, text: str) -> str:
        """``text`` with characters the font does not have replaced by "?"."""
        return "".join(c if c in self._merged.gids else FALLBACK for c in text)

    def width(self, text: str, size: float) -> float:
        """Advance width of ``text`` (no kerning) at ``size`` points, in points."""
        gids, advances = self._merged.gids, self._merged.advances
        fallback = gids[FALLBACK]
        units = sum(advances.get(gids.get(c, fallback), 0) for c in text)
        return units * size / self._merged.units_per_em

    def encode(self, text: str) -> bytes:
        """``text`` as a hex string operand of Tj (two-byte glyph ids, Identity-H)."""
        gids = self._merged.gids
        fallback = gids[FALLBACK]
        return b"<" + "".join(f"{gids.get(c, fallback):04X}" for c in text).encode("ascii") + b">"

    def subset_for(self, texts: list[str] | str) -> Subset:
        """The subset to embed for ``texts``: the core one, or one with their other Latin letters added."""
        used = frozenset("".join(texts) if isinstance(texts, list) else texts)
        extra = frozenset(c for c in used if c not in CORE_CHARS and c in self._merged.gids)
        with _lock:
            return _subset(self.weight, frozenset(CORE_CHARS) | extra)


# --- writing the font objects --------------------------------------------------------------------------------

def add_to_pikepdf(pdf: Any, subset: Subset) -> Any:
    """The Type0 font dictionary of ``subset``, added to a pikepdf ``Pdf`` (an indirect object)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name

    program = pikepdf.Stream(pdf, subset.program_z)
    program.Filter = Name.FlateDecode
    program.Length1 = subset.program_length
    to_unicode = pikepdf.Stream(pdf, subset.to_unicode_z)
    to_unicode.Filter = Name.FlateDecode
    descriptor = pdf.make_indirect(Dictionary(
        Type=Name.FontDescriptor, FontName=Name("/" + subset.name), Flags=subset.flags,
        FontBBox=Array(list(subset.bbox)), ItalicAngle=subset.italic_angle, Ascent=subset.ascent,
        Descent=subset.descent, CapHeight=subset.cap_height, StemV=subset.stem_v,
        FontFile2=pdf.make_indirect(program),
    ))
    cid_font = pdf.make_indirect(Dictionary(
        Type=Name.Font, Subtype=Name.CIDFontType2, BaseFont=Name("/" + subset.name),
        CIDSystemInfo=Dictionary(Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"),
                                 Supplement=0),
        FontDescriptor=descriptor, CIDToGIDMap=Name.Identity, DW=0, W=Array(subset.w_array()),
    ))
    return pdf.make_indirect(Dictionary(
        Type=Name.Font, Subtype=Name.Type0, BaseFont=Name("/" + subset.name), Encoding=Name("/Identity-H"),
        DescendantFonts=Array([cid_font]), ToUnicode=pdf.make_indirect(to_unicode),
    ))


def pyhanko_font_dict(writer: Any, subset: Subset) -> Any:
    """The same Type0 font for a pyHanko writer: returns the font dictionary (not yet added)."""
    from pyhanko.pdf_utils import generic

    name, number = generic.NameObject, generic.NumberObject

    def real(value: float) -> Any:
        return number(int(value)) if float(value).is_integer() else generic.FloatObject(value)

    program = generic.StreamObject({name("/Filter"): name("/FlateDecode"), name("/Length1"): number(
        subset.program_length)}, encoded_data=subset.program_z)
    to_unicode = generic.StreamObject({name("/Filter"): name("/FlateDecode")}, encoded_data=subset.to_unicode_z)
    descriptor = generic.DictionaryObject({
        name("/Type"): name("/FontDescriptor"), name("/FontName"): name("/" + subset.name),
        name("/Flags"): number(subset.flags), name("/FontBBox"): generic.ArrayObject([real(v) for v in subset.bbox]),
        name("/ItalicAngle"): real(subset.italic_angle), name("/Ascent"): real(subset.ascent),
        name("/Descent"): real(subset.descent), name("/CapHeight"): real(subset.cap_height),
        name("/StemV"): number(subset.stem_v), name("/FontFile2"): writer.add_object(program),
    })
    widths: list[Any] = []
    for item in subset.w_array():
        widths.append(generic.ArrayObject([real(w) for w in item]) if isinstance(item, list) else number(item))
    cid_font = generic.DictionaryObject({
        name("/Type"): name("/Font"), name("/Subtype"): name("/CIDFontType2"),
        name("/BaseFont"): name("/" + subset.name),
        name("/CIDSystemInfo"): generic.DictionaryObject({
            name("/Registry"): generic.pdf_string("Adobe"), name("/Ordering"): generic.pdf_string("Identity"),
            name("/Supplement"): number(0)}),
        name("/FontDescriptor"): writer.add_object(descriptor), name("/CIDToGIDMap"): name("/Identity"),
        name("/DW"): number(0), name("/W"): generic.ArrayObject(widths),
    })
    return generic.DictionaryObject({
        name("/Type"): name("/Font"), name("/Subtype"): name("/Type0"), name("/BaseFont"): name("/" + subset.name),
        name("/Encoding"): name("/Identity-H"), name("/DescendantFonts"): generic.ArrayObject(
            [writer.add_object(cid_font)]),
        name("/ToUnicode"): writer.add_object(to_unicode),
    })
