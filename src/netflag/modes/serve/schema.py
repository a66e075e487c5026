"""The shapes of the service's answers, for its OpenAPI schema (``docs/openapi.json``).

Handlers answer with bytes already encoded: these models describe the
answers and never re-validate them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    error: str = Field(description="What was wrong, in one line.")


class EventResult(BaseModel):
    status: str = Field(description='"applied" or "rejected"')
    seq: int = Field(description="The event's position in the service's log (from 1).")
    event_type: str | None = Field(None, description="purchase, befriend or unfriend (applied)")
    reason: str | None = Field(None, description="Why the line was rejected (SPEC section 5).")
    flagged: bool | None = Field(None, description="For a purchase: whether it was flagged.")
    flag: str | None = Field(None, description="The line replay writes for this flag.")


class EventsAnswer(BaseModel):
    results: list[EventResult]


class NetworkRing(BaseModel):
    distance: int
    users: int


class BaselineItem(BaseModel):
    user: str
    timestamp: str
    amount: str


class Explained(BaseModel):
    user: str
    amount: str
    timestamp: str | None
    seq: int | None
    D: int
    T: int
    k: str
    network: list[NetworkRing]
    network_size: int
    baseline: list[BaselineItem]
    n: int
    mean: str | None
    sd: str | None
    threshold: str | None
    z_score: str | None
    flagged: bool
    reason: str


class FlagItem(BaseModel):
    seq: int
    flag: str


class FlagsAnswer(BaseModel):
    flags: list[FlagItem]
    last_seq: int = Field(description="Pass as ?after= for the next page.")


class FeedAnswer(BaseModel):
    user: str
    feed: list[FlagItem]


class Invite(BaseModel):
    seq: int
    user: str = Field(description="The flagged buyer recommended as a friend.")
    mutual_friends: list[str]


class InvitesAnswer(BaseModel):
    user: str
    recommendations: list[Invite]


class Stats(BaseModel):
    events: int
    checked: int
    flagged: int
    rejected: int
    seq: int
    users: int
    D: int
    T: int
    k: str
    snapshot_seq: int
    uptime_seconds: float


SCORE_BODY = {
    "type": "object",
    "required": ["id", "amount"],
    "properties": {
        "id": {
            "oneOf": [{"type": "string", "minLength": 1, "maxLength": 256}, {"type": "integer"}]
        },
        "amount": {
            "description": "A non-negative decimal, taken exactly from its text.",
            "oneOf": [
                {
                    "type": "string",
                    "pattern": r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$",
                    "maxLength": 128,
                },
                {"type": "number", "minimum": 0},
            ],
        },
        "timestamp": {
            "description": "Optional, 'YYYY-MM-DD HH:MM:SS': checked and echoed; the state"
            " now decides the score either way.",
            "type": "string",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
        },
    },
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}
