"""Signs checkpoints of the ledger, and never two that are inconsistent with each other.

Before signing, the checkpointer proves the new tree consistent with the checkpoints it knows
of: the newest in the database, and the one in a state file beside the key (outside the
database, so a database rolled back past a checkpoint is noticed, not signed over), which must
also agree with the database's checkpoint of its size. One signer per ledger at a time, also
across processes (the store's signer lock), so the newest checkpoint and the ledger's size are
read by the one that signs next; the state file is replaced atomically (a temporary file of
its own, synced, renamed).

Signing is not the command's job: a failure is logged, kept for ``/health``, and retried by
the periodic signer.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from adapters.persistence.appending import Clock, utc_now
from adapters.services.periodic import Periodic
from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.errors import InconsistentCheckpoints, LedgerError, Truncated
from ledger.merkle import consistency_proof, tree_root, verify_consistency
from ledger.note import NoteSigner, NoteVerifier
from ledger.store import LedgerStore

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 60.0
RETRY_SECONDS = 1.0


class KeyMismatch(Exception):
    """The signing key, or its state file, does not verify what the ledger holds."""


@dataclass(frozen=True)
class Failure:
    reason: str
    at: datetime


class Signing(Protocol):
    """What the API asks of its signer: this process's checkpointer, or (in an API worker)
    ``serve``'s, over a pipe (``shared_signing``)."""

    @property
    def failure(self) -> Failure | None: ...

    def checkpoint(self, covering: int | None = None) -> tuple[Checkpoint, str]: ...

    def signed_size(self, covering: int) -> int: ...


