"""Evidence from the ledger: entries, with their states, proven under a signed checkpoint.

The CLI, the HTTP API, audit reconstruction and the accountability report hand out the same
receipts, built here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ledger.checkpoint import Checkpoint
from ledger.errors import MalformedInput
from ledger.merkle import inclusion_proof
from ledger.note import split_note
from ledger.receipt import Receipt
from ledger.store import LedgerStore, Record


@dataclass(frozen=True)
class Proven:
    record: Record
    receipt: Receipt


def checkpoint_size(note: str) -> int:
    return Checkpoint.parse(split_note(note)[0]).size


def covering_checkpoint(ledger: LedgerStore, index: int) -> str | None:
    """The newest signed checkpoint whose tree holds entry ``index``, if any."""
    notes = ledger.signed_checkpoints()
    covering = [n for n in notes if checkpoint_size(n) > index]
    return covering[-1] if covering else None


def checkpoint_for(ledger: LedgerStore, index: int, sign: Callable[[], str] | None) -> str:
    """A signed checkpoint holding entry ``index``: the newest, or a new one if ``sign`` can."""
    note = covering_checkpoint(ledger, index)
    if note is None and sign is not None:
        # Read back: the new checkpoint as stored, with the cosignatures witnesses gave it.
        note = sign()
        note = covering_checkpoint(ledger, index) or note
    if note is None or checkpoint_size(note) <= index:
        raise MalformedInput(
            f"no signed checkpoint covers index {index} yet, and no signing key is "
            "configured to make one"
        )
    return note


def prove(ledger: LedgerStore, indices: Iterable[int], note: str) -> dict[int, Proven]:
    """Each entry with its receipt under the checkpoint ``note`` (which must cover them)."""
    size = checkpoint_size(note)
    found: dict[int, Proven] = {}
    for index in sorted(set(indices)):
        if not 0 <= index < size:
            raise MalformedInput(f"entry {index} is not under the checkpoint of size {size}")
        record = next(ledger.records(index, index))
        receipt = Receipt(
            record.entry.to_bytes(), index, inclusion_proof(index, size, ledger), note
        )
        found[index] = Proven(record, receipt)
    return found
