"""The ledger collects its witnesses' cosignatures, and a verifier with a witness policy
relies only on checkpoints that enough independent witnesses cosigned."""

from __future__ import annotations

import pytest

from adapters.services.cosigning import Cosigning
from ledger.errors import VerificationFailure
from ledger.verify import verify_ledger
from ledger.witness import AddCheckpoint, CosignatureFailure, WitnessPolicy
from tests.witness.conftest import Ledger, RunningWitness, verifier_of


def policy(witnesses: list[RunningWitness], minimum: int) -> WitnessPolicy:
    return WitnessPolicy([w.verifier for w in witnesses], minimum)


def verify(ledger: Ledger, rule: WitnessPolicy) -> list[VerificationFailure]:
    size = ledger.recorder.ledger_size()
    return verify_ledger(
        ledger.recorder.records(0, size - 1),
        ledger.recorder.signed_checkpoints(),
        [verifier_of(ledger.signer)],
        origin=ledger.signer.name,
        reaches_end=True,
        policy=rule,
    ).failures


def cosigning(ledger: Ledger, witnesses: list[RunningWitness]) -> Cosigning:
    # A bound for a loaded machine (the witnesses answer from threads of this process); a
    # stopped witness refuses at once, so no test waits for it.
    return Cosigning(ledger.recorder, [w.as_configured for w in witnesses], timeout=30)


def test_a_new_checkpoint_is_cosigned_by_the_fg_and_the_neighbour(ledger, witnesses):
    checkpointer = ledger.checkpointer(cosigning(ledger, witnesses))
    ledger.append(4)
    checkpointer.checkpoint()
    ledger.append(3)
    checkpointer.checkpoint()
    latest = ledger.recorder.latest_signed_checkpoint()
    assert policy(witnesses, 2).cosigners(latest) == {w.signer.name for w in witnesses}
    assert verify(ledger, policy(witnesses, 2)) == []
    # Each witness extended its own last cosigned tree: it holds the newest.
    assert [w.store.cosigned()[0].checkpoint.size for w in witnesses] == [7, 7]
    # Every checkpoint, not only the newest, carries what was collected for it.
    assert all(
        len(policy(witnesses, 2).cosigners(n)) == 2 for n in ledger.recorder.signed_checkpoints()
    )


def test_with_one_witness_down_1_of_2_holds_2_of_2_does_not_until_it_is_caught_up(
    ledger, witnesses
):
    fg, neighbour = witnesses
    collecting = cosigning(ledger, witnesses)
    checkpointer = ledger.checkpointer(collecting)
    ledger.append(3)
    checkpointer.checkpoint()
    neighbour.stop()
    ledger.append(5)
    checkpoint, _ = checkpointer.checkpoint()  # a witness down never fails the checkpoint
    assert checkpoint.size == 8
    assert verify(ledger, policy(witnesses, 1)) == []
    [failure] = verify(ledger, policy(witnesses, 2))
    assert isinstance(failure, CosignatureFailure)
    assert failure.check == "cosignature"
    assert "size 8" in str(failure)
    assert failure.expected == "at least 2 of 2 witnesses"
    assert failure.found == f"1 ({fg.signer.name})"

    neighbour.start()
    assert collecting.catch_up() == 1
    assert verify(ledger, policy(witnesses, 2)) == []
    # Caught up from size 3 to 8 in one request, with the consistency proof.
    assert neighbour.store.cosigned()[0].checkpoint.size == 8
    assert collecting.catch_up() == 0  # nothing left to ask


def test_a_witness_that_cosigned_what_the_ledger_never_stored_is_asked_again_from_its_size(
    ledger, witnesses
):
    """The witness committed, the answer was lost: its 409 says where to go on from."""
    fg = witnesses[0]
    ledger.append(2)
    first = ledger.sign()
    assert fg.post(AddCheckpoint(0, [], first))[0] == 200
    ledger.append(2)
    collecting = cosigning(ledger, [fg])
    ledger.checkpointer(collecting).checkpoint()
    assert policy([fg], 1).cosigners(ledger.recorder.latest_signed_checkpoint()) == {fg.signer.name}


def test_a_forked_ledger_gets_no_cosignature_and_fails_the_policy(ledger, fork, witnesses):
    ledger.append(4)
    ledger.checkpointer(cosigning(ledger, witnesses)).checkpoint()
    fork.append(6)
    fork.checkpointer(cosigning(fork, witnesses)).checkpoint()  # refused, and no error
    assert verify(ledger, policy(witnesses, 2)) == []
    [failure] = verify(fork, policy(witnesses, 1))
    assert failure.check == "cosignature"
    assert failure.found == "0 (none)"


def test_a_cosignature_that_does_not_verify_is_a_failure_not_an_ignored_line(ledger, witnesses):
    ledger.append(2)
    ledger.checkpointer(cosigning(ledger, witnesses)).checkpoint()
    note = ledger.recorder.latest_signed_checkpoint()
    text, _, lines = note.rpartition("\n\n")
    last = lines.splitlines()[-1]
    bad = last[:-6] + ("A" if last[-6] != "A" else "B") + last[-5:]
    tampered = text + "\n\n" + lines.replace(last, bad)
    with pytest.raises(CosignatureFailure, match="does not verify"):
        policy(witnesses, 1).cosigners(tampered)
