"""``netflag serve`` end to end over HTTP, against the real server in a subprocess.

Every flag the service answers or writes is compared with ``netflag replay`` of
the same events, byte for byte; every query with ``netflag explain`` or replay's
``--actions``.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from netflag.cli import app
from netflag.runtime.journal import read_lines
from netflag.version import __version__
from tests.modes.serve.conftest import BAD_HOUR, NOT_JSON, Logs, ServerFactory, replay
from tests.modes.serve.server import NETFLAG, Server

NDJSON = {"Content-Type": "application/x-ndjson"}
TOKEN = "test-token-0123456789abcdef"  # noqa: S105 (a test token)


def post(client: httpx.Client, lines: list[bytes], kind: str, key: str | None = None) -> Any:
    """POST ``lines`` as one ``object`` (a single line), ``array`` or ``ndjson`` body."""
    headers = {} if key is None else {"Idempotency-Key": key}
    if kind == "object":
        assert len(lines) == 1
        body = lines[0]
    elif kind == "array":
        body = b"[" + b",\n".join(lines) + b"]"
    else:
        body, headers = b"".join(line + b"\n" for line in lines), {**headers, **NDJSON}
    return client.post("/v1/events", content=body, headers=headers)


def post_all(client: httpx.Client, lines: list[bytes]) -> list[dict[str, Any]]:
    """Post ``lines`` in order as objects, then arrays, then NDJSON; every result."""
    results: list[dict[str, Any]] = []
    position = 0
    while position < len(lines):
        if position < 150:
            kind, size = "object", 1
        elif position < 900:
            kind, size = "array", 50
        else:
            kind, size = "ndjson", 400
        chunk = lines[position : position + size]
        if kind != "ndjson" and NOT_JSON in chunk:  # not JSON: only NDJSON can carry it
            cut = chunk.index(NOT_JSON)
            chunk = chunk[:cut] or [NOT_JSON]
            kind = kind if chunk != [NOT_JSON] else "ndjson"
        if kind == "object" or (kind == "array" and len(chunk) == 1 and position % 2):
            kind = "object" if len(chunk) == 1 else "array"
        answer = post(client, chunk, kind)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        got = answer.json()["results"]
        assert [r["seq"] for r in got] == list(range(position + 1, position + len(chunk) + 1))
        results += got
        position += len(chunk)
    return results


def flags_of(results: list[dict[str, Any]]) -> bytes:
    return b"".join(r["flag"].encode() + b"\n" for r in results if r.get("flagged"))


def log_lines(state: Path) -> list[bytes]:
    """The service's log, read as an explanation reads it."""
    return [line for _, line in read_lines(state, __version__)]


def stats(server: Server) -> dict[str, Any]:
    with server.client() as client:
        found: dict[str, Any] = client.get("/v1/stats").json()
    found.pop("uptime_seconds")
    return found


def test_object_array_and_ndjson_bodies_give_replays_flags(
    serve: ServerFactory, logs: Logs, tmp_path: Path
) -> None:
    server = serve()
    with server.client() as client:
        results = post_all(client, logs.lines)
    expected = replay(logs.batch, logs.lines, tmp_path / "replay", "--rejects",
                      str(tmp_path / "rejects.json"))  # fmt: skip
    flags = expected.read_bytes()
    assert flags.count(b"\n") > 30, "the data should flag enough purchases to mean something"
    assert flags_of(results) == flags
    assert (server.state / "flagged_purchases.json").read_bytes() == flags
    assert log_lines(server.state) == logs.lines
    # every line replay rejects is rejected, with replay's reason; the others applied
    rejects = [json.loads(line) for line in (tmp_path / "rejects.json").read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (r["seq"], r["reason"]) for r in results if r["status"] == "rejected"
    ]
    assert {r["reason"].split(":")[0] for r in rejects} == {
        "not valid JSON",
        "timestamp is not a real time of day",
    }
    for result, line in zip(results, logs.lines, strict=True):
        if result["status"] == "applied":
            event = json.loads(line)
            assert result["event_type"] == event["event_type"]
            assert ("flagged" in result) == (event["event_type"] == "purchase")
            assert ("flag" in result) == bool(result.get("flagged"))
    counted = stats(server)
    assert counted["seq"] == counted["events"] + counted["rejected"] == len(logs.lines)
    assert counted["flagged"] == flags.count(b"\n")
    assert counted["rejected"] == len(rejects)


