"""Signs checkpoints of the ledger, and never two that are inconsistent with each other.

Before signing, the checkpointer proves the new tree consistent with the newest checkpoint
it knows of, from the database and from a state file beside the key (outside the database,
so a database rolled back past a checkpoint is noticed, not signed over).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from adapters.persistence.appending import Clock, utc_now
from ledger.bundle import LedgerSource
from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.errors import Truncated
from ledger.merkle import consistency_proof, tree_root, verify_consistency
from ledger.note import NoteSigner, NoteVerifier

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60.0


class CheckpointStore(LedgerSource, Protocol):
    def latest_signed_checkpoint(self) -> str | None: ...

    def store_checkpoint(self, size: int, root: bytes, note: str, signed_at: datetime) -> None: ...


class Checkpointer:
    def __init__(
        self,
        store: CheckpointStore,
        signer: NoteSigner,
        *,
        state_file: Path | None = None,
        clock: Clock = utc_now,
        on_signed: Callable[[str], object] | None = None,
    ) -> None:
        self.store = store
        self.signer = signer
        self.verifier = NoteVerifier.from_vkey(signer.vkey())
        self.state_file = state_file
        self.clock = clock
        # Post-commit work on each new checkpoint (witnesses' cosignatures): never fails it.
        self.on_signed = on_signed
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def newest(self) -> tuple[Checkpoint, str] | None:
        """The newest checkpoint signed by this key, from the database or the state file."""
        latest = self.store.latest_signed_checkpoint()
        notes = [] if latest is None else [latest]
        if self.state_file is not None and self.state_file.exists():
            notes.append(self.state_file.read_text())
        opened = [(open_checkpoint(note, [self.verifier]), note) for note in notes]
        return max(opened, key=lambda pair: pair[0].size, default=None)

    def checkpoint(self) -> tuple[Checkpoint, str]:
        """Sign the ledger as it stands, unless the newest checkpoint already covers it."""
        with self._lock:
            size = self.store.ledger_size()
            newest = self.newest()
            if newest is not None and newest[0].size > size:
                raise Truncated(
                    "the ledger is shorter than a signed checkpoint: refusing to sign",
                    index=size,
                    expected=f"{newest[0].size} entries",
                    found=f"{size} entries",
                )
            root = tree_root(size, self.store)
            if newest is not None:
                previous = newest[0]
                # Also refuses a tree whose first previous.size entries were rewritten.
                proof = consistency_proof(previous.size, size, self.store)
                verify_consistency(previous.size, size, proof, previous.root, root)
                if previous.size == size:
                    return newest
            checkpoint = Checkpoint(self.signer.name, size, root)
            note = sign_checkpoint(checkpoint, self.signer)
            self._write_state(note)
            self.store.store_checkpoint(size, root, note, self.clock())
            log.info("signed checkpoint %s at size %d", self.signer.name, size)
        self._signed(note)
        return checkpoint, note

    def _signed(self, note: str) -> None:
        if self.on_signed is None:
            return
        try:
            self.on_signed(note)
        except Exception:
            log.exception("after signing checkpoint")

    def _write_state(self, note: str) -> None:
        if self.state_file is None:
            return
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(note)
        os.replace(temporary, self.state_file)

    # --- the periodic signer -----------------------------------------------------------------

    def start(self, interval: float = INTERVAL_SECONDS) -> None:
        """Sign at least every ``interval`` seconds while entries were added."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="checkpointer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                newest = self.newest()
                if newest is None or self.store.ledger_size() > newest[0].size:
                    self.checkpoint()
            except Exception:
                # Keep signing later; the failure is logged for the operator.
                log.exception("checkpoint failed")


def state_file_for(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".checkpoint")
