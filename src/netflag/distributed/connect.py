"""Start a private local Ray, or join a cluster: Ray's own log lines off stderr, failures one line.

Ray 2.60 turns token authentication on by default, and a cluster that wants a
token answers a driver without one with ``Unauthenticated``, once a second for
20 s, each time as a C++ log line straight on file descriptor 2, and then with
an error that names the head's resolved IP, not the address the user gave. So
a join here:

- fails at once on an address nothing listens on (a TCP connect, 3 s at most),
  and on token variables that name no token;
- sets ``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN_PATH`` for ``--ray-token-file``
  (the file checked first: Ray aborts the process on an unreadable one);
- lets Ray try the cluster once, not 20 times: a connect that reached the port
  and failed will fail again (Ray's single try has its own timeouts);
- points fd 2 at /dev/null around ``ray.init`` unless ``verbose``;
- turns what Ray raised into one line that names the address given and the fix.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from netflag.errors import InputError

RAY_MISSING = '--workers needs Ray: pip install "netflag[ray]"'
PROBE_SECONDS = 3.0  # how long a cluster address may take to answer a TCP connect
TRIES_KNOB = "RAY_gcs_server_port_wait_time_s"  # how many times Ray tries the cluster's GCS
JOIN_TRIES = "1"  # Ray's default is 20, a second apart, each failing as the first did
AUTH_PLACES = "~/.ray/auth_token, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH"
AUTH_FIX = (
    f"set RAY_AUTH_MODE=token with the cluster's token in {AUTH_PLACES},"
    " or pass --ray-token-file FILE"
)
AUTH_SIGNS = ("InvalidAuthToken", "Unauthenticated", "AuthenticationError")


def import_ray() -> ModuleType:
    """Ray, or the one-line error that says how to get it."""
    try:
        import ray
    except ImportError:
        raise InputError(RAY_MISSING) from None
    return ray


def probe(address: str) -> None:
    """Fail fast on an address nothing listens on: Ray itself retries for minutes."""
    if address == "auto":
        return  # Ray finds the local cluster itself, and says at once when there is none
    where = address.removeprefix("ray://")
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray {address!r}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError(f"cannot reach the Ray cluster at {address}: {reason}") from None


def token_environment(token_file: Path | None) -> dict[str, str | None]:
    """The variables that make Ray send the token in ``token_file`` (None: leave them be).

    RAY_AUTH_TOKEN would win over the file, so it goes: the option says which
    token to send.
    """
    if token_file is None:
        return {}
    check_token_file(token_file, f"--ray-token-file {token_file}")
    path = str(token_file.resolve())
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": path, "RAY_AUTH_TOKEN": None}


def check_token_file(path: Path, label: str) -> None:
    """A token file must be readable and hold a token, or the error is one line here.

    Given a missing or empty one, Ray raises deep inside ``ray.init``, or
    aborts the process with a C++ stack.
    """
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise InputError(f"{label}: cannot read it: {reason}") from None
    if not text:
        raise InputError(
            f"{label}: the file is empty; copy the head's ~/.ray/auth_token into it"
            " (`ray get-auth-token` on the head prints it)"
        )


def check_token_variables() -> None:
    """RAY_AUTH_TOKEN_PATH, when it is where Ray will read the token from, names a token file."""
    if os.environ.get("RAY_AUTH_MODE", "").lower() != "token" or os.environ.get("RAY_AUTH_TOKEN"):
        return
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path:
        check_token_file(Path(path), f"RAY_AUTH_TOKEN_PATH={path}")


@contextmanager
def environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    """``os.environ`` with ``changes`` (None removes a name) for the block, then as it was."""
    saved = {name: os.environ.get(name) for name in changes}
    _set(changes)
    try:
        yield
    finally:
        _set(saved)


def _set(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def refresh_auth() -> None:
    """Make an already imported Ray read the authentication variables again.

    Ray caches its config and the token in C++; this is what Ray itself calls
    when it turns token mode on. A Ray without token authentication (before
    2.52) has neither, and nothing to refresh.
    """
    raylet = importlib.import_module("ray._raylet")
    config, loader = (
        getattr(raylet, "Config", None),
        getattr(raylet, "AuthenticationTokenLoader", None),
    )
    if config is None or loader is None:
        return
    config.initialize("")
    loader.instance().reset_cache()


@contextmanager
def quiet_stderr(verbose: bool) -> Iterator[None]:
    """File descriptor 2 on /dev/null for the block, unless ``verbose``.

    Ray's C++ clients log straight to fd 2, below Python's ``sys.stderr`` and
    its ``logging``; netflag's own line about any failure comes after the block.
    """
    if verbose:
        yield
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep clean
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def quiet_environment() -> None:
    """No usage-stats prompt and no import warnings from a Ray we start or join, and no
    "Unhandled error" log line for the results of calls still in flight when an actor is
    lost: netflag stops on the first failure it fetches and says it in one line
    (``ray_pool.describe_failure``); the later ones are that same failure again."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DISABLE_IMPORT_WARNING", "1")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")


