"""Every table the adapters own, and how each came to its present shape: versioned migrations.

A *store* is a group of tables made and changed together, by one database role (on a
PostgreSQL deployment the owner makes the ledger's, the application role the others). Its
migrations are applied in order, each once: the versions applied are rows of
``schema_versions`` (store, version), written in the same transaction as the migration. A
migration says what it does on each database; its first version makes the tables as they
were before versions were kept, with ``IF NOT EXISTS``, so that a database made by an older
release (tests/fixtures/ledger-a2de679) takes it as a no-op and goes on from there.

Statements name tables as ``{name}`` where the name depends on where the store lives (the
ledger's PostgreSQL tables are named after its events table; ``{versions}`` is the version
table beside the store's tables), and take ``?`` parameter marks.

Read models are not here: they are built again from the ledger whenever their shape changes
(``projections.base.ReadModel.version``), so they need no migration, and their SQL stays with
the read model that owns it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.persistence.sqldb import Cursor
from ledger.entry import ENTRY_PREFIX
from ledger.merkle import NODE_STRIDE


@dataclass(frozen=True)
class Migration:
    version: int
    why: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...] | None = None  # None: the same statements as on SQLite

    def statements(self, *, postgres: bool) -> tuple[str, ...]:
        return self.sqlite if not postgres or self.postgres is None else self.postgres


@dataclass(frozen=True)
class Store:
    name: str
    tables: tuple[str, ...]  # as the statements name them
    migrations: tuple[Migration, ...]

    def pending(self, applied: Iterable[int]) -> list[Migration]:
        done = set(applied)
        return [m for m in self.migrations if m.version not in done]


CREATE_VERSIONS = (
    "CREATE TABLE IF NOT EXISTS {versions} (store TEXT NOT NULL, version INTEGER NOT NULL, "
    "applied_at TEXT NOT NULL, PRIMARY KEY (store, version))"
)
SELECT_VERSIONS = "SELECT version FROM {versions} WHERE store = ?"
INSERT_VERSION = (
    "INSERT INTO {versions} (store, version, applied_at) VALUES (?, ?, ?) "
    "ON CONFLICT (store, version) DO NOTHING"
)
TABLE_EXISTS_POSTGRES = "SELECT to_regclass(?) IS NOT NULL"
TABLE_EXISTS_SQLITE = "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?"
VERSIONS = "schema_versions"


def table_exists(cursor: Cursor, name: str) -> bool:
    """Asked, not tried: on PostgreSQL a failed statement would abort the transaction."""
    cursor.execute(TABLE_EXISTS_POSTGRES if cursor.postgres else TABLE_EXISTS_SQLITE, (name,))
    return bool(cursor.fetchone()[0])


def migrate(store: Store, cursor: Cursor, names: Mapping[str, str] | None = None) -> list[int]:
    """Apply the store's pending migrations in order, in the cursor's transaction (whose
    lock, if any, keeps two processes from migrating at once); the versions it applied.

    ``names``: the tables' names as the statements write them (``{events}``), quoted for
    the database; ``versions``, the version table, is ``schema_versions`` unless given."""
    names = {"versions": VERSIONS, **(names or {})}
    applied: list[int] = []
    if table_exists(cursor, names["versions"]):
        cursor.execute(SELECT_VERSIONS.format(**names), (store.name,))
        applied = [row[0] for row in cursor.fetchall()]
    pending = store.pending(applied)
    if pending:
        cursor.execute(CREATE_VERSIONS.format(**names))
    for migration in pending:
        for statement in migration.statements(postgres=cursor.postgres):
            cursor.execute(statement.format(**names))
        cursor.execute(
            INSERT_VERSION.format(**names),
            (store.name, migration.version, datetime.now(UTC).isoformat()),
        )
    return [m.version for m in pending]


def quoted(*parts: str) -> str:
    """A (schema-qualified) name as PostgreSQL reads it whatever its letters."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


# --- the ledger: the recorders' tables (the events table is also the library's) --------------

