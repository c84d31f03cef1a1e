"""What both ledger recorders do the same way: every read and the checkpoints, written once;
and the append flow of a recorder that computes the entries itself (``ClientSideAppend``).

A recorder for one database says only what differs (``postgres.py``, ``sqlite.py``): its SQL
(``Statements``), how it opens a cursor to read and, appending on the client (SQLite), how it
reads the heads of the chain and of the streams and how it inserts an append's rows. On
PostgreSQL the server computes the entries (``schema._APPEND_POSTGRES``). Everything here runs
under the recorder's write lock (appending) or in a transaction of its own (reading).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError

from adapters.persistence.appending import (
    STREAMS_KEPT,
    Append,
    Edge,
    prepare_append,
    record_from_row,
    utc_now,
)
from domain.application import FirstAnswer, Idempotency, Repeated
from ledger.entry import ChainHead, EntrySink, PendingEntry, next_recorded_at
from ledger.merkle import CompactRange, NodeKey, SettledNodes, StridedNodes
from ledger.store import Record

# Records read in one query: a long read neither holds one transaction open nor loads all.
READ_BATCH = 5000

# A database row, read by column name (psycopg's dict rows, sqlite3.Row).
Row = Any
# A cursor of either database, as the library hands it out.
Cursor = Any


@dataclass(frozen=True)
class Statements:
    """The SQL every recorder runs, each in its database's dialect and table names."""

    select_size: Any  # AS size
    select_records: Any  # the columns of ``record_from_row``, notification ids BETWEEN ? AND ?
    select_checkpoints: Any  # AS note, with the cosignature lines
    select_latest_checkpoint: Any  # AS note, with the cosignature lines, and signed_at
    select_checkpoint_at: Any
    insert_checkpoint: Any
    insert_cosignature: Any
    select_cosigned_size: Any  # AS size
    select_answer: Any


