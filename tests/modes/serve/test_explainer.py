"""Explanations in processes of their own: the same answer as in-process, errors carried
back as themselves, a worker that dies is a 503-type error, and nothing outlives a
service killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from netflag.devtools.bench.soak import descendants
from netflag.modes.serve.errors import Gone, NotFound, Unavailable
from netflag.modes.serve.explainer import Explainer
from tests.modes.serve.server import Server
from tests.modes.serve.test_service import BATCH, BUY, post, started


def test_an_explanation_from_a_worker_is_the_one_made_here(tmp_path: Path) -> None:
    service = started(BATCH, tmp_path / "state", snapshot_every=3)
    first = [(BUY % (2, "1601.83")).encode(), (BUY % (1, "5")).encode(), (BUY % (1, "6")).encode()]
    post(service, [(first, None), ([(BUY % (2, "7")).encode()], None), ([b"{}"], None)])
    explainer = service.queries.explainer

    async def ask() -> None:
        # Events 1-3 are behind the snapshot taken after event 3; events 4-5 are in the log.
        assert await explainer.explain(4, service.synced) == service.explain_seq(4)
        with pytest.raises(Gone, match="the snapshot at event 3 replaced"):
            await explainer.explain(1, service.synced)
        with pytest.raises(NotFound, match="event 5 was rejected: "):
            await explainer.explain(5, service.synced)
        with pytest.raises(NotFound, match=r"no event 6 in the log \(it holds 1..5\)"):
            await explainer.explain(6, service.synced)
        assert explainer.running == set()  # each process ended with its explanation

    try:
        asyncio.run(ask())
    finally:
        asyncio.run(service.close())


def test_a_worker_that_dies_is_unavailable_and_the_next_one_answers(tmp_path: Path) -> None:
    service = started(BATCH, tmp_path / "state")
    post(service, [([(BUY % (2, "1601.83")).encode()], None)])
    explainer = Explainer(service.journal.path, service.journal.version, "auto")

    async def ask() -> None:
        asking = asyncio.ensure_future(explainer.explain(1, service.synced))
        while not any(process.pid for process in explainer.running):
            await asyncio.sleep(0.001)
        for process in list(explainer.running):
            assert process.pid is not None
            os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(Unavailable, match="the explanation's process died"):
            await asking
        assert (await explainer.explain(1, service.synced)).flagged is True

    try:
        asyncio.run(ask())
    finally:
        explainer.close()
        asyncio.run(service.close())


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_nothing_outlives_a_service_killed_or_stopped_after_explaining(tmp_path: Path) -> None:
    with Server(BATCH, tmp_path / "state") as server:
        for end in (server.kill, server.stop):
            if server.process is None:  # killed: a restart on the same state
                server.start()
            with server.client() as client:
                answer = client.post("/v1/events", content=BUY % (2, "1601.83")).json()
                seq = answer["results"][0]["seq"]
                assert client.get("/v1/explain", params={"seq": seq}).json()["flagged"] is True
            assert server.process is not None
            helpers = set(descendants(server.process.pid))
            assert helpers  # the fork server, at least
            end()
            deadline = time.monotonic() + 30
            while any(map(alive, helpers)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert [pid for pid in helpers if alive(pid)] == [], end
