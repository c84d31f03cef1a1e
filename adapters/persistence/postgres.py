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

import hashlib
import time
from collections.abc import Collection, Iterator, Sequence
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
from adapters.persistence.appending import Frontier, prepare_append, record_from_row, utc_now
from domain.application import FirstAnswer, Idempotency, Repeated
from ledger.entry import ChainHead
from ledger.merkle import CompactRange, NodeKey, StridedNodes
from ledger.store import Record

READ_BATCH = 5000
INSERT_ATTEMPTS = 3


class LedgerPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            raise ProgrammingError("POSTGRES_ENABLE_DB_FUNCTIONS bypasses the ledger: turn it off")
        if datastore.originator_id_type != "uuid":
            raise ProgrammingError("ledger streams are UUIDs: set ORIGINATOR_ID_TYPE=uuid")
        prefix = events_table_name.removesuffix("_events")
        self.nodes_table_name = f"{prefix}_ledger_nodes"
        self.checkpoints_table_name = f"{prefix}_checkpoints"
        self.cosignatures_table_name = f"{prefix}_cosignatures"
        self.idempotency_table_name = f"{prefix}_idempotency"
        self.clock = utc_now
        self.frontier = Frontier()
        lock_key = _lock_key(f"{datastore.schema}.{events_table_name}")
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(datastore.lock_timeout),
            SQL("SELECT pg_advisory_xact_lock({0})").format(lock_key),
        ]
        names = {
            "schema": Identifier(datastore.schema),
            "events": Identifier(events_table_name),
            "nodes": Identifier(self.nodes_table_name),
            "checkpoints": Identifier(self.checkpoints_table_name),
            "cosignatures": Identifier(self.cosignatures_table_name),
            "idempotency": Identifier(self.idempotency_table_name),
            "refuse": Identifier(f"{prefix}_refuse_change"),
        }
        self.sql_create_statements[self.create_table_statement_index] = self._sql(
            "CREATE TABLE IF NOT EXISTS {schema}.{events} ("
            "originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, "
            "topic text NOT NULL, "
            "state bytea NOT NULL, "
            "notification_id bigserial, "
            "ledger_index bigint NOT NULL CHECK (notification_id = ledger_index + 1), "
            "leaf_hash bytea NOT NULL, "
            "chain_hash bytea NOT NULL, "
            "stream_prev bytea, "
            "state_sha256 bytea NOT NULL, "
            "recorded_at text NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version)) "
            "WITH (autovacuum_vacuum_threshold = 100000000, "
            "autovacuum_vacuum_scale_factor = 0.5)",
            names,
        )
        append_only = [
            "CREATE TABLE IF NOT EXISTS {schema}.{nodes} ("
            "level smallint NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, "
            "PRIMARY KEY (level, idx))",
            "CREATE TABLE IF NOT EXISTS {schema}.{checkpoints} ("
            "tree_size bigint PRIMARY KEY, root bytea NOT NULL, note text NOT NULL, "
            "signed_at timestamptz NOT NULL)",
            # Witnesses' cosignature lines, appended to the checkpoint's note when it is read.
            "CREATE TABLE IF NOT EXISTS {schema}.{cosignatures} ("
            "tree_size bigint NOT NULL REFERENCES {schema}.{checkpoints} (tree_size), "
            "cosigner text NOT NULL, line text NOT NULL, received_at timestamptz NOT NULL, "
            "PRIMARY KEY (tree_size, cosigner))",
            "CREATE TABLE IF NOT EXISTS {schema}.{idempotency} ("
            "key bytea PRIMARY KEY, request bytea NOT NULL, record uuid NOT NULL, "
            "ledger_index bigint NOT NULL)",
            "CREATE OR REPLACE FUNCTION {schema}.{refuse}() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'insufficient_privilege'; END $$",
        ]
        for table in ("events", "nodes", "checkpoints", "cosignatures", "idempotency"):
            append_only += [
                f"CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON "
                f"{{schema}}.{{{table}}} FOR EACH ROW EXECUTE FUNCTION {{schema}}.{{refuse}}()",
                f"CREATE OR REPLACE TRIGGER no_truncate BEFORE TRUNCATE ON "
                f"{{schema}}.{{{table}}} FOR EACH STATEMENT EXECUTE FUNCTION "
                f"{{schema}}.{{refuse}}()",
            ]
        self.sql_create_statements += [self._sql(s, names) for s in append_only]
        self.select_head_statement = self._sql(
            "(SELECT 'head' AS kind, NULL::uuid AS stream, ledger_index, chain_hash AS hash, "
            "recorded_at FROM {schema}.{events} ORDER BY notification_id DESC LIMIT 1) "
            "UNION ALL (SELECT 'stream', s.id, NULL, e.leaf_hash, NULL "
            "FROM unnest(%s::uuid[]) AS s(id) CROSS JOIN LATERAL (SELECT leaf_hash "
            "FROM {schema}.{events} WHERE originator_id = s.id "
            "ORDER BY originator_version DESC LIMIT 1) AS e) "
            # A command's idempotency key, if given and stored: in the same round trip.
            "UNION ALL (SELECT 'key', record, ledger_index, request, NULL "
            "FROM {schema}.{idempotency} WHERE key = %s)",
            names,
        )
        # One statement for the subtrees and the events, so both go in the commit's round trip.
        self.insert_ledger_events_statement = self._sql(
            "WITH nodes AS (INSERT INTO {schema}.{nodes} (level, idx, hash) "
            "SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])) "
            "INSERT INTO {schema}.{events} (originator_id, originator_version, topic, state, "
            "notification_id, ledger_index, leaf_hash, chain_hash, stream_prev, state_sha256, "
            "recorded_at) SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], "
            "%s::bytea[], %s::bigint[], %s::bigint[], %s::bytea[], %s::bytea[], %s::bytea[], "
            "%s::bytea[], %s::text[])",
            names,
        )
        self.select_answer_statement = self._sql(
            "SELECT request, record, ledger_index FROM {schema}.{idempotency} WHERE key = %s",
            names,
        )
        self.insert_answer_statement = self._sql(
            "INSERT INTO {schema}.{idempotency} (key, request, record, ledger_index) "
            "VALUES (%s, %s, %s, %s)",
            names,
        )
        self.select_same_events_statement = self._sql(
            "SELECT e.originator_id, e.originator_version, e.state, e.notification_id "
            "FROM unnest(%s::uuid[], %s::bigint[]) AS k(id, version) "
            "JOIN {schema}.{events} AS e ON e.originator_id = k.id "
            "AND e.originator_version = k.version",
            names,
        )
        self.select_nodes_statement = self._sql(
            "SELECT level, idx, hash FROM {schema}.{nodes} WHERE (level, idx) IN "
            "(SELECT * FROM unnest(%s::smallint[], %s::bigint[])) "
            "UNION ALL SELECT 0, ledger_index, leaf_hash FROM {schema}.{events} "
            "WHERE notification_id = ANY(%s::bigint[])",
            names,
        )
        self.select_records_statement = self._sql(
            "SELECT ledger_index, originator_id, originator_version, topic, state, leaf_hash, "
            "chain_hash, stream_prev, state_sha256, recorded_at FROM {schema}.{events} "
            "WHERE notification_id BETWEEN %s AND %s ORDER BY notification_id",
            names,
        )
        self.select_size_statement = self._sql(
            "SELECT COALESCE(MAX(notification_id), 0) AS size FROM {schema}.{events}", names
        )
        # A checkpoint's note with its cosignature lines after the ledger's signature.
        cosigned_note = (
            "c.note || COALESCE((SELECT string_agg(s.line, '' ORDER BY s.cosigner) "
            "FROM {schema}.{cosignatures} s WHERE s.tree_size = c.tree_size), '') AS note"
        )
        self.select_checkpoints_statement = self._sql(
            f"SELECT {cosigned_note} FROM {{schema}}.{{checkpoints}} c ORDER BY tree_size", names
        )
        self.select_latest_checkpoint_statement = self._sql(
            f"SELECT {cosigned_note}, c.signed_at FROM {{schema}}.{{checkpoints}} c "
            "ORDER BY tree_size DESC LIMIT 1",
            names,
        )
        self.insert_cosignature_statement = self._sql(
            "INSERT INTO {schema}.{cosignatures} (tree_size, cosigner, line, received_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            names,
        )
        self.select_cosigned_size_statement = self._sql(
            "SELECT COALESCE(MAX(tree_size), 0) AS size FROM {schema}.{cosignatures} "
            "WHERE cosigner = %s",
            names,
        )
        self.select_checkpoint_at_statement = self._sql(
            "SELECT note FROM {schema}.{checkpoints} WHERE tree_size = %s", names
        )
        # Held for the whole signing, in a transaction of its own (``signer_lock``).
        self.signer_lock_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(datastore.lock_timeout),
            SQL("SELECT pg_advisory_xact_lock({0})").format(
                _lock_key(f"{datastore.schema}.{events_table_name}.signer")
            ),
        ]
        self.insert_checkpoint_statement = self._sql(
            "INSERT INTO {schema}.{checkpoints} (tree_size, root, note, signed_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (tree_size) DO NOTHING",
            names,
        )

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Processes starting together would otherwise deadlock on CREATE OR REPLACE.
        curs.execute(self.lock_table_statements[1])
        super()._create_table(curs)

    @staticmethod
    def _sql(text: str, names: dict[str, Identifier]) -> Composed:
        return SQL(text).format(**names)

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
        raise AssertionError("unreachable")  # pragma: no cover

    def _stored_ids(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The notification ids of exactly these events, if they are all stored."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.select_same_events_statement,
                (
                    [s.originator_id for s in stored_events],
                    [s.originator_version for s in stored_events],
                ),
            )
            found = {(r["originator_id"], r["originator_version"]): r for r in curs.fetchall()}
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
        """Two round trips, as in the library: lock and read the head; insert and commit.

        Notification ids are the ledger indices plus one, assigned here, so nothing needs to
        be returned by the INSERT and it is sent in the same round trip as the COMMIT.
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
                ids = self._append(curs, stored_events, kwargs.get("idempotency"))
        return ids

    def _append(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        idempotency: Idempotency | None,
    ) -> list[int]:
        self._lock_table(curs)
        self._notify_channel(curs)
        streams = list({s.originator_id for s in stored_events})
        key = None if idempotency is None else idempotency.key
        curs.execute(self.select_head_statement, (streams, key), prepare=True)
        head, stream_heads = ChainHead.empty(), {}
        for row in curs.fetchall():
            if row["kind"] == "head":
                head = ChainHead(row["ledger_index"] + 1, row["hash"], row["recorded_at"])
            elif row["kind"] == "stream":
                stream_heads[str(row["stream"])] = row["hash"]
            else:  # rolls back: nothing recorded, nothing notified
                raise Repeated(FirstAnswer(bytes(row["hash"]), row["stream"], row["ledger_index"]))
        frontier = self.frontier.matching(head) or CompactRange.load(
            head.size, StridedNodes(_CursorNodes(self, curs))
        )
        append = prepare_append(head, stream_heads, frontier, stored_events, self.clock())
        nodes, links = append.nodes, append.links
        curs.execute(
            self.insert_ledger_events_statement,
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
        if idempotency is not None:
            curs.execute(
                self.insert_answer_statement,
                (
                    idempotency.key,
                    idempotency.request,
                    idempotency.record,
                    links[-1].entry.index,
                ),
                prepare=True,
            )
        # Checked against the chain before use, so a rolled-back append does no harm.
        self.frontier.remember(frontier, links[-1].chain_hash)
        return [link.entry.index + 1 for link in links]

    def first_answer(self, key: bytes) -> FirstAnswer | None:
        """What the command with this idempotency key answered, if it was recorded."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_answer_statement, (key,), prepare=True)
            row = curs.fetchone()
        if row is None:
            return None
        return FirstAnswer(bytes(row["request"]), UUID(str(row["record"])), row["ledger_index"])

    # --- reading (ledger.store.LedgerStore) ---------------------------------------------------

    def ledger_size(self) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_size_statement)
            row = curs.fetchone()
            assert row is not None
            return int(row["size"])

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            return StridedNodes(_CursorNodes(self, curs)).read_nodes(keys)

    def records(self, first: int, last: int) -> Iterator[Record]:
        start = first
        while start <= last:
            stop = min(last, start + READ_BATCH - 1)
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                # notification_id = ledger_index + 1, and only that column is indexed.
                curs.execute(self.select_records_statement, (start + 1, stop + 1), prepare=True)
                rows = curs.fetchall()
            yield from (record_from_row(row, str(row["originator_id"])) for row in rows)
            if len(rows) < stop - start + 1:
                return
            start = stop + 1

    def signed_checkpoints(self) -> list[str]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_checkpoints_statement)
            return [row["note"] for row in curs.fetchall()]

    def latest_signed_checkpoint(self) -> str | None:
        latest = self.latest_checkpoint()
        return None if latest is None else latest[0]

    def latest_checkpoint(self) -> tuple[str, datetime] | None:
        """The newest signed checkpoint and when it was signed."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_latest_checkpoint_statement, prepare=True)
            row = curs.fetchone()
            return None if row is None else (str(row["note"]), row["signed_at"])

    def signed_checkpoint_at(self, size: int) -> str | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_checkpoint_at_statement, (size,), prepare=True)
            row = curs.fetchone()
            return None if row is None else str(row["note"])

    @contextmanager
    def signer_lock(self) -> Iterator[None]:
        """One signer per ledger: an advisory lock, released when its transaction ends."""
        with self.datastore.transaction(commit=False) as curs:
            for statement in self.signer_lock_statements:
                curs.execute(statement)
            yield

    def store_checkpoint(self, size: int, root: bytes, note: str, signed_at: datetime) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.insert_checkpoint_statement, (size, root, note, signed_at))

    def store_cosignature(self, size: int, cosigner: str, line: str, received_at: datetime) -> None:
        """A witness's cosignature line for the checkpoint of ``size`` (checked by the caller)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.insert_cosignature_statement, (size, cosigner, line, received_at))

    def cosigned_size(self, cosigner: str) -> int:
        """The largest tree a witness cosigned for this ledger, 0 for none."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_cosigned_size_statement, (cosigner,))
            row = curs.fetchone()
            assert row is not None
            return int(row["size"])


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
    assert isinstance(kwargs, dict)  # as PostgresDatastore makes it
    params = {k: kwargs[k] for k in ("dbname", "host", "port", "user", "password")}
    try:
        psycopg.connect(**params, connect_timeout=10).close()
    except psycopg.OperationalError as e:
        if any(reason in str(e) for reason in _LOGIN_REFUSED):
            raise ConfigurationError(
                f"the database refuses the login in BEWIJSLAST_DATABASE_URL: {e}"
            ) from None


class _CursorNodes:
    def __init__(self, recorder: LedgerPostgresApplicationRecorder, curs: Cursor[DictRow]):
        self.recorder = recorder
        self.curs = curs

    def read_nodes(self, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
        inner = [k for k in keys if k[0] > 0]
        leaves = [k[1] for k in keys if k[0] == 0]
        self.curs.execute(
            self.recorder.select_nodes_statement,
            ([k[0] for k in inner], [k[1] for k in inner], [i + 1 for i in leaves]),
            prepare=True,
        )
        found = {(row["level"], row["idx"]): bytes(row["hash"]) for row in self.curs.fetchall()}
        missing = set(keys) - set(found)
        if missing:
            raise ProgrammingError(f"ledger subtrees missing from the store: {sorted(missing)[:5]}")
        return found


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)
