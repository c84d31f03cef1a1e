"""The witness's own state: the latest checkpoint it cosigned per origin, in its own SQLite file.

Check and persist happen in one ``BEGIN IMMEDIATE`` transaction, under SQLite's write lock
(also across processes), and the cosignature is made inside it: a request that read an older
state can never commit over a newer one, so a concurrent smaller request cannot roll the
witness back. The cosignature leaves the process only after the commit, and every commit is
synced (``synchronous=FULL``): whatever a client received survives a kill -9 or power loss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.persistence.appending import Clock, utc_now
from adapters.persistence.witness import CosignedRow, CosignedTable, cosigned_rows
from ledger.checkpoint import Checkpoint
from ledger.note import NoteSigner, NoteVerifier
from ledger.witness import (
    AddCheckpoint,
    check_add_checkpoint,
    checkpoint_of,
    cosignature_line,
)


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
        self.table = CosignedTable(path)

    def add_checkpoint(self, request: AddCheckpoint) -> str:
        """The cosignature line for the request's checkpoint, or a WitnessRefusal."""
        checkpoint = checkpoint_of(request, self.logs)
        with self.table.writing() as writing:
            row = writing.latest(checkpoint.origin)
            latest = None if row is None else Checkpoint(row.origin, row.tree_size, row.root)
            check_add_checkpoint(request, checkpoint, latest)
            # Never earlier than the cosignature before: the time is part of the statement.
            now = max(int(self.clock().timestamp()), 0 if row is None else row.cosigned_at)
            line = cosignature_line(checkpoint, self.signer, now)
            writing.put(
                CosignedRow(
                    checkpoint.origin, checkpoint.size, checkpoint.root, request.note + line, now
                )
            )
        return line

    def cosigned(self) -> list[Cosigned]:
        """The latest checkpoint cosigned per origin."""
        return cosigned_in(self.path)


def cosigned_in(path: Path) -> list[Cosigned]:
    """What the witness store at ``path`` holds: the latest cosigned checkpoint per origin."""
    return [
        Cosigned(Checkpoint(r.origin, r.tree_size, r.root), r.note, r.cosigned_at)
        for r in cosigned_rows(path)
    ]
