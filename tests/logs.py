"""Hypothesis strategies for random event logs that stress the flag rule."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

# Amounts that trap float arithmetic, as string and as JSON-number literals.
TRAP_AMOUNTS = ['"0.1"', '"0.2"', '"0.3"', '"0.7"', '"0.125"', '"1000000.01"', '"16.83"', '"5"',
                '"0.40"', '"100"', "12.50", "1e2", "0.3", "7"]  # fmt: skip
# Too many units for the compiled core's 64-bit amounts: the engine moves to Python ints.
HUGE_AMOUNTS = ['"123456789012345678.5"', "3e40"]
K_VALUES = [Fraction(0), Fraction(1), Fraction(5, 2), Fraction(3)]


@st.composite
def event_line(draw: st.DrawFn, users: int, amounts: list[str] = TRAP_AMOUNTS) -> str:
    """One valid event line; few users and few seconds, so ties and churn abound."""
    second = draw(st.integers(0, 12))
    stamp = f"2017-06-13 11:33:{second:02d}"
    ids = st.integers(0, users - 1)
    kind = draw(st.sampled_from(["purchase"] * 5 + ["befriend"] * 3 + ["unfriend"] * 2))

    def as_id(n: int) -> str:
        return str(n) if draw(st.booleans()) and n % 2 else f'"{n}"'

    if kind == "purchase":
        amount = draw(st.sampled_from(amounts))
        return (
            f'{{"event_type":"purchase", "timestamp":"{stamp}", '
            f'"id": {as_id(draw(ids))}, "amount": {amount}}}'
        )
    a = draw(ids)
    b = draw(ids.filter(lambda x: x != a))
    return f'{{"event_type":"{kind}", "timestamp":"{stamp}", "id1": {as_id(a)}, "id2": {as_id(b)}}}'


@st.composite
def event_logs(draw: st.DrawFn) -> tuple[str, str, Fraction]:
    """(batch text, stream text, k): a params line, then random events."""
    users = draw(st.integers(2, 9))
    D = draw(st.integers(1, 5))
    T = draw(st.integers(2, 6))
    # One log in ten may hold an amount beyond 64-bit units (the exact fallback).
    amounts = TRAP_AMOUNTS + HUGE_AMOUNTS if draw(st.integers(0, 9)) == 0 else TRAP_AMOUNTS
    batch = [f'{{"D":"{D}", "T":"{T}"}}']
    batch += draw(st.lists(event_line(users, amounts), max_size=40))
    stream = draw(st.lists(event_line(users, amounts), min_size=1, max_size=40))
    return "\n".join(batch) + "\n", "\n".join(stream) + "\n", draw(st.sampled_from(K_VALUES))
