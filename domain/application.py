"""The application service: the one way decisions get into the ledger."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Recording


class Bewijslast(Application[UUID]):
    """Records events; after any event that marks a decision, a checkpoint is signed.

    A domain event class opts in with ``checkpoint_after = True``. The hook is injected by
    the adapters (it signs with a key the domain never sees).
    """

    name = "Bewijslast"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        on_decision: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(env)
        self.on_decision = on_decision

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        recordings = super().save(*objs, **kwargs)
        decided = any(getattr(r.domain_event, "checkpoint_after", False) for r in recordings)
        if decided and self.on_decision is not None:
            self.on_decision()
        return recordings