_LEDGER_V1_SQLITE = (
    "CREATE TABLE IF NOT EXISTS {events} ("
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
    "CREATE TABLE IF NOT EXISTS {nodes} ("
    "level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, "
    "PRIMARY KEY (level, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS {checkpoints} ("
    "tree_size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, "
    "signed_at TEXT NOT NULL)",
    # Witnesses' cosignature lines, appended to the checkpoint's note when it is read.
    "CREATE TABLE IF NOT EXISTS {cosignatures} ("
    "tree_size INTEGER NOT NULL REFERENCES {checkpoints} (tree_size), "
    "cosigner TEXT NOT NULL, line TEXT NOT NULL, received_at TEXT NOT NULL, "
    "PRIMARY KEY (tree_size, cosigner))",
    "CREATE TABLE IF NOT EXISTS {idempotency} ("
    "key BLOB PRIMARY KEY, request BLOB NOT NULL, record TEXT NOT NULL, "
    "ledger_index INTEGER NOT NULL) WITHOUT ROWID",
    # SQLite has no TRUNCATE; a trigger per table and operation, named after both.
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} "
        f"BEFORE {operation} ON {{{table_key}}} BEGIN SELECT RAISE(ABORT, "
        f"'the ledger is append-only: {operation} on {table} refused'); END"
        for table_key, table in (
            ("events", "stored_events"),
            ("nodes", "ledger_nodes"),
            ("checkpoints", "ledger_checkpoints"),
            ("cosignatures", "ledger_cosignatures"),
            ("idempotency", "idempotency_keys"),
        )
        for operation in ("UPDATE", "DELETE")
    ),
)

_LEDGER_V1_POSTGRES = (
    "CREATE TABLE IF NOT EXISTS {events_v1} ("
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
    "CREATE TABLE IF NOT EXISTS {nodes_v1} ("
    "level smallint NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, "
    "PRIMARY KEY (level, idx))",
    "CREATE TABLE IF NOT EXISTS {checkpoints_v1} ("
    "tree_size bigint PRIMARY KEY, root bytea NOT NULL, note text NOT NULL, "
    "signed_at timestamptz NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {cosignatures_v1} ("
    "tree_size bigint NOT NULL REFERENCES {checkpoints_v1} (tree_size), "
    "cosigner text NOT NULL, line text NOT NULL, received_at timestamptz NOT NULL, "
    "PRIMARY KEY (tree_size, cosigner))",
    "CREATE TABLE IF NOT EXISTS {idempotency_v1} ("
    "key bytea PRIMARY KEY, request bytea NOT NULL, record uuid NOT NULL, "
    "ledger_index bigint NOT NULL)",
    # Refuses also the owner (the application role has no UPDATE, DELETE or TRUNCATE at all).
    "CREATE OR REPLACE FUNCTION {refuse}() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
    "'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME "
    "USING ERRCODE = 'insufficient_privilege'; END $$",
    *(
        statement
        for table in (
            "events_v1",
            "nodes_v1",
            "checkpoints_v1",
            "cosignatures_v1",
            "idempotency_v1",
        )
        for statement in (
            f"CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON {{{table}}} "
            "FOR EACH ROW EXECUTE FUNCTION {refuse}()",
            f"CREATE OR REPLACE TRIGGER no_truncate BEFORE TRUNCATE ON {{{table}}} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {refuse}()",
        )
    ),
)

