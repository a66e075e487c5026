"""One JSON line -> one validated engine event, or a one-line reason why not.

orjson parses the common case. Numbers that orjson would turn into floats
(amounts such as ``12.50`` or ``1e2``, huge integer ids) are read again with
the standard library so their literal text, not a float, decides the value.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from typing import Any

import orjson

from netflag.engine import Amount, AmountError, Befriend, Event, Purchase, Unfriend

_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_PAIR_EVENTS: dict[str, type[Befriend] | type[Unfriend]] = {
    "befriend": Befriend,
    "unfriend": Unfriend,
}


class LineError(ValueError):
    """A line breaks SPEC section 5; ``str(error)`` is the reason shown to the user."""


class _FloatLiteral(str):
    """The exact text of a JSON number with a fraction or exponent."""


def _show(value: Any) -> str:
    """A value as JSON text, for messages: ``true``, ``null``, ``"-5"``, ``1.5``."""
    if isinstance(value, _FloatLiteral):
        return str(value)
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def _reject_constant(name: str) -> Any:
    raise LineError(f"not valid JSON: {name} is not a JSON number")


def load_object(raw: bytes, *, literal_numbers: bool = False) -> dict[str, Any]:
    """Parse a line that must hold a JSON object.

    With ``literal_numbers`` (or when orjson refuses the line), the standard
    library parses it and numbers with a fraction or exponent stay as text.
    """
    value: Any
    if not literal_numbers:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            literal_numbers = True
    if literal_numbers:
        try:
            text = raw.rstrip(b"\r\n").decode("utf-8")
        except UnicodeDecodeError as error:
            raise LineError(f"not valid UTF-8 (byte {error.start + 1})") from None
        try:
            value = json.loads(text, parse_float=_FloatLiteral, parse_constant=_reject_constant)
        except json.JSONDecodeError as error:
            raise LineError(f"not valid JSON: {error.msg} (column {error.colno})") from None
    if not isinstance(value, dict):
        raise LineError(f"not a JSON object: {_show(value)[:40]}")
    return value


@lru_cache(maxsize=65_536)
def parse_timestamp(text: str) -> int:
    """Seconds since 0001-01-01 00:00:00 of a ``YYYY-MM-DD HH:MM:SS`` text.

    >>> parse_timestamp("0001-01-02 00:00:01")
    86401
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise LineError(f"timestamp must look like 'YYYY-MM-DD HH:MM:SS', got {text!r}")
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
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise LineError(f"{name} must be a non-empty string or an integer, got {_show(value)}")


# Shops repeat prices: parsing each distinct amount text once pays off.
_amount_text = lru_cache(maxsize=65_536)(Amount.from_text)


def _amount(value: Any) -> Amount:
    try:
        if type(value) is str:
            return _amount_text(value)
        if isinstance(value, _FloatLiteral) or (
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
        raise LineError(f"self-friendship: id1 and id2 are both {user1!r}")
    return pair(timestamp, user1, user2)


def _timestamp(obj: dict[str, Any]) -> int:
    value = _field(obj, "timestamp")
    if type(value) is not str:
        raise LineError(f"timestamp must be a string 'YYYY-MM-DD HH:MM:SS', got {_show(value)}")
    return parse_timestamp(value)
