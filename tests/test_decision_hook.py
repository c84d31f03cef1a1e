"""A checkpoint is signed right after every decision event, through the application."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from eventsourcing.domain import Aggregate, event

from adapters.config import database_env
from adapters.services.checkpointer import Checkpointer
from domain.application import Bewijslast
from ledger.errors import LedgerError
from ledger.note import NoteSigner
from tests.locks import CountedLock


class Case(Aggregate):
    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name

    class Decided(Aggregate.Event):
        checkpoint_after = True

        def apply(self, aggregate: Aggregate) -> None:
            pass

    def decide(self) -> None:
        self.trigger_event(self.Decided)


def test_a_decision_event_is_followed_by_a_checkpoint(tmp_path):
    app = Bewijslast(env=database_env(f"sqlite:///{tmp_path / 'ledger.db'}"))
    checkpointer = Checkpointer(app.recorder, NoteSigner.generate("test.example/ledger"))
    app.on_decision = checkpointer.signed_size
    case = Case("lost usb stick")
    app.save(case)
    assert app.recorder.signed_checkpoints() == []
    case.decide()
    app.save(case)
    (note,) = app.recorder.signed_checkpoints()
    assert note.splitlines()[1] == "2"


def test_decisions_share_a_checkpoint_that_already_holds_them(tmp_path):
    """A decision needs a checkpoint that holds it, not one of its own: one that waited while
    another signer (this process or another, with the same key) signed past it takes that one."""
    app = Bewijslast(env=database_env(f"sqlite:///{tmp_path / 'ledger.db'}"))
    signer = NoteSigner.generate("test.example/ledger")
    here, elsewhere = Checkpointer(app.recorder, signer), Checkpointer(app.recorder, signer)
    case = Case("lost usb stick")
    case.decide()
    case.decide()
    app.save(case)  # three entries, no hook
    assert here.signed_size(2) == 3  # none held entry 2: signed over all there is
    case.decide()
    app.save(case)  # a fourth, recorded while the others waited for the signer
    assert elsewhere.signed_size(3) == 3  # found in the database
    assert here.signed_size(1) == 3  # its own, found again and proved consistent
    assert len(app.recorder.signed_checkpoints()) == 1
    assert elsewhere.signed_size(4) == 4  # not held yet: signed
    assert here.signed_size(4) == 4
    assert [n.splitlines()[1] for n in app.recorder.signed_checkpoints()] == ["3", "4"]


def test_a_decision_on_a_rolled_back_ledger_is_not_given_a_checkpoint_of_other_entries(tmp_path):
    """The state file holds a checkpoint over three entries; the database was restored from
    before them and has three other entries now. The newest checkpoint is as large as the new
    decision needs, but it does not hold it: the checkpointer refuses, as when it signs."""
    signer = NoteSigner.generate("test.example/ledger")
    state = tmp_path / "ledger.key.checkpoint"
    before = Bewijslast(env=database_env(f"sqlite:///{tmp_path / 'before.db'}"))
    restored = Bewijslast(env=database_env(f"sqlite:///{tmp_path / 'restored.db'}"))
    for app, name in ((before, "lost usb stick"), (restored, "stolen laptop")):
        case = Case(name)
        case.decide()
        case.decide()
        app.save(case)
    assert Checkpointer(before.recorder, signer, state_file=state).signed_size(3) == 3
    with pytest.raises(LedgerError):
        Checkpointer(restored.recorder, signer, state_file=state).signed_size(3)
    assert restored.recorder.signed_checkpoints() == []


def test_decisions_waiting_while_one_signs_share_the_next_checkpoint(tmp_path):
    """Decisions wait for the lock while a checkpoint is signed: the first to get it signs
    over the ledger as it then stands, and the others take that checkpoint as it is, without
    going to the database. The one that was being signed when they came is not theirs."""
    app = Bewijslast(env=database_env(f"sqlite:///{tmp_path / 'ledger.db'}"))
    checkpointer = Checkpointer(app.recorder, NoteSigner.generate("test.example/ledger"))
    checkpointer._lock = lock = CountedLock()  # type: ignore[assignment]
    signing, go_on = threading.Event(), threading.Event()
    store_checkpoint, signer_lock = app.recorder.store_checkpoint, app.recorder.signer_lock
    signer_locked = []

    def slow_store_checkpoint(*args: object) -> None:
        store_checkpoint(*args)  # type: ignore[arg-type]
        if not signing.is_set():
            signing.set()
            go_on.wait(10)

    @contextmanager
    def counted_signer_lock() -> Iterator[None]:
        signer_locked.append(1)
        with signer_lock():
            yield

    app.recorder.store_checkpoint = slow_store_checkpoint  # type: ignore[method-assign]
    app.recorder.signer_lock = counted_signer_lock  # type: ignore[method-assign]
    case = Case("lost usb stick")
    app.save(case)
    first = threading.Thread(target=checkpointer.signed_size, args=(1,))
    first.start()
    assert signing.wait(10)  # signed over one entry, not done yet
    for _ in range(3):
        case.decide()
    app.save(case)  # entries 2 to 4, committed meanwhile
    sizes: list[int] = []
    waiting = [
        threading.Thread(target=lambda: sizes.append(checkpointer.signed_size(4))) for _ in range(3)
    ]
    for thread in waiting:
        thread.start()
    while lock.waiting < 3:
        time.sleep(0.01)
    go_on.set()
    for thread in (first, *waiting):
        thread.join(10)
    assert sizes == [4, 4, 4]
    assert [n.splitlines()[1] for n in app.recorder.signed_checkpoints()] == ["1", "4"]
    assert len(signer_locked) == 2  # the first, and one of the three: the others took its
