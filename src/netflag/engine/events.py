"""The three events the engine understands, already parsed and validated."""

from __future__ import annotations

from dataclasses import dataclass

from netflag.engine.money import Amount


@dataclass(frozen=True, slots=True)
class Purchase:
    """User ``user`` spent ``amount`` at ``timestamp`` (seconds, any fixed epoch)."""

    timestamp: int
    user: str
    amount: Amount


@dataclass(frozen=True, slots=True)
class Befriend:
    """An undirected friendship between two different users begins."""

    timestamp: int
    user1: str
    user2: str


@dataclass(frozen=True, slots=True)
class Unfriend:
    """An undirected friendship between two different users ends."""

    timestamp: int
    user1: str
    user2: str


Event = Purchase | Befriend | Unfriend
