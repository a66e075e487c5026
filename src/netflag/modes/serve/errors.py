"""What the service answers instead of a result: one error for each way a request can fail.

They sit below the writer and the queries that raise them, so the app's error
handlers can give each its status without reaching into the service.
"""

from __future__ import annotations

from netflag.errors import NetflagError


class Conflict(NetflagError):
    """An idempotency key reused for another body."""


class Unavailable(NetflagError):
    """The service cannot make events durable now (a failed disk write, shutting down)."""


class Gone(NetflagError):
    """The event asked about is behind the last snapshot: its log was truncated."""


class NotFound(NetflagError):
    """No such event (or it is not a purchase)."""
