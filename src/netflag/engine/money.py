"""Exact money: amounts as integers at a decimal scale, statistics without floats.

An amount is ``units / 10**scale``. The baseline's mean and population standard
deviation are never computed as floats: the flag test and the printed digits
both come from integer sums (see :class:`Baseline`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt

# A string amount: digits with an optional decimal point, no sign/space/comma/exponent.
_TEXT = re.compile(r"([0-9]*)(?:\.([0-9]*))?")
# A JSON number literal (the grammar of RFC 8259), sign included so it can be refused.
_NUMBER = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?")
# Bounds that keep a hostile literal (1e999999999, 0.000...0001) from eating the
# machine: the engine keeps every amount at the finest scale seen, for good.
MAX_DIGITS = 64  # significant digits
MAX_SCALE = 18  # decimal places, once trailing zeros are dropped


class AmountError(ValueError):
    """The text is not a non-negative decimal amount; the message says why."""


@dataclass(frozen=True, slots=True)
class Amount:
    """A non-negative decimal, exactly: ``units / 10**scale`` with no trailing zeros.

    >>> Amount.from_text("16.830")
    Amount(units=1683, scale=2)
    >>> Amount.from_number("1e2")
    Amount(units=100, scale=0)
    """

    units: int
    scale: int

    @classmethod
    def from_text(cls, text: str) -> Amount:
        """Parse a string amount such as ``"16.83"``, ``"5"`` or ``"0.125"``."""
        match = _TEXT.fullmatch(text)
        if match is None or not (match.group(1) or match.group(2)):
            raise AmountError(f"amount must be a non-negative decimal, got {text!r}")
        return cls._build(match.group(1) or "0", match.group(2) or "", 0, text)

    @classmethod
    def from_number(cls, literal: str) -> Amount:
        """Parse the literal text of a JSON number such as ``12.50`` or ``1e2``."""
        match = _NUMBER.fullmatch(literal)
        if match is None:
            raise AmountError(f"amount must be a non-negative decimal, got {literal}")
        sign, whole, fraction, exponent = match.groups()
        if sign and (whole.strip("0") or (fraction or "").strip("0")):
            raise AmountError(f"amount must be non-negative, got {literal}")
        if exponent is not None and len(exponent.lstrip("+-")) > 3:
            raise AmountError(f"amount exponent is out of range (|exponent| <= 64), got {literal}")
        exp = int(exponent or "0")
        if abs(exp) > MAX_DIGITS:
            raise AmountError(f"amount exponent is out of range (|exponent| <= 64), got {literal}")
        return cls._build(whole, fraction or "", exp, literal)

    @classmethod
    def _build(cls, whole: str, fraction: str, exp: int, shown: str) -> Amount:
        fraction = fraction.rstrip("0")
        digits = (whole + fraction).lstrip("0")
        if len(digits) > MAX_DIGITS:
            raise AmountError(
                f"amount has more than {MAX_DIGITS} significant digits: {shown[:40]}..."
            )
        if not digits:
            return cls(0, 0)
        units, scale = int(digits), len(fraction) - exp
        while scale > 0 and units % 10 == 0:
            units //= 10
            scale -= 1
        if scale > MAX_SCALE:
            raise AmountError(f"amount has more than {MAX_SCALE} decimal places: {shown[:40]}")
        if scale < 0:
            units, scale = units * 10**-scale, 0
        return cls(units, scale)

    def at_scale(self, scale: int) -> int:
        """The amount in units of ``10**-scale`` (``scale`` >= ``self.scale``)."""
        return self.units * int(10 ** (scale - self.scale))

    def __str__(self) -> str:
        if self.scale == 0:
            return str(self.units)
        text = str(self.units).rjust(self.scale + 1, "0")
        return f"{text[: -self.scale]}.{text[-self.scale :]}"


def decimal_text(value: Fraction) -> str:
    """A non-negative Fraction that is a finite decimal (k, a sum of amounts), exactly.

    >>> decimal_text(Fraction(5, 2)), decimal_text(Fraction(3)), decimal_text(Fraction(1, 8))
    ('2.5', '3', '0.125')
    """
    scale = 0
    while 10**scale % value.denominator:
        scale += 1
        if scale > 4 * value.denominator.bit_length():  # 2^a 5^b needs at most max(a, b)
            raise ValueError(f"{value} is not a finite decimal")
    whole, fraction = divmod(value.numerator * 10**scale // value.denominator, 10**scale)
    digits = str(fraction).rjust(scale, "0").rstrip("0") if scale else ""
    return f"{whole}.{digits}" if digits else str(whole)


def truncate_2dp(hundredths: int) -> str:
    """Format a non-negative count of hundredths: ``2910`` -> ``"29.10"``."""
    return f"{hundredths // 100}.{hundredths % 100:02d}"


@dataclass(frozen=True, slots=True)
class Baseline:
    """Exact sums over the baseline amounts ``x_i`` (all at one ``scale``).

    With n values, S1 = sum x, S2 = sum x^2: mean = S1/n and the population
    variance is V/n^2 where V = n*S2 - S1^2. A purchase ``a`` is flagged iff
    a > mean + k*sd, i.e. n*a - S1 > k*sqrt(V), which for k = p/q >= 0 is
    (n*a - S1) > 0 and q^2 (n*a - S1)^2 > p^2 V: pure integer arithmetic.

    >>> b = Baseline.of([1683, 5928, 1120], scale=2)
    >>> b.mean_text(), b.sd_text()
    ('29.10', '21.46')
    >>> b.exceeds(160183, Fraction(3))
    True
    """

    n: int
    s1: int
    s2: int
    scale: int

    @classmethod
    def of(cls, units: list[int], scale: int) -> Baseline:
        return cls(len(units), sum(units), sum(x * x for x in units), scale)

    @property
    def spread(self) -> int:
        """V = n*S2 - S1^2 = n^2 * variance (in units squared); never negative."""
        return self.n * self.s2 - self.s1 * self.s1

    def exceeds(self, amount_units: int, k: Fraction) -> bool:
        """True iff amount > mean + k*sd, decided exactly."""
        lead = self.n * amount_units - self.s1
        if lead <= 0:
            return False
        return (lead * k.denominator) ** 2 > k.numerator**2 * self.spread

    @property
    def mean(self) -> Fraction:
        return Fraction(self.s1, self.n * 10**self.scale)

    @property
    def variance(self) -> Fraction:
        return Fraction(self.spread, (self.n * 10**self.scale) ** 2)

    def mean_text(self) -> str:
        """The mean truncated toward zero to two decimals."""
        return truncate_2dp(self.s1 * 100 // (self.n * 10**self.scale))

    def sd_text(self) -> str:
        """The population sd truncated toward zero to two decimals.

        sd * 100 = sqrt(10^4 V) / (n 10^scale), and floor(sqrt(X)/m) = isqrt(X)//m
        for integers X >= 0, m > 0, so no irrational number is ever rounded.
        """
        return truncate_2dp(isqrt(self.spread * 10_000) // (self.n * 10**self.scale))
