"""Columnar loading of a large batch log: the per-line result, several times faster.

The batch log only builds state, and the final state does not need every event
replayed: the friend graph is the last befriend/unfriend of each pair, and each
user keeps their last T purchases. polars computes both column-wise.

Only lines in the canonical shape (the one the challenge and ``netflag
generate`` use: fixed key order, string values without escapes) take the
columnar path; a strict regular expression decides, so no JSON subtlety
(duplicate keys, escapes, numbers) can slip through. Every other line goes
through :func:`netflag.io.events.parse_event`, keeping its line number, so
validation and rejects are exactly those of the per-line path. The property
tests compare the two paths' :class:`EngineState` on random logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from netflag.engine import Befriend, EngineState, Params, Purchase
from netflag.io.events import LineError, parse_event, parse_timestamp
from netflag.io.limits import MAX_ID_CHARS, too_long
from netflag.io.reader import BOM

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

_ID = rf'"[^"\\\x00-\x1f]{{1,{MAX_ID_CHARS}}}"'
# Exactly the challenge's and `netflag generate`'s spelling. All three event types
# have 8 letters, so the timestamp sits at a fixed offset and the ids/amount start
# at one of two. Lines spelt any other way (spacing, key order) go per line.
CANONICAL = (
    r'^\{"event_type":"(?:purchase|befriend|unfriend)", '
    r'"timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-5][0-9]", '
    rf'(?:"id": {_ID}, "amount": "[0-9]{{1,12}}(?:\.[0-9]{{1,3}})?"'
    rf'|"id1": {_ID}, "id2": {_ID})\}}\r?$'
)
KIND_AT, STAMP_AT = 15, 39  # {"event_type":" is 15 characters; then 8 + '", "timestamp":"'
ID_AT = {"p": 68, "b": 69, "u": 69}  # after '", "id": "' or '", "id1": "'
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
UNIX_EPOCH = parse_timestamp("1970-01-01 00:00:00")  # our seconds count from year 1
# Lines split into columns at a time (bounds memory on big logs).
CHUNK_ROWS = 1_000_000
# Amounts are scaled in int64, so the columnar path takes at most 12 + 3 digits; a log
# holding any finer or larger amount is read line by line instead.
MAX_SCALE, MAX_UNITS = 3, 10**15

Row = tuple[int, str, int, str, str, int, int]  # line_no, kind, ts, a, b, units, scale
Rejected = tuple[int, str, bytes]  # line_no, reason, raw


def _read_lines(path: Path) -> pl.DataFrame | None:
    """One string column holding every physical line (None if polars cannot read it)."""
    import polars as pl

    try:
        frame = pl.read_csv(
            path,
            has_header=False,
            separator="\x00",
            quote_char=None,
            new_columns=["line"],
            infer_schema=False,
        )
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None
    if frame.width != 1:
        return None
    return frame.with_row_index("line_no", offset=1)


def _fallback_rows(lines: pl.DataFrame) -> tuple[list[Row], list[Rejected]] | None:
    """Parse the lines the regex refused, one by one, exactly as the per-line path does.

    None when an amount is beyond int64 scaling (the caller then reads the whole file per line).
    """
    rows: list[Row] = []
    rejected: list[Rejected] = []
    for number, text in lines.iter_rows():
        raw = text.encode()
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        if not raw.strip() and not too_long(raw):  # an over-long line is rejected, even blank
            continue
        try:
            event = parse_event(raw)
        except LineError as error:
            rejected.append((number, str(error), raw))
            continue
        if isinstance(event, Purchase):
            amount = event.amount
            if amount.scale > MAX_SCALE or amount.units >= MAX_UNITS:
                return None
            rows.append(
                (number, "purchase", event.timestamp, event.user, "", amount.units, amount.scale)
            )
        else:
            kind = "befriend" if isinstance(event, Befriend) else "unfriend"
            rows.append((number, kind, event.timestamp, event.user1, event.user2, 0, 0))
    return rows, rejected


def load_state(
    path: Path,
    params: Params,
    params_line: int | None,
    reject: Callable[[int, str, bytes], None],
) -> tuple[EngineState, int] | None:
    """The engine state after the batch log at ``path``, and its number of valid events.

    ``params_line`` is the line number of the parameters line (skipped), if any.
    ``reject(line, reason, raw)`` hears each bad line, in line order. Returns
    None (having rejected nothing) when the file is beyond the columnar path:
    then the caller reads it line by line.
    """

    events = _events(path, params_line, reject)
    if events is None:
        return None
    count = events.height
    users, pairs, purchases, scale = _final(events, params.T)
    del events  # the Python objects below are the big part: free the columns first
    import numpy as np

    def column(frame: pl.DataFrame, name: str, dtype: type) -> Sequence[int]:
        return cast("Sequence[int]", np.ascontiguousarray(frame[name].to_numpy(), dtype=dtype))

    state = EngineState(
        params,
        users.to_list(),
        column(pairs, "lo", np.int32),
        column(pairs, "hi", np.int32),
        column(purchases, "ts", np.int64),
        column(purchases, "seq", np.int64),
        column(purchases, "user", np.int32),
        column(purchases, "units", np.int64),
        scale,
        count,
    )
    return state, count


def _events(
    path: Path, params_line: int | None, reject: Callable[[int, str, bytes], None]
) -> pl.DataFrame | None:
    """Every valid event in arrival order: ``seq, kind, ts, a, b, units, scale``."""
    import polars as pl

    lines = _read_lines(path)
    if lines is None:
        return None
    if params_line is not None:
        lines = lines.filter(pl.col("line_no") != params_line)
    good = pl.concat(
        [_canonical(lines.slice(start, CHUNK_ROWS)) for start in range(0, lines.height, CHUNK_ROWS)]
    )
    fallback = lines.join(good, on="line_no", how="anti").filter(pl.col("line").is_not_null())
    del lines
    parsed = _fallback_rows(fallback)
    if parsed is None:
        return None
    slow, rejected = parsed
    for number, reason, raw in rejected:
        reject(number, reason, raw)
    schema = pl.Schema({
        "line_no": pl.Int64, "kind": pl.String, "ts": pl.Int64, "a": pl.String,
        "b": pl.String, "units": pl.Int64, "scale": pl.Int64,
    })  # fmt: skip
    fast = _amounts(good).select(schema.names()).cast(schema)
    events = pl.concat([fast, pl.DataFrame(slow, schema=schema, orient="row")])
    return events.sort("line_no").drop("line_no").with_row_index("seq")


def _canonical(lines: pl.DataFrame) -> pl.DataFrame:
    """``line_no, kind, ts, a, b`` of the canonical lines among ``lines``.

    Run on slices of the file so that only one slice is ever split into
    columns at a time: that bounds the memory a 5-million-line log takes.
    """
    import polars as pl

    # Same seconds as parse_timestamp; chrono's leap second (":60") is kept out by the
    # regex and its year 0 here, and impossible dates come out null: both go per line.
    seconds = pl.col("stamp").str.strptime(pl.Datetime("ms"), TIME_FORMAT, strict=False)
    not_self = (pl.col("kind") == "purchase") | (pl.col("a") != pl.col("b"))
    line = pl.col("line")
    # The tail after the first id's opening quote is: ID", "amount": "AMOUNT"} or
    # ID1", "id2": "ID2"}: split on '"', the two values are fields 0 and 4.
    tail = line.str.slice(pl.col("line").str.slice(KIND_AT, 1).replace_strict(ID_AT))
    return (
        lines.lazy()
        .filter(line.str.contains(CANONICAL))
        .select(
            "line_no",
            kind=line.str.slice(KIND_AT, 8),
            stamp=line.str.slice(STAMP_AT, 19),
            parts=tail.str.split_exact('"', 5),
        )
        .unnest("parts")
        .select("line_no", "kind", "stamp", a="field_0", b="field_4")
        .filter(not_self)
        .with_columns(
            ts=pl.when(pl.col("stamp").str.starts_with("0000"))
            .then(None)
            .otherwise(seconds.dt.epoch("s") + UNIX_EPOCH)
        )
        .filter(pl.col("ts").is_not_null())
        .drop("stamp")
        .collect()
    )


def _amounts(good: pl.DataFrame) -> pl.DataFrame:
    """Each canonical purchase's amount as (units, scale), trailing zeros dropped."""
    import polars as pl

    whole_frac = pl.col("b").str.split_exact(".", 1)
    frame = good.with_columns(whole_frac.struct.field("field_0").alias("whole"),
                              whole_frac.struct.field("field_1").fill_null("")
                              .str.strip_chars_end("0").alias("frac"))  # fmt: skip
    is_purchase = pl.col("kind") == "purchase"
    return frame.with_columns(
        b=pl.when(is_purchase).then(pl.lit("")).otherwise(pl.col("b")),
        scale=pl.when(is_purchase).then(pl.col("frac").str.len_chars()).otherwise(0),
        units=pl.when(is_purchase)
        .then((pl.col("whole") + pl.col("frac")).cast(pl.Int64))
        .otherwise(0),
    )


