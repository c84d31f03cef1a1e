"""Receipts: C2SP tlog-proof files that prove one entry offline (LEDGER.md section 4)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.entry import Entry, leaf_hash
from ledger.errors import MalformedInput, ReceiptMismatch
from ledger.merkle import verify_inclusion
from ledger.note import NoteVerifier, b64, unb64

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"^index (0|[1-9][0-9]*)$")


@dataclass(frozen=True)
class Receipt:
    entry_bytes: bytes
    index: int
    path: list[bytes]
    checkpoint: str  # the signed note, verbatim

    def format(self) -> str:
        lines = [HEADER, f"extra {b64(self.entry_bytes)}", f"index {self.index}"]
        lines += [b64(h) for h in self.path]
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str) -> Receipt:
        head, sep, checkpoint = text.partition("\n\n")
        if not sep or not checkpoint:
            raise MalformedInput("a receipt has a blank line before its checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise MalformedInput(f"a receipt starts with {HEADER}")
        if len(lines) < 3 or not lines[1].startswith("extra "):
            raise MalformedInput("a Bewijslast receipt carries its entry in the extra line")
        entry_bytes = unb64(lines[1][len("extra ") :], "extra")
        match = _INDEX.match(lines[2])
        if not match:
            raise MalformedInput("receipt index line is not 'index <decimal>'")
        path = [unb64(line, "proof hash") for line in lines[3:]]
        return cls(entry_bytes, int(match.group(1)), path, checkpoint)


def verify_receipt(text: str, verifiers: Sequence[NoteVerifier]) -> tuple[Entry, Checkpoint]:
    """Check a receipt with nothing but the verifier keys; return what it proves."""
    receipt = Receipt.parse(text)
    checkpoint = open_checkpoint(receipt.checkpoint, verifiers)
    entry = Entry.from_bytes(receipt.entry_bytes)
    if entry.index != receipt.index:
        raise ReceiptMismatch(
            "entry index differs from the receipt index",
            index=receipt.index,
            expected=receipt.index,
            found=entry.index,
        )
    verify_inclusion(
        leaf_hash(receipt.entry_bytes),
        receipt.index,
        checkpoint.size,
        receipt.path,
        checkpoint.root,
    )
    return entry, checkpoint