class Checkpointer:
    def __init__(
        self,
        store: LedgerStore,
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
        self.failure: Failure | None = None
        # Post-commit work on each new checkpoint (witnesses' cosignatures): never fails it.
        self.on_signed = on_signed
        self._lock = threading.Lock()
        self._newest: tuple[Checkpoint, str] | None = None  # the last this one signed or found
        # Signings begun, and the one that gave ``_newest``: a checkpoint whose signing began
        # after an entry was committed was checked against a ledger that held that entry.
        self._begun = 0
        self._newest_begun = 0
        self._periodic: Periodic | None = None

    def newest(self) -> tuple[Checkpoint, str] | None:
        """The newest checkpoint signed by this key, from the database or the state file."""
        known = self._known()
        return max(known, key=lambda pair: pair[0].size, default=None)

    def _known(self) -> list[tuple[Checkpoint, str]]:
        """The database's newest checkpoint and the state file's, each checked."""
        known = []
        latest = self.store.latest_signed_checkpoint()
        if latest is not None:
            known.append(
                (self._open(latest, "the newest checkpoint stored in the database"), latest)
            )
        state = self._state()
        if state is not None and known and known[0][0] == state[0]:
            # The usual case: the state file holds the newest stored checkpoint. Checked once,
            # not again under another name: a signing holds the signer lock, and every
            # round trip under it delays every decision waiting for a checkpoint.
            return known
        if state is not None:
            stored = self.store.signed_checkpoint_at(state[0].size)
            if (
                stored is not None
                and self._open(stored, "a checkpoint stored in the database") != state[0]
            ):
                raise InconsistentCheckpoints(
                    f"the state file {self.state_file} and the database hold different "
                    f"checkpoints of size {state[0].size}: refusing to sign",
                    index=state[0].size,
                )
            known.append(state)
        return known

    def _open(self, note: str, what: str) -> Checkpoint:
        try:
            return open_checkpoint(note, [self.verifier])
        except (LedgerError, ValueError) as e:
            raise KeyMismatch(f"{what} is not signed by the key {self.signer.name}: {e}") from e

    def _state(self) -> tuple[Checkpoint, str] | None:
        if self.state_file is None:
            return None
        try:
            note = self.state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return self._open(note, f"the state file {self.state_file}"), note

    def check_key(self) -> None:
        """Every stored checkpoint, and the state file, verify under this key (else
        ``KeyMismatch``): a process with another key must not start signing this ledger."""
        for note in self.store.signed_checkpoints():
            self._open(note, "a checkpoint stored in the database")
        self._known()

    def checkpoint(self, covering: int | None = None) -> tuple[Checkpoint, str]:
        """Sign the ledger as it stands, unless the newest checkpoint already covers it, or
        covers its first ``covering`` entries."""
        waiting_since = self._begun  # read once the caller's entries are committed
        with self._lock:
            newest = self._newest
            if (
                covering is not None
                and newest is not None
                and self._newest_begun > waiting_since
                and newest[0].size >= covering
            ):
                # Signed, over a ledger that held the caller's entries, while the caller
                # waited for the lock: decisions that arrive together share one checkpoint,
                # as commits share a flush.
                return newest
            self._begun += 1
            try:
                with self.store.signer_lock():
                    checkpoint, note, fresh = self._sign(covering)
            except Exception as e:
                self.failure = Failure(f"{type(e).__name__}: {e}", self.clock())
                raise
            self.failure = None
            self._newest, self._newest_begun = (checkpoint, note), self._begun
        if fresh:
            self._signed(note)
        return checkpoint, note

    def _signed(self, note: str) -> None:
        if self.on_signed is None:
            return
        try:
            self.on_signed(note)
        except Exception:
            log.exception("after signing checkpoint")

    def signed_size(self, covering: int) -> int:
        """The size of a checkpoint that holds the first ``covering`` entries, signed if none
        does yet: the application's hook after a decision."""
        return self.checkpoint(covering)[0].size

    def _sign(self, covering: int | None) -> tuple[Checkpoint, str, bool]:
        """The checkpoint over the ledger as it stands (or the newest, when it holds the first
        ``covering`` entries), its note, and whether it is new."""
        # Under the signer lock, in this order: no other signer can add a checkpoint
        # between reading the newest and reading the size, which only grows.
        known = self._known()
        size = self.store.ledger_size()
        newest = max(known, key=lambda pair: pair[0].size, default=None)
        if newest is not None and newest[0].size > size:
            raise Truncated(
                "the ledger is shorter than a signed checkpoint: refusing to sign",
                index=size,
                expected=f"{newest[0].size} entries",
                found=f"{size} entries",
            )
        root = tree_root(size, self.store)
        for previous, _ in known:
            # Also refuses a tree whose first previous.size entries were rewritten.
            proof = consistency_proof(previous.size, size, self.store)
            verify_consistency(previous.size, size, proof, previous.root, root)
        # Proved consistent with the ledger as it stands, the newest holds its first entries:
        # all of them, or (signed by another process meanwhile) the ``covering`` needed.
        if newest is not None and newest[0].size >= (size if covering is None else covering):
            return *newest, False
        checkpoint = Checkpoint(self.signer.name, size, root)
        note = sign_checkpoint(checkpoint, self.signer)
        self._write_state(note)
        self.store.store_checkpoint(size, root, note, self.clock())
        log.info("signed checkpoint %s at size %d", self.signer.name, size)
        return checkpoint, note, True

    def _write_state(self, note: str) -> None:
        if self.state_file is None:
            return
        folder = self.state_file.parent
        descriptor, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{self.state_file.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(note)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.state_file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        # The rename itself is durable only once the folder is.
        folder_descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(folder_descriptor)
        finally:
            os.close(folder_descriptor)

    # --- the periodic signer -----------------------------------------------------------------

    def start(self, interval: float = INTERVAL_SECONDS) -> None:
        """Sign at least every ``interval`` seconds while entries were added; after a failure,
        try again every ``RETRY_SECONDS`` (or ``interval`` if that is shorter)."""
        self._periodic = Periodic(
            "checkpointer",
            self._tick,
            lambda: interval if self.failure is None else min(interval, RETRY_SECONDS),
        )
        self._periodic.start()

    def stop(self) -> None:
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    def _tick(self) -> None:
        before = self.failure
        try:
            self.checkpoint()  # signs only when entries were added
        except Exception:
            # Kept for /health; logged for the operator once per reason, not every second.
            if before is None or self.failure is None or before.reason != self.failure.reason:
                log.exception("checkpoint failed; trying again")
        else:
            if before is not None:
                log.info("checkpoints signed again (failing since %s)", before.at)


def state_file_for(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".checkpoint")