# One append on the server, in one autocommit statement: a writer holds the ledger's lock for
# no client round trip. It reads the heads, stamps recorded_at (never decreasing), builds each
# entry's bytes from the members the client rendered (``ledger.entry.head_free_members``: the
# only escaping) and the index, timestamp and previous leaf it fills in here, hashes leaf and
# chain, inserts the events with their entries in one statement, then the completed subtrees
# at the stored levels (``ledger.merkle.is_stored_level``) and the idempotency key. A repeated
# key is answered with the first answer and nothing is written. Nothing is mutable between
# the lock and the commit: the SET clauses pin the names and keep plans generic.
_APPEND_POSTGRES = """
CREATE OR REPLACE FUNCTION {append}(
    _streams uuid[], _versions bigint[], _topics text[], _states bytea[],
    _state_hashes bytea[], _middles bytea[], _tails bytea[], _now timestamptz,
    _key bytea, _request bytea, _record uuid, _channel text, _lock_timeout text)
RETURNS TABLE (first_index bigint, repeated_request bytea, repeated_record uuid)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    _n integer := cardinality(_streams);
    _size bigint := 0;
    _chain bytea := decode(repeat('00', 32), 'hex');
    _previous_at text;
    _at text;
    _prev bytea;
    _leaves bytea[] := ARRAY[]::bytea[];
    _chains bytea[] := ARRAY[]::bytea[];
    _prevs bytea[] := ARRAY[]::bytea[];
    _hashes bytea[];
    _earlier integer[];
    _i integer;
    _k integer;
    _index bigint;
    _level integer;
    _node bigint;
BEGIN
    IF _lock_timeout IS NOT NULL THEN
        PERFORM set_config('lock_timeout', _lock_timeout, true);
    END IF;
    PERFORM pg_advisory_xact_lock({lock});
    IF _key IS NOT NULL THEN
        RETURN QUERY SELECT i.ledger_index, i.request, i.record
            FROM {idempotency} i WHERE i.key = _key;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    SELECT e.notification_id, e.chain_hash, e.recorded_at INTO _size, _chain, _previous_at
        FROM {events} e ORDER BY e.notification_id DESC LIMIT 1;
    IF NOT FOUND THEN
        _size := 0;
        _chain := decode(repeat('00', 32), 'hex');
    END IF;
    _at := to_char(COALESCE(_now, clock_timestamp()) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    IF _previous_at COLLATE "C" > _at COLLATE "C" THEN
        _at := _previous_at;
    END IF;
    FOR _i IN 1 .. _n LOOP
        -- The stream's latest entry: most often the one just before, else an earlier one
        -- of this append, else the stored one.
        IF _i > 1 AND _streams[_i - 1] = _streams[_i] THEN
            _prev := _leaves[_i - 1];
        ELSE
            _prev := NULL;
            _earlier := array_positions(_streams[1:_i - 1], _streams[_i]);
            IF cardinality(_earlier) > 0 THEN
                _prev := _leaves[_earlier[cardinality(_earlier)]];
            ELSE
                SELECT e.leaf_hash INTO _prev FROM {events} e
                    WHERE e.originator_id = _streams[_i]
                    ORDER BY e.originator_version DESC LIMIT 1;
            END IF;
        END IF;
        _leaves[_i] := sha256(
            decode('00{entry_prefix}', 'hex') || convert_to(
                '{{"index":' || (_size + _i - 1) || ',"recorded_at":"' || _at || '",', 'UTF8')
            || _middles[_i]
            || convert_to('"stream_prev":'
                || COALESCE('"' || encode(_prev, 'hex') || '"', 'null') || ',', 'UTF8')
            || _tails[_i]);
        _chain := sha256(_chain || _leaves[_i]);
        _chains[_i] := _chain;
        _prevs[_i] := _prev;
    END LOOP;
    INSERT INTO {events} (originator_id, originator_version, topic, state, notification_id,
        ledger_index, leaf_hash, chain_hash, stream_prev, state_sha256, recorded_at)
    SELECT u.s, u.v, u.t, u.st, _size + u.o, _size + u.o - 1, u.l, u.c, u.p, u.h, _at
        FROM unnest(_streams, _versions, _topics, _states, _leaves, _chains, _prevs,
                    _state_hashes) WITH ORDINALITY AS u(s, v, t, st, l, c, p, h, o);
    FOR _index IN _size .. _size + _n - 1 LOOP
        _level := {stride};
        WHILE (_index + 1) % (1::bigint << _level) = 0 LOOP
            _node := ((_index + 1) >> _level) - 1;
            IF _level = {stride} THEN
                SELECT array_agg(e.leaf_hash ORDER BY e.notification_id) INTO _hashes
                    FROM {events} e WHERE e.notification_id
                    BETWEEN _node * {width} + 1 AND _node * {width} + {width};
            ELSE
                SELECT array_agg(d.hash ORDER BY d.idx) INTO _hashes FROM {nodes} d
                    WHERE d.level = _level - {stride}
                    AND d.idx BETWEEN _node * {width} AND _node * {width} + {width} - 1;
            END IF;
            IF cardinality(_hashes) IS DISTINCT FROM {width} THEN
                RAISE EXCEPTION 'ledger subtrees missing below level % index %', _level, _node;
            END IF;
            FOR _k IN 1 .. {stride} LOOP
                SELECT array_agg(sha256('\\x01'::bytea || _hashes[2 * g - 1] || _hashes[2 * g])
                                 ORDER BY g)
                    INTO _hashes FROM generate_series(1, cardinality(_hashes) / 2) AS g;
            END LOOP;
            INSERT INTO {nodes} (level, idx, hash) VALUES (_level, _node, _hashes[1]);
            _level := _level + {stride};
        END LOOP;
    END LOOP;
    IF _key IS NOT NULL THEN
        INSERT INTO {idempotency} (key, request, record, ledger_index)
            VALUES (_key, _request, _record, _size + _n - 1);
    END IF;
    PERFORM pg_notify(_channel, '');
    RETURN QUERY SELECT _size, NULL::bytea, NULL::uuid;
END
$$"""

