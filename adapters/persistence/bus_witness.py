"""The bus witness's copy of the ledger, in its own SQLite file (adapters/bus/witness): the
entries and checkpoints it received (``verified`` once its checks passed) and its
cosignatures. One connection, one transaction per message: the witness commits after each
message and rolls back whatever a failed check left."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from adapters.config import private_file
from adapters.persistence.schema import BUS_WITNESS, migrate
from adapters.persistence.sqldb import Cursor

# A message is acknowledged after its commit, so every commit is synced; WAL makes that one
# sync per message instead of several.
WAL = "PRAGMA journal_mode=WAL"
LATEST_VERIFIED_NOTE = (
    "SELECT note FROM checkpoints WHERE verified = 1 ORDER BY tree_size DESC LIMIT 1"
)
ANY_ENTRY_FROM = "SELECT 1 FROM entries WHERE ledger_index >= ? LIMIT 1"
KEPT_ENTRIES = (
    "SELECT ledger_index, event_id, leaf_hash, chain_hash FROM entries "
    "WHERE event_id = ? OR ledger_index = ?"
)
INSERT_ENTRY = "INSERT INTO entries VALUES (?, ?, ?, ?, ?)"
ENTRIES_FROM = (
    "SELECT entry, leaf_hash, chain_hash FROM entries WHERE ledger_index >= ? ORDER BY ledger_index"
)
CHECKPOINT_ROOT = "SELECT root FROM checkpoints WHERE tree_size = ?"
INSERT_CHECKPOINT = "INSERT INTO checkpoints VALUES (?, ?, ?, 0)"
UNVERIFIED_UP_TO = (
    "SELECT tree_size, note FROM checkpoints WHERE verified = 0 AND tree_size <= ? "
    "ORDER BY tree_size"
)
MARK_VERIFIED = "UPDATE checkpoints SET verified = 1 WHERE tree_size = ?"
INSERT_COSIGNATURE = "INSERT INTO cosignatures VALUES (?, ?)"
NEWEST_COSIGNED = (
    "SELECT c.note, s.line FROM checkpoints c JOIN cosignatures s USING (tree_size) "
    "ORDER BY tree_size DESC LIMIT 1"
)

KeptEntry = tuple[int, str, bytes, bytes]  # index, event id, leaf hash, chain hash


class WitnessCopy:
    def __init__(self, path: Path) -> None:
        private_file(path)
        self.db = sqlite3.connect(path, isolation_level="DEFERRED")
        self.db.execute(WAL)
        with self.db:
            migrate(BUS_WITNESS, Cursor(self.db.cursor(), postgres=False))

    def latest_verified_note(self) -> str | None:
        row = self.db.execute(LATEST_VERIFIED_NOTE).fetchone()
        return None if row is None else str(row[0])

    def any_entry_from(self, index: int) -> bool:
        return self.db.execute(ANY_ENTRY_FROM, (index,)).fetchone() is not None

    def kept_entries(self, event_id: str, index: int) -> list[KeptEntry]:
        """What was kept under this event id or at this index."""
        return list(self.db.execute(KEPT_ENTRIES, (event_id, index)).fetchall())

    def keep_entry(self, kept: KeptEntry, entry: bytes) -> None:
        index, event_id, leaf, chain = kept
        self.db.execute(INSERT_ENTRY, (index, event_id, entry, leaf, chain))

    def entries_from(self, index: int) -> Iterator[tuple[bytes, bytes, bytes]]:
        """Entry bytes, leaf hash and chain hash of the entries kept from ``index`` on."""
        yield from self.db.execute(ENTRIES_FROM, (index,))

    def checkpoint_root(self, size: int) -> bytes | None:
        row = self.db.execute(CHECKPOINT_ROOT, (size,)).fetchone()
        return None if row is None else bytes(row[0])

    def keep_checkpoint(self, size: int, root: bytes, note: str) -> None:
        self.db.execute(INSERT_CHECKPOINT, (size, root, note))

    def unverified_up_to(self, size: int) -> list[tuple[int, str]]:
        return list(self.db.execute(UNVERIFIED_UP_TO, (size,)).fetchall())

    def mark_verified(self, size: int) -> None:
        self.db.execute(MARK_VERIFIED, (size,))

    def keep_cosignature(self, size: int, line: str) -> None:
        self.db.execute(INSERT_COSIGNATURE, (size, line))

    def newest_cosigned(self) -> str | None:
        """The newest checkpoint cosigned, with its cosignature line."""
        row = self.db.execute(NEWEST_COSIGNED).fetchone()
        return None if row is None else str(row[0]) + str(row[1])

    def commit(self) -> None:
        self.db.commit()

    def rollback(self) -> None:
        self.db.rollback()

    def close(self) -> None:
        self.db.close()
