"""Checking evidence offline: receipts for a set of entries, with their stored states.

Audit reconstructions and accountability reports hand out, for what they claim, the entries
it rests on, each with a receipt and its state bytes. This checks them with nothing but the
verifier keys: every receipt verifies, all under one checkpoint, every state matches its
entry's ``state_sha256``, and, for one record, the entries are its whole stream so far (the
stream links close, and any entry after the cut-off links on from the last one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from ledger.checkpoint import Checkpoint
from ledger.entry import Entry
from ledger.errors import ReceiptMismatch, StateHashMismatch, StreamLinkBroken
from ledger.note import NoteVerifier
from ledger.receipt import verify_receipt


def verify_evidence(
    receipts: Mapping[int, str],
    states: Mapping[int, bytes],
    verifiers: Sequence[NoteVerifier],
) -> tuple[list[Entry], Checkpoint]:
    """The proven entries, in index order, and the one checkpoint they are proven under."""
    entries: list[Entry] = []
    checkpoint: Checkpoint | None = None
    for index in sorted(receipts):
        entry, under = verify_receipt(receipts[index], verifiers)
        if entry.index != index:
            raise ReceiptMismatch(
                "the receipt proves another entry", index=index, expected=index, found=entry.index
            )
        if checkpoint is not None and under != checkpoint:
            raise ReceiptMismatch(
                "receipts under different checkpoints",
                index=index,
                expected=checkpoint.size,
                found=under.size,
            )
        checkpoint = under
        if index in states:
            found = hashlib.sha256(states[index]).hexdigest()
            if found != entry.state_sha256:
                raise StateHashMismatch(
                    "state differs from its entry",
                    index=index,
                    expected=entry.state_sha256,
                    found=found,
                )
        entries.append(entry)
    if checkpoint is None:
        raise ReceiptMismatch("no receipts", index=None, expected=None, found=None)
    return entries, checkpoint


def verify_whole_stream(entries: Sequence[Entry], following: Entry | None) -> None:
    """``entries`` are one stream from its first entry with none left out; ``following``, the
    stream's next entry after them if there is one, shows where the stream went on."""
    previous: Entry | None = None
    for entry in [*entries, *([following] if following else [])]:
        expected_prev = None if previous is None else previous.leaf_hash().hex()
        expected_seq = 1 if previous is None else previous.stream_seq + 1
        if previous is not None and entry.stream != previous.stream:
            raise StreamLinkBroken(
                "entry of another stream",
                index=entry.index,
                expected=previous.stream,
                found=entry.stream,
            )
        if entry.stream_prev != expected_prev or entry.stream_seq != expected_seq:
            raise StreamLinkBroken(
                "the stream has a gap or a fork here",
                index=entry.index,
                expected=expected_prev,
                found=entry.stream_prev,
            )
        previous = entry
