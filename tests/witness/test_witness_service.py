"""The FG's witness: it cosigns a checkpoint only when the ledger's key signed it and it
extends what the witness cosigned before (C2SP tlog-witness), and it keeps that promise
across restarts and concurrent requests."""

from __future__ import annotations

import threading
from pathlib import Path

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.merkle import consistency_proof, tree_root
from ledger.note import NoteSigner, split_note
from ledger.witness import SIZE_CONTENT_TYPE, AddCheckpoint, WitnessPolicy
from tests.witness.conftest import ORIGIN, Ledger, RunningWitness, verifier_of


def size_of(note: str) -> int:
    return Checkpoint.parse(split_note(note)[0]).size


def extend(ledger: Ledger, old: int, note: str) -> AddCheckpoint:
    """The request the ledger makes: its checkpoint with the proof from ``old``."""
    new = size_of(note)
    proof = consistency_proof(old, new, ledger.recorder) if 0 < old < new else []
    return AddCheckpoint(old, proof, note)


def fg_witness(tmp_path: Path, ledger: Ledger) -> RunningWitness:
    return RunningWitness(
        tmp_path / "fg-witness.db", "fg.bunschoten.example/witness", [verifier_of(ledger.signer)]
    ).start()


def test_the_witness_cosigns_a_first_checkpoint_and_then_each_extension(ledger, tmp_path):
    witness = fg_witness(tmp_path, ledger)
    ledger.append(5)
    first = ledger.sign()
    status, _, body = witness.post(extend(ledger, 0, first))
    assert status == 200
    policy = WitnessPolicy([witness.verifier], 1)
    assert policy.cosigners(first + body) == {witness.signer.name}

    ledger.append(3)
    second = ledger.sign()
    status, _, body = witness.post(extend(ledger, 5, second))
    assert status == 200
    assert policy.cosigners(second + body) == {witness.signer.name}
    [latest] = witness.store.cosigned()
    assert (latest.checkpoint.origin, latest.checkpoint.size) == (ORIGIN, 8)
    assert latest.note == second + body
    witness.stop()


def test_a_stale_old_size_gets_409_with_the_witness_size(ledger, tmp_path):
    witness = fg_witness(tmp_path, ledger)
    ledger.append(4)
    witness.post(extend(ledger, 0, ledger.sign()))
    ledger.append(2)
    status, content_type, body = witness.post(extend(ledger, 0, ledger.sign()))
    assert (status, content_type, body) == (409, SIZE_CONTENT_TYPE, "4\n")
    witness.stop()


def test_a_rollback_to_an_older_size_is_refused(ledger, tmp_path):
    witness = fg_witness(tmp_path, ledger)
    ledger.append(4)
    older = ledger.sign()
    ledger.append(4)
    witness.post(extend(ledger, 0, ledger.sign()))
    # From the size it holds: old is above the checkpoint (400); from the older one: 409.
    assert witness.post(AddCheckpoint(8, [], older))[0] == 400
    assert witness.post(extend(ledger, 4, older))[:3:2] == (409, "8\n")
    assert witness.store.cosigned()[0].checkpoint.size == 8
    witness.stop()


def test_a_forked_ledger_is_refused_by_a_witness_that_saw_the_other_branch(ledger, fork, tmp_path):
    """Same origin, same key, another history: the keyholder rewrote entry 3 onwards."""
    witness = fg_witness(tmp_path, ledger)
    ledger.append(6)
    seen = ledger.sign()
    assert witness.post(extend(ledger, 0, seen))[0] == 200
    fork.append(9)
    forked = fork.sign()
    # The fork's own proof from size 6 does not lead from the root the witness cosigned.
    status, _, body = witness.post(extend(fork, 6, forked))
    assert status == 422
    assert "not consistent" in body
    # Nor does a proof from the empty tree: the witness is at 6.
    assert witness.post(extend(fork, 0, forked))[:3:2] == (409, "6\n")
    ledger.append(3)
    assert witness.post(extend(ledger, 6, ledger.sign()))[0] == 200
    assert witness.store.cosigned()[0].checkpoint.size == 9
    assert witness.store.cosigned()[0].note.startswith(ledger.recorder.latest_signed_checkpoint())
    witness.stop()


