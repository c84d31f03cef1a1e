"""API workers ask ``serve`` for their checkpoints over a pipe: decisions from every worker
share one signing, a slow signing does not hold up ``/health``, a failure to sign is
``serve``'s one reason everywhere, and a worker whose ``serve`` is gone hears so at once."""

from __future__ import annotations

import fcntl
import multiprocessing
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.services.checkpointer import Checkpointer
from adapters.services.shared_signing import (
    SignerGone,
    SigningClient,
    SigningFailed,
    answer_worker,
)
from ledger.checkpoint import open_checkpoint
from ledger.note import NoteSigner, NoteVerifier
from tests.locks import CountedLock
from tests.persistence.stores import sqlite_recorder

ORIGIN = "ledger.test.example/bewijslast"
DECISIONS = 20


class CountedSignings:
    """The recorder, counting the signings begun (each takes the signer lock)."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.signings = 0

    def __getattr__(self, name):
        return getattr(self.recorder, name)

    @contextmanager
    def signer_lock(self):
        self.signings += 1
        with self.recorder.signer_lock():
            yield


@pytest.fixture
def database(tmp_path):
    return str(tmp_path / "ledger.db")


@pytest.fixture
def store(database):
    return CountedSignings(sqlite_recorder(database))


@pytest.fixture
def checkpointer(store, tmp_path):
    checkpointer = Checkpointer(store, NoteSigner.generate(ORIGIN), state_file=tmp_path / "state")
    checkpointer._lock = CountedLock()  # says how many asks wait behind a signing
    return checkpointer


@pytest.fixture
def workers(checkpointer):
    """Two workers' signers, answered as ``serve`` answers them."""
    with ThreadPoolExecutor(DECISIONS + 4) as answering:
        yield signers(checkpointer, answering)


def signers(checkpointer, answering) -> list[SigningClient]:
    clients = []
    for _ in range(2):
        ours, theirs = multiprocessing.Pipe()
        answer_worker(ours, checkpointer, answering)
        clients.append(SigningClient(theirs))
    return clients


@contextmanager
def another_signer(database):
    """The signer lock held, as by another process signing this ledger."""
    with open(f"{database}.signer-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def decide(store) -> int:
    """A decision recorded: the ledger's size once it is in."""
    store.insert_events([StoredEvent(uuid.uuid4(), 1, "t:Decided", b"{}")])
    return store.ledger_size()


def wait_until(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_decisions_of_two_workers_share_one_signing(workers, checkpointer, store, database):
    verifier = NoteVerifier.from_vkey(checkpointer.signer.vkey())
    answers = {}

    def ask(worker, covering):
        answers[covering] = workers[worker].checkpoint(covering)

    with another_signer(database):
        first = threading.Thread(target=ask, args=(0, decide(store)))
        first.start()  # its signing waits for the signer lock, as its asks arrive
        wait_until(lambda: store.signings == 1)
        rest = [
            threading.Thread(target=ask, args=(n % 2, decide(store))) for n in range(DECISIONS - 1)
        ]
        for thread in rest:
            thread.start()
        # Each has noted the signings begun before it came to the lock.
        wait_until(lambda: checkpointer._lock.waiting == DECISIONS - 1)
    for thread in [first, *rest]:
        thread.join()
    assert sorted(answers) == list(range(1, DECISIONS + 1))
    for covering, (checkpoint, note) in answers.items():
        assert checkpoint.size >= covering
        assert open_checkpoint(note, [verifier]) == checkpoint
    # The first, and one for the nineteen that waited behind it: answered one at a time,
    # each would have proved the ledger again under the signer lock.
    assert store.signings == 2
    assert store.signed_checkpoints() == [answers[DECISIONS][1]]


def test_health_is_answered_while_a_signing_waits(checkpointer, store, database):
    """Also when every answering thread is taken by a signing."""
    with ThreadPoolExecutor(1) as answering, another_signer(database):
        workers = signers(checkpointer, answering)
        waiting = threading.Thread(target=workers[0].checkpoint, args=(decide(store),))
        waiting.start()
        wait_until(lambda: store.signings == 1)
        started = time.monotonic()
        assert workers[1].failure is None
        assert workers[0].failure is None
        assert time.monotonic() - started < 5  # not held by the signing
    waiting.join()


def test_a_failure_to_sign_is_serves_reason_in_every_worker(workers, checkpointer, store, tmp_path):
    (tmp_path / "state").write_text("not a checkpoint\n")
    with pytest.raises(SigningFailed, match="KeyMismatch: the state file"):
        workers[0].checkpoint(decide(store))
    for worker in workers:
        assert "the state file" in worker.failure.reason
    assert store.signed_checkpoints() == []


def test_a_worker_whose_signer_is_gone_hears_it_at_once(store):
    ours, theirs = multiprocessing.Pipe()
    client = SigningClient(theirs)
    gone = []

    def ask():
        with pytest.raises(SignerGone) as raised:
            client.signed_size(decide(store))
        gone.append(raised.value)

    asking = threading.Thread(target=ask)
    asking.start()
    assert ours.poll(30)  # asked, and waiting for serve's answer
    started = time.monotonic()
    ours.close()  # serve is gone
    asking.join()
    assert gone
    with pytest.raises(SignerGone):
        client.checkpoint()
    assert "does not answer" in client.failure.reason
    assert time.monotonic() - started < 5  # not the answer's timeout