class LedgerRecorder(ABC):
    """Mixed into the library's application recorder of each database (which gives
    ``datastore``); the ledger's side of ``ledger.store.LedgerStore`` and the checkpointer."""

    sql: Statements
    datastore: Any
    clock = staticmethod(utc_now)

    # --- what differs per database ---------------------------------------------------------

    @abstractmethod
    def _reading(self) -> AbstractContextManager[Cursor]:
        """A cursor in a transaction that only reads."""

    @abstractmethod
    def _execute(self, cursor: Cursor, statement: Any, params: Sequence[Any] = ()) -> None: ...

    def _reading_nodes(self) -> AbstractContextManager[Cursor]:
        """The cursor, in a transaction that only reads, that ``_node_rows`` is given when a
        proof or a root reads the stored subtrees."""
        return self._reading()

    @abstractmethod
    def _node_rows(
        self, cursor: Cursor, inner: Sequence[NodeKey], leaves: Sequence[int]
    ) -> Iterable[tuple[int, int, bytes]]:
        """(level, index, hash) of the stored subtrees ``inner`` and of the ``leaves``, on a
        cursor of ``_reading_nodes`` or the append's."""

    @abstractmethod
    def _uuid_param(self, value: UUID) -> Any: ...

    @abstractmethod
    def _time_param(self, moment: datetime) -> Any: ...

    @abstractmethod
    def _time_value(self, stored: Any) -> datetime: ...

    # --- writing -----------------------------------------------------------------------------

    def store_checkpoint(self, size: int, root: bytes, note: str, signed_at: datetime) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self._execute(
                cursor, self.sql.insert_checkpoint, (size, root, note, self._time_param(signed_at))
            )

    def store_cosignature(self, size: int, cosigner: str, line: str, received_at: datetime) -> None:
        """A witness's cosignature line for the checkpoint of ``size`` (checked by the caller)."""
        with self.datastore.transaction(commit=True) as cursor:
            self._execute(
                cursor,
                self.sql.insert_cosignature,
                (size, cosigner, line, self._time_param(received_at)),
            )

    # --- reading (ledger.store.LedgerStore) ------------------------------------------------

    def _rows(self, statement: Any, params: Sequence[Any] = ()) -> list[Row]:
        with self._reading() as cursor:
            self._execute(cursor, statement, params)
            return list(cursor.fetchall())

    def _size(self, statement: Any, params: Sequence[Any] = ()) -> int:
        rows = self._rows(statement, params)
        if len(rows) != 1:  # MAX always answers one row
            raise ProgrammingError(f"a size query answered {len(rows)} rows")
        return int(rows[0]["size"])

    def first_answer(self, key: bytes) -> FirstAnswer | None:
        """What the command with this idempotency key answered, if it was recorded."""
        rows = self._rows(self.sql.select_answer, (key,))
        return first_answer_of(rows[0]) if rows else None

    def ledger_size(self) -> int:
        return self._size(self.sql.select_size)

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        return self._settled_nodes.read_nodes(keys)

    @cached_property
    def _settled_nodes(self) -> SettledNodes:
        return SettledNodes(StridedNodes(_ReadNodes(self)))

    def records(self, first: int, last: int) -> Iterator[Record]:
        start = first
        while start <= last:
            stop = min(last, start + READ_BATCH - 1)
            # The notification id is the ledger index plus one, and only that column is indexed.
            rows = self._rows(self.sql.select_records, (start + 1, stop + 1))
            yield from (record_from_row(row, str(_uuid(row["originator_id"]))) for row in rows)
            if len(rows) < stop - start + 1:
                return
            start = stop + 1

    def signed_checkpoints(self) -> list[str]:
        """Every signed checkpoint, with the cosignatures witnesses gave it."""
        return [str(row["note"]) for row in self._rows(self.sql.select_checkpoints)]

    def latest_signed_checkpoint(self) -> str | None:
        latest = self.latest_checkpoint()
        return None if latest is None else latest[0]

    def latest_checkpoint(self) -> tuple[str, datetime] | None:
        """The newest signed checkpoint and when it was signed."""
        rows = self._rows(self.sql.select_latest_checkpoint)
        return (str(rows[0]["note"]), self._time_value(rows[0]["signed_at"])) if rows else None

    def signed_checkpoint_at(self, size: int) -> str | None:
        rows = self._rows(self.sql.select_checkpoint_at, (size,))
        return str(rows[0]["note"]) if rows else None

    def cosigned_size(self, cosigner: str) -> int:
        """The largest tree a witness cosigned for this ledger, 0 for none."""
        return self._size(self.sql.select_cosigned_size, (cosigner,))


# Entries by other writers that an append reads to bring its edge up to date, at most;
# when more were appended, reading the tree's edge is quicker.
CATCH_UP = 64


