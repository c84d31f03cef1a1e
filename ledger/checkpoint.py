"""C2SP tlog-checkpoints of the ledger (LEDGER.md section 3)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import BadSignature, MalformedInput
from ledger.note import ED25519, NoteSigner, NoteVerifier, b64, open_note, sign_note, unb64

_SIZE = re.compile(r"^(0|[1-9][0-9]*)$")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) != 4 or lines[3] != "":
            raise MalformedInput("a checkpoint has exactly three lines and no extension lines")
        origin, size, root = lines[:3]
        if not origin:
            raise MalformedInput("checkpoint origin is empty")
        if not _SIZE.match(size):
            raise MalformedInput(f"checkpoint size {size!r} is not a decimal without zeros")
        digest = unb64(root, "checkpoint root")
        if len(digest) != 32:
            raise MalformedInput("checkpoint root is not 32 bytes")
        return cls(origin, int(size), digest)


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    if signer.name != checkpoint.origin:
        raise ValueError("the ledger's key is named after its origin")
    return sign_note(checkpoint.body(), [signer])


def open_checkpoint(note: str, verifiers: Sequence[NoteVerifier]) -> Checkpoint:
    """Parse a signed checkpoint that the ledger's own key (named as the origin) signed."""
    text, signed_by = open_note(note, verifiers)
    checkpoint = Checkpoint.parse(text)
    if not any(v.name == checkpoint.origin and v.key_type == ED25519 for v in signed_by):
        raise BadSignature(f"no trusted key of origin {checkpoint.origin} signed this checkpoint")
    return checkpoint