# The ledger tables' names on SQLite; on PostgreSQL the same after the events table's prefix
# (``ledger_tables``), but for the idempotency keys: commands read that table, and those of
# the release before stay served while an upgrade migrates (docs/DEPLOYING.md).
LEDGER_TABLES = {
    "events": "stored_events",
    "nodes": "ledger_nodes",
    "checkpoints": "ledger_checkpoints",
    "cosignatures": "ledger_cosignatures",
    "idempotency": "idempotency_keys",
}


LEDGER = Store(
    "ledger",
    tuple(LEDGER_TABLES.values()),
    (
        Migration(1, "the ledger's tables, append-only", _LEDGER_V1_SQLITE, _LEDGER_V1_POSTGRES),
        Migration(
            2,
            "the checkpoints' tables named alike on both databases: on PostgreSQL the SQLite "
            "name after the events table's prefix (rows, triggers, grants and references go "
            "along)",
            (),
            (
                "ALTER TABLE {checkpoints_v1} RENAME TO {checkpoints_name}",
                "ALTER TABLE {cosignatures_v1} RENAME TO {cosignatures_name}",
            ),
        ),
        Migration(
            3,
            "on PostgreSQL an append is one call of a function on the server, which takes the "
            "ledger's lock, computes the entries and inserts them with the events (the rows are "
            "those the recorders wrote before, so old and new recorders can append together)",
            (),
            (_APPEND_POSTGRES,),
        ),
    ),
)


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock's key for a name: every writer of one ledger takes the same."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def append_function(events_table: str) -> str:
    """The name of a PostgreSQL ledger's append function (unquoted), beside its tables."""
    return events_table.removesuffix("_events") + "_append"


def ledger_tables(events_table: str) -> dict[str, str]:
    """The ledger's tables on PostgreSQL, named after its events table (unquoted)."""
    prefix = events_table.removesuffix("_events")
    names = {key: f"{prefix}_{name}" for key, name in LEDGER_TABLES.items()}
    return {**names, "events": events_table, "idempotency": f"{prefix}_idempotency"}


def ledger_names(schema: str | None, events_table: str) -> dict[str, str]:
    """What the ledger's migrations call its tables: on SQLite (``schema`` None) their
    names, on PostgreSQL quoted and qualified by the schema, also as they were named before."""
    if schema is None:
        return {**LEDGER_TABLES, "versions": VERSIONS}
    prefix = events_table.removesuffix("_events")
    tables = ledger_tables(events_table)
    # Before migration 2 the checkpoints' tables were named otherwise.
    old = {
        **tables,
        "checkpoints": f"{prefix}_checkpoints",
        "cosignatures": f"{prefix}_cosignatures",
    }
    return {
        **{key: quoted(schema, name) for key, name in tables.items()},
        **{f"{key}_v1": quoted(schema, name) for key, name in old.items()},
        **{f"{key}_name": quoted(name) for key, name in tables.items()},
        "refuse": quoted(schema, f"{prefix}_refuse_change"),
        "append": quoted(schema, append_function(events_table)),
        "lock": str(lock_key(f"{schema}.{events_table}")),
        "stride": str(NODE_STRIDE),
        "width": str(1 << NODE_STRIDE),
        "entry_prefix": ENTRY_PREFIX.hex(),
        # The owner's, beside the tables it describes (the application role keeps its own).
        "versions": quoted(schema, f"{prefix}_{VERSIONS}"),
    }