def _final(events: pl.DataFrame, T: int) -> tuple[pl.Series, pl.DataFrame, pl.DataFrame, int]:
    """User ids by number, final edges (lo, hi), each user's last T purchases, the scale."""
    import polars as pl

    scale = int(events["scale"].max() or 0)  # type: ignore[arg-type]
    # Users are numbered in order of first appearance (id, or id1 then id2), as the engine does.
    names = (
        pl.concat([
            events.select("seq", pos=pl.lit(0), user="a"),
            events.filter(pl.col("kind") != "purchase").select("seq", pos=pl.lit(1), user="b"),
        ])
        .sort("seq", "pos")
        .unique("user", keep="first", maintain_order=True)["user"]
    )  # fmt: skip
    numbers = pl.DataFrame({"user": names, "n": pl.int_range(len(names), eager=True)})
    pairs = events.filter(pl.col("kind") != "purchase")
    pairs = (
        pairs.join(numbers.rename({"user": "a", "n": "na"}), on="a")
        .join(numbers.rename({"user": "b", "n": "nb"}), on="b")
        .select("seq", "kind", lo=pl.min_horizontal("na", "nb"), hi=pl.max_horizontal("na", "nb"))
        .sort("seq")
        .group_by("lo", "hi")
        .agg(pl.col("kind").last())
        .filter(pl.col("kind") == "befriend")
        .sort("lo", "hi")
    )
    factor = pl.lit(10, dtype=pl.Int64).pow(scale - pl.col("scale"))
    purchases = (
        events.filter(pl.col("kind") == "purchase")
        .join(numbers.rename({"user": "a"}), on="a")
        .sort("ts", "seq", descending=True)
        .filter(pl.int_range(pl.len()).over("n") < T)
        .sort("ts", "seq")
        .select("ts", "seq", user="n", units=pl.col("units") * factor)
    )
    return names, pairs, purchases, scale
