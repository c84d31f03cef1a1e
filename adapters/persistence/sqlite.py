"""SQLite event store whose every event is a ledger entry: the embedded default.

Appends run in ``BEGIN IMMEDIATE`` transactions, so that reading the head of the chain and
writing after it happen under SQLite's single write lock, also across processes. Triggers
refuse UPDATE and DELETE on ledger rows (SQLite has no TRUNCATE). A command's idempotency
key is stored in the same transaction (see the PostgreSQL recorder).
"""

from __future__ import annotations

import fcntl
import functools
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import (
    ConnectionPoolClosedError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteProcessRecorder,
    SQLiteTransaction,
)

from adapters.persistence.appending import Append, pending_entries
from adapters.persistence.recorder import ClientSideAppend, Cursor, Statements
from adapters.persistence.schema import LEDGER, ledger_names, migrate
from adapters.persistence.sqldb import Cursor as SQLCursor
from domain.application import Idempotency
from ledger.entry import ChainHead, EntrySink, PendingEntry
from ledger.merkle import NodeKey

SELECT_CHAIN_HEAD = (
    "SELECT ledger_index, chain_hash, recorded_at FROM stored_events ORDER BY rowid DESC LIMIT 1"
)
SELECT_STREAM_HEAD = (
    "SELECT leaf_hash FROM stored_events WHERE originator_id = ? "
    "ORDER BY originator_version DESC LIMIT 1"
)
SELECT_ENTRIES_FROM = (
    "SELECT originator_id, leaf_hash, chain_hash FROM stored_events WHERE rowid >= ? ORDER BY rowid"
)
INSERT_NODE = "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?,?,?)"
_INSERT_EVENTS = (
    "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state, "
    "ledger_index, leaf_hash, chain_hash, stream_prev, state_sha256, recorded_at) VALUES "
)
EVENT_COLUMNS = 11
# Rows an INSERT of events takes at most: one statement per row count is compiled and kept
# (``STATEMENTS_KEPT``), and a longer append runs several.
EVENTS_PER_INSERT = 32
SELECT_LEAF = "SELECT leaf_hash FROM stored_events WHERE rowid = ?"
SELECT_NODE = "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?"
# A checkpoint's note with its cosignature lines after the ledger's signature, in one order.
_COSIGNED_NOTE = (
    "c.note || COALESCE((SELECT group_concat(line, '') FROM (SELECT line FROM "
    "ledger_cosignatures s WHERE s.tree_size = c.tree_size ORDER BY cosigner)), '') AS note"
)
STATEMENTS = Statements(
    select_size="SELECT COALESCE(MAX(rowid), 0) AS size FROM stored_events",
    select_records=(
        "SELECT ledger_index, originator_id, originator_version, topic, state, "
        "leaf_hash, chain_hash, stream_prev, state_sha256, recorded_at "
        "FROM stored_events WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
    ),
    select_checkpoints=f"SELECT {_COSIGNED_NOTE} FROM ledger_checkpoints c ORDER BY tree_size",
    select_latest_checkpoint=f"SELECT {_COSIGNED_NOTE}, signed_at FROM ledger_checkpoints c "
    "ORDER BY tree_size DESC LIMIT 1",
    select_checkpoint_at="SELECT note FROM ledger_checkpoints WHERE tree_size = ?",
    insert_checkpoint=(
        "INSERT INTO ledger_checkpoints (tree_size, root, note, signed_at) "
        "VALUES (?,?,?,?) ON CONFLICT (tree_size) DO NOTHING"
    ),
    insert_cosignature=(
        "INSERT INTO ledger_cosignatures (tree_size, cosigner, line, received_at) "
        "VALUES (?,?,?,?) ON CONFLICT DO NOTHING"
    ),
    select_cosigned_size=(
        "SELECT COALESCE(MAX(tree_size), 0) AS size FROM ledger_cosignatures WHERE cosigner = ?"
    ),
    select_answer="SELECT request, record, ledger_index FROM idempotency_keys WHERE key = ?",
)


