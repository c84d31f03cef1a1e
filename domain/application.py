"""The application service: the one way decisions get into the ledger."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Recording, Transcoding

from domain.personal_data import ErasureGround, PersonalDataErasure


class Bewijslast(Application[UUID]):
    """Records events; after any event that marks a decision, a checkpoint is signed.

    A domain event class opts in with ``checkpoint_after = True``. What needs keys the domain
    never sees is injected by the adapters: the checkpoint hook, the transcodings that encrypt
    personal data per subject, and the shredder that destroys a subject's key.
    """

    name = "Bewijslast"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        on_decision: Callable[[], object] | None = None,
        transcodings: Sequence[Transcoding] = (),
        shred: Callable[[UUID], None] | None = None,
    ) -> None:
        self.extra_transcodings = list(transcodings)
        super().__init__(env)
        self.on_decision = on_decision
        self.shred = shred

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in self.extra_transcodings:
            transcoder.register(transcoding)

    def erase_personal_data(
        self, subject: UUID, *, ground: ErasureGround, reference: str, actor: str
    ) -> UUID:
        """Record the erasure in the ledger, then destroy the subject's key.

        In that order: if destroying fails, the ledger says what must be done and the call
        can be repeated; the other order could erase without a trace.
        """
        if self.shred is None:
            raise RuntimeError("no key store is configured: personal data cannot be erased")
        erasure = PersonalDataErasure(
            subject=subject, ground=ground, reference=reference, actor=actor
        )
        self.save(erasure)
        self.shred(subject)
        return erasure.id

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        recordings = super().save(*objs, **kwargs)
        decided = any(getattr(r.domain_event, "checkpoint_after", False) for r in recordings)
        if decided and self.on_decision is not None:
            self.on_decision()
        return recordings
