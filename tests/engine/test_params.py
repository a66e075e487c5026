"""D, T and k validation."""

from __future__ import annotations

from fractions import Fraction

import pytest

from netflag.engine import Params
from netflag.errors import ParamsError


def test_strings_and_integers() -> None:
    assert Params.of("3", 50) == Params(3, 50, Fraction(3))
    assert Params.of(1, "2", "2.5").k == Fraction(5, 2)


@pytest.mark.parametrize(
    ("D", "T", "k", "message"),
    [
        ("0", "50", 3, "D must be an integer >= 1"),
        ("3", "1", 3, "T must be an integer >= 2"),
        ("-1", "50", 3, "D must be"),
        ("3.0", "50", 3, "D must be"),
        (3.0, "50", 3, "D must be"),
        (True, "50", 3, "D must be"),
        ("", "50", 3, "D must be"),
        (" 3", "50", 3, "D must be"),
        (None, "50", 3, "D must be"),
        ("3", "50", "-1", "k must be"),
        ("3", "50", "1e2", "k must be"),
        ("3", "50", "abc", "k must be"),
    ],
)
def test_invalid(D: object, T: object, k: object, message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        Params.of(D, T, k)
