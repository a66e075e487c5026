"""Exact amounts and statistics: the traps a float would fall into."""

from __future__ import annotations

from fractions import Fraction
from math import isqrt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netflag.engine.money import Amount, AmountError, Baseline, truncate_2dp


@pytest.mark.parametrize(
    ("text", "units", "scale"),
    [("16.83", 1683, 2), ("16.80", 168, 1), ("5", 5, 0), ("5.000", 5, 0), ("0.125", 125, 3),
     ("000.10", 1, 1), ("0", 0, 0), ("0.00", 0, 0), ("100", 100, 0)],
)  # fmt: skip
def test_text_amounts(text: str, units: int, scale: int) -> None:
    assert Amount.from_text(text) == Amount(units, scale)


@pytest.mark.parametrize(
    ("literal", "value"),
    [("1e2", Fraction(100)), ("1.5e1", Fraction(15)), ("25E-3", Fraction(1, 40)), ("-0", 0),
     ("12.50", Fraction(25, 2)), ("0.1", Fraction(1, 10))],
)  # fmt: skip
def test_number_literals(literal: str, value: Fraction) -> None:
    amount = Amount.from_number(literal)
    assert Fraction(amount.units, 10**amount.scale) == value


@pytest.mark.parametrize("bad", ["-1", "-0.5", "1.", "01", "1e", "NaN", ".5"])
def test_number_literals_outside_json_grammar_or_negative(bad: str) -> None:
    with pytest.raises(AmountError):
        Amount.from_number(bad)


def test_str_round_trips() -> None:
    assert [str(Amount.from_text(t)) for t in ["16.83", "0.05", "7", "0.125"]] == [
        "16.83", "0.05", "7", "0.125",
    ]  # fmt: skip


def test_truncate_2dp() -> None:
    assert [truncate_2dp(c) for c in [0, 5, 2910, 123456]] == ["0.00", "0.05", "29.10", "1234.56"]


def test_spec_worked_example() -> None:
    baseline = Baseline.of([1683, 5928, 1120], scale=2)
    assert (baseline.mean_text(), baseline.sd_text()) == ("29.10", "21.46")
    assert baseline.exceeds(160183, Fraction(3))


def test_mean_is_truncated_not_rounded() -> None:
    # mean of 29.10 and 29.11 is 29.105 -> "29.10"; of 0.01, 0.02 -> 0.015 -> "0.01"
    assert Baseline.of([2910, 2911], 2).mean_text() == "29.10"
    assert Baseline.of([1, 2], 2).mean_text() == "0.01"


def test_sd_truncation_is_exact_near_a_boundary() -> None:
    # values 0, 2 -> sd exactly 1.00; values 0, 1.99999...: sd just under 1 -> "0.99"
    assert Baseline.of([0, 200], 2).sd_text() == "1.00"
    assert Baseline.of([0, 199999999], 8).sd_text() == "0.99"


def test_tie_is_not_flagged_and_a_cent_more_is() -> None:
    baseline = Baseline.of([1000, 1000, 3000, 3000], 2)  # mean 20, sd 10
    assert not baseline.exceeds(5000, Fraction(3))
    assert baseline.exceeds(5001, Fraction(3))


def test_zero_spread_flags_anything_above_the_mean() -> None:
    baseline = Baseline.of([70, 70, 70], 1)
    assert baseline.sd_text() == "0.00"
    assert not baseline.exceeds(70, Fraction(3))
    assert baseline.exceeds(71, Fraction(3))


def test_float_trap_tie_at_point_four() -> None:
    # Baseline 0.2, 0.3: mean 0.25, sd 0.05, so mean + 3 sd = 0.40 exactly and
    # 0.40 is a tie (not flagged). The same arithmetic in floats says "flag".
    baseline = Baseline.of([2, 3], 1)
    assert not baseline.exceeds(4, Fraction(3))
    mean = (0.2 + 0.3) / 2
    sd = (((0.2 - mean) ** 2 + (0.3 - mean) ** 2) / 2) ** 0.5
    assert mean + 3 * sd < 0.4  # so a float engine would flag 0.4


def test_fractional_k() -> None:
    baseline = Baseline.of([1000, 1000, 3000, 3000], 2)  # mean 20, sd 10
    assert not baseline.exceeds(4500, Fraction(5, 2))  # tie at 45
    assert baseline.exceeds(4501, Fraction(5, 2))
    assert baseline.exceeds(2001, Fraction(0))


@given(st.lists(st.integers(0, 10**12), min_size=2, max_size=60), st.integers(0, 4))
def test_mean_and_sd_text_match_fractions(units: list[int], scale: int) -> None:
    baseline = Baseline.of(units, scale)
    n, denominator = len(units), 10**scale
    mean = Fraction(sum(units), n * denominator)
    variance = sum((Fraction(x, denominator) - mean) ** 2 for x in units) / n
    assert baseline.mean == mean and baseline.variance == variance
    assert baseline.mean_text() == truncate_2dp(int(mean * 100))
    assert baseline.sd_text() == truncate_2dp(isqrt(int(variance * 10_000)))


@given(
    st.lists(st.integers(0, 10**6), min_size=2, max_size=30),
    st.integers(0, 10**7),
    st.fractions(min_value=0, max_value=10, max_denominator=100),
)
def test_exceeds_matches_fraction_comparison(units: list[int], amount: int, k: Fraction) -> None:
    baseline = Baseline.of(units, 2)
    gap = Fraction(amount, 100) - baseline.mean
    expected = gap > 0 and gap * gap > k * k * baseline.variance
    assert baseline.exceeds(amount, k) == expected


@pytest.mark.parametrize("text", ["0." + "0" * 20_000 + "1", "0.0000000000000000001", "1" * 5000])
def test_hostile_amounts_are_refused_quickly(text: str) -> None:
    with pytest.raises(AmountError):
        Amount.from_text(text)
    with pytest.raises(AmountError):
        Amount.from_number(text)


def test_eighteen_decimal_places_are_fine() -> None:
    assert Amount.from_text("0.000000000000000001") == Amount(1, 18)


def test_exponent_digits_are_bounded_before_int_conversion() -> None:
    with pytest.raises(AmountError, match="exponent"):
        Amount.from_number("1e" + "9" * 5000)
    with pytest.raises(AmountError, match="non-negative"):
        Amount.from_number("-" + "1" * 5000)
