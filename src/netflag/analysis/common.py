"""Exact text for analysts: timestamps, amounts, thresholds, z-scores, and the id order.

Every printed digit here comes from integers (``isqrt``, ``//``), never from a
float, so a table can be diffed and a tie stays a tie. The rules are written
down in docs/analysis.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from math import isqrt

from netflag.engine import Baseline
from netflag.engine.ids import id_order as id_order  # the engine's; analyses sort ids too
from netflag.engine.money import truncate_2dp

GRANULARITIES = {"second": 1, "minute": 60, "hour": 3_600}


def format_timestamp(seconds: int, granularity: str = "second") -> str:
    """Seconds since 0001-01-01 00:00:00 (the I/O layer's clock) back to text.

    A minute shows as ``2017-06-13 11:33``, an hour as ``2017-06-13 11:00``.

    >>> format_timestamp(736492 * 86_400 + 11 * 3_600 + 33 * 60 + 2)
    '2017-06-13 11:33:02'
    >>> format_timestamp(736492 * 86_400 + 11 * 3_600 + 33 * 60 + 2, "hour")
    '2017-06-13 11:00'
    """
    days, rest = divmod(seconds, 86_400)
    day = date.fromordinal(days + 1).isoformat()
    hour, rest = divmod(rest, 3_600)
    minute, second = divmod(rest, 60)
    if granularity == "second":
        return f"{day} {hour:02d}:{minute:02d}:{second:02d}"
    if granularity == "minute":
        return f"{day} {hour:02d}:{minute:02d}"
    return f"{day} {hour:02d}:00"


def _plain(units: int, scale: int) -> tuple[str, str]:
    """Integer and fraction digits of ``units / 10**scale`` (integers only: no precision limit)."""
    whole, fraction = divmod(units, 10**scale)
    return str(whole), str(fraction).rjust(scale, "0").rstrip("0") if scale else ""


def format_units(units: int, scale: int) -> str:
    """``units / 10**scale`` exactly, with at least two decimals and no extra zeros.

    >>> format_units(1120, 2), format_units(5, 0), format_units(125, 3), format_units(11200, 3)
    ('11.20', '5.00', '0.125', '11.20')
    """
    whole, fraction = _plain(units, scale)
    return f"{whole}.{fraction.ljust(2, '0')}"


def threshold_text(baseline: Baseline, k: Fraction) -> str:
    """mean + k*sd truncated toward zero to two decimals, exactly.

    With k = p/q, 100*(mean + k*sd) = (100 q S1 + sqrt((100 p)^2 V)) / (q n 10^scale),
    and floor((A + sqrt(B)) / M) = (A + isqrt(B)) // M for integers A, B >= 0, M > 0.

    >>> threshold_text(Baseline.of([1683, 5928, 1120], 2), Fraction(3))
    '93.48'
    """
    p, q = k.numerator, k.denominator
    top = 100 * q * baseline.s1 + isqrt((100 * p) ** 2 * baseline.spread)
    return truncate_2dp(top // (q * baseline.n * 10**baseline.scale))


@dataclass(frozen=True, slots=True)
class ZScore:
    """(amount - mean) / sd, kept exact as ``lead / sqrt(spread)``.

    With n baseline amounts, lead = n*a - S1 and spread = V = n*S2 - S1^2 (the
    same units as :class:`~netflag.engine.Baseline`). A purchase is flagged iff
    z > k (z is +inf when sd is 0 and the amount is above the mean).
    """

    lead: int
    spread: int

    @classmethod
    def of(cls, baseline: Baseline, amount_units: int) -> ZScore:
        """The z-score of an amount given in units at ``baseline.scale``."""
        return cls(baseline.n * amount_units - baseline.s1, baseline.spread)

    def text(self) -> str:
        """Truncated toward zero to two decimals; ``inf``/``-inf`` when sd is 0.

        >>> ZScore(7, 4).text(), ZScore(-7, 4).text(), ZScore(1, 0).text(), ZScore(0, 0).text()
        ('3.50', '-3.50', 'inf', '0.00')
        >>> ZScore(-1, 10**8).text()  # -0.0001 truncates to zero, unsigned
        '0.00'

        """
        if self.spread == 0:
            return "0.00" if self.lead == 0 else ("inf" if self.lead > 0 else "-inf")
        hundredths = isqrt(10_000 * self.lead * self.lead // self.spread)
        return ("-" if self.lead < 0 and hundredths else "") + truncate_2dp(hundredths)

    def sort_key(self) -> tuple[int, Fraction]:
        """Orders z-scores exactly: -inf < any finite value < +inf.

        >>> zs = [ZScore(1, 0), ZScore(3, 1), ZScore(-2, 1), ZScore(5, 4)]
        >>> [z.text() for z in sorted(zs, key=ZScore.sort_key)]
        ['-2.00', '2.50', '3.00', 'inf']
        """
        if self.spread == 0:
            return ((self.lead > 0) - (self.lead < 0), Fraction(0))
        sign = (self.lead > 0) - (self.lead < 0)
        return (0, sign * Fraction(self.lead * self.lead, self.spread))
