"""Evidence from the ledger: receipts that prove entries under a signed checkpoint.

The CLI, the HTTP API, audit reconstruction and the accountability report hand out the same
receipts, built here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledger.checkpoint import Checkpoint
from ledger.merkle import inclusion_proof
from ledger.note import split_note
from ledger.receipt import Receipt


def checkpoint_size(note: str) -> int:
    return Checkpoint.parse(split_note(note)[0]).size


def covering_checkpoint(recorder: Any, index: int) -> str | None:
    """The newest signed checkpoint whose tree holds entry ``index``, if any."""
    notes = recorder.signed_checkpoints()
    covering = [n for n in notes if checkpoint_size(n) > index]
    return covering[-1] if covering else None


def receipts(recorder: Any, indices: Iterable[int], note: str) -> dict[int, Receipt]:
    """A receipt for each entry, all under the checkpoint ``note`` (which must cover them)."""
    size = checkpoint_size(note)
    found: dict[int, Receipt] = {}
    for index in sorted(set(indices)):
        if not 0 <= index < size:
            raise IndexError(f"entry {index} is not under the checkpoint of size {size}")
        record = next(recorder.records(index, index))
        found[index] = Receipt(
            record.entry.to_bytes(), index, inclusion_proof(index, size, recorder), note
        )
    return found
