"""PostgreSQL event store whose every event is a ledger entry (psycopg 3, eventsourcing 9.5).

An append is one autocommit call of the ledger's append function (made by the ledger's
migrations, ``schema._APPEND_POSTGRES``): on the server it takes one transaction-scoped
advisory lock per ledger (the library's EXCLUSIVE table lock would need UPDATE privilege,
which the application role must not hold), so insert order is commit order; reads the heads of
the chain and of the streams, computes the entries and the subtrees they complete, and inserts
both in the same transaction as the events. The client renders beforehand whatever does not
depend on the heads (``ledger.entry.head_free_members``), so nothing waits on it under the
lock, and the call is one round trip. The ledger columns are NOT NULL, and triggers refuse
UPDATE, DELETE and TRUNCATE.

A command's idempotency key is stored in the same transaction, under the same lock, after
the library's retry too: a COMMIT whose acknowledgement was lost is found there on the retry,
which then records nothing (``domain.application.Repeated``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
    PostgresProcessRecorder,
)
from eventsourcing.utils import Environment, EnvType
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from adapters.config import ConfigurationError
from adapters.persistence.appending import originator_uuid, utc_now
from adapters.persistence.recorder import LedgerRecorder, Statements
from adapters.persistence.schema import (
    LEDGER,
    append_function,
    ledger_names,
    ledger_tables,
    lock_key,
    migrate,
)
from adapters.persistence.sqldb import Cursor as SQLCursor
from domain.application import FirstAnswer, Idempotency, Repeated
from ledger.entry import head_free_members
from ledger.merkle import NodeKey

INSERT_ATTEMPTS = 3

ADVISORY_LOCK = "SELECT pg_advisory_xact_lock({0})"
# Binary parameters: hashes and states travel as bytes, not as escaped text.
CALL_APPEND = (
    "SELECT first_index, repeated_request, repeated_record FROM {schema}.{append}("
    "%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %b::bytea[], %b::bytea[], "
    "%b::bytea[], %b::timestamptz, %b::bytea, %b::bytea, %b::uuid, %b::text, %b::text)"
)
SELECT_SAME_EVENTS = (
    "SELECT e.originator_id, e.originator_version, e.state, e.notification_id "
    "FROM unnest(%s::uuid[], %s::bigint[]) AS k(id, version) "
    "JOIN {schema}.{events} AS e ON e.originator_id = k.id "
    "AND e.originator_version = k.version"
)
# Every stored hash a proof or a root needs, in one query: a join whose generic plan probes
# both primary keys (ranges would plan a scan of the subtrees). The keys go as array literals,
# which the server parses in C: psycopg dumps a list element by element in Python.
SELECT_NODES = (
    "SELECT n.level, n.idx, n.hash FROM unnest(%s::smallint[], %s::bigint[]) AS k(level, idx) "
    "JOIN {schema}.{nodes} AS n ON n.level = k.level AND n.idx = k.idx "
    "UNION ALL SELECT 0, e.ledger_index, e.leaf_hash FROM {schema}.{events} AS e "
    "WHERE e.notification_id = ANY(%s::bigint[])"
)
# A checkpoint's note with its cosignature lines after the ledger's signature.
_COSIGNED_NOTE = (
    "c.note || COALESCE((SELECT string_agg(s.line, '' ORDER BY s.cosigner) "
    "FROM {schema}.{cosignatures} s WHERE s.tree_size = c.tree_size), '') AS note"
)
STATEMENTS = Statements(
    select_size="SELECT COALESCE(MAX(notification_id), 0) AS size FROM {schema}.{events}",
    select_records=(
        "SELECT ledger_index, originator_id, originator_version, topic, state, leaf_hash, "
        "chain_hash, stream_prev, state_sha256, recorded_at FROM {schema}.{events} "
        "WHERE notification_id BETWEEN %s AND %s ORDER BY notification_id"
    ),
    select_checkpoints=f"SELECT {_COSIGNED_NOTE} FROM {{schema}}.{{checkpoints}} c "
    "ORDER BY tree_size",
    select_latest_checkpoint=f"SELECT {_COSIGNED_NOTE}, c.signed_at "
    "FROM {schema}.{checkpoints} c ORDER BY tree_size DESC LIMIT 1",
    select_checkpoint_at="SELECT note FROM {schema}.{checkpoints} WHERE tree_size = %s",
    insert_checkpoint=(
        "INSERT INTO {schema}.{checkpoints} (tree_size, root, note, signed_at) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (tree_size) DO NOTHING"
    ),
    insert_cosignature=(
        "INSERT INTO {schema}.{cosignatures} (tree_size, cosigner, line, received_at) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
    ),
    select_cosigned_size=(
        "SELECT COALESCE(MAX(tree_size), 0) AS size FROM {schema}.{cosignatures} "
        "WHERE cosigner = %s"
    ),
    select_answer="SELECT request, record, ledger_index FROM {schema}.{idempotency} WHERE key = %s",
)


class LedgerPostgresApplicationRecorder(LedgerRecorder, PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            raise ProgrammingError("POSTGRES_ENABLE_DB_FUNCTIONS bypasses the ledger: turn it off")
        if datastore.originator_id_type != "uuid":
            raise ProgrammingError("ledger streams are UUIDs: set ORIGINATOR_ID_TYPE=uuid")
        self.tables = ledger_tables(events_table_name)
        self.nodes_table_name = self.tables["nodes"]
        self.checkpoints_table_name = self.tables["checkpoints"]
        self.cosignatures_table_name = self.tables["cosignatures"]
        self.idempotency_table_name = self.tables["idempotency"]
        names = {"schema": Identifier(datastore.schema)}
        names.update({key: Identifier(name) for key, name in self.tables.items()})
        names["append"] = Identifier(append_function(events_table_name))

        def sql(text: str) -> bytes:
            # Rendered once: psycopg would render a Composed query at every execution.
            return SQL(text).format(**names).as_bytes(None)

        self.sql = Statements(**{k: sql(v) for k, v in dataclasses.asdict(STATEMENTS).items()})
        # The events table is the ledger's (schema.LEDGER), made by its migrations.
        del self.sql_create_statements[self.create_table_statement_index]
        self.append_lock = SQL(ADVISORY_LOCK).format(
            lock_key(f"{datastore.schema}.{events_table_name}")
        )
        # As PostgreSQL spells it; None: wait as long as it takes.
        self.lock_timeout = f"{datastore.lock_timeout}s" if datastore.lock_timeout else None
        # Held for the whole signing, in a transaction of its own (``signer_lock``).
        self.signer_lock_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(datastore.lock_timeout),
            SQL(ADVISORY_LOCK).format(lock_key(f"{datastore.schema}.{events_table_name}.signer")),
        ]
        self.call_append = sql(CALL_APPEND)
        self.select_same_events = sql(SELECT_SAME_EVENTS)
        self.select_nodes = sql(SELECT_NODES)

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Processes starting together would otherwise deadlock on CREATE OR REPLACE, and
        # both apply a migration.
        curs.execute(self.append_lock)
        names = ledger_names(self.datastore.schema, self.events_table_name)
        migrate(LEDGER, SQLCursor(curs, postgres=True), names)
        super()._create_table(curs)

    # --- writing -----------------------------------------------------------------------------

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Retried when the connection fails, as in the library, but 3 times, not 10 (each may
        wait the connect timeout for the pool). A retry that finds these very events stored
        (the COMMIT went through, its acknowledgement was lost) answers with their ids rather
        than the duplicate key's IntegrityError; with an idempotency key, ``Repeated``."""
        for attempt in range(1, INSERT_ATTEMPTS + 1):
            try:
                return self._insert_once(stored_events, **kwargs)
            except (InterfaceError, OperationalError):
                if attempt == INSERT_ATTEMPTS:
                    raise
                time.sleep(0.2)
            except IntegrityError:
                stored = self._stored_ids(stored_events) if attempt > 1 else None
                if stored is None:
                    raise
                return stored
        raise ProgrammingError("unreachable: the last attempt returns or raises")

    def _stored_ids(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The notification ids of exactly these events, if they are all stored."""
        rows = self._rows(
            self.select_same_events,
            (
                [s.originator_id for s in stored_events],
                [s.originator_version for s in stored_events],
            ),
        )
        found = {(r["originator_id"], r["originator_version"]): r for r in rows}
        ids = []
        for s in stored_events:
            row = found.get((s.originator_id, s.originator_version))
            if row is None or bytes(row["state"]) != s.state:
                return None
            ids.append(int(row["notification_id"]))
        return ids

    def _insert_once(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One round trip: the append function's call, in autocommit. A process recorder's
        tracking row goes first, in the same transaction (as in the library)."""
        params = self._append_params(stored_events, kwargs.get("idempotency"))
        with self.datastore.get_connection() as conn:
            if kwargs.get("tracking") is None:
                with conn.cursor() as curs:
                    return self._call_append(curs, params)
            with conn.pipeline(), conn.transaction(), conn.cursor() as curs:
                self._insert_events(curs, stored_events, **kwargs)
                return self._call_append(curs, params)

    def _append_params(
        self, stored_events: Sequence[StoredEvent], idempotency: Idempotency | None
    ) -> tuple[Any, ...] | None:
        """Everything the append function needs that does not depend on the ledger's head,
        computed before a connection is taken: the states' hashes and the rendered members."""
        if not stored_events:
            return None
        streams = [originator_uuid(s) for s in stored_events]
        hashes = [hashlib.sha256(s.state).digest() for s in stored_events]
        members = [
            head_free_members(h.hex(), str(stream), s.originator_version, s.topic)
            for s, h, stream in zip(stored_events, hashes, streams, strict=True)
        ]
        # The server's clock, read under its lock, unless the recorder was given another.
        now = None if self.clock is utc_now else self.clock()
        key = request = record = None
        if idempotency is not None:
            key, request, record = idempotency.key, idempotency.request, idempotency.record
        return (
            streams,
            [s.originator_version for s in stored_events],
            [s.topic for s in stored_events],
            [s.state for s in stored_events],
            hashes,
            [middle.encode() for middle, _ in members],
            [tail.encode() for _, tail in members],
            now,
            key,
            request,
            record,
            self.channel_name,
            self.lock_timeout,
        )

    def _call_append(self, curs: Cursor[DictRow], params: tuple[Any, ...] | None) -> list[int]:
        if params is None:
            return []
        curs.execute(self.call_append, params, prepare=True, binary=True)
        row = curs.fetchone()
        if row is None:
            raise ProgrammingError("the append function answered no row")
        if row["repeated_request"] is not None:  # nothing was written
            raise Repeated(
                FirstAnswer(row["repeated_request"], row["repeated_record"], row["first_index"])
            )
        first = int(row["first_index"])
        return list(range(first + 1, first + 1 + len(params[0])))

    # --- what differs in reading -------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Cursor[DictRow]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs

    def _execute(self, cursor: Cursor[DictRow], statement: Any, params: Sequence[Any] = ()) -> None:
        cursor.execute(statement, params or None, prepare=True)

    @contextmanager
    def _reading_nodes(self) -> Iterator[Cursor[tuple[int, int, bytes]]]:
        # Tuples: a proof reads ~30-90 rows, and a dict per row costs more than the query.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            yield curs

    def _node_rows(
        self,
        cursor: Cursor[tuple[int, int, bytes]],
        inner: Sequence[NodeKey],
        leaves: Sequence[int],
    ) -> Iterable[tuple[int, int, bytes]]:
        levels = _array_literal(k[0] for k in inner)
        indices = _array_literal(k[1] for k in inner)
        ids = _array_literal(i + 1 for i in leaves)
        cursor.execute(self.select_nodes, (levels, indices, ids), prepare=True, binary=True)
        return cursor.fetchall()

    def _uuid_param(self, value: UUID) -> UUID:
        return value

    def _time_param(self, moment: datetime) -> datetime:
        return moment

    def _time_value(self, stored: datetime) -> datetime:
        return stored

    @contextmanager
    def signer_lock(self) -> Iterator[None]:
        """One signer per ledger: an advisory lock, released when its transaction ends."""
        with self.datastore.transaction(commit=False) as curs:
            for statement in self.signer_lock_statements:
                curs.execute(statement)
            yield


def grant_application_role(recorder: LedgerPostgresApplicationRecorder, role: str) -> None:
    """Let ``role`` read and append to the ledger tables (through the append function), and
    nothing else there."""
    tables = [
        SQL("{0}.{1}").format(Identifier(recorder.datastore.schema), Identifier(name))
        for name in (
            recorder.events_table_name,
            recorder.nodes_table_name,
            recorder.checkpoints_table_name,
            recorder.cosignatures_table_name,
            recorder.idempotency_table_name,
        )
    ]
    target = SQL(", ").join(tables)
    with recorder.datastore.transaction(commit=True) as curs:
        curs.execute(
            SQL("GRANT USAGE ON SCHEMA {0} TO {1}").format(
                Identifier(recorder.datastore.schema), Identifier(role)
            )
        )
        curs.execute(SQL("REVOKE ALL ON {0} FROM {1}").format(target, Identifier(role)))
        curs.execute(SQL("GRANT SELECT, INSERT ON {0} TO {1}").format(target, Identifier(role)))
        curs.execute(
            SQL("GRANT EXECUTE ON FUNCTION {0}.{1} TO {2}").format(
                Identifier(recorder.datastore.schema),
                Identifier(append_function(recorder.events_table_name)),
                Identifier(role),
            )
        )


class LedgerPostgresProcessRecorder(PostgresProcessRecorder, LedgerPostgresApplicationRecorder):
    """Tracking row and ledger entries in one transaction."""


class LedgerPostgresFactory(PostgresFactory):
    application_recorder_class = LedgerPostgresApplicationRecorder
    process_recorder_class = LedgerPostgresProcessRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        _check_login(self.datastore)


# What the server says when it refuses a login for good; anything else (not up yet, starting,
# too many clients) the pool waits out.
_LOGIN_REFUSED = (
    "authentication failed",
    "no pg_hba.conf entry",
    "not permitted to log in",
    "does not exist",
)


def _check_login(datastore: PostgresDatastore) -> None:
    """A refused login is said at once, in the server's words. The pool would only say
    "couldn't get a connection" after its timeout: so it hid a password that no longer
    matched, e.g. made anew over an existing database volume."""
    kwargs = datastore.pool.kwargs
    if not isinstance(kwargs, dict):  # as PostgresDatastore makes it
        raise ProgrammingError("the connection pool keeps no connection parameters")
    params = {k: kwargs[k] for k in ("dbname", "host", "port", "user", "password")}
    try:
        psycopg.connect(**params, connect_timeout=10).close()
    except psycopg.OperationalError as e:
        if any(reason in str(e) for reason in _LOGIN_REFUSED):
            raise ConfigurationError(
                f"the database refuses the login in BEWIJSLAST_DATABASE_URL: {e}"
            ) from None


def _array_literal(numbers: Iterable[int]) -> str:
    return "{" + ",".join(map(str, numbers)) + "}"