def test_an_equal_size_with_another_root_is_a_conflict(ledger, fork, tmp_path):
    witness = fg_witness(tmp_path, ledger)
    ledger.append(5)
    fork.append(5)
    assert witness.post(extend(ledger, 0, ledger.sign()))[0] == 200
    status, _, body = witness.post(AddCheckpoint(5, [], fork.sign()))
    assert (status, body) == (409, "5\n")
    witness.stop()


def test_a_checkpoint_not_signed_by_the_ledger_key_or_of_another_ledger(ledger, tmp_path):
    witness = fg_witness(tmp_path, ledger)
    ledger.append(2)
    root = tree_root(2, ledger.recorder)
    impostor = NoteSigner.generate(ORIGIN)  # the origin's name, another key
    forged = sign_checkpoint(Checkpoint(ORIGIN, 2, root), impostor)
    assert witness.post(AddCheckpoint(0, [], forged))[0] == 403
    stranger = NoteSigner.generate("other.example/log")
    unknown = sign_checkpoint(Checkpoint(stranger.name, 2, root), stranger)
    assert witness.post(AddCheckpoint(0, [], unknown))[0] == 404
    assert witness.store.cosigned() == []
    witness.stop()


def test_a_bad_proof_or_a_malformed_request_is_refused(ledger, tmp_path):
    witness = fg_witness(tmp_path, ledger)
    ledger.append(5)
    witness.post(extend(ledger, 0, ledger.sign()))
    ledger.append(3)
    request = extend(ledger, 5, ledger.sign())
    flipped = [bytes([request.proof[0][0] ^ 1]) + request.proof[0][1:], *request.proof[1:]]
    assert witness.post(AddCheckpoint(5, flipped, request.note))[0] == 422
    assert witness.post(AddCheckpoint(5, [], request.note))[0] == 422
    status, _, _ = post_raw(witness.url, b"old 5\nnot base64!\n\n" + request.note.encode())
    assert status == 400
    assert witness.store.cosigned()[0].checkpoint.size == 5
    witness.stop()


def post_raw(url: str, body: bytes) -> tuple[int, str, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(
            urllib.request.Request(f"{url}/add-checkpoint", data=body, method="POST"), timeout=10
        ) as response:
            return response.status, "", response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, "", error.read().decode()


def test_a_restarted_witness_keeps_what_it_cosigned(ledger, tmp_path):
    witness = fg_witness(tmp_path, ledger)
    ledger.append(7)
    witness.post(extend(ledger, 0, ledger.sign()))
    witness.stop()
    witness.start()
    assert witness.post(extend(ledger, 0, ledger.recorder.latest_signed_checkpoint()))[:3:2] == (
        409,
        "7\n",
    )
    ledger.append(1)
    assert witness.post(extend(ledger, 7, ledger.sign()))[0] == 200
    witness.stop()


def test_concurrent_requests_never_roll_the_witness_back(ledger, tmp_path):
    """Requests from the same size race: one is cosigned, the others learn the new size; a
    smaller checkpoint that read the old state can never overwrite a larger one."""
    witness = fg_witness(tmp_path, ledger)
    ledger.append(1)
    witness.post(extend(ledger, 0, ledger.sign()))
    notes = []
    for _ in range(6):
        ledger.append(1)
        notes.append(ledger.sign())
    for _ in range(3):
        held = witness.store.cosigned()[0].checkpoint.size
        outcomes: dict[int, int] = {}

        def send(note: str, start: int = held, outcomes: dict[int, int] = outcomes) -> None:
            outcomes[size_of(note)] = witness.post(extend(ledger, start, note))[0]

        racing = [threading.Thread(target=send, args=(n,)) for n in notes if size_of(n) > held]
        for thread in racing:
            thread.start()
        for thread in racing:
            thread.join()
        cosigned = [size for size, status in outcomes.items() if status == 200]
        assert len(cosigned) == 1
        assert set(outcomes.values()) <= {200, 409}
        assert witness.store.cosigned()[0].checkpoint.size == cosigned[0]
        notes = [n for n in notes if size_of(n) > cosigned[0]]
        if not notes:
            break
    witness.stop()
