"""The rule's parameters D, T and k, validated once so the engine can trust them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from netflag.engine.money import decimal_text
from netflag.errors import ParamsError

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_count(value: object, name: str, minimum: int) -> int:
    """Read D or T from a JSON integer or a string of ASCII digits.

    >>> parse_count("50", "T", 2)
    50
    >>> parse_count("0", "D", 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    netflag.errors.ParamsError: D must be an integer >= 1 (a JSON integer or ...), got '0'
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    if number is None or number < minimum:
        raise ParamsError(
            f"{name} must be an integer >= {minimum} "
            f"(a JSON integer or a string of digits), got {value!r}"
        )
    return number


def parse_multiplier(value: object) -> Fraction:
    """Read k, a non-negative decimal, exactly (``"2.5"`` is 5/2, never a float).

    >>> parse_multiplier("2.5")
    Fraction(5, 2)
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return Fraction(value)
    if isinstance(value, Fraction) and value >= 0:
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Fraction(value)
    raise ParamsError(f"k must be a non-negative decimal such as 3 or 2.5, got {value!r}")


@dataclass(frozen=True, slots=True)
class Params:
    """D: network degree (>= 1); T: tracked purchases (>= 2); k: sd multiplier (>= 0).

    >>> Params.of(D="3", T="50")
    Params(D=3, T=50, k=Fraction(3, 1))
    """

    D: int
    T: int
    k: Fraction = Fraction(3)

    @classmethod
    def of(cls, D: object, T: object, k: object = 3) -> Params:
        """Validate raw values (as read from a file or a command line)."""
        return cls(parse_count(D, "D", 1), parse_count(T, "T", 2), parse_multiplier(k))

    def to_json(self) -> dict[str, object]:
        """As snapshots and checkpoints store them: k as its exact fraction's text."""
        return {"D": self.D, "T": self.T, "k": str(self.k)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Params:
        """Back from :meth:`to_json` (a KeyError, TypeError or ValueError if it is not that).

        >>> Params.from_json(Params.of(2, 10, "2.5").to_json())
        Params(D=2, T=10, k=Fraction(5, 2))
        """
        return cls(int(raw["D"]), int(raw["T"]), Fraction(str(raw["k"])))

    def overridden(self, D: object = None, T: object = None, k: object = None) -> Params:
        """These parameters with any of ``D``, ``T``, ``k`` given (raw, as options give
        them) in their place: what a restart with those options asks for.

        >>> Params(3, 50).overridden(T="10").describe()
        'D=3 T=10 k=3'
        """
        return Params.of(
            self.D if D is None else D, self.T if T is None else T, self.k if k is None else k
        )

    def describe(self) -> str:
        """``D=3 T=50 k=2.5``: k as the exact decimal it was read from.

        >>> Params.of(3, 50, "2.50").describe()
        'D=3 T=50 k=2.5'
        """
        return f"D={self.D} T={self.T} k={decimal_text(self.k)}"

    def __post_init__(self) -> None:
        parse_count(self.D, "D", 1)
        parse_count(self.T, "T", 2)
        parse_multiplier(self.k)
