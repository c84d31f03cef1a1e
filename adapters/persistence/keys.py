"""The tables of keys outside the ledger: ``subject_keys`` (each data subject's key, wrapped
by the master key; adapters/keystore) and ``key_files`` (which key file a database's data
was recorded under; adapters/key_files)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore

from adapters.persistence.schema import KEY_FILES, SUBJECT_KEYS, migrate, table_exists
from adapters.persistence.sqldb import Database

# --- subject keys ----------------------------------------------------------------------------

SELECT_KEY = "SELECT wrapped_key, erased_at FROM subject_keys WHERE subject = ?"
INSERT_KEY = (
    "INSERT INTO subject_keys (subject, wrapped_key, created_at) VALUES (?, ?, ?) "
    "ON CONFLICT (subject) DO NOTHING"
)
SELECT_LIVE_KEYS = (
    "SELECT subject, wrapped_key FROM subject_keys WHERE erased_at IS NULL AND subject IN ({})"
)
LIVE_KEYS_AT_ONCE = 500  # parameters in one query, well below either database's limit
SECURE_DELETE = "PRAGMA secure_delete = ON"
DELETE_KEY = "DELETE FROM subject_keys WHERE subject = ?"
INSERT_TOMBSTONE = (
    "INSERT INTO subject_keys (subject, wrapped_key, created_at, erased_at) VALUES (?, NULL, ?, ?)"
)
VACUUM_KEYS = "VACUUM subject_keys"
TRUNCATE_WAL = "PRAGMA wal_checkpoint(TRUNCATE)"


@dataclass(frozen=True)
class StoredKey:
    wrapped: bytes | None  # None: erased, a tombstone


class SubjectKeyTable:
    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cursor:
            migrate(SUBJECT_KEYS, cursor)

    def find(self, subject: UUID) -> StoredKey | None:
        with self.db.reading() as cursor:
            cursor.execute(SELECT_KEY, (str(subject),))
            row = cursor.fetchone()
        if row is None:
            return None
        erased = row["erased_at"] is not None
        return StoredKey(None if erased else bytes(row["wrapped_key"]))

    def insert(self, subject: UUID, wrapped: bytes) -> None:
        """Unless the subject has a key (or a tombstone) already: then that one stays."""
        # A transaction of its own that writes first: on SQLite one that had read first could
        # not take the write lock after another writer's commit, and would fail, not wait.
        with self.db.transaction() as cursor:
            cursor.execute(INSERT_KEY, (str(subject), wrapped, _now()))

    def live(self, subjects: list[str]) -> dict[UUID, bytes]:
        """The wrapped keys of those of ``subjects`` that have one (not erased), in one read
        per ``LIVE_KEYS_AT_ONCE``."""
        found: dict[UUID, bytes] = {}
        with self.db.reading() as cursor:
            for start in range(0, len(subjects), LIVE_KEYS_AT_ONCE):
                chunk = subjects[start : start + LIVE_KEYS_AT_ONCE]
                cursor.execute(SELECT_LIVE_KEYS.format(", ".join("?" * len(chunk))), tuple(chunk))
                for row in cursor.fetchall():
                    found[UUID(row["subject"])] = bytes(row["wrapped_key"])
        return found

    def tombstone(self, subject: UUID) -> None:
        """Delete the key (overwriting its bytes on SQLite), leaving a tombstone."""
        with self.db.transaction() as cursor:
            if not self.db.postgres:
                cursor.execute(SECURE_DELETE)
            cursor.execute(DELETE_KEY, (str(subject),))
            cursor.execute(INSERT_TOMBSTONE, (str(subject), _now(), _now()))
        self._scrub()

    def _scrub(self) -> None:
        """Leave no copy of a deleted key where the database can still reach it."""
        datastore = self.db.datastore
        if isinstance(datastore, PostgresDatastore):
            # The pool's connections commit on their own: VACUUM cannot run in a transaction.
            # As a role that does not own the table it only warns and skips (DEPLOYING.md).
            with datastore.get_connection() as connection:
                connection.execute(VACUUM_KEYS)
            return
        # Outside a transaction, TRUNCATE waits for readers, copies the zeroed page into the
        # main file over the one that held the key, and empties the WAL, whose earlier frames
        # held it too.
        with datastore.get_connection(commit=True) as connection:
            connection.cursor().execute(TRUNCATE_WAL)


# --- key files -------------------------------------------------------------------------------

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


def _now() -> str:
    return datetime.now(UTC).isoformat()
