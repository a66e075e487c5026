"""Physical lines of a log file: numbered from 1, blank lines skipped, BOM dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from netflag.errors import InputError

BOM = b"\xef\xbb\xbf"


def describe_os_error(error: OSError) -> str:
    """``[Errno 2] No such file or directory: 'x'`` -> ``No such file or directory``."""
    return error.strerror or str(error)


def numbered_lines(
    path: Path, on_bytes: Callable[[int], None] | None = None
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, raw_line)`` for every non-blank line of ``path``.

    Line numbers count every physical line (blank ones too), so a reported
    ``FILE:LINE`` is where an editor shows it. ``on_bytes`` hears how many bytes
    each yielded line (and the blank lines before it) took, for progress bars.
    """
    try:
        handle = path.open("rb")
    except OSError as error:
        raise InputError(f"cannot read {path}: {describe_os_error(error)}") from None
    with handle:
        pending = 0
        try:
            for number, line in enumerate(handle, 1):
                if number == 1 and line.startswith(BOM):
                    line = line[len(BOM) :]
                pending += len(line)
                if not line.strip():
                    continue
                if on_bytes is not None:
                    on_bytes(pending)
                pending = 0
                yield number, line
        except OSError as error:
            raise InputError(f"cannot read {path}: {describe_os_error(error)}") from None
