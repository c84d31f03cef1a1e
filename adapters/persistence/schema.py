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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.persistence.sqldb import Cursor


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
    ),
)


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
