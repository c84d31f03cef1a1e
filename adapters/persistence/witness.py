"""The witness's own SQLite file (adapters/witness): the latest checkpoint it cosigned, per
log origin, in the table ``cosigned``. One connection per call (requests arrive on several
threads), every commit synced (``synchronous=FULL``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.persistence.schema import WITNESS_COSIGNED, migrate
from adapters.persistence.sqldb import Cursor

LOCK_TIMEOUT = 30.0

WAL = "PRAGMA journal_mode=WAL"
SYNCED = "PRAGMA synchronous=FULL"
SELECT_ONE = "SELECT origin, tree_size, root, note, cosigned_at FROM cosigned WHERE origin = ?"
SELECT_ALL = "SELECT origin, tree_size, root, note, cosigned_at FROM cosigned ORDER BY origin"
PUT = (
    "INSERT INTO cosigned VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE "
    "SET tree_size = excluded.tree_size, root = excluded.root, "
    "note = excluded.note, cosigned_at = excluded.cosigned_at"
)


@dataclass(frozen=True)
class CosignedRow:
    origin: str
    tree_size: int
    root: bytes
    note: str  # the log's signed checkpoint with the witness's cosignature
    cosigned_at: int  # POSIX seconds, as in the cosignature


class CosignedWriting:
    """Inside one ``BEGIN IMMEDIATE`` transaction: SQLite's write lock, across processes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def latest(self, origin: str) -> CosignedRow | None:
        row = self.db.execute(SELECT_ONE, (origin,)).fetchone()
        return None if row is None else _row(row)

    def put(self, row: CosignedRow) -> None:
        self.db.execute(PUT, (row.origin, row.tree_size, row.root, row.note, row.cosigned_at))


class CosignedTable:
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connection() as db:
            db.execute(WAL)
        with self.writing() as writing:
            migrate(WITNESS_COSIGNED, Cursor(writing.db.cursor(), postgres=False))

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT, isolation_level=None)
        with closing(db):
            db.execute(SYNCED)
            yield db

    @contextmanager
    def writing(self) -> Iterator[CosignedWriting]:
        """Committed when the block ends, rolled back when it raises."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield CosignedWriting(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise


def cosigned_rows(path: Path) -> list[CosignedRow]:
    """What the witness file at ``path`` holds (made by ``CosignedTable``)."""
    with closing(sqlite3.connect(path, timeout=LOCK_TIMEOUT)) as db:
        return [_row(row) for row in db.execute(SELECT_ALL).fetchall()]


def _row(row: tuple[str, int, bytes, str, int]) -> CosignedRow:
    origin, size, root, note, cosigned_at = row
    return CosignedRow(origin, int(size), bytes(root), note, int(cosigned_at))
