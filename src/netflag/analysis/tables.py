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

from netflag.io.output import write_all

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


def table_files(folder: Path, tables: list[Table]) -> dict[Path, bytes]:
    """NAME.csv and NAME.json for each table, in ``folder``: what :func:`write_tables` writes."""
    files: dict[Path, bytes] = {}
    for table in tables:
        files[folder / f"{table.name}.csv"] = table.csv_text().encode()
        files[folder / f"{table.name}.json"] = orjson.dumps(
            table.records(), option=orjson.OPT_INDENT_2
        )
    return files


def write_tables(folder: Path, tables: list[Table]) -> list[Path]:
    """Write NAME.csv and NAME.json for each table into ``folder``, all or none (as every
    output is: :func:`netflag.io.output.write_all`); returns the paths."""
    return write_all(table_files(folder, tables))
