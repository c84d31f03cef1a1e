"""The checkpointer signs the ledger as it stands, and never two inconsistent checkpoints."""

from __future__ import annotations

import threading
import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.services import checkpointer as checkpointer_module
from adapters.services.checkpointer import Checkpointer, KeyMismatch
from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.errors import BadConsistencyProof, InconsistentCheckpoints, Truncated
from ledger.merkle import MemoryTree
from ledger.note import NoteSigner, NoteVerifier
from tests.persistence.stores import postgres_recorder, sqlite_recorder
from tests.persistence.tampering import PostgresTamperer, SQLiteTamperer

ORIGIN = "ledger.test.example/bewijslast"


@pytest.fixture(params=["postgres", "sqlite"])
def store(request):
    if request.param == "postgres":
        db = request.getfixturevalue("pg_database")
        recorder = postgres_recorder(db)
        return recorder, PostgresTamperer(db.url, recorder)
    path = str(request.getfixturevalue("sqlite_path"))
    return sqlite_recorder(path), SQLiteTamperer(path)


def append(recorder, count: int) -> None:
    stream = uuid.uuid4()
    for version in range(1, count + 1):
        recorder.insert_events([StoredEvent(stream, version, "t:E", b"s%d" % version)])


@pytest.fixture
def signer():
    return NoteSigner.generate(ORIGIN)


def test_a_checkpoint_signs_the_root_of_the_whole_ledger(store, signer, tmp_path):
    recorder, _ = store
    append(recorder, 13)
    checkpoint, note = Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()
    leaves = [r.leaf_hash for r in recorder.records(0, 12)]
    assert checkpoint.size == 13
    assert checkpoint.root == MemoryTree(leaves).root()
    assert open_checkpoint(note, [NoteVerifier.from_vkey(signer.vkey())]) == checkpoint
    assert recorder.signed_checkpoints() == [note]


def test_nothing_new_is_signed_while_the_ledger_did_not_grow(store, signer, tmp_path):
    recorder, _ = store
    append(recorder, 3)
    checkpointer = Checkpointer(recorder, signer, state_file=tmp_path / "s")
    first = checkpointer.checkpoint()
    assert checkpointer.checkpoint() == first
    append(recorder, 2)
    assert checkpointer.checkpoint()[0].size == 5
    assert len(recorder.signed_checkpoints()) == 2


def test_refuses_to_sign_a_ledger_truncated_past_a_checkpoint(store, signer, tmp_path):
    recorder, tamperer = store
    append(recorder, 8)
    Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()
    tamperer.run("DELETE FROM {events} WHERE ledger_index >= 6")
    with pytest.raises(Truncated):
        Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()


def test_the_state_file_outside_the_database_catches_a_rollback(store, signer, tmp_path):
    """Even when the stored checkpoints are gone too, the key's state file remembers."""
    recorder, tamperer = store
    append(recorder, 8)
    Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()
    tamperer.run("DELETE FROM {events} WHERE ledger_index >= 6")
    tamperer.run("DELETE FROM {checkpoints}", table="checkpoints")
    assert recorder.signed_checkpoints() == []
    with pytest.raises(Truncated):
        Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()


def test_refuses_to_sign_over_a_rewritten_tree(store, signer, tmp_path):
    recorder, tamperer = store
    append(recorder, 20)
    Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()
    tamperer.run(
        "UPDATE {nodes} SET hash = ? WHERE level = 4 AND idx = 0", (bytes(32),), table="nodes"
    )
    append(recorder, 1)
    with pytest.raises(BadConsistencyProof):
        Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()


def test_the_periodic_signer_signs_while_entries_are_added(store, signer, tmp_path):
    recorder, _ = store
    append(recorder, 2)
    checkpointer = Checkpointer(recorder, signer, state_file=tmp_path / "s")
    signed = threading.Event()
    original = recorder.store_checkpoint

    def store_and_tell(*args, **kwargs):
        original(*args, **kwargs)
        signed.set()

    recorder.store_checkpoint = store_and_tell
    checkpointer.start(interval=0.05)
    try:
        assert signed.wait(timeout=30)
    finally:
        checkpointer.stop()
    assert len(recorder.signed_checkpoints()) == 1


