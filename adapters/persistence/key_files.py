"""Which key files a database's data was recorded under, so that a missing or wrong key is
answered with the file that holds the right one, never with advice to make a new key: a new
master key opens none of the subject keys already wrapped, a new signing key continues none
of the checkpoints already signed.

Only the file's path and a fingerprint are kept (a hash that reveals nothing of the key),
outside the ledger, on the application's own database.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.config import database_env
from adapters.persistence.schema import KEY_FILES, migrate, table_exists
from adapters.persistence.sqldb import Database

MASTER, SIGNING = "master", "signing"


INSERT_KEY_FILE = (
    "INSERT INTO key_files (kind, fingerprint, path, first_used_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (kind, fingerprint) DO NOTHING"
)
SELECT_KEY_FILES = "SELECT fingerprint, path FROM key_files WHERE kind = ? ORDER BY first_used_at"
COUNT_ROWS = "SELECT COUNT(*) FROM {}"


class KeyFiles:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Only a hint for a better answer: a role that may not touch the table (the application
    # role of a deployment whose owner made it) goes without, and fails on nothing.

    def record(self, kind: str, key_fingerprint: str, path: Path) -> None:
        """Remember the file of a key the first time data is recorded under it."""
        try:
            with self.db.transaction() as cursor:
                migrate(KEY_FILES, cursor)
            with self.db.transaction() as cursor:
                cursor.execute(
                    INSERT_KEY_FILE, (kind, key_fingerprint, str(path.resolve()), _now())
                )
        except PersistenceError:
            pass

    def recorded(self, kind: str) -> dict[str, str]:
        """Fingerprint -> file of every key of ``kind`` used here (none on an old database)."""
        if not self._has_table("key_files"):
            return {}
        try:
            with self.db.transaction() as cursor:
                cursor.execute(SELECT_KEY_FILES, (kind,))
                return {row[0]: row[1] for row in cursor.fetchall()}
        except PersistenceError:
            return {}

    def count(self, table: str) -> int:
        """Rows in one of the application's own tables; 0 when it does not exist (yet)."""
        if not self._has_table(table):
            return 0
        with self.db.transaction() as cursor:
            cursor.execute(COUNT_ROWS.format(table))
            return int(cursor.fetchone()[0])

    def _has_table(self, table: str) -> bool:
        with self.db.transaction() as cursor:
            return table_exists(cursor, table)


def fingerprint(kind: str, key: bytes) -> str:
    return hashlib.sha256(f"bewijslast {kind} key id\0".encode() + key).hexdigest()[:32]


def datastore_for(database_url: str, connections: int = 1) -> SQLiteDatastore | PostgresDatastore:
    """A datastore of its own on the application's database; on PostgreSQL one connection,
    opened up to ``connections`` while others are in use."""
    env = database_env(database_url)
    if "SQLITE_DBNAME" in env:
        return SQLiteDatastore(env["SQLITE_DBNAME"], lock_timeout=30)
    return PostgresDatastore(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        schema=env["POSTGRES_SCHEMA"],
        pool_size=1,
        max_overflow=connections - 1,
    )


def key_files_of(database_url: str) -> KeyFiles | None:
    """The database's key files; None when there is no database yet (nothing was recorded,
    and a SQLite file is not made just to look)."""
    env = database_env(database_url)
    if "SQLITE_DBNAME" in env and not Path(env["SQLITE_DBNAME"]).exists():
        return None
    return KeyFiles(Database(datastore_for(database_url)))


def _now() -> str:
    return datetime.now(UTC).isoformat()