def test_rejected_lines_carry_specs_reasons(
    serve: ServerFactory, logs: Logs, tmp_path: Path
) -> None:
    bad = [
        b"[1, 2]",
        b'{"event_type":"purchase", "timestamp":"2017-06-13 11:33:02", "id": "2"}',
        b'{"event_type":"Purchase", "timestamp":"2017-06-13 11:33:02", "id": "2", "amount": "1"}',
        b'{"event_type":"purchase", "timestamp":"2017-02-30 11:33:02", "id": "2", "amount": "1"}',
        b'{"event_type":"purchase", "timestamp":"2017-06-13 11:33:02", "id": "", "amount": "1"}',
        b'{"event_type":"purchase", "timestamp":"2017-06-13 11:33:02", "id": 2, "amount": "-5"}',
        b'{"event_type":"purchase", "timestamp":"2017-06-13 11:33:02", "id": 2, "amount": true}',
        b'{"event_type":"purchase", "timestamp":"2017-06-13 11:33:02", "id": 2, "amount": NaN}',
        b'{"event_type":"befriend", "timestamp":"2017-06-13 11:33:02", "id1": "7", "id2": 7}',
        b'{"event_type":"unfriend", "timestamp":"2017-06-13 11:33:02", "id1": null, "id2": "7"}',
        b"\xff\xfe not utf-8",
        b'{"event_type":"purchase", "timestamp":"2017-06-13 11:33:02", "id": "2", "amount": 1e2}',
    ]
    server = serve()
    with server.client() as client:
        answer = post(client, bad, "ndjson")
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    replay(logs.batch, bad, tmp_path / "replay", "--rejects", str(tmp_path / "rejects.json"))
    rejects = [json.loads(line) for line in (tmp_path / "rejects.json").read_text().splitlines()]
    assert len(rejects) == len(bad) - 1
    assert [r["reason"] for r in results[:-1]] == [r["reason"] for r in rejects]
    assert [r["status"] for r in results] == ["rejected"] * (len(bad) - 1) + ["applied"]
    prefixes = ["not a JSON object", "missing field", "unknown event_type", "timestamp",
                "id", "amount", "amount", "not valid JSON", "self-friendship", "id",
                "not valid UTF-8"]  # fmt: skip
    for result, prefix in zip(results, prefixes, strict=False):
        assert result["reason"].startswith(prefix), (result, prefix)
    assert log_lines(server.state) == bad  # rejected lines are logged too: the log is the stream


def test_bodies_that_are_not_json_are_400_and_apply_nothing(serve: ServerFactory) -> None:
    server = serve()
    with server.client() as client:
        for body in [b"", b"   ", b'{"event_type": ', b'[{"a": 1},]', b'[{"a": 1}] x',
                     b"\xff\xfe{}", b"{} {}", b"[" * 100_000]:  # fmt: skip
            answer = client.post("/v1/events", content=body)
            assert answer.status_code == 400, (body[:20], answer.text)
            assert answer.headers["content-type"] == "application/json"
            error = answer.json()["error"]
            assert error and "\n" not in error and "Traceback" not in error
            assert error.startswith(("not valid JSON", "body is not UTF-8")), error
        # a JSON value that is no event is a 200 with a rejected line, not a 400
        answer = client.post("/v1/events", content=b"42")
        assert answer.json()["results"] == [
            {"status": "rejected", "seq": 1, "reason": answer.json()["results"][0]["reason"]}
        ]
        assert answer.json()["results"][0]["reason"].startswith("not a JSON object")
        # the framework's own errors have the same shape (and a 405 says what is allowed)
        wrong = client.delete("/v1/events")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
        assert wrong.json() == {"error": "Method Not Allowed"}
        assert client.get("/nowhere").json() == {"error": "Not Found"}
        invalid = client.get("/v1/explain", params={"seq": "x"})
        assert invalid.status_code == 422 and invalid.json()["error"].startswith("query.seq: ")
    assert stats(server)["seq"] == 1
    assert "Traceback" not in server.stderr()


