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
from pathlib import Path
from typing import Literal, overload
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.config import ConfigurationError
from adapters.persistence.key_files import MASTER, datastore_for, fingerprint
from adapters.persistence.keys import KeyFiles, SubjectKeyTable
from adapters.persistence.sqldb import Database

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


def open_key_store(database_url: str, master: MasterKey) -> SubjectKeyStore:
    """The key store on the same database as the events, through its own connections."""
    return SubjectKeyStore(datastore_for(database_url), master)