# A hash as an INSERT binds it. sqlite3 (CPython 3.11) looks every ``bytes`` parameter up in
# its adapter registry before it binds it, 0.6–0.9 µs each whatever its size, and binds a
# ``bytearray`` as the same BLOB without that: with four hashes a row it was ~40 % of the
# INSERT (docs/BENCHMARKS.md).
blob = bytearray
# An event's state is bound as a copy too, up to this size: the copy costs 0.24 µs at 500
# bytes and 0.5 µs at 8 KiB, more than the look-up above ~25 KiB (docs/BENCHMARKS.md).
STATE_COPIED = 16 * 1024

# Compiled statements each connection keeps (sqlite3's default).
STATEMENTS_KEPT = 128


@functools.cache
def insert_events_sql(rows: int) -> str:
    """One INSERT of ``rows`` events, their values in the order of ``_INSERT_EVENTS``'s columns.
    A statement of ten rows costs ~14 µs less than ten runs of a one-row statement with
    ``executemany`` (docs/BENCHMARKS.md)."""
    return _INSERT_EVENTS + ",".join(["(" + ",".join("?" * EVENT_COLUMNS) + ")"] * rows)


class _LedgerPool(SQLiteConnectionPool):
    """The library's pool, with two differences for the ledger's appends.

    Its connections keep their compiled statements: the library opens them with
    ``cached_statements=True``, which sqlite3 reads as a cache of one, so each statement of an
    append (BEGIN, the chain head's SELECT, the INSERT) was compiled anew every time, more CPU
    than all the ledger's hashing (docs/BENCHMARKS.md, issue 15).

    And a file database's appends write on a connection and cursor of their own
    (``_Appender``), opened as the pool opens its others, kept for the pool's life and closed
    with it. Getting and returning a pool connection for writing costs ~17 µs in Python (the
    pool's fairness semaphore, its writer lock, its accounting), ~44 µs with the library's
    transaction around an empty append, where the kept appender needs ~8, raw sqlite3 ~7
    (docs/BENCHMARKS.md).
    SQLite's write lock, taken by BEGIN IMMEDIATE, still orders the writers of every process;
    the appender's lock orders this process's threads, as the pool's writer lock did. An
    in-memory database's readers and writers must exclude each other, which only the pool
    does: there appends take a pool connection as before (``_PoolAppending``)."""

    _appender: _Appender | None
    _opening: threading.Lock

    @classmethod
    def adopt(cls, pool: SQLiteConnectionPool) -> None:
        """Make a pool the library's datastore made into this class (the connections it
        opens from now on keep their statements)."""
        pool.__class__ = cls
        adopted = cast(_LedgerPool, pool)
        adopted._appender = None
        adopted._opening = threading.Lock()

    def appending(self) -> AbstractContextManager[sqlite3.Cursor]:
        """A cursor in a ``BEGIN IMMEDIATE`` transaction on the connection appends write on,
        this process's threads one at a time: committed when the block ends, rolled back if
        it raises, sqlite3's errors raised as the library's."""
        if self.is_sqlite_memory_mode:
            return _PoolAppending(self)
        return self._appender or self._open_appender()

    def _open_appender(self) -> _Appender:
        with self._opening:
            if self._closed:
                raise ConnectionPoolClosedError("Pool is closed")
            if self._appender is None:
                # Kept for the pool's life: a local file's connection does not go stale, and
                # the library's max_age timer would wait for a connection never returned.
                self._appender = _Appender(self._open(max_age=None))
            return self._appender

    def close(self) -> None:
        with self._opening:
            if self._appender is not None:
                self._appender.close()
                self._appender = None
        super().close()

    def _create_connection(self) -> SQLiteConnection:
        return self._open(self.max_age)

    def _open(self, max_age: float | None) -> SQLiteConnection:
        # As the library's _create_connection, but for the cache.
        try:
            c = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,
                cached_statements=STATEMENTS_KEPT,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as e:
            raise InterfaceError(e) from e
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            if c.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                c.execute("PRAGMA journal_mode=WAL")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        c.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=c, max_age=max_age)


