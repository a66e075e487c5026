"""Event lines: every accepted form, and one test per rejection reason (SPEC section 5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netflag.engine import Amount, Befriend, Event, Purchase, Unfriend
from netflag.io.events import LineError, parse_event, parse_timestamp
from netflag.io.limits import MAX_AMOUNT_CHARS, MAX_DEPTH, MAX_ID_CHARS, MAX_LINE_BYTES
from tests.hostile import mutated_line, nested, with_field
from tests.logs import event_line

TS = '"timestamp":"2017-06-13 11:33:01"'
T0 = parse_timestamp("2017-06-13 11:33:01")


def purchase(amount: str, user: str = '"1"', extra: str = "") -> bytes:
    return f'{{"event_type":"purchase", {TS}, "id": {user}, "amount": {amount}{extra}}}'.encode()


def test_purchase_with_string_amount() -> None:
    assert parse_event(purchase('"16.83"')) == Purchase(T0, "1", Amount(1683, 2))


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("12.50", Amount(125, 1)),
        ("1e2", Amount(100, 0)),
        ("1E-2", Amount(1, 2)),
        ("0.125", Amount(125, 3)),
        ("7", Amount(7, 0)),
        ("0", Amount(0, 0)),
        ("0.1", Amount(1, 1)),
        ("123456789012345678901234567890.01", Amount(12345678901234567890123456789001, 2)),
    ],
)
def test_number_amounts_are_taken_from_their_literal_text(literal: str, expected: Amount) -> None:
    assert parse_event(purchase(literal)).amount == expected  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["5", "16.83", "0.125", "007.50", "5.", ".5"])
def test_string_amounts_accepted(text: str) -> None:
    assert isinstance(parse_event(purchase(f'"{text}"')), Purchase)


def test_integer_ids_equal_their_decimal_text() -> None:
    assert parse_event(purchase('"1"', user="1")).user == "1"  # type: ignore[union-attr]
    big = "123456789012345678901234567890"
    assert parse_event(purchase('"1"', user=big)).user == big  # type: ignore[union-attr]


def test_leading_zero_ids_stay_distinct() -> None:
    assert parse_event(purchase('"1"', user='"007"')).user == "007"  # type: ignore[union-attr]


def test_field_order_is_free_and_unknown_fields_are_kept_out_of_the_event() -> None:
    line = b'{"amount":"2.00","note":"x","id":"9","timestamp":"2017-06-13 11:33:01",'
    line += b'"event_type":"purchase"}'
    assert parse_event(line) == Purchase(T0, "9", Amount(2, 0))


def test_befriend_and_unfriend() -> None:
    assert parse_event(f'{{"event_type":"befriend", {TS}, "id1": "1", "id2": 2}}'.encode()) == (
        Befriend(T0, "1", "2")
    )
    assert parse_event(f'{{"event_type":"unfriend", {TS}, "id1": "1", "id2": "2"}}'.encode()) == (
        Unfriend(T0, "1", "2")
    )


def test_crlf_line_ending_is_accepted() -> None:
    assert isinstance(parse_event(purchase('"1.00"') + b"\r\n"), Purchase)


REJECTS = [
    ("not json", b'{"event_type":"purchase", ', "not valid JSON"),
    ("nan", purchase("NaN"), "not valid JSON"),
    ("infinity", purchase("Infinity"), "not valid JSON"),
    ("minus infinity", purchase("-Infinity"), "not valid JSON"),
    ("array", b"[1, 2]", "not a JSON object"),
    ("string", b'"purchase"', "not a JSON object"),
    ("invalid utf-8", b'{"event_type":"purchase", "id": "\xff"}', "not valid UTF-8"),
    ("no event_type", f'{{{TS}, "id": "1", "amount": "1.00"}}'.encode(), "missing field"),
    ("unknown event_type", f'{{"event_type":"refund", {TS}}}'.encode(), "unknown event_type"),
    ("wrong case", f'{{"event_type":"Purchase", {TS}}}'.encode(), "unknown event_type"),
    ("event_type not text", f'{{"event_type":1, {TS}}}'.encode(), "unknown event_type"),
    ("no timestamp", b'{"event_type":"purchase", "id": "1", "amount": "1"}', "'timestamp'"),
    ("no id", f'{{"event_type":"purchase", {TS}, "amount": "1"}}'.encode(), "'id'"),
    ("no amount", f'{{"event_type":"purchase", {TS}, "id": "1"}}'.encode(), "'amount'"),
    ("no id2", f'{{"event_type":"befriend", {TS}, "id1": "1"}}'.encode(), "'id2'"),
    ("empty id", purchase('"1"', user='""'), "id must be"),
    ("float id", purchase('"1"', user="1.5"), "id must be"),
    ("null id", purchase('"1"', user="null"), "id must be"),
    ("bool id", purchase('"1"', user="true"), "id must be"),
    ("list id", purchase('"1"', user="[1]"), "id must be"),
    ("negative amount text", purchase('"-5"'), "non-negative decimal"),
    ("negative amount number", purchase("-5"), "non-negative"),
    ("negative fraction number", purchase("-0.01"), "non-negative"),
    ("plus sign", purchase('"+5"'), "non-negative decimal"),
    ("comma", purchase('"1,000"'), "non-negative decimal"),
    ("space", purchase('" 5"'), "non-negative decimal"),
    ("exponent in text", purchase('"1e2"'), "non-negative decimal"),
    ("empty amount", purchase('""'), "non-negative decimal"),
    ("lone dot", purchase('"."'), "non-negative decimal"),
    ("arabic digits", purchase('"\\u0663"'), "non-negative decimal"),
    ("true amount", purchase("true"), "amount must be"),
    ("null amount", purchase("null"), "amount must be"),
    ("object amount", purchase('{"v": 1}'), "amount must be"),
    ("huge exponent", purchase("1e999999999"), "out of range"),
    ("too many digits", purchase('"' + "9" * 65 + '"'), "significant digits"),
    (
        "timestamp not text",
        b'{"event_type":"purchase", "timestamp": 1, "id": "1", "amount": "1"}',
        "timestamp must be",
    ),
    ("feb 30", purchase('"1"').replace(b"06-13", b"02-30"), "not a real date"),
    ("month 13", purchase('"1"').replace(b"06-13", b"13-13"), "not a real date"),
    ("hour 24", purchase('"1"').replace(b"11:33:01", b"24:00:00"), "not a real time"),
    ("second 60", purchase('"1"').replace(b"11:33:01", b"11:33:60"), "not a real time"),
    ("T separator", purchase('"1"').replace(b"13 11", b"13T11"), "must look like"),
    ("short year", purchase('"1"').replace(b"2017-", b"17-"), "must look like"),
    ("trailing zone", purchase('"1"').replace(b'11:33:01"', b'11:33:01Z"'), "must look like"),
    ("year zero", purchase('"1"').replace(b"2017", b"0000"), "not a real date"),
    (
        "self befriend",
        f'{{"event_type":"befriend", {TS}, "id1": "7", "id2": "7"}}'.encode(),
        "self",
    ),
    (
        "self unfriend after normalising",
        f'{{"event_type":"unfriend", {TS}, "id1": 7, "id2": "7"}}'.encode(),
        "self",
    ),
]


@pytest.mark.parametrize(
    ("line", "reason"), [(r[1], r[2]) for r in REJECTS], ids=[r[0] for r in REJECTS]
)
def test_rejections_name_their_reason(line: bytes, reason: str) -> None:
    with pytest.raises(LineError, match=reason):
        parse_event(line)


def test_leap_day_is_a_real_date() -> None:
    assert parse_timestamp("2016-02-29 00:00:00") - parse_timestamp("2016-02-28 00:00:00") == 86400


def test_timestamps_order_like_time() -> None:
    assert parse_timestamp("2017-06-13 11:33:02") > parse_timestamp("2017-06-13 11:33:01")
    assert parse_timestamp("2018-01-01 00:00:00") > parse_timestamp("2017-12-31 23:59:59")


# --- hostile lines (issue 12): every bound is a reject, never a crash ---------------------


def test_the_issues_5000_deep_line_is_rejected_not_a_recursion_error() -> None:
    with pytest.raises(LineError, match="nested more than 64 levels"):
        parse_event(nested(5_000))


@pytest.mark.parametrize("opener", ["{", "["])
def test_nesting_up_to_the_limit_is_kept_and_beyond_it_rejected(opener: str) -> None:
    # The event object is level 1, so a field may hold MAX_DEPTH - 1 levels.
    kept = with_field(purchase('"1"'), b'"x": ' + nested(MAX_DEPTH - 1, opener))
    assert isinstance(parse_event(kept), Purchase)
    deep = with_field(purchase('"1"'), b'"x": ' + nested(MAX_DEPTH, opener))
    with pytest.raises(LineError, match="nested more than 64 levels"):
        parse_event(deep)
    with pytest.raises(LineError, match="nested more than 64 levels"):  # the fallback parser too
        parse_event(deep.replace(b'"amount": "1"', b'"amount": 1.5'))


def test_brackets_inside_strings_are_not_nesting() -> None:
    line = with_field(purchase('"1"'), b'"x": "' + b"{[" * 5_000 + b'\\"{"')
    assert isinstance(parse_event(line), Purchase)


def test_a_line_over_the_limit_is_rejected_and_one_at_the_limit_is_not() -> None:
    line = with_field(purchase('"1"'), b'"pad": ""')
    at_limit = line[:-2] + b"x" * (MAX_LINE_BYTES - len(line)) + b'"}'
    assert len(at_limit) == MAX_LINE_BYTES
    assert isinstance(parse_event(at_limit + b"\r\n"), Purchase)
    over = at_limit[:-2] + b'x"}'
    with pytest.raises(LineError, match=r"line is longer than 1,048,576 bytes"):
        parse_event(over)


def test_ids_up_to_the_limit_are_kept_and_longer_ones_rejected() -> None:
    user = "u" * MAX_ID_CHARS
    assert parse_event(purchase('"1"', user=f'"{user}"')).user == user  # type: ignore[union-attr]
    with pytest.raises(LineError, match="id is longer than 256 characters"):
        parse_event(purchase('"1"', user=f'"{user}u"'))
    with pytest.raises(LineError, match="id2 is longer than 256 characters"):
        parse_event(f'{{"event_type":"befriend", {TS}, "id1": 1, "id2": {"7" * 300}}}'.encode())


def test_integers_of_any_length_are_no_crash() -> None:
    """The standard library refuses to convert 4,300+ digits (a ValueError, not a LineError)."""
    digits = "1" * 5_000
    with pytest.raises(LineError, match="id is longer than 256 characters"):
        parse_event(purchase('"1"', user=digits))
    with pytest.raises(LineError, match="amount is longer than 128 characters"):
        parse_event(purchase(digits))
    assert isinstance(parse_event(purchase('"1"', extra=f', "x": {digits}')), Purchase)
    assert isinstance(parse_event(purchase("1.5", extra=f', "x": [-{digits}]')), Purchase)
    big = "9" * 200  # beyond 64 bits, within the id limit: still its decimal text
    assert parse_event(purchase("1.5", user=big)).user == big  # type: ignore[union-attr]
    assert parse_event(purchase("1.5", user="-0")).user == "0"  # type: ignore[union-attr]


def test_amount_texts_over_the_limit_are_rejected() -> None:
    padded = "0" * (MAX_AMOUNT_CHARS - 4) + "1.50"
    assert parse_event(purchase(f'"{padded}"')).amount == Amount(15, 1)  # type: ignore[union-attr]
    with pytest.raises(LineError, match="amount is longer than 128 characters"):
        parse_event(purchase(f'"0{padded}"'))
    with pytest.raises(LineError, match="amount is longer than 128 characters"):
        parse_event(purchase("0." + "0" * 3_000 + "1"))


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ud83dx", "\\ude00\\ud83d"])
@pytest.mark.parametrize("where", ["id", "field", "key"])
def test_lone_surrogates_are_rejected(escape: str, where: str) -> None:
    """orjson refuses them, so the fallback parser must too: no later write can choke on one."""
    line = {
        "id": purchase("1.5", user=f'"a{escape}"'),
        "field": purchase('"1"', extra=f', "note": ["{escape}"]'),
        "key": purchase("1.5", extra=f', "{escape}": 1'),
    }[where]
    with pytest.raises(LineError, match="lone surrogate"):
        parse_event(line)


def test_surrogate_pairs_are_fine() -> None:
    assert parse_event(purchase("1.5", user='"\\ud83d\\ude00"')).user == "\U0001f600"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "line",
    [
        f'{{"event_type":"{"x" * 100_000}", {TS}}}'.encode(),
        purchase('"1"').replace(b"2017-06-13 11:33:01", b"2017" * 30_000),
        purchase('"1"', user="[" + "1," * 50_000 + "1]"),
        purchase('"-' + "5" * 100 + '"'),
        b"[" + b"1," * 100_000 + b"1]",
    ],
    ids=["event_type", "timestamp", "id", "amount", "not an object"],
)
def test_reasons_stay_one_short_line_whatever_the_value(line: bytes) -> None:
    with pytest.raises(LineError) as caught:
        parse_event(line)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


def outcome(raw: bytes) -> Event | None:
    """The event of ``raw``, or None for a LineError; any other exception fails the test."""
    try:
        return parse_event(raw)
    except LineError as error:
        reason = str(error)
        assert reason and "\n" not in reason and len(reason) < 200, reason
        return None


@given(raw=st.binary(max_size=500))
def test_any_bytes_give_an_event_or_a_line_error(raw: bytes) -> None:
    outcome(raw)


@given(raw=mutated_line())
def test_broken_valid_lines_give_an_event_or_a_line_error(raw: bytes) -> None:
    event = outcome(raw)
    assert event is None or isinstance(event, Purchase | Befriend | Unfriend)
    assert outcome(raw + b"\r\n") == event  # a line ending changes nothing


@given(line=event_line(5))
def test_valid_lines_stay_valid(line: str) -> None:
    assert outcome(line.encode()) is not None
