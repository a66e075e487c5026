"""One JSON line -> one validated engine event, or a one-line reason why not.

orjson parses the common case. Numbers that orjson would turn into floats
(amounts such as ``12.50`` or ``1e2``, huge integer ids) are read again with
the standard library so their literal text, not a float, decides the value.
Before either parser sees a line, the bounds of :mod:`netflag.io.limits` are
checked, so a hostile line is a reject: never a recursion, a huge conversion or
a huge message.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from typing import Any

import orjson

from netflag.engine import Amount, AmountError, Befriend, Event, Purchase, Unfriend
from netflag.io.limits import MAX_AMOUNT_CHARS, MAX_DEPTH, MAX_ID_CHARS, MAX_LINE_BYTES, too_long

_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_PAIR_EVENTS: dict[str, type[Befriend] | type[Unfriend]] = {
    "befriend": Befriend,
    "unfriend": Unfriend,
}
_SHOWN = 60  # characters of a value that a reason quotes
_WORD_DIGITS = 18  # an integer literal this short always fits 64 bits
# A JSON string, skipped whole (possessive: no backtracking on a hostile line).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class LineError(ValueError):
    """A line breaks SPEC section 5; ``str(error)`` is the reason shown to the user."""


class _FloatLiteral(str):
    """The exact text of a JSON number with a fraction or exponent."""


class _IntLiteral(str):
    """The text of a JSON integer too long for 64 bits: never converted.

    Python refuses to convert 4,300 digits or more (a ValueError) and takes
    quadratic time below that; such an integer can only be an unknown field's
    value (or a too long id or amount), so its text is all netflag needs.
    """


def _integer(text: str) -> int | _IntLiteral:
    return int(text) if len(text) <= _WORD_DIGITS else _IntLiteral(text)


def _clip(text: str) -> str:
    """At most ``_SHOWN`` characters of ``text``, so a reason stays one short line."""
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}..."


def _show(value: Any) -> str:
    """A value as JSON text, for messages: ``true``, ``null``, ``"-5"``, ``1.5``."""
    if isinstance(value, _FloatLiteral | _IntLiteral):
        return _clip(str(value))
    try:
        return _clip(orjson.dumps(value).decode())
    except TypeError:
        return _clip(repr(value))


def _reject_constant(name: str) -> Any:
    raise LineError(f"not valid JSON: {name} is not a JSON number")


_DECODER = json.JSONDecoder(
    parse_float=_FloatLiteral, parse_int=_integer, parse_constant=_reject_constant
)


def load_object(raw: bytes, *, literal_numbers: bool = False) -> dict[str, Any]:
    """Parse a line that must hold a JSON object.

    With ``literal_numbers`` (or when orjson refuses the line), the standard
    library parses it and numbers with a fraction or exponent stay as text.
    """
    _check_bounds(raw)
    value: Any
    if not literal_numbers:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            literal_numbers = True
    if literal_numbers:
        value = _load_literal(raw)
    if not isinstance(value, dict):
        raise LineError(f"not a JSON object: {_show(value)}")
    return value


def _check_bounds(raw: bytes) -> None:
    """Reject a line over the length or nesting limit before any parser recurses into it."""
    if len(raw) > MAX_LINE_BYTES and too_long(raw):
        raise LineError(f"line is longer than {MAX_LINE_BYTES:,} bytes (1 MiB): not parsed")
    # A line with few brackets cannot be deep: the exact count runs on the rare others.
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _too_deep(raw):
        raise LineError(f"nested more than {MAX_DEPTH} levels deep (objects and arrays)")


def _too_deep(raw: bytes) -> bool:
    """Whether the brackets outside strings nest more than ``MAX_DEPTH`` levels."""
    depth = 0
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if byte in _OPENERS:
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _load_literal(raw: bytes) -> Any:
    """The standard library's parse, numbers kept as text; as strict as orjson on surrogates."""
    try:
        text = raw.rstrip(b"\r\n").decode("utf-8")
    except UnicodeDecodeError as error:
        raise LineError(f"not valid UTF-8 (byte {error.start + 1})") from None
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise LineError(f"not valid JSON: {error.msg} (column {error.colno})") from None
    # orjson refuses a lone surrogate: no id, reason or sink may ever have to encode one.
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise LineError("not valid JSON: lone surrogate (a \\uD800-\\uDFFF escape, unpaired)")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed value holds a surrogate code point (a pair is decoded to one character)."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


