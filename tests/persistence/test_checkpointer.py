"""The checkpointer signs the ledger as it stands, and never two inconsistent checkpoints."""

from __future__ import annotations

import threading
import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.checkpointer import Checkpointer
from ledger.checkpoint import open_checkpoint
from ledger.errors import BadConsistencyProof, Truncated
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
