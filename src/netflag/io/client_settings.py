"""Client settings from a file, for the clusters that need them (``--kafka-config FILE``).

The file is a librdkafka properties file, as Kafka's own tools take: one
``key=value`` a line, ``#`` or ``!`` comments, blank lines. Its settings
(SASL, TLS, timeouts) go to every client of that backend as they are, and win
over netflag's. It is read without the client library, so a mistake in it is
reported even where the library is missing.
"""

from __future__ import annotations

from pathlib import Path

from netflag.errors import InputError
from netflag.io.reader import describe_os_error


def read_settings(path: Path) -> dict[str, str]:
    """The ``key=value`` settings of ``path``, or one line naming the line that is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = describe_os_error(error) if isinstance(error, OSError) else "not UTF-8"
        raise InputError(f"cannot read {path}: {reason}") from None
    settings: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{path}:{number}: expected key=value, got {line!r}")
        settings[key.strip()] = value.strip()
    return settings
