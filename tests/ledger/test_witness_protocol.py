"""The tlog-witness request and the witness policy, as ``ledger/`` reads them."""

from __future__ import annotations

import pytest

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import MalformedInput
from ledger.merkle import EMPTY_ROOT, MemoryTree, consistency_proof, hash_leaf
from ledger.note import COSIGNATURE_V1, NoteSigner, NoteVerifier, cosign
from ledger.witness import (
    AddCheckpoint,
    BadRequest,
    ProofRefused,
    SizeConflict,
    UnknownOrigin,
    UntrustedSignature,
    WitnessPolicy,
    check_add_checkpoint,
    checkpoint_of,
)

ORIGIN = "ledger.example/log"
LOG = NoteSigner.generate(ORIGIN)
LOGS = {ORIGIN: NoteVerifier.from_vkey(LOG.vkey())}
TREE = MemoryTree(hash_leaf(bytes([i])) for i in range(10))


def note(size: int) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, TREE.root(size)), LOG)


def test_a_request_reads_back_as_it_was_written():
    request = AddCheckpoint(4, consistency_proof(4, 10, TREE), note(10))
    assert AddCheckpoint.parse(request.format()) == request
    assert request.format().startswith("old 4\n")


@pytest.mark.parametrize(
    "body",
    [
        "old 01\n\n",
        "old -1\n\nx",
        "new 3\n\nx",
        "old 3\n" + "AAAA\n" * 2 + "\n",  # no note
        "old 3\nAAAA\n\nx",  # a hash of 3 bytes
        "old 0\n" + "A" * 43 + "=\n\nx",  # a proof from the empty tree
        "old 3\n" + ("A" * 43 + "=\n") * 64 + "\nx",  # 64 hashes
    ],
)
def test_a_malformed_request_is_refused(body):
    with pytest.raises(MalformedInput):
        AddCheckpoint.parse(body)


def test_the_refusals_in_the_order_a_witness_checks():
    other = NoteSigner.generate("other.example/log")
    unknown = sign_checkpoint(Checkpoint(other.name, 1, EMPTY_ROOT), other)
    with pytest.raises(UnknownOrigin):
        checkpoint_of(AddCheckpoint(0, [], unknown), LOGS)
    forged = sign_checkpoint(Checkpoint(ORIGIN, 5, TREE.root(5)), NoteSigner.generate(ORIGIN))
    with pytest.raises(UntrustedSignature):
        checkpoint_of(AddCheckpoint(0, [], forged), LOGS)
    with pytest.raises(BadRequest):
        checkpoint_of(AddCheckpoint(6, [], note(5)), LOGS)
    seen = Checkpoint(ORIGIN, 4, TREE.root(4))
    request = AddCheckpoint(3, consistency_proof(3, 10, TREE), note(10))
    with pytest.raises(SizeConflict) as conflict:
        check_add_checkpoint(request, checkpoint_of(request, LOGS), seen)
    assert (conflict.value.status, conflict.value.size) == (409, 4)
    request = AddCheckpoint(4, consistency_proof(5, 10, TREE), note(10))
    with pytest.raises(ProofRefused):
        check_add_checkpoint(request, checkpoint_of(request, LOGS), seen)
    request = AddCheckpoint(4, consistency_proof(4, 10, TREE), note(10))
    check_add_checkpoint(request, checkpoint_of(request, LOGS), seen)


def test_a_policy_counts_distinct_listed_witnesses_and_takes_only_witness_keys():
    fg = NoteSigner.generate("fg.example/witness", COSIGNATURE_V1)
    checkpoint = Checkpoint(ORIGIN, 10, TREE.root(10))
    twice = note(10) + cosign(checkpoint.body(), fg, 1) + cosign(checkpoint.body(), fg, 2)
    fg_key = NoteVerifier.from_vkey(fg.vkey())
    assert WitnessPolicy([fg_key], 1).check([twice], checkpoint) == [fg.name]
    with pytest.raises(MalformedInput):
        WitnessPolicy([fg_key], 2)
    with pytest.raises(MalformedInput):
        WitnessPolicy([LOGS[ORIGIN]], 1)
