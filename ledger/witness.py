"""Witnesses: the C2SP tlog-witness protocol and a verifier's witness policy (LEDGER.md 7).

A witness cosigns a checkpoint only when the log's own key signed it and it is consistent
with the last checkpoint the witness cosigned for that origin; so no two inconsistent trees
of one origin ever carry its cosignature. The decision is made here, without I/O: the caller
reads the witness's latest checkpoint and persists the new one in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.errors import LedgerError, MalformedInput, VerificationFailure
from ledger.merkle import EMPTY_ROOT, verify_consistency
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier, b64, cosign, split_note, unb64

MAX_PROOF_LINES = 63  # tlog-witness: a consistency proof never needs more
MAX_REQUEST_BYTES = 16_384
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"^old (0|[1-9][0-9]*)$")


# --- the request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AddCheckpoint:
    """The body of ``POST <prefix>/add-checkpoint``."""

    old: int
    proof: list[bytes]
    note: str  # the signed checkpoint, verbatim

    def format(self) -> str:
        lines = [f"old {self.old}", *(b64(h) for h in self.proof)]
        return "\n".join(lines) + "\n\n" + self.note

    @classmethod
    def parse(cls, body: str) -> AddCheckpoint:
        head, sep, note = body.partition("\n\n")
        if not sep or not note:
            raise MalformedInput("an add-checkpoint request has a blank line before the note")
        lines = head.split("\n")
        match = _OLD.match(lines[0])
        if match is None:
            raise MalformedInput("an add-checkpoint request starts with 'old <size>'")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise MalformedInput(f"a consistency proof has at most {MAX_PROOF_LINES} hashes")
        proof = [unb64(line, "proof hash") for line in lines[1:]]
        if any(len(h) != 32 for h in proof):
            raise MalformedInput("a proof hash is 32 bytes")
        old = int(match.group(1))
        if old == 0 and proof:
            raise MalformedInput("the proof from size 0 is empty")
        return cls(old, proof, note)


# --- the witness's refusals, with the HTTP status tlog-witness gives each ------------------


class WitnessRefusal(LedgerError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(WitnessRefusal):
    status = 400


class UntrustedSignature(WitnessRefusal):
    status = 403


class UnknownOrigin(WitnessRefusal):
    status = 404


class SizeConflict(WitnessRefusal):
    """``old`` is not the size the witness last cosigned, or equal sizes with other roots:
    the body tells the client the witness's size, to retry from."""

    status = 409

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class ProofRefused(WitnessRefusal):
    status = 422


def check_add_checkpoint(
    request: AddCheckpoint, checkpoint: Checkpoint, latest: Checkpoint | None
) -> None:
    """Refuses unless the witness may cosign ``checkpoint`` (the request's, opened by
    ``checkpoint_of``). ``latest`` is the witness's checkpoint for its origin, read in the
    transaction that will persist the answer."""
    current = 0 if latest is None else latest.size
    if request.old != current:
        raise SizeConflict(f"the witness last cosigned size {current}, not {request.old}", current)
    current_root = EMPTY_ROOT if latest is None else latest.root
    if checkpoint.size == current and checkpoint.root != current_root:
        raise SizeConflict(f"a different tree of size {current} was cosigned", current)
    try:
        verify_consistency(current, checkpoint.size, request.proof, current_root, checkpoint.root)
    except VerificationFailure as failure:
        raise ProofRefused(
            f"not consistent with the cosigned size {current}: {failure.message}"
        ) from None


def checkpoint_of(request: AddCheckpoint, logs: Mapping[str, NoteVerifier]) -> Checkpoint:
    """The request's checkpoint, signed by the key of a log the witness watches."""
    try:
        origin = Checkpoint.parse(split_note(request.note)[0]).origin
    except MalformedInput as e:
        raise BadRequest(str(e)) from None
    verifier = logs.get(origin)
    if verifier is None:
        raise UnknownOrigin(f"this witness does not watch {origin}")
    try:
        checkpoint = open_checkpoint(request.note, [verifier])
    except VerificationFailure as failure:
        raise UntrustedSignature(failure.message) from None
    if request.old > checkpoint.size:
        raise BadRequest(f"old size {request.old} is above the checkpoint's {checkpoint.size}")
    return checkpoint


def cosignature_line(checkpoint: Checkpoint, signer: NoteSigner, timestamp: int) -> str:
    return cosign(checkpoint.body(), signer, timestamp)


# --- the verifier's witness policy ----------------------------------------------------------


class CosignatureFailure(VerificationFailure):
    """Too few valid cosignatures, or a listed witness's cosignature that does not verify."""

    check = "cosignature"


@dataclass(frozen=True)
class WitnessPolicy:
    """At least ``minimum`` valid cosignatures from distinct ``witnesses``."""

    witnesses: Sequence[NoteVerifier]
    minimum: int

    def __post_init__(self) -> None:
        if any(w.key_type != COSIGNATURE_V1 for w in self.witnesses):
            raise MalformedInput("a witness key is a cosignature (0x04) key")
        if not 0 <= self.minimum <= len(self.witnesses):
            raise MalformedInput(
                f"--min-witnesses {self.minimum} needs at least as many witness keys "
                f"(given {len(self.witnesses)})"
            )

    def cosigners(self, note: str) -> set[str]:
        """The listed witnesses whose cosignature on ``note`` verifies; a listed witness's
        line that does not verify is a failure, lines of unknown keys are ignored."""
        text, lines = split_note(note)
        known = {(w.name, w.key_id): w for w in self.witnesses}
        found = set()
        for line in lines:
            witness = known.get((line.name, line.key_id))
            if witness is None:
                continue
            if not witness.verify(text, line.blob):
                raise CosignatureFailure(
                    f"the cosignature of witness {line.name} does not verify",
                    expected="a valid cosignature",
                    found="a bad one",
                )
            found.add(witness.name)
        return found

    def check(self, notes: Sequence[str], checkpoint: Checkpoint) -> list[str]:
        """The listed witnesses that cosigned ``checkpoint``; a CosignatureFailure when they
        are too few. ``notes``: the signed notes of ``checkpoint`` at hand (cosignatures may
        be spread over several copies of it)."""
        cosigners: set[str] = set()
        for note in notes:
            cosigners |= self.cosigners(note)
        if len(cosigners) < self.minimum:
            raise CosignatureFailure(
                f"checkpoint of size {checkpoint.size} lacks witness cosignatures",
                expected=f"at least {self.minimum} of {len(self.witnesses)} witnesses",
                found=f"{len(cosigners)} ({', '.join(sorted(cosigners)) or 'none'})",
            )
        return sorted(cosigners)
