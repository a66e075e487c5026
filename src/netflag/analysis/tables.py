"""A table as plain data, and its CSV and JSON files.

Cells are ints (counts, line numbers) or exact text (amounts, z-scores): never
floats, so a CSV diff shows a real change and JSON keeps every digit.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from netflag.errors import InputError
from netflag.io.reader import describe_os_error

Cell = int | str


@dataclass(frozen=True, slots=True)
class Table:
    """``rows`` hold one cell per column; ``name`` is also the file name."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]

    def records(self) -> list[dict[str, Cell]]:
        """The rows as objects keyed by column, for JSON."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def csv_text(self) -> str:
        """RFC 4180 CSV with a header line and ``\\n`` line endings."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()


def tables_json(tables: list[Table], **extra: Any) -> bytes:
    """All tables as one JSON object: ``extra`` fields, then ``tables`` by name."""
    body = {**extra, "tables": {t.name: t.records() for t in tables}}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"


def write_tables(folder: Path, tables: list[Table]) -> list[Path]:
    """Write NAME.csv and NAME.json for each table into ``folder``; returns the paths."""
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for table in tables:
            csv_path, json_path = folder / f"{table.name}.csv", folder / f"{table.name}.json"
            csv_path.write_text(table.csv_text(), encoding="utf-8")
            json_path.write_bytes(orjson.dumps(table.records(), option=orjson.OPT_INDENT_2))
            written += [csv_path, json_path]
    except OSError as error:
        raise InputError(f"cannot write {folder}: {describe_os_error(error)}") from None
    return written
