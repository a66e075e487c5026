"""The --kafka-config file: librdkafka's properties format, read without the client."""

from __future__ import annotations

from pathlib import Path

import pytest

from netflag.errors import InputError
from netflag.io.client_settings import read_settings


def test_the_properties_file(tmp_path: Path) -> None:
    path = tmp_path / "client.properties"
    path.write_text("# SASL\nsecurity.protocol = SASL_SSL\n\nsasl.mechanism=PLAIN\n! old style\n")
    assert read_settings(path) == {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}
    path.write_text("security.protocol SASL_SSL\n")
    with pytest.raises(InputError, match=r"client.properties:1: expected key=value"):
        read_settings(path)
    with pytest.raises(InputError, match="cannot read .*nope"):
        read_settings(tmp_path / "nope")
