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
