"""Chilean RUN/RUT: modulo-11 check digit, parsing and the 12.345.678-5 display format."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_CLEAN = re.compile(r"[\s.\-‐‑–]")


def check_digit(number: int) -> str:
    total, factor = 0, 2
    for digit in reversed(str(number)):
        total += int(digit) * factor
        factor = 2 if factor == 7 else factor + 1
    rest = 11 - total % 11
    return {11: "0", 10: "K"}.get(rest, str(rest))


@dataclass(frozen=True)
class Rut:
    number: int
    dv: str

    def __str__(self) -> str:
        return f"{self.number:,}".replace(",", ".") + f"-{self.dv}"

    @property
    def compact(self) -> str:
        return f"{self.number}-{self.dv}"

    @classmethod
    def parse(cls, raw: str) -> Rut:
        """Parse '12.345.678-5', '12345678-5' or '123456785'; raise ValidationError in Spanish."""
        value = _CLEAN.sub("", (raw or "").strip()).upper()
        if len(value) < 2 or not value[:-1].isdigit() or not (value[-1].isdigit() or value[-1] == "K"):
            raise ValidationError(_("Enter a valid RUT, for example 12.345.678-5."), code="invalid_rut")
        number, dv = int(value[:-1]), value[-1]
        if number <= 0 or number > 999_999_999:
            raise ValidationError(_("Enter a valid RUT, for example 12.345.678-5."), code="invalid_rut")
        if check_digit(number) != dv:
            raise ValidationError(
                _("The RUT %(rut)s has an invalid check digit.") % {"rut": raw.strip()}, code="invalid_rut_dv"
            )
        return cls(number, dv)


def format_rut(number: int | None, dv: str | None) -> str:
    if not number or not dv:
        return ""
    return str(Rut(number, dv))
