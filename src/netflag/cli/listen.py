"""Where ``netflag serve`` listens and who may talk to it: the address, the token, TLS."""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
from pathlib import Path

from netflag.errors import InputError
from netflag.io.reader import describe_os_error


def is_loopback(host: str) -> bool:
    """Whether ``host`` only takes connections from this machine.

    >>> [is_loopback(host) for host in ("127.0.0.1", "::1", "localhost", "0.0.0.0")]
    [True, True, True, False]
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(path: Path) -> str:
    """The bearer token in ``path`` (a warning if other users may read it too)."""
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise InputError(f"cannot read the token file {path}: {describe_os_error(error)}") from None
    except UnicodeDecodeError:
        raise InputError(f"cannot read the token file {path}: it is not UTF-8 text") from None
    if len(token) < 16:
        raise InputError(f"{path}: the token must be at least 16 characters")
    if mode & 0o077:
        logging.getLogger("netflag").warning(
            "the token file %s can be read by other users (mode %s): chmod 600 %s",
            path,
            oct(mode & 0o777)[2:],
            path,
        )
    return token


def check_tls(certfile: Path | None, keyfile: Path | None) -> None:
    """Load the certificate and key once before uvicorn does, so that a mistake is one
    line, not a traceback from the event loop."""
    if certfile is None:
        if keyfile is not None:
            raise InputError("--ssl-keyfile needs --ssl-certfile")
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except ssl.SSLError as error:
        pair = certfile if keyfile is None else f"{certfile} and {keyfile}"
        raise InputError(f"{pair}: not a certificate and its key ({error.reason})") from None
    except OSError as error:  # after SSLError, which is one
        name = error.filename or certfile
        raise InputError(f"cannot read {name}: {describe_os_error(error)}") from None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (so the port is known, even for --port 0, before serving)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        raise InputError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock
