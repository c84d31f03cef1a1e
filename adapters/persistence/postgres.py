"""PostgreSQL event store whose every event is a ledger entry (psycopg 3, eventsourcing 9.5).

Writers are serialised by one transaction-scoped advisory lock per ledger (the library's
EXCLUSIVE table lock would need UPDATE privilege, which the application role must not hold),
so insert order is commit order. Inside that lock the recorder reads the head of the chain,
computes the entries and the subtrees they complete, and inserts both in the same transaction
as the events. The ledger columns are NOT NULL, and triggers refuse UPDATE, DELETE and
TRUNCATE.

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
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from adapters.config import ConfigurationError
from adapters.persistence.appending import Append, Frontier
from adapters.persistence.recorder import Heads, LedgerRecorder, Statements
from adapters.persistence.schema import LEDGER, ledger_names, ledger_tables, migrate
from adapters.persistence.sqldb import Cursor as SQLCursor
from domain.application import FirstAnswer
from ledger.entry import ChainHead
from ledger.merkle import NodeKey

INSERT_ATTEMPTS = 3

LOCK_TIMEOUT = "SET LOCAL lock_timeout = '{0}s'"
ADVISORY_LOCK = "SELECT pg_advisory_xact_lock({0})"
SELECT_HEADS = (
    "(SELECT 'head' AS kind, NULL::uuid AS stream, ledger_index, chain_hash AS hash, "
    "recorded_at FROM {schema}.{events} ORDER BY notification_id DESC LIMIT 1) "
    "UNION ALL (SELECT 'stream', s.id, NULL, e.leaf_hash, NULL "
    "FROM unnest(%s::uuid[]) AS s(id) CROSS JOIN LATERAL (SELECT leaf_hash "
    "FROM {schema}.{events} WHERE originator_id = s.id "
    "ORDER BY originator_version DESC LIMIT 1) AS e) "
    # A command's idempotency key, if given and stored: in the same round trip.
    "UNION ALL (SELECT 'key', record, ledger_index, request, NULL "
    "FROM {schema}.{idempotency} WHERE key = %s)"
)
# One statement for the subtrees and the events, so both go in the commit's round trip.
INSERT_APPEND = (
    "WITH nodes AS (INSERT INTO {schema}.{nodes} (level, idx, hash) "
    "SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])) "
    "INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state, "
    "notification_id, ledger_index, leaf_hash, chain_hash, stream_prev, state_sha256, "
    "recorded_at) SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], "
    "%s::bytea[], %s::bigint[], %s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], "
    "%s::bytea[], %s::text[])"
)
SELECT_SAME_EVENTS = (
    "SELECT e.originator_id, e.originator_version, e.state, e.notification_id "
    "FROM unnest(%s::uuid[], %s::bigint[]) AS k(id, version) "
    "JOIN {schema}.{events} AS e ON e.originator_id = k.id "
    "AND e.originator_version = k.version"
)
SELECT_NODES = (
    "SELECT level, idx, hash FROM {schema}.{nodes} WHERE (level, idx) IN "
    "(SELECT * FROM unnest(%s::smallint[], %s::bigint[])) "
    "UNION ALL SELECT 0, ledger_index, leaf_hash FROM {schema}.{events} "
    "WHERE notification_id = ANY(%s::bigint[])"
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
    insert_answer=(
        "INSERT INTO {schema}.{idempotency} (key, request, record, ledger_index) "
        "VALUES (%s, %s, %s, %s)"
    ),
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
        self.frontier = Frontier()
        names = {"schema": Identifier(datastore.schema)}
        names.update({key: Identifier(name) for key, name in self.tables.items()})

        def sql(text: str) -> Composed:
            return SQL(text).format(**names)

        self.sql = Statements(**{k: sql(v) for k, v in dataclasses.asdict(STATEMENTS).items()})
        # The events table is the ledger's (schema.LEDGER), made by its migrations.
        del self.sql_create_statements[self.create_table_statement_index]
        self.append_lock = SQL(ADVISORY_LOCK).format(
            _lock_key(f"{datastore.schema}.{events_table_name}")
        )
        lock_timeout = SQL(LOCK_TIMEOUT).format(datastore.lock_timeout)
        self.lock_table_statements = [lock_timeout, self.append_lock]
        # Held for the whole signing, in a transaction of its own (``signer_lock``).
        self.signer_lock_statements = [
            lock_timeout,
            SQL(ADVISORY_LOCK).format(_lock_key(f"{datastore.schema}.{events_table_name}.signer")),
        ]
        self.select_heads = sql(SELECT_HEADS)
        self.insert_append = sql(INSERT_APPEND)
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
        """Two round trips, as in the library: lock and read the heads; insert and commit.

        Notification ids are assigned by the append, so nothing needs to be returned by the
        INSERT and it is sent in the same round trip as the COMMIT.
        """
        ids: list[int] = []
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline(),
            conn.transaction(),
            conn.cursor() as curs,
        ):
            # The process recorder's tracking row goes first, as in the library.
            self._insert_events(curs, stored_events, **kwargs)
            if stored_events:
                self._lock_table(curs)
                self._notify_channel(curs)
                ids = self._append(curs, stored_events, kwargs.get("idempotency"))
        return ids

    def _read_heads(
        self, cursor: Cursor[DictRow], stored_events: Sequence[StoredEvent], key: bytes | None
    ) -> Heads:
        streams = list({s.originator_id for s in stored_events})
        self._execute(cursor, self.select_heads, (streams, key))
        chain, stream_heads, first = ChainHead.empty(), {}, None
        for row in cursor.fetchall():
            if row["kind"] == "head":
                chain = ChainHead(row["ledger_index"] + 1, row["hash"], row["recorded_at"])
            elif row["kind"] == "stream":
                stream_heads[str(row["stream"])] = row["hash"]
            else:
                first = FirstAnswer(bytes(row["hash"]), row["stream"], row["ledger_index"])
        return Heads(chain, stream_heads, first)

    def _insert_append(
        self, cursor: Cursor[DictRow], stored_events: Sequence[StoredEvent], append: Append
    ) -> None:
        nodes, links = append.nodes, append.links
        cursor.execute(
            self.insert_append,
            (
                [key[0] for key, _ in nodes],
                [key[1] for key, _ in nodes],
                [h for _, h in nodes],
                [s.originator_id for s in stored_events],
                [s.originator_version for s in stored_events],
                [s.topic for s in stored_events],
                [s.state for s in stored_events],
                [link.entry.index + 1 for link in links],
                [link.entry.index for link in links],
                [link.leaf_hash for link in links],
                [link.chain_hash for link in links],
                [_unhex(link.entry.stream_prev) for link in links],
                [bytes.fromhex(link.entry.state_sha256) for link in links],
                [link.entry.recorded_at for link in links],
            ),
            prepare=True,
            binary=True,  # hashes and states travel as bytes, not hex text
        )

    # --- what differs in reading -------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Cursor[DictRow]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs

    def _execute(self, cursor: Cursor[DictRow], statement: Any, params: Sequence[Any] = ()) -> None:
        cursor.execute(statement, params or None, prepare=True)

    def _node_rows(
        self, cursor: Cursor[DictRow], inner: Sequence[NodeKey], leaves: Sequence[int]
    ) -> Iterable[tuple[int, int, bytes]]:
        self._execute(
            cursor,
            self.select_nodes,
            ([k[0] for k in inner], [k[1] for k in inner], [i + 1 for i in leaves]),
        )
        return [(row["level"], row["idx"], row["hash"]) for row in cursor.fetchall()]

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
    """Let ``role`` read and append to the ledger tables, and nothing else there."""
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


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)
