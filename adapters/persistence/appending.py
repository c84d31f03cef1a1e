"""What both databases do the same way when events are appended to the ledger."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent

from ledger.entry import ChainHead, Entry, Link, NewEvent, extend_chain
from ledger.merkle import CompactRange, NodeKey, is_stored_level
from ledger.store import Record

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Append:
    """The rows one transaction adds: entries and the subtrees they complete."""

    links: list[Link]
    nodes: list[tuple[NodeKey, bytes]]


def originator_uuid(stored: StoredEvent) -> UUID:
    if not isinstance(stored.originator_id, UUID):
        raise ProgrammingError("ledger streams are UUIDs: set ORIGINATOR_ID_TYPE=uuid")
    return stored.originator_id


class Frontier:
    """The right edge of the tree as of the last append by this process.

    Kept in memory so that an append needs no extra query; it is used only when the
    chain hash read under the write lock shows that nobody else appended since (a chain
    hash commits to every leaf before it, so equal chain hashes mean an equal tree).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: tuple[int, bytes, tuple[bytes, ...]] | None = None

    def matching(self, head: ChainHead) -> CompactRange | None:
        with self._lock:
            state = self._state
        if state is None or state[0] != head.size or state[1] != head.chain_hash:
            return None
        return CompactRange(state[0], state[2])

    def remember(self, frontier: CompactRange, chain_hash: bytes) -> None:
        with self._lock:
            self._state = (frontier.size, chain_hash, tuple(frontier.hashes))


def prepare_append(
    head: ChainHead,
    stream_heads: Mapping[str, bytes],
    frontier: CompactRange,
    stored_events: Sequence[StoredEvent],
    now: datetime,
) -> Append:
    """Compute entries and completed subtrees; the caller holds the write lock."""
    if frontier.size != head.size:
        raise ProgrammingError("the tree and the chain disagree on the ledger size")
    events = [
        NewEvent(str(originator_uuid(s)), s.originator_version, s.topic, s.state)
        for s in stored_events
    ]
    links = extend_chain(head, events, now, stream_heads)
    nodes: list[tuple[NodeKey, bytes]] = []
    for link in links:
        nodes.extend(n for n in frontier.append(link.leaf_hash) if is_stored_level(n[0][0]))
    return Append(links, nodes)


def record_from_row(row: Mapping[str, Any], stream: str) -> Record:
    """A stored row as the ledger sees it; both databases select the same columns."""
    prev = row["stream_prev"]
    entry = Entry(
        index=row["ledger_index"],
        stream=stream,
        stream_seq=row["originator_version"],
        stream_prev=None if prev is None else bytes(prev).hex(),
        topic=row["topic"],
        state_sha256=bytes(row["state_sha256"]).hex(),
        recorded_at=row["recorded_at"],
    )
    return Record(entry, bytes(row["leaf_hash"]), bytes(row["chain_hash"]), bytes(row["state"]))