def test_gzip_bodies_are_taken_under_the_same_limits(serve: ServerFactory, logs: Logs) -> None:
    server = serve()
    body = b"\n".join(logs.lines[:300])
    ndjson = {"Content-Type": "application/x-ndjson"}
    with server.client() as client:
        zipped = client.post(
            "/v1/events",
            content=gzip.compress(body),
            headers={**ndjson, "Content-Encoding": "gzip"},
        )
        assert zipped.status_code == 200, zipped.text
        results = zipped.json()["results"]
        assert [r["seq"] for r in results] == list(range(1, len(logs.lines[:300]) + 1))
        for content, encoding, status, says in [
            (gzip.compress(b"{}" * 600_000), "gzip", 413, "body is over 1,048,576 bytes"),
            (b"not gzip at all", "gzip", 400, "body is not valid gzip"),
            (gzip.compress(body)[:40], "gzip", 400, "gzip body is cut short"),
            (body, "br", 415, "Content-Encoding 'br' is not taken: send gzip or none"),
        ]:
            answer = client.post(
                "/v1/events", content=content, headers={**ndjson, "Content-Encoding": encoding}
            )
            assert (answer.status_code, answer.json()) == (status, {"error": says})
    assert stats(server)["seq"] == len(results)  # the refused ones applied nothing


def test_a_score_checks_and_echoes_its_timestamp(serve: ServerFactory) -> None:
    with serve().client() as client:
        given = client.post(
            "/v1/score", json={"id": "2", "amount": "5", "timestamp": "2017-06-13 11:33:02"}
        )
        assert given.status_code == 200 and given.json()["timestamp"] == "2017-06-13 11:33:02"
        assert client.post("/v1/score", json={"id": "2", "amount": "5"}).json()["timestamp"] is None
        bogus = client.post("/v1/score", json={"id": "2", "amount": "5", "timestamp": "bogus"})
        assert bogus.status_code == 400
        assert bogus.json() == {
            "error": "timestamp must look like 'YYYY-MM-DD HH:MM:SS', got 'bogus'"
        }


def test_limits_on_body_size_and_events_give_413(serve: ServerFactory, logs: Logs) -> None:
    server = serve("--max-body", "2000", "--max-events", "5")
    five = [line for line in logs.lines if line.startswith(b"{")][:5]
    with server.client() as client:
        assert post(client, five, "ndjson").status_code == 200
        too_many = post(client, [*five, five[0]], "array")
        assert too_many.status_code == 413
        assert too_many.json() == {"error": "6 events; at most 5 a request"}
        big = b"[" + b",".join([five[0]] * 30) + b"]"
        assert len(big) > 2000
        answer = client.post("/v1/events", content=big)
        assert answer.status_code == 413
        assert answer.json()["error"].startswith("body is ")

        def chunks() -> Any:  # chunked: no Content-Length to refuse early on
            for _ in range(30):
                yield five[0] + b"\n"

        answer = client.post("/v1/events", content=chunks(), headers=NDJSON)
        assert answer.status_code == 413
        assert answer.json() == {"error": "body is over 2,000 bytes"}
        big_score = b'{"id": "1", "amount": "1", "pad": "' + b"x" * 3000 + b'"}'
        assert client.post("/v1/score", content=big_score).status_code == 413
    assert stats(server)["seq"] == 5


