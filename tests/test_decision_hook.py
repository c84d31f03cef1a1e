"""A checkpoint is signed right after every decision event, through the application."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from adapters.config import database_env
from adapters.services.checkpointer import Checkpointer
from domain.application import Bewijslast
from ledger.note import NoteSigner


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
    assert here.signed_size(1) == 3  # kept from its own signing
    assert len(app.recorder.signed_checkpoints()) == 1
    assert elsewhere.signed_size(4) == 4  # not held yet: signed
    assert here.signed_size(4) == 4
    assert [n.splitlines()[1] for n in app.recorder.signed_checkpoints()] == ["3", "4"]