# --- the application's own tables ------------------------------------------------------------

SUBJECT_KEYS = Store(
    "subject_keys",
    ("subject_keys",),
    (
        Migration(
            1,
            "each data subject's key, wrapped by the master key; erased by dropping the key",
            (
                "CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, "
                "wrapped_key BLOB, created_at TEXT NOT NULL, erased_at TEXT)",
            ),
            (
                "CREATE TABLE IF NOT EXISTS subject_keys (subject TEXT PRIMARY KEY, "
                "wrapped_key bytea, created_at TEXT NOT NULL, erased_at TEXT)",
            ),
        ),
    ),
)


def _one_table(table: str, why: str, create: str) -> Store:
    """A store of one table, as first made (the same on both databases)."""
    return Store(table, (table,), (Migration(1, why, (create,)),))


KEY_FILES = _one_table(
    "key_files",
    "which key file a database's data was recorded under",
    "CREATE TABLE IF NOT EXISTS key_files (kind TEXT NOT NULL, fingerprint TEXT "
    "NOT NULL, path TEXT NOT NULL, first_used_at TEXT NOT NULL, "
    "PRIMARY KEY (kind, fingerprint))",
)
API_KEYS = _one_table(
    "api_keys",
    "API keys: a secret's hash, its actor and grants",
    "CREATE TABLE IF NOT EXISTS api_keys (key_id TEXT PRIMARY KEY, "
    "secret_sha256 TEXT NOT NULL, actor TEXT NOT NULL, grants TEXT NOT NULL, "
    "created_at TEXT NOT NULL, revoked_at TEXT)",
)
RELAY_POSITIONS = _one_table(
    "relay_positions",
    "how far each relay published, and who holds it",
    "CREATE TABLE IF NOT EXISTS relay_positions (name TEXT PRIMARY KEY, "
    "next_index BIGINT NOT NULL, checkpoint_size BIGINT NOT NULL, "
    "holder TEXT, lease_until TEXT NOT NULL)",
)
PROJECTION_POSITIONS = _one_table(
    "projection_positions",
    "how far each read model applied the ledger, and in which shape",
    "CREATE TABLE IF NOT EXISTS projection_positions "
    "(name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL)",
)
# The witness's own SQLite file (adapters/witness), never on PostgreSQL.
WITNESS_COSIGNED = _one_table(
    "cosigned",
    "the latest checkpoint the witness cosigned, per log",
    "CREATE TABLE IF NOT EXISTS cosigned (origin TEXT PRIMARY KEY, "
    "tree_size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL, "
    "cosigned_at INTEGER NOT NULL)",
)
# The bus witness's copy of the ledger, in its own SQLite file (adapters/bus/witness).
BUS_WITNESS = Store(
    "bus_witness",
    ("entries", "checkpoints", "cosignatures"),
    (
        Migration(
            1,
            "the entries and checkpoints received, and the witness's cosignatures",
            (
                "CREATE TABLE IF NOT EXISTS entries (ledger_index INTEGER PRIMARY KEY, "
                "event_id TEXT NOT NULL UNIQUE, entry BLOB NOT NULL, leaf_hash BLOB NOT NULL, "
                "chain_hash BLOB NOT NULL)",
                "CREATE TABLE IF NOT EXISTS checkpoints (tree_size INTEGER PRIMARY KEY, "
                "root BLOB NOT NULL, note TEXT NOT NULL, verified INTEGER NOT NULL)",
                "CREATE TABLE IF NOT EXISTS cosignatures (tree_size INTEGER PRIMARY KEY "
                "REFERENCES checkpoints (tree_size), line TEXT NOT NULL)",
            ),
        ),
    ),
)

STORES = (
    LEDGER,
    SUBJECT_KEYS,
    KEY_FILES,
    API_KEYS,
    RELAY_POSITIONS,
    PROJECTION_POSITIONS,
    WITNESS_COSIGNED,
    BUS_WITNESS,
)