class ClientSideAppend(LedgerRecorder):
    """A recorder whose process computes the entries (SQLite's; PostgreSQL's recorder has the
    server compute them): the states' hashes and the head-free members before it takes the
    write lock (``appending.pending_entries``), under it only what depends on the heads. The
    heads its last append left are kept (``appending.Edge``): an append by the only writer
    reads the chain head and nothing else before it inserts, and one after other writers'
    appends reads those appends' entries.

    A process's appends run one at a time (the recorder's write connection is taken under a
    lock), so the kept edge needs no lock of its own. It is taken while an append computes,
    so a failed one leaves nothing; it is kept again before the commit, which is harmless: a
    rolled-back append leaves a chain head that differs from the kept one."""

    _last_edge: Edge | None = None
    insert_answer: Any  # key, request, record, ledger_index

    @abstractmethod
    def _chain_head(self, cursor: Cursor) -> ChainHead: ...

    @abstractmethod
    def _stream_head(self, cursor: Cursor, stream: UUID) -> bytes | None:
        """The leaf hash of the stream's latest entry, None for a stream with none."""

    @abstractmethod
    def _entries_from(self, cursor: Cursor, index: int) -> Iterable[tuple[str, bytes, bytes]]:
        """(stream, leaf hash, chain hash) of the entries from ``index`` on, in order."""

    @abstractmethod
    def _rows_sink(self, recorded_at: str) -> tuple[Any, EntrySink]:
        """An append's rows, none yet, and the sink that adds each entry's row as the chain
        is computed (``ledger.entry.chain_pending``)."""

    @abstractmethod
    def _insert_append(self, cursor: Cursor, rows: Any, append: Append) -> None: ...

    def _append(
        self,
        cursor: Cursor,
        pending: Sequence[PendingEntry],
        idempotency: Idempotency | None,
    ) -> list[int]:
        """Append under the write lock: read the heads (or bring the last append's up to
        date), compute, insert, remember. Notification ids are the ledger indices plus one."""
        if idempotency is not None:
            self._execute(cursor, self.sql.select_answer, (idempotency.key,))
            row = cursor.fetchone()
            if row is not None:  # rolls back: nothing recorded, nothing notified
                raise Repeated(first_answer_of(row))
        head = self._chain_head(cursor)
        edge = self._edge_at(cursor, head)
        streams = edge.streams
        if len(streams) > STREAMS_KEPT:
            streams.clear()
        for stream in {entry[0] for entry in pending} - streams.keys():
            leaf = self._stream_head(cursor, UUID(stream))
            if leaf is not None:
                streams[stream] = leaf
        recorded_at = next_recorded_at(self.clock(), head.recorded_at)
        rows, sink = self._rows_sink(recorded_at)
        append = prepare_append(head, streams, edge.frontier, pending, recorded_at, sink)
        self._insert_append(cursor, rows, append)
        if idempotency is not None:
            answer = (idempotency.key, idempotency.request, self._uuid_param(idempotency.record))
            self._execute(cursor, self.insert_answer, (*answer, append.size - 1))
        edge.advance(append)
        self._last_edge = edge
        return list(range(append.first + 1, append.size + 1))

    def _edge_at(self, cursor: Cursor, head: ChainHead) -> Edge:
        """The edge of the ledger whose chain head is ``head``: the last append's if it is
        still the head or a few entries behind it, else read from the stored subtrees."""
        edge, self._last_edge = self._last_edge, None
        if edge is not None and not edge.reaches(head):
            behind = head.size - edge.size
            if not 0 < behind <= CATCH_UP or not (
                edge.follow(self._entries_from(cursor, edge.size - 1)) and edge.reaches(head)
            ):
                edge = None
        if edge is None:
            frontier = CompactRange.load(head.size, StridedNodes(_CursorNodes(self, cursor)))
            edge = Edge(head.size, head.chain_hash, frontier, {})
        return edge


class _ReadNodes:
    """The stored subtrees and leaves, read in a transaction of their own."""

    def __init__(self, recorder: LedgerRecorder) -> None:
        self.recorder = recorder

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        with self.recorder._reading_nodes() as cursor:
            return _CursorNodes(self.recorder, cursor).read_nodes(keys)


class _CursorNodes:
    """The stored subtrees and leaves, read on one cursor (the append's, under its lock)."""

    def __init__(self, recorder: LedgerRecorder, cursor: Cursor) -> None:
        self.recorder = recorder
        self.cursor = cursor

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        inner = [k for k in keys if k[0] > 0]
        leaves = [k[1] for k in keys if k[0] == 0]
        rows = self.recorder._node_rows(self.cursor, inner, leaves)
        found = {(level, idx): bytes(h) for level, idx, h in rows}
        missing = set(keys) - set(found)
        if missing:
            raise ProgrammingError(f"ledger subtrees missing from the store: {sorted(missing)[:5]}")
        return found


def first_answer_of(row: Row) -> FirstAnswer:
    """A stored idempotency key's row (``select_answer``) as the answer it records."""
    return FirstAnswer(bytes(row["request"]), _uuid(row["record"]), int(row["ledger_index"]))


def _uuid(stored: UUID | str) -> UUID:
    """A UUID as either database stores it: PostgreSQL's uuid, SQLite's hex text."""
    return stored if isinstance(stored, UUID) else UUID(stored)
