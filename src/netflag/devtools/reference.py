"""Reference implementation of the netflag flagging rule (SPEC.md sections 1-4).

This is the test oracle, not the product: it is written to be obviously
correct, not fast (``netflag bench`` reports how much faster the engine is).
For every stream purchase it recomputes the buyer's social network by
breadth-first search and rescans the whole purchase history. It imports nothing
from ``netflag`` and uses no floats anywhere: amounts are ``Fraction``s built
from their literal text, and the threshold test ``a > mean + k*sd`` is decided
by squaring both sides, so it never needs a square root.

Input is assumed to contain only valid event lines (no rejection logic here);
tests that exercise bad input run the oracle on the same files with the bad
lines removed.

>>> batch = "\\n".join([
...     '{"D": "1", "T": "50"}',
...     '{"event_type": "befriend", "timestamp": "2017-01-01 00:00:00", "id1": "1", "id2": "2"}',
...     '{"event_type": "purchase", "timestamp": "2017-01-01 00:00:01", "id": "2", "amount": "10"}',
...     '{"event_type": "purchase", "timestamp": "2017-01-01 00:00:02", "id": "2", "amount": "30"}',
... ])
>>> buy = '{"event_type":"purchase", "timestamp":"2017-01-01 00:00:03", "id":"1", "amount":"%s"}'
>>> reference_replay(batch, buy % "50")  # 50 == mean + 3*sd exactly: not flagged
''
>>> reference_replay(batch, buy % "50.01").endswith('"50.01", "mean": "20.00", "sd": "10.00"}\\n')
True
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any


def _lines(text: str) -> list[str]:
    """Non-blank lines of one file: BOM dropped, split on LF, trailing CR stripped."""
    text = text.removeprefix("\ufeff")
    lines = (line.removesuffix("\r") for line in text.split("\n"))
    return [line for line in lines if line.strip()]


def _parse(line: str) -> dict[str, Any]:
    """Parse one JSON line keeping numbers as their literal text (1 -> "1", 12.50 -> "12.50")."""
    event: dict[str, Any] = json.loads(line, parse_float=str, parse_int=str)
    return event


def _network(graph: dict[str, set[str]], user: str, depth: int) -> set[str]:
    """Every user at distance 1..depth from ``user`` (plain BFS), the user excluded."""
    seen = {user}
    frontier = {user}
    for _ in range(depth):
        frontier = {v for u in frontier for v in graph.get(u, ())} - seen
        seen |= frontier
    return seen - {user}


def _cents(c: int) -> str:
    """Format a non-negative whole number of cents as "units.cc"."""
    return f"{c // 100}.{c % 100:02d}"


def reference_replay(
    batch_text: str,
    stream_text: str,
    *,
    D: int | None = None,
    T: int | None = None,
    k: Fraction = Fraction(3),
) -> str:
    """Replay batch then stream; return the flagged stream purchases as JSON Lines."""
    batch_lines = _lines(batch_text)
    params = _parse(batch_lines[0])
    D = int(params["D"]) if D is None else D
    T = int(params["T"]) if T is None else T
    if D < 1 or T < 2 or k < 0:
        raise ValueError(f"need D >= 1, T >= 2, k >= 0; got D={D}, T={T}, k={k}")

    graph: dict[str, set[str]] = {}
    history: list[tuple[str, int, str, Fraction]] = []  # (timestamp, arrival, user, amount)
    out: list[str] = []

    events = [(line, False) for line in batch_lines[1:]]
    events += [(line, True) for line in _lines(stream_text)]
    for arrival, (line, is_stream) in enumerate(events):
        event = _parse(line)
        kind = event["event_type"]
        if kind == "befriend":
            a, b = event["id1"], event["id2"]
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set()).add(a)
        elif kind == "unfriend":
            a, b = event["id1"], event["id2"]
            graph.get(a, set()).discard(b)
            graph.get(b, set()).discard(a)
        elif kind == "purchase":
            user, amount = event["id"], Fraction(event["amount"])
            if is_stream:
                network = _network(graph, user, D)
                baseline = sorted(p for p in history if p[2] in network)[-T:]
                amounts = [p[3] for p in baseline]
                n = len(amounts)
                if n >= 2:
                    mean = sum(amounts) / n
                    var = sum((x - mean) ** 2 for x in amounts) / n
                    if amount - mean > 0 and (amount - mean) ** 2 > k * k * var:
                        mean_s = _cents(math.floor(mean * 100))
                        sd_s = _cents(math.isqrt(math.floor(var * 10000)))
                        head = line.rstrip().removesuffix("}").rstrip()
                        out.append(f'{head}, "mean": "{mean_s}", "sd": "{sd_s}"}}')
            history.append((event["timestamp"], arrival, user, amount))
        else:
            raise ValueError(f"unknown event_type in {line!r}")
    return "".join(line + "\n" for line in out)