def start_local(ray: ModuleType, count: int, verbose: bool = False) -> None:
    """A private Ray on this machine with ``count`` CPUs: no dashboard, loopback only."""
    with quiet_stderr(verbose):
        ray.init(
            num_cpus=count,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            **_logging(verbose),
        )


def join(
    ray: ModuleType, address: str, token_file: Path | None = None, verbose: bool = False
) -> None:
    """Join the cluster at ``address`` (as the user gave it), or raise one line saying why not.

    The caller has set the token variables (:func:`token_environment`), checked
    them (:func:`check_token_variables`) and probed the address (:func:`probe`);
    ``token_file`` only names the token in the error.
    """
    once = {} if TRIES_KNOB in os.environ else {TRIES_KNOB: JOIN_TRIES}
    try:
        with environment(once), quiet_stderr(verbose):
            ray.init(address=address, **_logging(verbose))
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, its own errors
        with quiet_stderr(verbose):
            ray.shutdown()  # whatever the failed join left half set up
        raise join_error(ray, address, error, token_file) from None


def _logging(verbose: bool) -> dict[str, Any]:
    level = logging.WARNING if verbose else logging.ERROR
    return {"logging_level": level, "log_to_driver": verbose}


def join_error(
    ray: ModuleType, address: str, error: BaseException, token_file: Path | None = None
) -> InputError:
    """What went wrong joining ``address``, in one line with the fix when it is known."""
    texts = [str(link) for link in _chain(error)]
    auth = getattr(ray.exceptions, "AuthenticationError", None)
    refused = any(sign in text for text in texts for sign in AUTH_SIGNS) or (
        auth is not None and any(isinstance(link, auth) for link in _chain(error))
    )
    where = f"cannot join the Ray cluster at {address} (--ray)"
    if not refused:
        return InputError(f"{where}: {last_line(texts[-1]) or type(error).__name__}")
    if os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
        return InputError(f"{where}: it requires a token (Ray token authentication); {AUTH_FIX}")
    sent = token_source(token_file)
    if sent is None:
        return InputError(
            f"{where}: RAY_AUTH_MODE=token but no token was found: put the cluster's token in"
            f" {AUTH_PLACES}, or pass --ray-token-file FILE"
        )
    return InputError(
        f"{where}: it refused the token from {sent}; use the head's token"
        " (`ray get-auth-token` on the head prints it)"
    )


def token_source(token_file: Path | None) -> str | None:
    """Where the token Ray sent came from, in Ray's order; None when there is none."""
    if token_file is not None:
        return f"--ray-token-file {token_file}"
    if os.environ.get("RAY_AUTH_TOKEN"):
        return "RAY_AUTH_TOKEN"
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path:
        return f"RAY_AUTH_TOKEN_PATH={path}"
    default = Path.home() / ".ray" / "auth_token"
    return "~/.ray/auth_token" if default.is_file() else None


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and what caused it, outermost first."""
    links: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in links:
        links.append(link)
        link = link.__cause__ or link.__context__
    return links


def last_line(text: str) -> str:
    """The line of ``text`` that says the most: a traceback's last, without the error's module."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1] if "Traceback" in text else lines[0]
    name, colon, rest = line.partition(": ")
    if colon and " " not in name and "." in name:  # ray.exceptions.RpcError: ... -> ...
        return rest.strip()
    return line
