"""The witness's own state: the latest checkpoint it cosigned per origin, in its own SQLite file.

Check and persist happen in one ``BEGIN IMMEDIATE`` transaction, under SQLite's write lock
(also across processes), and the cosignature is made inside it: a request that read an older
state can never commit over a newer one, so a concurrent smaller request cannot roll the
witness back. The cosignature leaves the process only after the commit, and every commit is
synced (``synchronous=FULL``): whatever a client received survives a kill -9 or power loss.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from adapters.persistence.appending import Clock, utc_now
from adapters.persistence.schema import WITNESS_COSIGNED, migrate
from adapters.sqldb import Cursor
from ledger.checkpoint import Checkpoint
from ledger.note import NoteSigner, NoteVerifier
from ledger.witness import (
    AddCheckpoint,
    check_add_checkpoint,
    checkpoint_of,
    cosignature_line,
)

LOCK_TIMEOUT = 30.0


@dataclass(frozen=True)
class Cosigned:
    checkpoint: Checkpoint
    note: str  # the log's signed checkpoint with this witness's cosignature
    cosigned_at: int  # POSIX seconds, as in the cosignature


class WitnessStore:
    def __init__(
        self,
        path: Path,
        signer: NoteSigner,
        logs: Sequence[NoteVerifier],
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.path, self.signer, self.clock = path, signer, clock
        self.logs: Mapping[str, NoteVerifier] = {v.name: v for v in logs}
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("BEGIN IMMEDIATE")
            migrate(WITNESS_COSIGNED, Cursor(db.cursor(), postgres=False))
            db.execute("COMMIT")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # One connection per call: requests arrive on several threads.
        db = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT, isolation_level=None)
        with closing(db):
            db.execute("PRAGMA synchronous=FULL")
            yield db

    def add_checkpoint(self, request: AddCheckpoint) -> str:
        """The cosignature line for the request's checkpoint, or a WitnessRefusal."""
        checkpoint = checkpoint_of(request, self.logs)
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT tree_size, root, cosigned_at FROM cosigned WHERE origin = ?",
                    (checkpoint.origin,),
                ).fetchone()
                latest = None if row is None else Checkpoint(checkpoint.origin, row[0], row[1])
                check_add_checkpoint(request, checkpoint, latest)
                # Never earlier than the cosignature before: the time is part of the statement.
                now = max(int(self.clock().timestamp()), 0 if row is None else row[2])
                line = cosignature_line(checkpoint, self.signer, now)
                db.execute(
                    "INSERT INTO cosigned VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE "
                    "SET tree_size = excluded.tree_size, root = excluded.root, "
                    "note = excluded.note, cosigned_at = excluded.cosigned_at",
                    (checkpoint.origin, checkpoint.size, checkpoint.root, request.note + line, now),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return line

    def cosigned(self) -> list[Cosigned]:
        """The latest checkpoint cosigned per origin."""
        return cosigned_in(self.path)


def cosigned_in(path: Path) -> list[Cosigned]:
    """What the witness store at ``path`` holds: the latest cosigned checkpoint per origin."""
    with closing(sqlite3.connect(path, timeout=LOCK_TIMEOUT)) as db:
        rows = db.execute(
            "SELECT origin, tree_size, root, note, cosigned_at FROM cosigned ORDER BY origin"
        ).fetchall()
    return [Cosigned(Checkpoint(o, int(s), bytes(r)), n, int(t)) for o, s, r, n, t in rows]
