"""SIGKILL the real server at random moments while clients post; nothing is lost or doubled.

Several client threads post NDJSON batches, each with its own Idempotency-Key.
The server is killed (SIGKILL: no shutdown code runs) at a dozen random
moments and restarted on the same state directory; every request that did not
get a 200 is sent again, same key, same body, until it does. Then:

- the 200 answers tile the service's log: each request's events sit exactly
  once, at the sequence numbers its answer gave, and nothing else is there;
- every log record left on disk (read at each kill, before recovery) agrees;
- sending every request once more gives its first answer back, byte for byte;
- the flags file equals ``netflag replay`` of the batch log plus the log.
"""

from __future__ import annotations

import json
import random
import threading
import time
import zlib
from pathlib import Path

import httpx

from tests.modes.serve.conftest import Logs, replay
from tests.modes.serve.server import Server

CLIENTS = 4
KILLS = 12
NDJSON = {"Content-Type": "application/x-ndjson"}


def wal_records(state: Path) -> list[tuple[int, list[bytes], str | None]]:
    """``(first seq, lines, key)`` of each whole record in the log's segments
    (read as the journal's docstring describes them; a torn tail ends a segment)."""
    found = []
    for path in sorted((state / "log").glob("*.wal")):
        seq, data, pos = int(path.stem), path.read_bytes(), 0
        while pos < len(data):
            end = data.find(b"\n", pos)
            try:
                assert end > 0 and data[pos : pos + 1] == b"#"
                head = json.loads(data[pos + 1 : end])
            except (AssertionError, ValueError):
                break
            body = data[end + 1 : end + 1 + head["size"]]
            covered = data[pos + 1 : data.rindex(b',"crc":', pos, end)] + b"}"
            if len(body) != head["size"] or zlib.crc32(body, zlib.crc32(covered)) != head["crc"]:
                break
            lines = body.split(b"\n")[:-1]
            assert len(lines) == head["n"]
            found.append((seq, lines, head.get("key")))
            seq, pos = seq + len(lines), end + 1 + len(body)
    return found


class Clients:
    """Threads that post their share of the requests until each one got a 200."""

    def __init__(self, server: Server, requests: list[list[bytes]]) -> None:
        self.server = server
        self.requests = requests
        self.answers: dict[int, bytes] = {}
        self.failures = 0  # attempts that got no 200 (connection lost, refused, 503)
        self.unexpected: list[str] = []
        self.up = threading.Event()
        self.up.set()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self.run, args=(list(range(i, len(requests), CLIENTS)),))
            for i in range(CLIENTS)
        ]

    def body(self, index: int) -> bytes:
        return b"".join(line + b"\n" for line in self.requests[index])

    def run(self, mine: list[int]) -> None:
        client = httpx.Client(timeout=30.0)
        try:
            for index in mine:
                while not self.send(client, index):
                    client.close()
                    client = httpx.Client(timeout=30.0)
                    self.up.wait(60)
        finally:
            client.close()

    def send(self, client: httpx.Client, index: int) -> bool:
        headers = {**NDJSON, "Idempotency-Key": f"request-{index}"}
        try:
            answer = client.post(
                self.server.url + "/v1/events", content=self.body(index), headers=headers
            )
        except httpx.TransportError:
            with self.lock:
                self.failures += 1
            return False
        with self.lock:
            if answer.status_code == 200:
                self.answers[index] = answer.content
                return True
            self.failures += 1
            if answer.status_code != 503:
                self.unexpected.append(f"{answer.status_code} {answer.text}")
            return False


def test_sigkill_at_random_moments_loses_and_doubles_nothing(logs: Logs, tmp_path: Path) -> None:
    rng = random.Random(20240610)
    lines, requests = logs.lines, []
    position = 0
    while position < len(lines):
        size = rng.randint(1, 40)
        requests.append(lines[position : position + size])
        position += size
    # Snapshots now and then (they truncate the log), so kills land around them too.
    server = Server(logs.batch, tmp_path / "state", "--snapshot-every", "150")
    kills_at = sorted(rng.sample(range(5, len(requests) - 5), KILLS))
    records: list[tuple[int, list[bytes], str | None]] = []
    clients = Clients(server, requests)
    started = time.monotonic()
    with server:
        for thread in clients.threads:
            thread.start()
        try:
            for threshold in kills_at:
                while len(clients.answers) < threshold and time.monotonic() - started < 50:
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.02))
                clients.up.clear()
                server.kill()
                records += wal_records(server.state)
                server.start()
                clients.up.set()
        finally:
            clients.up.set()
            for thread in clients.threads:
                thread.join(60)
        assert not any(thread.is_alive() for thread in clients.threads)
        assert clients.unexpected == []
        assert server.starts == KILLS + 1
        assert clients.failures > 0, "the kills should have caught requests in flight"

        # Every request got an answer; together the answers tile the log.
        assert sorted(clients.answers) == list(range(len(requests)))
        log: dict[int, bytes] = {}
        firsts: dict[int, int] = {}
        flags: dict[int, bytes] = {}
        for index, text in clients.answers.items():
            results = json.loads(text)["results"]
            seqs = [result["seq"] for result in results]
            firsts[index] = seqs[0]
            assert seqs == list(range(seqs[0], seqs[0] + len(requests[index])))
            for seq, line, result in zip(seqs, requests[index], results, strict=True):
                assert seq not in log, f"event {seq} answered twice"
                log[seq] = line
                if result.get("flagged"):
                    flags[seq] = result["flag"].encode() + b"\n"
        assert sorted(log) == list(range(1, len(lines) + 1)), "a gap: something applied twice"
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/v1/stats").json()["seq"] == len(lines)

            # Each record on disk is one request, at the place its answer says.
            assert records
            for first, record_lines, key in records:
                assert key is not None and key.startswith("request-")
                index = int(key.removeprefix("request-"))
                assert (first, record_lines) == (firsts[index], requests[index])

            # Every request sent once more: its first answer, byte for byte, nothing applied.
            for index in rng.sample(range(len(requests)), len(requests)):
                headers = {**NDJSON, "Idempotency-Key": f"request-{index}"}
                again = client.post("/v1/events", content=clients.body(index), headers=headers)
                assert again.content == clients.answers[index]
            assert client.get("/v1/stats").json()["seq"] == len(lines)

        server.kill()  # and a last crash with everything acknowledged
        server.start()
        ordered = [log[seq] for seq in sorted(log)]
        expected = replay(logs.batch, ordered, tmp_path / "replay").read_bytes()
        assert expected.count(b"\n") > 30
        assert b"".join(flags[seq] for seq in sorted(flags)) == expected
        assert (server.state / "flagged_purchases.json").read_bytes() == expected
        with httpx.Client(base_url=server.url) as client:
            listed = client.get("/v1/flags", params={"after": 0, "limit": 10_000}).json()
        assert [item["seq"] for item in listed["flags"]] == sorted(flags)
    said = server.stderr()
    assert "Traceback" not in said
    assert "snapshot at event" in said  # snapshots ran between the kills
