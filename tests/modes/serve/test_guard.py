"""Hostile clients against the real server on loopback, with real sockets: idle, slow heads
(slowloris), bodies announced and never sent, huge heads, too many connections; and
HTTPS with a self-signed certificate."""

from __future__ import annotations

import re
import select
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import trustme

from tests.modes.serve.conftest import Logs, ServerFactory
from tests.modes.serve.server import NETFLAG, Server

QUICK = ("--idle-timeout", "1", "--header-timeout", "2", "--body-timeout", "2")
SCORE = {"id": "1", "amount": "1.00"}
PATIENCE = 30.0  # a dropped connection is seen closed long before this; a kept one never


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE)


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails if it never does)."""
    got = b""
    while chunk := sock.recv(65536):
        got += chunk
    sock.close()
    return got


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def dropped(server: Server) -> dict[str, float]:
    with server.client() as client:
        text = client.get("/metrics").text
    found = re.findall(r'netflag_connections_dropped_total\{reason="(\w+)"\} (\S+)', text)
    return {reason: float(value) for reason, value in found}


def test_idle_slow_and_silent_clients_are_dropped_while_others_are_served(
    serve: ServerFactory,
) -> None:
    server = serve(*QUICK)
    idle = [connect(server) for _ in range(30)]
    silent = [connect(server) for _ in range(10)]
    for sock in silent:
        sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{")
    slow = [connect(server) for _ in range(10)]
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    answers: dict[socket.socket, bytes] = {}
    with server.client() as client:
        deadline = time.monotonic() + PATIENCE
        sent = 0
        while len(answers) < len(slow) and time.monotonic() < deadline:
            for sock in slow:  # one byte of the head each, every 0.2 s: slowloris
                if sock not in answers:
                    sock.sendall(head[sent : sent + 1])
            sent += 1
            readable, _, _ = select.select([s for s in slow if s not in answers], [], [], 0.2)
            for sock in readable:
                answers[sock] = until_closed(sock)
            assert client.post("/v1/score", json=SCORE).status_code == 200
    assert [status(answers.get(sock, b"HTTP/1.1 0 never")) for sock in slow] == [408] * 10
    assert b"the request head did not arrive within 2 s" in answers[slow[0]]
    assert {until_closed(sock) for sock in idle} == {b""}
    for sock in silent:
        answer = until_closed(sock)
        assert status(answer) == 408
        assert answer.endswith(b'{"error":"the request body did not arrive within 2 s"}')
    counts = dropped(server)
    assert counts["header_timeout"] == 10
    assert counts["body_timeout"] == 10
    assert counts["idle"] >= 30
    assert "Traceback" not in server.stderr()


def test_a_head_over_the_limit_is_431_and_one_under_it_is_served(serve: ServerFactory) -> None:
    server = serve("--max-header-bytes", "16384")
    with server.client() as client:
        assert client.get("/healthz", headers={"X-Fill": "a" * 8_000}).status_code == 200
        big = client.get("/healthz", headers={"X-Fill": "a" * 65_536})
        assert big.status_code == 431
        assert big.json() == {"error": "the request head is over 16,384 bytes"}
        long_url = client.get("/healthz?" + "a" * 20_000)
        assert long_url.status_code == 431
        assert client.get("/healthz").status_code == 200  # a new connection: still served
    assert dropped(server)["header_too_large"] == 2


def test_past_the_connection_cap_a_new_connection_gets_503_until_one_closes(
    serve: ServerFactory,
) -> None:
    server = serve("--max-connections", "5")
    held = [connect(server) for _ in range(5)]
    time.sleep(0.5)  # the server has taken them: accepting is asynchronous
    refused = until_closed(connect(server))
    assert status(refused) == 503
    assert refused.endswith(b'{"error":"more than 5 connections are open: retry later"}')
    held.pop().close()
    for _ in range(50):  # until the server has seen that close
        answer = until_closed_after(connect(server), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        if status(answer) == 200:
            break
        time.sleep(0.1)
    assert status(answer) == 200
    for sock in held:
        sock.close()
    assert dropped(server)["too_many_connections"] >= 1


def until_closed_after(sock: socket.socket, request: bytes) -> bytes:
    """Send ``request`` (asking the server to close after it) and read the answer."""
    sock.sendall(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    return until_closed(sock)


def test_https_with_a_self_signed_certificate(logs: Logs, tmp_path: Path) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    options = ("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    with Server(logs.batch, tmp_path / "state", *options, tls=trust) as server:
        assert server.url.startswith("https://127.0.0.1:")
        with server.client() as client:
            assert client.post("/v1/score", json=SCORE).json()["user"] == "1"
        plain = until_closed_after(connect(server), b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not plain.startswith(b"HTTP/1.1 200")  # no answer in clear text
        assert "https://127.0.0.1:" in server.stderr()


def serve_fails(logs: Logs, tmp_path: Path, *options: str) -> str:
    """Start ``netflag serve`` with ``options`` that must stop it: its one-line error."""
    command = [*NETFLAG, "serve", str(logs.batch), "--state", str(tmp_path / "s"), *options]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    return run.stderr.strip()


def test_a_missing_or_wrong_certificate_is_one_line(logs: Logs, tmp_path: Path) -> None:
    missing = serve_fails(logs, tmp_path, "--ssl-certfile", str(tmp_path / "none.pem"))
    assert missing == f"error: cannot read {tmp_path / 'none.pem'}: No such file or directory"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    wrong = serve_fails(logs, tmp_path, "--ssl-certfile", str(junk))
    assert wrong.startswith(f"error: {junk}: not a certificate and its key (")
    assert serve_fails(logs, tmp_path, "--ssl-keyfile", str(junk)) == (
        "error: --ssl-keyfile needs --ssl-certfile"
    )


def test_a_token_file_others_can_read_is_warned_about(logs: Logs, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("a-token-of-sixteen-or-more\n")
    warning = f"the token file {token} can be read by other users (mode 644): chmod 600 {token}"
    token.chmod(0o644)
    with Server(logs.batch, tmp_path / "open", "--token-file", str(token)) as server:
        assert f"netflag serve: WARNING: {warning}" in server.stderr()
    token.chmod(0o600)
    with Server(logs.batch, tmp_path / "closed", "--token-file", str(token)) as server:
        assert "WARNING" not in server.stderr()
        assert httpx.get(f"{server.url}/v1/stats").status_code == 401
