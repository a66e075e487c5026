"""The service's state directory on a disk that fills up while it runs, a snapshot roll
among the writes that fail: 503 from the first failed write, nothing answered lost
after SIGKILL and a restart, and the refused requests applied once when retried."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.modes.serve.conftest import Logs, replay
from tests.modes.serve.server import Server
from tests.small_disk import SmallDisk

CHUNK = 20  # lines per request


def post(client: httpx.Client, lines: list[bytes], key: str) -> httpx.Response:
    headers = {"Idempotency-Key": key, "Content-Type": "application/x-ndjson"}
    return client.post("/v1/events", content=b"\n".join(lines), headers=headers)


def test_a_full_disk_refuses_loses_nothing_answered_and_takes_the_retries(
    logs: Logs, small_disk: SmallDisk, tmp_path: Path
) -> None:
    state = small_disk.path / "state"
    chunks = [logs.lines[at : at + CHUNK] for at in range(0, len(logs.lines), CHUNK)]
    answered: dict[int, bytes] = {}
    # A snapshot (about 45 KB here) every 300 events, with 100 KB free: the second one
    # finds no room, and the log fills what is left a little later.
    server = Server(logs.batch, state, "--snapshot-every", "300")
    with server, server.client() as client:
        small_disk.fill(leave=100_000)
        refused: list[int] = []
        for number, chunk in enumerate(chunks):
            answer = post(client, chunk, f"chunk-{number}")
            if answer.status_code == 200:
                assert not refused, "a 200 after a 503: the service took events again"
                answered[number] = answer.content
            else:
                assert answer.status_code == 503
                assert "No space left on device" in answer.json()["error"]
                refused.append(number)
                if len(refused) == 3:
                    break
        assert refused, "the disk never filled"
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/score", json={"id": "1", "amount": "5"}).status_code == 200
        assert client.get("/v1/flags", params={"after": 0}).status_code == 200
        server.kill()
    assert "snapshot failed (the log still holds everything)" in server.stderr()
    assert not list(state.glob(".*.tmp")), "a failed snapshot left its half-written copy"

    small_disk.empty()
    with server, server.client() as client:
        flags = client.get("/v1/flags", params={"after": 0, "limit": 1000}).json()["flags"]
        promised = [
            result["flag"]
            for content in answered.values()
            for result in httpx.Response(200, content=content).json()["results"]
            if result.get("flagged")
        ]
        assert promised, "no flag among the answered requests: the test proves nothing"
        assert [flag["flag"] for flag in flags][: len(promised)] == promised
        for number, chunk in enumerate(chunks):  # every request again, with its key
            again = post(client, chunk, f"chunk-{number}")
            assert again.status_code == 200
            if number in answered:
                assert again.content == answered[number]  # the first answer, nothing applied
        server.stop()
    expected = replay(logs.batch, logs.lines, tmp_path / "replay")
    assert (state / "flagged_purchases.json").read_bytes() == expected.read_bytes()