def test_a_token_is_required_on_v1_when_given(serve: ServerFactory, logs: Logs) -> None:
    server = serve(token=TOKEN)
    line = logs.lines[0]
    with httpx.Client(base_url=server.url) as client:
        for headers in [{}, {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Bearer"},
                        {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}]:  # fmt: skip
            for method, path in [("GET", "/v1/stats"), ("POST", "/v1/events"),
                                 ("GET", "/v1/flags"), ("GET", "/v1/flags/stream"),
                                 ("GET", "/v1/users/1/feed")]:  # fmt: skip
                answer = client.request(method, path, headers=headers, content=line)
                assert answer.status_code == 401, (headers, path)
                assert answer.json()["error"].startswith("missing or wrong bearer token")
        for path in ["/healthz", "/readyz", "/metrics", "/"]:  # no secrets there
            assert client.get(path).status_code == 200
        good = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/v1/stats", headers=good).json()["seq"] == 0  # nothing applied
        answer = client.post("/v1/events", content=line, headers=good)
        assert answer.status_code == 200
        assert answer.json()["results"][0]["seq"] == 1


def test_beyond_loopback_without_a_token_is_refused(logs: Logs, tmp_path: Path) -> None:
    short = tmp_path / "short-token"
    short.write_text("tooshort\n")
    for options, message in [
        (["--host", "0.0.0.0"], "--host 0.0.0.0 takes connections from other machines"),  # noqa: S104
        (["--host", "::"], "--host :: takes connections from other machines"),
        (["--token-file", str(tmp_path / "missing")], "cannot read the token file"),
        (["--token-file", str(short)], "the token must be at least 16 characters"),
    ]:
        state = tmp_path / "state"
        done = subprocess.run(
            [*NETFLAG, "serve", str(logs.batch), "--state", str(state), "--port", "0", *options],
            capture_output=True,
            timeout=60,
        )
        assert done.returncode != 0
        error = done.stderr.decode()
        assert error.count("\n") == 1 and error.startswith("error: "), error
        assert message in error and "Traceback" not in error
        assert not state.exists()  # refused before anything was made


def test_a_retry_with_the_same_key_gets_the_same_bytes_and_applies_nothing(
    serve: ServerFactory, logs: Logs
) -> None:
    server = serve()
    lines = logs.lines[:700]
    with server.client() as client:
        first = post(client, lines, "ndjson", key="batch-1")
        assert first.status_code == 200
        assert any(r.get("flagged") for r in first.json()["results"])
        again = post(client, lines, "ndjson", key="batch-1")
        assert again.status_code == 200 and again.content == first.content
        as_array = post(client, [line for line in lines if line != NOT_JSON], "array", "batch-1")
        assert as_array.status_code == 409
        assert as_array.json() == {"error": "Idempotency-Key 'batch-1' was used for another body"}
        assert post(client, lines[:1], "object", key="batch-1").status_code == 409
        # many retries at once, while the first is still on its way to the disk
        answers: list[bytes] = []

        def send() -> None:
            with server.client() as own:
                answers.append(post(own, logs.lines[700:1500], "ndjson", key="batch-2").content)

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == 8 and len(set(answers)) == 1
        seqs = [r["seq"] for r in json.loads(answers[0])["results"]]
        assert seqs == list(range(len(lines) + 1, 1501))
    assert log_lines(server.state) == logs.lines[:1500]
    assert stats(server)["seq"] == 1500


def test_metrics_have_the_documented_names_and_counts(serve: ServerFactory, logs: Logs) -> None:
    server = serve()
    lines = logs.lines[:1200]
    with server.client() as client:
        results = post(client, lines, "ndjson").json()["results"]
        answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
    names = {name for name, _ in samples}
    documented = ["netflag_events_total", "netflag_rejects_total", "netflag_flags_total",
                  "netflag_check_seconds_bucket", "netflag_check_seconds_count",
                  "netflag_check_seconds_sum", "netflag_users", "netflag_friendships",
                  "netflag_log_events", "netflag_log_bytes",
                  "netflag_seconds_since_snapshot"]  # fmt: skip
    assert set(documented) <= names, set(documented) - names

    def kinds(kind: str) -> int:
        return sum(1 for r in results if r.get("event_type") == kind)

    for kind in ("purchase", "befriend", "unfriend"):
        assert samples["netflag_events_total", (("event_type", kind),)] == kinds(kind)
    assert samples["netflag_check_seconds_count", ()] == kinds("purchase") > 0
    assert samples["netflag_flags_total", ()] == sum(1 for r in results if r.get("flagged")) > 0
    assert samples["netflag_rejects_total", (("reason", "bad_timestamp"),)] == lines.count(BAD_HOUR)
    assert samples["netflag_rejects_total", (("reason", "invalid_json"),)] == lines.count(NOT_JSON)
    counted = stats(server)
    assert samples["netflag_users", ()] == counted["users"]
    assert samples["netflag_log_events", ()] == counted["seq"] == len(lines)
    assert samples["netflag_log_bytes", ()] > sum(len(line) + 1 for line in lines)
    assert 0 <= samples["netflag_seconds_since_snapshot", ()] < 600


def read_sse(lines: Any, wanted: int) -> list[dict[str, Any]]:
    """The next ``wanted`` flag events of an SSE stream (comments skipped)."""
    events: list[dict[str, Any]] = []
    block: dict[str, str] = {}
    for line in lines:
        if line == "":
            if block:
                data = json.loads(block["data"])
                assert block["event"] == "flag" and int(block["id"]) == data["seq"]
                events.append(data)
                if len(events) == wanted:
                    return events
            block = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            block[field] = value
    raise AssertionError(f"the stream ended after {len(events)} of {wanted} flags")


def test_the_sse_stream_delivers_new_flags(serve: ServerFactory, logs: Logs) -> None:
    server = serve()
    with server.client(timeout=httpx.Timeout(10.0)) as client:
        early = post(client, logs.lines[:900], "ndjson").json()["results"]
        early_flags = [{"seq": r["seq"], "flag": r["flag"]} for r in early if r.get("flagged")]
        with client.stream("GET", "/v1/flags/stream") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == ": connected"  # subscribed: only new flags from here
            with server.client() as poster:
                later = post(poster, logs.lines[900:2000], "ndjson").json()["results"]
            new = [{"seq": r["seq"], "flag": r["flag"]} for r in later if r.get("flagged")]
            assert len(new) >= 3
            assert read_sse(lines, len(new)) == new
        # resuming: the backlog after ?after= (or Last-Event-ID) first, in order
        resume = early_flags[1]["seq"]
        for params, headers in [({"after": resume}, {}), ({}, {"Last-Event-ID": str(resume)})]:
            with client.stream("GET", "/v1/flags/stream", params=params, headers=headers) as s:
                backlog = read_sse(s.iter_lines(), len(early_flags) - 2 + len(new))
            assert backlog == early_flags[2:] + new
        page = client.get("/v1/flags", params={"after": 0, "limit": 10_000}).json()
        assert page["flags"] == early_flags + new and page["last_seq"] == new[-1]["seq"]
        newest = client.get("/v1/flags", params={"limit": 2}).json()
        assert newest == {"flags": new[-2:], "last_seq": new[-1]["seq"]}


def test_sigterm_ends_open_flag_streams_and_stops_cleanly(serve: ServerFactory) -> None:
    """An SSE client (curl -N, the / page) must not hold the stop until uvicorn's graceful
    timeout gives up on it with a traceback: its stream ends, then the server stops."""
    server = serve()
    ended: list[str] = []
    connected = threading.Event()

    def listen() -> None:
        with (
            server.client(timeout=httpx.Timeout(30.0)) as client,
            client.stream("GET", "/v1/flags/stream") as stream,
        ):
            for line in stream.iter_lines():
                ended.append(line)
                connected.set()

    listener = threading.Thread(target=listen)
    listener.start()
    assert connected.wait(10)
    assert server.stop() == 0
    listener.join(10)
    assert not listener.is_alive() and ended[0] == ": connected"
    stderr = server.stderr()
    assert "stopped cleanly" in stderr
    assert re.search(r"loaded \d{1,3}(,\d{3})* batch events from ", stderr), stderr
    assert "Traceback" not in stderr and "graceful shutdown" not in stderr, stderr


def explained(cli: list[str]) -> dict[str, Any]:
    done = subprocess.run([*NETFLAG, "explain", *cli, "--json"], capture_output=True, check=True)
    found: dict[str, Any] = json.loads(done.stdout)
    found["seq"] = found.pop("line")
    return found


def test_explain_score_feed_and_recommendations_match_the_cli(
    serve: ServerFactory, logs: Logs, tmp_path: Path
) -> None:
    server = serve()
    lines = logs.lines[:2000]
    with server.client() as client:
        results = post(client, lines, "ndjson").json()["results"]
        expected = replay(logs.batch, lines, tmp_path / "replay", "--actions",
                          str(tmp_path / "actions.jsonl"))  # fmt: skip
        stream = str(expected.parent / "stream.json")
        flagged = [r for r in results if r.get("flagged")]
        quiet = next(r for r in results if r.get("flagged") is False)
        for result in (flagged[0], flagged[-1], quiet):
            answer = client.get("/v1/explain", params={"seq": result["seq"]})
            assert answer.status_code == 200, answer.text
            from_cli = explained([str(logs.batch), stream, "--line", str(result["seq"])])
            assert answer.json() == from_cli
            assert answer.json()["flagged"] == result["flagged"]
        befriend = next(r["seq"] for r in results if r.get("event_type") == "befriend")
        rejected = next(r["seq"] for r in results if r["status"] == "rejected")
        missing = len(lines) + 1
        for seq, start in [
            (befriend, f"event {befriend} is a befriend"),
            (rejected, f"event {rejected} was rejected"),
            (missing, f"no event {missing}"),
        ]:
            answer = client.get("/v1/explain", params={"seq": seq})
            assert answer.status_code == 404 and answer.json()["error"].startswith(start)

        buyer = json.loads(flagged[-1]["flag"])["id"]
        for amount in ("1000.00", "5", "0.125"):
            answer = client.post("/v1/score", json={"id": buyer, "amount": amount})
            assert answer.status_code == 200, answer.text
            from_cli = explained(
                [str(logs.batch), stream, "--user", str(buyer), "--amount", amount]
            )
            assert answer.json() == from_cli
        as_number = client.post(
            "/v1/score", content=b'{"id": %s, "amount": 1000.00}' % buyer.encode()
        )
        assert as_number.json()["amount"] == "1000.00"
        assert (
            as_number.json()["flagged"]
            == client.post("/v1/score", json={"id": buyer, "amount": "1000.00"}).json()["flagged"]
        )
        for body in [b'{"id": "1"}', b'{"id": "1", "amount": "-1"}', b"nope", b"[]"]:
            answer = client.post("/v1/score", content=body)
            assert answer.status_code == 400, body
        assert stats(server)["seq"] == len(lines)  # scoring records nothing

        actions = [
            json.loads(line) for line in (tmp_path / "actions.jsonl").read_text().splitlines()
        ]
        seqs = [r["seq"] for r in flagged]
        assert len(actions) == len(seqs)
        audience = {user for action in actions for user in action["feed"]}
        invited = {rec["user"] for action in actions for rec in action["recommendations"]}
        assert audience and invited
        for user in sorted(audience)[:5] + sorted(invited)[:5] + ["nobody"]:
            feed = client.get(f"/v1/users/{user}/feed", params={"limit": 1000}).json()
            wanted = [
                {"seq": seq, "flag": results[seq - 1]["flag"]}
                for seq, action in zip(seqs, actions, strict=True)
                if user in action["feed"]
            ]
            assert feed == {"user": user, "feed": wanted[::-1]}
            recs = client.get(f"/v1/users/{user}/recommendations").json()
            wanted_recs: list[dict[str, Any]] = []
            for seq, action in reversed(list(zip(seqs, actions, strict=True))):
                buyer_id = str(action["flagged"]["id"])
                for rec in action["recommendations"]:
                    if rec["user"] == user and buyer_id not in [w["user"] for w in wanted_recs]:
                        wanted_recs.append({"seq": seq, "user": buyer_id,
                                            "mutual_friends": rec["mutual_friends"]})  # fmt: skip
            assert recs == {"user": user, "recommendations": wanted_recs[:20]}
        limited = client.get(f"/v1/users/{sorted(audience)[0]}/feed", params={"limit": 1}).json()
        assert len(limited["feed"]) == 1


def test_a_clean_restart_keeps_everything(serve: ServerFactory, logs: Logs, tmp_path: Path) -> None:
    server = serve()
    half = 1500
    with server.client() as client:
        first = post(client, logs.lines[:half], "ndjson", key="first-half")
        before = client.get("/v1/flags", params={"after": 0, "limit": 10_000}).json()
        seq = next(r["seq"] for r in first.json()["results"] if r.get("flagged"))
        explanation = client.get("/v1/explain", params={"seq": seq}).json()
    counted = stats(server)
    assert server.stop() == 0
    assert "Traceback" not in server.stderr()
    server.start()
    after_restart = stats(server)
    assert after_restart["snapshot_seq"] == half  # the shutdown took a last snapshot
    assert {**after_restart, "snapshot_seq": 0} == {**counted, "snapshot_seq": 0}
    with server.client() as client:
        assert client.get("/v1/flags", params={"after": 0, "limit": 10_000}).json() == before
        retry = post(client, logs.lines[:half], "ndjson", key="first-half")
        assert retry.content == first.content  # the receipt survived the restart
        gone = client.get("/v1/explain", params={"seq": seq})
        assert gone.status_code == 410, explanation  # its log is behind the snapshot now
        second = post(client, logs.lines[half:], "ndjson").json()["results"]
    expected = replay(logs.batch, logs.lines, tmp_path / "replay").read_bytes()
    assert flags_of(first.json()["results"] + second) == expected
    assert (server.state / "flagged_purchases.json").read_bytes() == expected
    assert server.stop() == 0
    assert log_lines(server.state) == []  # all behind the last snapshot
    assert stats(server.start())["seq"] == len(logs.lines)


def test_without_the_serve_extra_one_line_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    result = CliRunner().invoke(
        app, ["serve", str(tmp_path / "batch.json"), "--state", str(tmp_path / "state")]
    )
    assert result.exit_code == 2
    assert result.stderr == 'error: netflag serve needs its extra: pip install "netflag[serve]"\n'
