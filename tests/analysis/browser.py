"""Open a page in headless Chromium and talk to it over the DevTools protocol (a pipe).

``--remote-debugging-pipe`` makes Chromium read protocol commands on fd 3 and
write replies and events on fd 4, each a JSON text ended by a NUL byte: no
port, no websocket library. The page's console errors, uncaught exceptions and
log entries come back as events, and ``evaluate`` reads values out of the page.

Chromium runs in a process group of its own: its helpers (zygotes, renderers,
the storage service that writes the profile) may outlive the main process for
a moment, so closing stops and waits for the whole group before the profile
directory is removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from netflag.devtools.servers import native_env

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


STOP_GRACE = 10.0  # seconds Chromium gets to exit on SIGTERM before SIGKILL


def group_alive(group: int) -> bool:
    """Whether a process of process group ``group`` still runs (zombies, being done, do not)."""
    with os.scandir("/proc") as entries:
        for entry in entries:
            if entry.name.isdigit() and _group_and_state(entry.path) == (group, True):
                return True
    return False


def _group_and_state(proc: str) -> tuple[int, bool] | None:
    """A process's group and whether it runs, from ``/proc/PID/stat``; None once it is gone."""
    try:
        stat = Path(proc, "stat").read_text()
    except OSError:
        return None
    state, _parent, group = stat.rsplit(")", 1)[1].split()[:3]
    return int(group), state != "Z"


def wait_group(leader: subprocess.Popen[bytes], seconds: float) -> bool:
    """Wait up to ``seconds`` for every process of ``leader``'s group to exit."""
    deadline = time.monotonic() + seconds
    while True:
        leader.poll()  # reap the leader: our child
        if not group_alive(leader.pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def stop_group(leader: subprocess.Popen[bytes], grace: float = STOP_GRACE) -> None:
    """SIGTERM the group ``leader`` heads, SIGKILL it after ``grace`` s, and wait until all is gone.

    Waiting for the leader alone is not enough: its children may still be
    writing files (Chromium's profile) when it has exited.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader.pid, sig)
        if wait_group(leader, grace):
            break
    leader.wait()


def chromium() -> str:
    """The Chromium binary; a clear failure (not a skip) when it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise AssertionError(
            "chromium is not installed; the report's browser test needs it: "
            "apt-get update && apt-get install -y chromium"
        )
    return found


class Browser:
    """One headless Chromium with one page; collects the page's errors as they happen."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.errors: list[str] = []
        self._next_id = 0
        self._buffer = b""
        self._session: str | None = None

    def __enter__(self) -> Browser:
        binary = chromium()
        self._profile = tempfile.TemporaryDirectory(prefix="netflag-chromium-")
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # The child gets the pipe ends as fds 3 and 4, whatever their numbers here
        # (bash, not sh: dash refuses fd numbers above 9 in redirections).
        script = f'exec "$0" "$@" 3<&{commands_read} 4>&{replies_write}'
        self._process = subprocess.Popen(
            ["bash", "-c", script, binary, *FLAGS, f"--user-data-dir={self._profile.name}"],
            pass_fds=(commands_read, replies_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a process group of its own, to stop as a whole
            env=native_env(),
        )
        os.close(commands_read)
        os.close(replies_write)
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
                "sessionId"
            ]
            for domain in ("Runtime", "Log", "Page"):
                self.call(f"{domain}.enable")
        except BaseException:
            self._close()  # no __exit__ follows a failed __enter__
            raise
        return self

    @property
    def pid(self) -> int:
        """Chromium's main process, which leads its process group."""
        return self._process.pid

    @property
    def profile(self) -> Path:
        """The profile directory, removed once Chromium and all its helpers have exited."""
        return Path(self._profile.name)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        os.close(self._commands)
        stop_group(self._process)
        os.close(self._replies)
        self._profile.cleanup()

    def open(self, path: Path) -> None:
        """Navigate to a local file and wait for its load event."""
        self.call("Page.navigate", url=path.resolve().as_uri())
        self._wait(lambda m: m.get("method") == "Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page (promises are awaited)."""
        reply = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events meanwhile are collected)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self._session is not None and not method.startswith("Target."):
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        wanted = self._next_id
        reply = self._wait(lambda m: m.get("id") == wanted)
        if "error" in reply:
            raise AssertionError(f"{method} failed: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def _wait(self, match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                self._note(message)
                if match(message):
                    return message  # type: ignore[no-any-return]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise AssertionError(f"chromium did not answer within {self.timeout} s")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise AssertionError("chromium exited")
            self._buffer += chunk

    def _note(self, message: dict[str, Any]) -> None:
        """Keep every console error, uncaught exception and error log entry."""
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(f"uncaught: {text}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            values = [str(arg.get("value", arg.get("description"))) for arg in params["args"]]
            self.errors.append(f"console.{params['type']}: {' '.join(values)}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"log: {params['entry']['text']}")
