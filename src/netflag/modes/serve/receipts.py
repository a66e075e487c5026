"""Idempotency keys: a retried request gets its first answer again and applies nothing.

A :class:`Receipt` is what a request did, compactly (about a byte an event):
where its events landed in the log, each one's kind, the reasons of the rejected
ones. Its answer is rebuilt from that and the flag store, so the first answer
and every retry's are made by the same code and are the same bytes. Receipts
live in the log (the key rides in the request's log record, so a durable
request always has its key) and in each snapshot; the newest ``keep`` are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

# One letter an event: its kind, or "r" for a rejected line.
KIND_LETTERS = {"purchase": "p", "befriend": "b", "unfriend": "u"}


@dataclass(slots=True)
class Receipt:
    """Events ``first .. first + len(kinds) - 1`` of the log, from one request."""

    digest: str
    first: int
    kinds: str
    reasons: dict[int, str] = field(default_factory=dict)  # index in the request -> reason

    def to_json(self) -> list[Any]:
        return [self.digest, self.first, self.kinds, {str(i): r for i, r in self.reasons.items()}]

    @classmethod
    def from_json(cls, value: list[Any]) -> Receipt:
        digest, first, kinds, reasons = value
        return cls(
            str(digest), int(first), str(kinds), {int(i): str(r) for i, r in reasons.items()}
        )


def answer(receipt: Receipt, flag_at: Callable[[int], bytes | None]) -> bytes:
    """The JSON answer to the request: one result per event, in order.

    ``flag_at(seq)`` gives the flag line the event at ``seq`` wrote, if any.
    Built from byte templates (a request may hold thousands of events); the
    result is what ``orjson.dumps`` makes of the same objects.

    >>> answer(Receipt("", 7, "pbr", {2: "bad"}), lambda seq: None)
    b'{"results":[{"status":"applied","seq":7,"event_type":"purchase","flagged":false},\
{"status":"applied","seq":8,"event_type":"befriend"},{"status":"rejected","seq":9,"reason":"bad"}]}'
    """
    results = []
    for index, letter in enumerate(receipt.kinds):
        seq = receipt.first + index
        if letter == "p":
            flag = flag_at(seq)
            if flag is None:
                results.append(_UNFLAGGED % seq)
            else:
                results.append(_FLAGGED % (seq, orjson.dumps(flag.rstrip(b"\n").decode())))
        elif letter == "r":
            results.append(_REJECTED % (seq, orjson.dumps(receipt.reasons[index])))
        else:
            results.append(_APPLIED[letter] % seq)
    return b'{"results":[' + b",".join(results) + b"]}"


_UNFLAGGED = b'{"status":"applied","seq":%d,"event_type":"purchase","flagged":false}'
_FLAGGED = b'{"status":"applied","seq":%d,"event_type":"purchase","flagged":true,"flag":%s}'
_REJECTED = b'{"status":"rejected","seq":%d,"reason":%s}'
_APPLIED = {
    letter: b'{"status":"applied","seq":%%d,"event_type":"%s"}' % kind.encode()
    for kind, letter in KIND_LETTERS.items()
}


class Receipts:
    """The newest ``keep`` receipts by key."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._by_key: OrderedDict[str, Receipt] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, key: str) -> Receipt | None:
        return self._by_key.get(key)

    def put(self, key: str, receipt: Receipt) -> None:
        self._by_key[key] = receipt
        self._by_key.move_to_end(key)
        while len(self._by_key) > self.keep:
            self._by_key.popitem(last=False)

    def drop(self, key: str) -> None:
        self._by_key.pop(key, None)

    def items(self) -> Iterator[tuple[str, Receipt]]:
        return iter(self._by_key.items())

    def to_json(self) -> list[list[Any]]:
        """For a snapshot: oldest first."""
        return [[key, *receipt.to_json()] for key, receipt in self._by_key.items()]

    def load_json(self, value: list[list[Any]]) -> None:
        for key, *rest in value:
            self.put(str(key), Receipt.from_json(rest))
