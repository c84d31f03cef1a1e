"""Per-subject data keys, kept in the database outside the ledger, wrapped by a master key.

The master key comes from configuration (a file, never the database). A subject's data key
is created when the first personal data about it is stored and destroyed on erasure; an
erased subject keeps a tombstone, so no new personal data is stored under it.

On SQLite the key row is deleted with ``secure_delete`` on, so its bytes are overwritten, and
the WAL is then checkpointed and truncated: the old page in the main file and the frames in the
WAL that still held the key are gone when ``destroy`` returns. PostgreSQL has no secure delete:
the table is vacuumed after an erasure, which frees the dead row's space for reuse, but its bytes
can linger in the table file until overwritten, and in WAL segments until they are recycled
(docs/DEPLOYING.md says how long); it is useless without the master key, which lives elsewhere.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, overload
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.config import ConfigurationError
from adapters.persistence.key_files import MASTER, KeyFiles, datastore_for, fingerprint
from adapters.persistence.schema import SUBJECT_KEYS, migrate
from adapters.persistence.sqldb import Database

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


NONCE_SIZE = 12
KEY_SIZE = 32


class SubjectErased(Exception):
    """The subject's personal data was erased: nothing new is stored under its key."""


class MasterKey:
    def __init__(self, key: bytes, path: Path | None = None) -> None:
        if len(key) != KEY_SIZE:
            raise ConfigurationError("the master key is 32 random bytes, base64-encoded")
        self._aead = AESGCM(key)
        self.fingerprint = fingerprint(MASTER, key)
        self.path = path  # the file it came from, if any

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(AESGCM.generate_key(bit_length=256))

    @staticmethod
    def generate_file(path: Path) -> None:
        """A new master key, written once with mode 600."""
        if path.exists():
            raise ConfigurationError(f"{path} exists: a master key is never overwritten")
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as f:
            f.write(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode() + "\n")

    @classmethod
    def from_file(cls, path: Path) -> MasterKey:
        try:
            return cls(base64.b64decode(path.read_text().strip(), validate=True), path)
        except (OSError, ValueError) as e:
            raise ConfigurationError(f"cannot read the master key from {path}: {e}") from None

    def wrap(self, subject: UUID, data_key: bytes) -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, data_key, subject.bytes)

    def unwrap(self, subject: UUID, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], subject.bytes)
        except InvalidTag:
            raise ConfigurationError(
                f"the master key does not open the key of subject {subject}: wrong master key?"
            ) from None


class SubjectKeyStore:
    """The ``subject_keys`` table, on the application's own database."""

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore, master: MasterKey) -> None:
        self.db = Database(datastore)
        self.master = master
        self.table = SubjectKeyTable(self.db)
        self._check_master()

    def _check_master(self) -> None:
        """Refuses a master key other than the one the subject keys are wrapped by, naming
        that one's file; remembers this one's file for later answers."""
        files = KeyFiles(self.db)
        recorded = files.recorded(MASTER)
        if recorded and self.master.fingerprint not in recorded and files.count("subject_keys"):
            raise ConfigurationError(
                f"the subject keys in this database are wrapped by the master key in "
                f"{list(recorded.values())[-1]}, not by {self.master.path or 'this one'}"
            )
        if self.master.path is not None:
            files.record(MASTER, self.master.fingerprint, self.master.path)

    @overload
    def key_for(self, subject: UUID, *, create: Literal[True]) -> bytes: ...
    @overload
    def key_for(self, subject: UUID, *, create: bool) -> bytes | None: ...
    def key_for(self, subject: UUID, *, create: bool) -> bytes | None:
        """The subject's data key; None once erased (or, without ``create``, if there is none)."""
        stored = self.table.find(subject)
        if stored is not None:
            if stored.wrapped is None:
                if create:
                    raise SubjectErased(f"personal data of subject {subject} was erased")
                return None
            return self.master.unwrap(subject, stored.wrapped)
        if not create:
            return None
        data_key = AESGCM.generate_key(bit_length=256)
        self.table.insert(subject, self.master.wrap(subject, data_key))
        # Another writer may have created it first: theirs is the key.
        return self.key_for(subject, create=True)

    def keys_for(self, subjects: Collection[UUID]) -> dict[UUID, bytes]:
        """The data keys of those of ``subjects`` that have one (not erased): a register page
        opens the texts of many records at once."""
        wrapped = self.table.live(sorted(str(s) for s in set(subjects)))
        return {subject: self.master.unwrap(subject, key) for subject, key in wrapped.items()}

    def destroy(self, subject: UUID) -> None:
        """Destroy the data key, leaving a tombstone. Safe to repeat."""
        self.table.tombstone(subject)


# Every command that opens or seals personal data asks for a key: with one connection, a
# process's commands queued for it (measured: 27 % of an API process's request threads' time
# waiting for it, at 50 concurrent clients).
KEY_STORE_CONNECTIONS = 5


def open_key_store(database_url: str, master: MasterKey) -> SubjectKeyStore:
    """The key store on the same database as the events, through its own connections."""
    return SubjectKeyStore(datastore_for(database_url, KEY_STORE_CONNECTIONS), master)


def _now() -> str:
    return datetime.now(UTC).isoformat()
