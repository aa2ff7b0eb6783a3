"""RUN/RUT: modulo-11 check digit (including K and 0), parsing of the ways people write it, and the
12.345.678-5 display format."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from folio.core.rut import Rut, check_digit, format_rut


def _reference_check_digit(number: int) -> str:
    """An independent modulo-11 implementation (series 2..7 from the right), written differently on
    purpose so that a slip in one does not hide in the other."""
    digits = [int(c) for c in str(number)][::-1]
    weights = [2, 3, 4, 5, 6, 7]
    total = sum(d * weights[i % 6] for i, d in enumerate(digits))
    value = 11 - (total % 11)
    return "0" if value == 11 else "K" if value == 10 else str(value)


# Published RUTs of public bodies and the textbook example: they exercise every kind of check digit.
KNOWN = [
    (12345678, "5", "12.345.678-5"),    # the usual example on forms
    (60803000, "K", "60.803.000-K"),    # Servicio de Impuestos Internos
    (61704000, "K", "61.704.000-K"),    # Codelco
    (97030000, "7", "97.030.000-7"),    # BancoEstado
    (60805000, "0", "60.805.000-0"),    # Tesorería General de la República
    (1, "9", "1-9"),
    (999, "7", "999-7"),
    (7654321, "6", "7.654.321-6"),
]


@pytest.mark.parametrize(("number", "dv", "shown"), KNOWN)
def test_known_ruts_check_digit_and_format(number: int, dv: str, shown: str) -> None:
    assert check_digit(number) == dv
    assert _reference_check_digit(number) == dv
    assert str(Rut(number, dv)) == shown
    assert format_rut(number, dv) == shown
    assert Rut.parse(shown) == Rut(number, dv)


def test_check_digit_agrees_with_reference_on_a_range() -> None:
    numbers = [*range(1, 3000), *range(9_999_000, 10_001_000, 7), 99_999_999, 123_456_789, 999_999_999]
    seen = set()
    for n in numbers:
        dv = check_digit(n)
        assert dv == _reference_check_digit(n), n
        seen.add(dv)
    # Every possible check digit occurs, K and 0 included.
    assert seen == {*"0123456789", "K"}


@pytest.mark.parametrize(
    "raw",
    ["12.345.678-5", "12345678-5", "123456785", " 12.345.678-5 ", "12 345 678 - 5", "12.345.678–5", "12.345.678‐5"],
)
def test_parse_variants(raw: str) -> None:
    rut = Rut.parse(raw)
    assert (rut.number, rut.dv) == (12345678, "5")
    assert rut.compact == "12345678-5"
    assert str(rut) == "12.345.678-5"


@pytest.mark.parametrize("raw", ["60.803.000-k", "60803000k", "60803000-K"])
def test_lowercase_k_is_accepted_and_shown_upper(raw: str) -> None:
    assert str(Rut.parse(raw)) == "60.803.000-K"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("12.345.678-4", "invalid_rut_dv"),
        ("12.345.678-K", "invalid_rut_dv"),
        ("60.803.000-0", "invalid_rut_dv"),   # K expected
        ("60.805.000-K", "invalid_rut_dv"),   # 0 expected
        ("60.805.000-1", "invalid_rut_dv"),
        ("", "invalid_rut"),
        ("5", "invalid_rut"),
        ("-5", "invalid_rut"),
        ("0-0", "invalid_rut"),
        ("abc", "invalid_rut"),
        ("12.345.678-X", "invalid_rut"),
        ("12a45678-5", "invalid_rut"),
        ("1234567890-1", "invalid_rut"),
        ("12,345,678-5", "invalid_rut"),
    ],
)
def test_invalid_ruts_are_refused_with_a_code(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        Rut.parse(raw)
    assert info.value.code == code
    assert info.value.messages and all(m.strip() for m in info.value.messages)


def test_format_rut_of_nothing_is_empty() -> None:
    assert format_rut(None, "") == ""
    assert format_rut(12345678, "") == ""