class _Appending:
    """An append's transaction (``_LedgerPool.appending``), on the bare sqlite3 cursor: begun
    with ``BEGIN IMMEDIATE`` and committed by a statement sqlite3 keeps compiled. The library's
    transaction (``SQLiteTransaction``) with its cursor wrapper, in a generator context
    manager, cost ~10 µs an append more (docs/BENCHMARKS.md). A failure still ends in the
    library's transaction: it rolls back and raises sqlite3's errors as the library's error
    types. What differs is where the connection comes from and goes back to."""

    __slots__ = ("_connection", "_cursor")
    _connection: SQLiteConnection
    _cursor: sqlite3.Cursor

    def _begin(self) -> None:
        try:
            self._cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise OperationalError(e) from e

    def _release(self) -> None:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                try:
                    self._cursor.execute("COMMIT")
                    return
                except sqlite3.Error as e:
                    exc_type, exc, traceback = type(e), e, e.__traceback__
            # Rolls back and raises the failure, sqlite3's as the library's error type.
            SQLiteTransaction(self._connection).__exit__(exc_type, exc, traceback)
        finally:
            self._release()


class _Appender(_Appending):
    """A file database's appends: one connection and one cursor, kept for the pool's life,
    entered by this process's threads one at a time. Kept whole, it makes nothing per append
    but the transaction (docs/BENCHMARKS.md)."""

    __slots__ = ("_lock", "closed")

    def __init__(self, connection: SQLiteConnection) -> None:
        self._connection = connection
        self._cursor = connection.cursor().sqlite_cursor
        self._lock = threading.Lock()
        self.closed = False

    def __enter__(self) -> sqlite3.Cursor:
        self._lock.acquire()
        try:
            if self.closed:  # the pool was closed after this appender was handed out
                raise ConnectionPoolClosedError("Pool is closed")
            self._begin()
        except BaseException:
            self._lock.release()
            raise
        return self._cursor

    def _release(self) -> None:
        self._lock.release()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._connection.close()


class _PoolAppending(_Appending):
    """An in-memory database's append: on the writer connection the pool hands out, given
    back when the transaction ends."""

    __slots__ = ("_pool",)

    def __init__(self, pool: _LedgerPool) -> None:
        self._pool = pool

    def __enter__(self) -> sqlite3.Cursor:
        self._connection = self._pool.get_connection(is_writer=True)
        try:
            self._cursor = self._connection.cursor().sqlite_cursor
            self._begin()
        except BaseException:
            self._release()
            raise
        return self._cursor

    def _release(self) -> None:
        self._pool.put_connection(self._connection)


