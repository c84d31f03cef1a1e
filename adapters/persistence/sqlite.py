"""SQLite event store whose every event is a ledger entry: the embedded default.

Appends run in ``BEGIN IMMEDIATE`` transactions, so that reading the head of the chain and
writing after it happen under SQLite's single write lock, also across processes. Triggers
refuse UPDATE and DELETE on ledger rows (SQLite has no TRUNCATE). A command's idempotency
key is stored in the same transaction (see the PostgreSQL recorder).
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError, ProgrammingError, StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteProcessRecorder,
    SQLiteTransaction,
)

from adapters.persistence.appending import (
    Frontier,
    originator_uuid,
    prepare_append,
    record_from_row,
    utc_now,
)
from domain.application import FirstAnswer, Idempotency, Repeated
from ledger.entry import ChainHead
from ledger.merkle import CompactRange, NodeKey, StridedNodes
from ledger.store import Record

READ_BATCH = 5000
# A checkpoint's note with its cosignature lines after the ledger's signature, in one order.
_COSIGNED_NOTE = (
    "c.note || COALESCE((SELECT group_concat(line, '') FROM (SELECT line FROM "
    "ledger_cosignatures s WHERE s.tree_size = c.tree_size ORDER BY cosigner)), '')"
)
_LEDGER_TABLES = (
    "stored_events",
    "ledger_nodes",
    "ledger_checkpoints",
    "ledger_cosignatures",
    "idempotency_keys",
)


class _ImmediateTransaction(SQLiteTransaction):
    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise OperationalError(e) from e
        return cursor


class LedgerSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        if events_table_name != "stored_events":
            raise ProgrammingError("the SQLite ledger keeps its events in stored_events")
        if datastore.originator_id_type != "uuid":
            raise ProgrammingError("ledger streams are UUIDs: set ORIGINATOR_ID_TYPE=uuid")
        super().__init__(datastore, events_table_name)
        self.clock = utc_now
        self.frontier = Frontier()
        self.insert_events_statement = (
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state, "
            "ledger_index, leaf_hash, chain_hash, stream_prev, state_sha256, recorded_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)"
        )

    def construct_create_table_statements(self) -> list[str]:
        statements = [
            "CREATE TABLE IF NOT EXISTS stored_events ("
            "originator_id TEXT NOT NULL, "
            "originator_version INTEGER NOT NULL, "
            "topic TEXT NOT NULL, "
            "state BLOB NOT NULL, "
            "ledger_index INTEGER NOT NULL CHECK (ledger_index = rowid - 1), "
            "leaf_hash BLOB NOT NULL, "
            "chain_hash BLOB NOT NULL, "
            "stream_prev BLOB, "
            "state_sha256 BLOB NOT NULL, "
            "recorded_at TEXT NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))",
            "CREATE TABLE IF NOT EXISTS ledger_nodes ("
            "level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, "
            "PRIMARY KEY (level, idx)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS ledger_checkpoints ("
            "tree_size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, "
            "signed_at TEXT NOT NULL)",
            # Witnesses' cosignature lines, appended to the checkpoint's note when it is read.
            "CREATE TABLE IF NOT EXISTS ledger_cosignatures ("
            "tree_size INTEGER NOT NULL REFERENCES ledger_checkpoints (tree_size), "
            "cosigner TEXT NOT NULL, line TEXT NOT NULL, received_at TEXT NOT NULL, "
            "PRIMARY KEY (tree_size, cosigner))",
            "CREATE TABLE IF NOT EXISTS idempotency_keys ("
            "key BLOB PRIMARY KEY, request BLOB NOT NULL, record TEXT NOT NULL, "
            "ledger_index INTEGER NOT NULL) WITHOUT ROWID",
        ]
        for table in _LEDGER_TABLES:
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
                    f"BEFORE {operation} ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'the ledger is append-only: {operation} on {table} refused'); END"
                )
        return statements

    # --- writing -----------------------------------------------------------------------------

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self.datastore.get_connection(commit=True) as conn:
            return self._insert_in(conn, stored_events, **kwargs)

    def _insert_in(
        self, conn: SQLiteConnection, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with _ImmediateTransaction(conn, commit=True) as c:
            return self._insert_events(c, stored_events, **kwargs)

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        idempotency: Idempotency | None = None,
        **_: Any,
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        if idempotency is not None:
            first = _first_answer(c, idempotency.key)
            if first is not None:
                raise Repeated(first)
        c.execute(
            "SELECT ledger_index, chain_hash, recorded_at FROM stored_events "
            "ORDER BY rowid DESC LIMIT 1"
        )
        row = c.fetchone()
        head = ChainHead.empty() if row is None else ChainHead(row[0] + 1, row[1], row[2])
        stream_heads = {}
        for stream in {originator_uuid(s) for s in stored_events}:
            c.execute(
                "SELECT leaf_hash FROM stored_events WHERE originator_id = ? "
                "ORDER BY originator_version DESC LIMIT 1",
                (stream.hex,),
            )
            row = c.fetchone()
            if row is not None:
                stream_heads[str(stream)] = row[0]
        frontier = self.frontier.matching(head) or CompactRange.load(
            head.size, StridedNodes(_CursorNodes(c))
        )
        append = prepare_append(head, stream_heads, frontier, stored_events, self.clock())
        c.executemany(
            "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?,?,?)",
            [(key[0], key[1], h) for key, h in append.nodes],
        )
        c.executemany(
            self.insert_events_statement,
            [
                (
                    link.entry.index + 1,
                    originator_uuid(s).hex,
                    s.originator_version,
                    s.topic,
                    s.state,
                    link.entry.index,
                    link.leaf_hash,
                    link.chain_hash,
                    None
                    if link.entry.stream_prev is None
                    else bytes.fromhex(link.entry.stream_prev),
                    bytes.fromhex(link.entry.state_sha256),
                    link.entry.recorded_at,
                )
                for s, link in zip(stored_events, append.links, strict=True)
            ],
        )
        if idempotency is not None:
            c.execute(
                "INSERT INTO idempotency_keys (key, request, record, ledger_index) "
                "VALUES (?,?,?,?)",
                (
                    idempotency.key,
                    idempotency.request,
                    idempotency.record.hex,
                    append.links[-1].entry.index,
                ),
            )
        # Checked against the chain before use, so a rolled-back append does no harm.
        self.frontier.remember(frontier, append.links[-1].chain_hash)
        return [link.entry.index + 1 for link in append.links]

    def first_answer(self, key: bytes) -> FirstAnswer | None:
        """What the command with this idempotency key answered, if it was recorded."""
        with self.datastore.transaction(commit=False) as c:
            return _first_answer(c, key)

    # --- reading (ledger.store.LedgerStore) ---------------------------------------------------

    def ledger_size(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT COALESCE(MAX(rowid), 0) FROM stored_events")
            return int(c.fetchone()[0])

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        with self.datastore.transaction(commit=False) as c:
            return StridedNodes(_CursorNodes(c)).read_nodes(keys)

    def records(self, first: int, last: int) -> Iterator[Record]:
        start = first
        while start <= last:
            stop = min(last, start + READ_BATCH - 1)
            with self.datastore.transaction(commit=False) as c:
                c.execute(
                    "SELECT ledger_index, originator_id, originator_version, topic, state, "
                    "leaf_hash, chain_hash, stream_prev, state_sha256, recorded_at "
                    "FROM stored_events WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
                    (start + 1, stop + 1),
                )
                rows = c.fetchall()
            yield from (record_from_row(row, _uuid(row["originator_id"])) for row in rows)
            if len(rows) < stop - start + 1:
                return
            start = stop + 1

    def signed_checkpoints(self) -> list[str]:
        """Every signed checkpoint, with the cosignatures witnesses gave it."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT {_COSIGNED_NOTE} FROM ledger_checkpoints c ORDER BY tree_size")
            return [row[0] for row in c.fetchall()]

    def latest_signed_checkpoint(self) -> str | None:
        latest = self.latest_checkpoint()
        return None if latest is None else latest[0]

    def latest_checkpoint(self) -> tuple[str, datetime] | None:
        """The newest signed checkpoint and when it was signed."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {_COSIGNED_NOTE}, signed_at FROM ledger_checkpoints c "
                "ORDER BY tree_size DESC LIMIT 1"
            )
            row = c.fetchone()
            return None if row is None else (str(row[0]), datetime.fromisoformat(row[1]))

    def store_cosignature(self, size: int, cosigner: str, line: str, received_at: datetime) -> None:
        """A witness's cosignature line for the checkpoint of ``size`` (checked by the caller)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO ledger_cosignatures (tree_size, cosigner, line, received_at) "
                "VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
                (size, cosigner, line, received_at.isoformat()),
            )

    def cosigned_size(self, cosigner: str) -> int:
        """The largest tree a witness cosigned for this ledger, 0 for none."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT COALESCE(MAX(tree_size), 0) FROM ledger_cosignatures WHERE cosigner = ?",
                (cosigner,),
            )
            return int(c.fetchone()[0])

    def signed_checkpoint_at(self, size: int) -> str | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT note FROM ledger_checkpoints WHERE tree_size = ?", (size,))
            row = c.fetchone()
            return None if row is None else str(row[0])

    @contextmanager
    def signer_lock(self) -> Iterator[None]:
        """One signer per ledger, also across processes: a lock on a file beside the
        database (an in-memory database has one process: the checkpointer's own lock)."""
        pool = self.datastore.pool
        if pool.is_sqlite_memory_mode:
            yield
            return
        with open(f"{pool.db_name}.signer-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def store_checkpoint(self, size: int, root: bytes, note: str, signed_at: datetime) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO ledger_checkpoints (tree_size, root, note, signed_at) "
                "VALUES (?,?,?,?) ON CONFLICT (tree_size) DO NOTHING",
                (size, root, note, signed_at.isoformat()),
            )


class LedgerSQLiteProcessRecorder(SQLiteProcessRecorder, LedgerSQLiteApplicationRecorder):
    """Tracking row and ledger entries in one transaction."""

    def __init__(self, datastore: SQLiteDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)


class LedgerSQLiteFactory(SQLiteFactory):
    application_recorder_class = LedgerSQLiteApplicationRecorder
    process_recorder_class = LedgerSQLiteProcessRecorder


class _CursorNodes:
    def __init__(self, c: SQLiteCursor) -> None:
        self.c = c

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        for level, idx in keys:
            if level == 0:
                self.c.execute("SELECT leaf_hash FROM stored_events WHERE rowid = ?", (idx + 1,))
            else:
                self.c.execute(
                    "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?", (level, idx)
                )
            row = self.c.fetchone()
            if row is None:
                raise ProgrammingError(f"ledger subtree ({level}, {idx}) missing from the store")
            found[(level, idx)] = bytes(row[0])
        return found


def _first_answer(c: SQLiteCursor, key: bytes) -> FirstAnswer | None:
    c.execute("SELECT request, record, ledger_index FROM idempotency_keys WHERE key = ?", (key,))
    row = c.fetchone()
    return None if row is None else FirstAnswer(bytes(row[0]), UUID(row[1]), row[2])


def _uuid(hex_text: str) -> str:
    return str(UUID(hex_text))
