"""What both databases do the same way when events are appended to the ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent

from ledger.entry import (
    ChainHead,
    Entry,
    EntrySink,
    PendingEntry,
    chain_pending,
    pending_entry,
)
from ledger.merkle import CompactRange, NodeKey
from ledger.store import Record

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Append(NamedTuple):
    """What one transaction adds beside the rows its sink was given (``prepare_append``):
    the entries from index ``first`` up to ``size``, the last one's chain hash, and the
    stored subtrees they complete. A named tuple: one is made per append, under the write
    lock."""

    first: int
    size: int
    chain_hash: bytes
    nodes: list[tuple[NodeKey, bytes]]


def originator_uuid(stored: StoredEvent) -> UUID:
    if not isinstance(stored.originator_id, UUID):
        raise ProgrammingError("ledger streams are UUIDs: set ORIGINATOR_ID_TYPE=uuid")
    return stored.originator_id


def pending_entries(stored_events: Sequence[StoredEvent]) -> list[PendingEntry]:
    """What an append computes before it takes the write lock (``ledger.entry.PendingEntry``)."""
    pending = []
    of = pending_entry
    # The events of an append are mostly of one stream, one UUID object: its name is made
    # once (asked by identity, since a UUID's hash is computed in Python at every call).
    stream: object = None
    name = ""
    for s in stored_events:
        if s.originator_id is not stream:
            stream, name = s.originator_id, str(originator_uuid(s))
        pending.append(of(name, s.originator_version, s.topic, s.state))
    return pending


# Streams whose heads a process keeps in memory (all forgotten when there are more: one
# aggregate per command is the common case).
STREAMS_KEPT = 256


@dataclass
class Edge:
    """The ledger's head as one process knows it: the chain head, the right edge of the tree
    and the heads of the streams it saw lately (a stream absent here is read from the store).

    Trusted only while the chain head read under the write lock is this one: a chain hash
    commits to every entry before it, so an equal one means an equal ledger."""

    size: int
    chain_hash: bytes
    frontier: CompactRange
    streams: dict[str, bytes]

    def reaches(self, head: ChainHead) -> bool:
        return self.size == head.size and self.chain_hash == head.chain_hash

    def follow(self, entries: Iterable[tuple[str, bytes, bytes]]) -> bool:
        """Take in the entries other writers appended after this edge, given as (stream,
        leaf hash, chain hash) from this edge's last entry on; False (the edge is then of
        no use) if that first entry is not the one this edge knows."""
        rows = iter(entries)
        first = next(rows, None)
        if first is None or first[2] != self.chain_hash:
            return False
        for stream, leaf, chain in rows:
            self.frontier.append(leaf)  # the subtrees it completes are stored already
            self.streams[stream] = leaf
            self.size, self.chain_hash = self.size + 1, chain
        return True

    def advance(self, append: Append) -> None:
        """Take in this process's own append, computed from this edge (which took in its
        streams' and its tree's heads as it was computed)."""
        self.size, self.chain_hash = append.size, append.chain_hash


def prepare_append(
    head: ChainHead,
    stream_heads: dict[str, bytes],
    frontier: CompactRange,
    pending: Sequence[PendingEntry],
    recorded_at: str,
    sink: EntrySink,
) -> Append:
    """Compute entries and completed subtrees, each entry given to ``sink`` as it is
    computed; the caller holds the write lock. The heads of the streams and the tree's edge
    are brought up to date in place: a caller whose append fails forgets them
    (``ClientSideAppend``)."""
    if frontier.size != head.size:
        raise ProgrammingError("the tree and the chain disagree on the ledger size")
    chain, leaves = chain_pending(head, recorded_at, pending, stream_heads, sink)
    nodes = frontier.extend(leaves)
    return Append(head.size, head.size + len(leaves), chain, nodes)


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