@lru_cache(maxsize=1_024)  # logs run in time order: the same few seconds recur
def parse_timestamp(text: str) -> int:
    """Seconds since 0001-01-01 00:00:00 of a ``YYYY-MM-DD HH:MM:SS`` text.

    >>> parse_timestamp("0001-01-02 00:00:01")
    86401
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise LineError(f"timestamp must look like 'YYYY-MM-DD HH:MM:SS', got {_clip(text)!r}")
    year, month, day, hour, minute, second = map(int, match.groups())
    try:
        days = date(year, month, day).toordinal() - 1
    except ValueError:
        raise LineError(f"timestamp is not a real date: {text!r}") from None
    if hour > 23 or minute > 59 or second > 59:
        raise LineError(f"timestamp is not a real time of day: {text!r}")
    return days * 86_400 + hour * 3_600 + minute * 60 + second


def _field(obj: dict[str, Any], name: str) -> Any:
    try:
        return obj[name]
    except KeyError:
        raise LineError(f"missing field {name!r}") from None


def _user(obj: dict[str, Any], name: str) -> str:
    value = _field(obj, name)
    if type(value) is str and value:  # not a _FloatLiteral such as 1.5
        text = value
    elif type(value) in (int, _IntLiteral):  # not a bool
        text = str(value)
    else:
        raise LineError(f"{name} must be a non-empty string or an integer, got {_show(value)}")
    if len(text) > MAX_ID_CHARS:
        raise LineError(f"{name} is longer than {MAX_ID_CHARS} characters ({len(text):,})")
    return text


# Shops repeat prices: parsing each distinct amount text once pays off. Bounded small (a
# full cache of 65,536 took 14 MiB, filling for hours: a service's RSS crept up with it).
_amount_text = lru_cache(maxsize=16_384)(Amount.from_text)


def _amount(value: Any) -> Amount:
    if isinstance(value, str) and len(value) > MAX_AMOUNT_CHARS:
        raise LineError(f"amount is longer than {MAX_AMOUNT_CHARS} characters ({len(value):,})")
    try:
        if type(value) is str:
            return _amount_text(value)
        if isinstance(value, _FloatLiteral | _IntLiteral) or (
            isinstance(value, int) and not isinstance(value, bool)
        ):
            return Amount.from_number(str(value))
    except AmountError as error:
        raise LineError(str(error)) from None
    raise LineError(f"amount must be a non-negative decimal, got {_show(value)}")


def _needs_literals(obj: dict[str, Any]) -> bool:
    """True when a field we read came back from orjson as a float."""
    get = obj.get
    return float in (type(get("amount")), type(get("id")), type(get("id1")), type(get("id2")))


def parse_event(raw: bytes) -> Event:
    """Validate one event line (SPEC sections 1 and 5) and build the engine event."""
    obj = load_object(raw)
    if _needs_literals(obj):
        obj = load_object(raw, literal_numbers=True)
    kind = _field(obj, "event_type")
    if kind == "purchase":
        timestamp = _timestamp(obj)
        return Purchase(timestamp, _user(obj, "id"), _amount(_field(obj, "amount")))
    pair = _PAIR_EVENTS.get(kind) if isinstance(kind, str) else None
    if pair is None:
        raise LineError(
            f"unknown event_type {_show(kind)} (expected purchase, befriend or unfriend)"
        )
    timestamp = _timestamp(obj)
    user1, user2 = _user(obj, "id1"), _user(obj, "id2")
    if user1 == user2:
        raise LineError(f"self-friendship: id1 and id2 are both {_clip(user1)!r}")
    return pair(timestamp, user1, user2)


def _timestamp(obj: dict[str, Any]) -> int:
    value = _field(obj, "timestamp")
    if type(value) is not str:
        raise LineError(f"timestamp must be a string 'YYYY-MM-DD HH:MM:SS', got {_show(value)}")
    return parse_timestamp(value)


def parse_score(raw: bytes) -> tuple[str, Amount, str | None]:
    """A ``{"id": ..., "amount": ...[, "timestamp": ...]}`` object (a purchase to score),
    checked as in an event; the timestamp, when given, is checked and handed back.

    >>> parse_score(b'{"id": 2, "amount": "5", "timestamp": "2017-06-13 11:33:02"}')[2]
    '2017-06-13 11:33:02'
    >>> parse_score(b'{"id": 2, "amount": "5", "timestamp": "yesterday"}')
    Traceback (most recent call last):
    netflag.io.events.LineError: timestamp must look like 'YYYY-MM-DD HH:MM:SS', got 'yesterday'
    """
    obj = load_object(raw, literal_numbers=True)
    user, amount = _user(obj, "id"), _amount(_field(obj, "amount"))
    if "timestamp" not in obj:
        return user, amount, None
    _timestamp(obj)
    return user, amount, obj["timestamp"]