class LedgerSQLiteApplicationRecorder(ClientSideAppend, SQLiteApplicationRecorder):
    sql = STATEMENTS
    insert_answer = (
        "INSERT INTO idempotency_keys (key, request, record, ledger_index) VALUES (?,?,?,?)"
    )

    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        if events_table_name != "stored_events":
            raise ProgrammingError("the SQLite ledger keeps its events in stored_events")
        if datastore.originator_id_type != "uuid":
            raise ProgrammingError("ledger streams are UUIDs: set ORIGINATOR_ID_TYPE=uuid")
        super().__init__(datastore, events_table_name)
        if type(datastore.pool) is SQLiteConnectionPool:
            _LedgerPool.adopt(datastore.pool)
        if not isinstance(datastore.pool, _LedgerPool):
            raise ProgrammingError("the SQLite ledger appends through its own pool class")
        self._pool = datastore.pool

    def construct_create_table_statements(self) -> list[str]:
        return []  # the ledger's tables are made by its migrations (schema.LEDGER)

    def _create_table(self, c: SQLiteCursor) -> None:
        migrate(LEDGER, SQLCursor(c, postgres=False), ledger_names(None, self.events_table_name))
        super()._create_table(c)

    # --- writing -----------------------------------------------------------------------------

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        pending = pending_entries(stored_events)  # before the lock: nothing here needs it
        with self._pool.appending() as cursor:
            return self._insert_events(cursor, stored_events, pending=pending, **kwargs)

    def _insert_events(
        self,
        c: Cursor,  # appending: the bare sqlite3 cursor (_LedgerPool.appending)
        stored_events: Sequence[StoredEvent],
        *,
        pending: Sequence[PendingEntry] = (),
        idempotency: Idempotency | None = None,
        **_: Any,
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        return self._append(c, pending, idempotency)

    def _chain_head(self, c: sqlite3.Cursor) -> ChainHead:
        c.execute(SELECT_CHAIN_HEAD)
        row = c.fetchone()
        return ChainHead.empty() if row is None else ChainHead(row[0] + 1, row[1], row[2])

    def _stream_head(self, c: sqlite3.Cursor, stream: UUID) -> bytes | None:
        c.execute(SELECT_STREAM_HEAD, (stream.hex,))
        row = c.fetchone()
        return None if row is None else bytes(row[0])

    def _entries_from(self, c: sqlite3.Cursor, index: int) -> list[tuple[str, bytes, bytes]]:
        c.execute(SELECT_ENTRIES_FROM, (index + 1,))
        return [(str(UUID(row[0])), row[1], row[2]) for row in c.fetchall()]

    def _rows_sink(self, recorded_at: str) -> tuple[list[object], EntrySink]:
        # The rows of one multi-row INSERT, flat (EVENT_COLUMNS values a row).
        values: list[object] = []
        add = values.extend

        def row(
            entry: PendingEntry, index: int, prev: bytes | None, leaf: bytes, chain: bytes
        ) -> None:
            stream, stream_seq, topic, state_sha256, _, state = entry
            add(
                (
                    index + 1,
                    stream.replace("-", ""),  # the library's hex, from the name
                    stream_seq,
                    topic,
                    blob(state) if len(state) <= STATE_COPIED else state,
                    index,
                    blob(leaf),
                    blob(chain),
                    None if prev is None else blob(prev),
                    blob(state_sha256),
                    recorded_at,
                )
            )

        return values, row

    def _insert_append(self, c: sqlite3.Cursor, rows: list[object], append: Append) -> None:
        if append.nodes:  # most appends complete no stored subtree
            c.executemany(INSERT_NODE, [(key[0], key[1], blob(h)) for key, h in append.nodes])
        step = EVENTS_PER_INSERT * EVENT_COLUMNS
        for start in range(0, len(rows), step):
            part = rows if len(rows) <= step else rows[start : start + step]
            c.execute(insert_events_sql(len(part) // EVENT_COLUMNS), part)

    # --- what differs in reading -------------------------------------------------------------

    def _reading(self) -> AbstractContextManager[SQLiteCursor]:
        reading: SQLiteTransaction = self.datastore.transaction(commit=False)
        return reading

    def _execute(self, cursor: SQLiteCursor, statement: str, params: Sequence[Any] = ()) -> None:
        cursor.execute(statement, params)

    def _node_rows(
        self, c: SQLiteCursor, inner: Sequence[NodeKey], leaves: Sequence[int]
    ) -> Iterable[tuple[int, int, bytes]]:
        # One small query per node: SQLite answers each from its own process.
        for level, idx in inner:
            c.execute(SELECT_NODE, (level, idx))
            row = c.fetchone()
            if row is not None:
                yield level, idx, row[0]
        for idx in leaves:
            c.execute(SELECT_LEAF, (idx + 1,))
            row = c.fetchone()
            if row is not None:
                yield 0, idx, row[0]

    def _uuid_param(self, value: UUID) -> str:
        return value.hex

    def _time_param(self, moment: datetime) -> str:
        return moment.isoformat()

    def _time_value(self, stored: str) -> datetime:
        return datetime.fromisoformat(stored)

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


class LedgerSQLiteProcessRecorder(SQLiteProcessRecorder, LedgerSQLiteApplicationRecorder):
    """Tracking row and ledger entries in one transaction."""

    def __init__(self, datastore: SQLiteDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)


class LedgerSQLiteFactory(SQLiteFactory):
    application_recorder_class = LedgerSQLiteApplicationRecorder
    process_recorder_class = LedgerSQLiteProcessRecorder
