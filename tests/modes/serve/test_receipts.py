"""A request's answer: the byte templates give what orjson gives for the same objects."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from netflag.modes.serve.receipts import Receipt, Receipts, answer

KINDS = {"p": "purchase", "b": "befriend", "u": "unfriend"}


def plain(receipt: Receipt, flags: dict[int, bytes]) -> bytes:
    results: list[dict[str, Any]] = []
    for index, letter in enumerate(receipt.kinds):
        seq = receipt.first + index
        if letter == "r":
            results.append({"status": "rejected", "seq": seq, "reason": receipt.reasons[index]})
            continue
        result: dict[str, Any] = {"status": "applied", "seq": seq, "event_type": KINDS[letter]}
        if letter == "p":
            result["flagged"] = seq in flags
            if seq in flags:
                result["flag"] = flags[seq].rstrip(b"\n").decode()
        results.append(result)
    return orjson.dumps({"results": results})


@given(
    kinds=st.text("pbur", max_size=30),
    first=st.integers(1, 2**40),
    texts=st.lists(st.text(), min_size=30, max_size=30),
    flagged=st.sets(st.integers(0, 29)),
)
def test_answer_is_orjsons_encoding(kinds: str, first: int, texts: list[str], flagged: set[int]):
    reasons = {i: texts[i] for i, letter in enumerate(kinds) if letter == "r"}
    receipt = Receipt("digest", first, kinds, reasons)
    flags = {first + i: texts[i].encode("utf-8", "surrogatepass") + b"\n" for i in flagged}
    flags = {seq: line for seq, line in flags.items() if _utf8(line)}
    assert answer(receipt, flags.get) == plain(receipt, flags)


def _utf8(line: bytes) -> bool:
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True


def test_receipts_keep_the_newest_and_survive_json() -> None:
    receipts = Receipts(keep=2)
    for n in range(3):
        receipts.put(f"k{n}", Receipt(f"d{n}", n + 1, "pr", {1: "why"}))
    assert [key for key, _ in receipts.items()] == ["k1", "k2"]
    again = Receipts(keep=2)
    again.load_json(orjson.loads(orjson.dumps(receipts.to_json())))
    assert again.to_json() == receipts.to_json() and again.get("k0") is None