def test_signers_racing_with_writers_never_refuse_nor_lose_the_state_file(store, signer, tmp_path):
    """Each signer reads the newest checkpoint and the size under the ledger's signer lock:
    neither sees the other's newer checkpoint as a truncation, and each writes the state
    file through a temporary file of its own."""
    recorder, _ = store
    append(recorder, 1)
    signers = [Checkpointer(recorder, signer, state_file=tmp_path / "s") for _ in range(3)]
    failures: list[BaseException] = []
    done = threading.Event()

    def sign(checkpointer: Checkpointer) -> None:
        while not done.is_set():
            try:
                checkpointer.checkpoint()
            except BaseException as e:  # every failure is the finding
                failures.append(e)
                return

    threads = [threading.Thread(target=sign, args=(c,)) for c in signers]
    for thread in threads:
        thread.start()
    for _ in range(150):
        append(recorder, 1)
    done.set()
    for thread in threads:
        thread.join()
    assert failures == []
    final = signers[0].checkpoint()[0]
    assert final.size == recorder.ledger_size() == 151
    assert open_checkpoint((tmp_path / "s").read_text(), [signer_verifier(signer)]) == final
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def signer_verifier(signer: NoteSigner) -> NoteVerifier:
    return NoteVerifier.from_vkey(signer.vkey())


def test_a_state_file_that_disagrees_with_a_stored_checkpoint_is_refused(store, signer, tmp_path):
    """Not only the largest: the stored checkpoint of the state file's own size must match."""
    recorder, _ = store
    append(recorder, 4)
    Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()
    append(recorder, 4)
    Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()
    # A checkpoint of size 4 over another tree, validly signed, where the state file is.
    (tmp_path / "s").write_text(sign_checkpoint(Checkpoint(ORIGIN, 4, bytes(32)), signer))
    append(recorder, 1)
    with pytest.raises(InconsistentCheckpoints):
        Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()
    assert len(recorder.signed_checkpoints()) == 2


@pytest.mark.parametrize("content", ["", "garbled\n", None])
def test_a_bad_state_file_or_another_key_is_named_and_nothing_is_signed(
    store, signer, tmp_path, content
):
    recorder, _ = store
    append(recorder, 3)
    Checkpointer(recorder, signer, state_file=tmp_path / "s").checkpoint()
    append(recorder, 1)
    if content is None:
        checkpointer = Checkpointer(recorder, NoteSigner.generate(ORIGIN), state_file=None)
        what = "stored in the database"
    else:
        (tmp_path / "s").write_text(content)
        checkpointer = Checkpointer(recorder, signer, state_file=tmp_path / "s")
        what = "state file"
    with pytest.raises(KeyMismatch, match=what):
        checkpointer.check_key()
    with pytest.raises(KeyMismatch, match=what):
        checkpointer.checkpoint()
    assert checkpointer.failure is not None
    assert what in checkpointer.failure.reason
    assert len(recorder.signed_checkpoints()) == 1


def test_a_state_file_that_holds_the_newest_stored_checkpoint_is_checked_once(
    store, signer, tmp_path, monkeypatch
):
    """The usual case, under the signer lock that every waiting decision queues behind: no
    second read of the stored checkpoint, no second consistency proof of the same one."""
    recorder, _ = store
    append(recorder, 5)
    checkpointer = Checkpointer(recorder, signer, state_file=tmp_path / "s")
    checkpointer.checkpoint()
    asked: list[int] = []
    signed_at = recorder.signed_checkpoint_at
    monkeypatch.setattr(
        recorder, "signed_checkpoint_at", lambda size: asked.append(size) or signed_at(size)
    )
    proved: list[tuple[int, int]] = []
    proof = checkpointer_module.consistency_proof
    monkeypatch.setattr(
        checkpointer_module,
        "consistency_proof",
        lambda old, new, tree: proved.append((old, new)) or proof(old, new, tree),
    )
    append(recorder, 2)
    checkpoint, _ = checkpointer.checkpoint()
    assert checkpoint.size == 7
    assert asked == []
    assert proved == [(5, 7)]
