"""Data-subject rights requests (AVG art. 15-22; seed 002 bijlage 5), decided as Awb besluiten.

received -> identity verified -> (suspended -> resumed)* -> (extended) -> decided -> sent ->
(objection lodged -> decided on objection); or withdrawn before the decision. The deadline is
always computed from the recorded facts by ``domain.deadlines``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from eventsourcing.domain import Aggregate, event

from domain.deadlines import (
    MAX_EXTENSION_MONTHS,
    extension_notice_deadline,
    local_date,
    objection_deadline,
    request_deadline,
)
from domain.errors import ProcedureError
from domain.personal_data import Erased, PersonalData


class Right(StrEnum):
    ACCESS = "art. 15 inzage"
    RECTIFICATION = "art. 16 rectificatie"
    ERASURE = "art. 17 vergetelheid"
    RESTRICTION = "art. 18 beperking"
    PORTABILITY = "art. 20 overdraagbaarheid"
    OBJECTION = "art. 21 bezwaar tegen verwerking"
    AUTOMATED_DECISION = "art. 22 geautomatiseerde besluitvorming"


class Outcome(StrEnum):
    GRANTED = "toegewezen"
    PARTLY_GRANTED = "deels toegewezen"
    REFUSED = "afgewezen"


class RefusalGround(StrEnum):
    MANIFESTLY_UNFOUNDED = "art. 12(5) AVG: kennelijk ongegrond of buitensporig"
    ERASURE_EXCEPTION = "art. 17(3) AVG: uitzondering op het recht op vergetelheid"
    RESTRICTION_BY_LAW = "art. 23 AVG / art. 41 UAVG: beperking bij wet"
    ARCHIEFWET = "Archiefwet: bewaarplicht (Selectielijst)"
    IDENTITY_NOT_ESTABLISHED = "art. 12(6) AVG: identiteit niet vastgesteld"


class ExtensionReason(StrEnum):
    COMPLEXITY = "complexiteit"
    NUMBER_OF_REQUESTS = "aantal verzoeken"


class RequestStage(StrEnum):
    RECEIVED = "ontvangen"
    IN_PROGRESS = "in behandeling"
    SUSPENDED = "opgeschort"
    DECIDED = "besloten"
    SENT = "verzonden"
    OBJECTED = "bezwaar"
    CLOSED = "afgerond"
    WITHDRAWN = "ingetrokken"


class RightsRequest(Aggregate):
    @event("Received")
    def __init__(
        self,
        *,
        municipality: str,
        controller: str,
        right: Right,
        channel: str,
        requester: PersonalData,
        contact: PersonalData,
        received_at: datetime,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.right = Right(right)  # stored events give back plain strings
        self.requester: PersonalData | Erased = requester
        self.contact: PersonalData | Erased = contact
        self.received_at = received_at
        self.stage = RequestStage.RECEIVED
        self.suspended_since: datetime | None = None
        self.suspended_days = 0
        self.extension_months = 0
        self.outcome: Outcome | None = None
        self.sent_at: datetime | None = None

    def deadline(self) -> date:
        return request_deadline(
            self.received_at,
            suspended_days=self.suspended_days,
            extension_months=self.extension_months,
        )

    def _require(self, *stages: RequestStage, step: str) -> None:
        if self.stage not in stages:
            allowed = {
                RequestStage.RECEIVED: ["verify_identity", "withdraw"],
                RequestStage.IN_PROGRESS: ["suspend", "extend", "decide", "withdraw"],
                RequestStage.SUSPENDED: ["resume", "withdraw"],
                RequestStage.DECIDED: ["send"],
                RequestStage.SENT: ["lodge_objection", "close"],
                RequestStage.OBJECTED: ["decide_on_objection"],
                RequestStage.CLOSED: [],
                RequestStage.WITHDRAWN: [],
            }[self.stage]
            raise ProcedureError(f"cannot {step} a request in stage '{self.stage.value}'", allowed)

    @event("IdentityVerified")
    def verify_identity(self, *, method: str, verified_at: datetime, actor: str) -> None:
        self._require(RequestStage.RECEIVED, step="verify the identity for")
        self.stage = RequestStage.IN_PROGRESS

    @event("Suspended")
    def suspend(self, *, missing: str, suspended_at: datetime, actor: str) -> None:
        """The clock stops while information the requester must give is missing."""
        self._require(RequestStage.IN_PROGRESS, step="suspend")
        self.suspended_since = suspended_at
        self.stage = RequestStage.SUSPENDED

    @event("Resumed")
    def resume(self, *, resumed_at: datetime, actor: str) -> None:
        self._require(RequestStage.SUSPENDED, step="resume")
        assert self.suspended_since is not None
        days = (local_date(resumed_at) - local_date(self.suspended_since)).days
        if days < 0:
            raise ProcedureError("a request resumes after it was suspended")
        self.suspended_days += days
        self.suspended_since = None
        self.stage = RequestStage.IN_PROGRESS

    @event("Extended")
    def extend(
        self,
        *,
        months: int,
        reason: ExtensionReason,
        explanation: str,
        requester_told_at: datetime,
        actor: str,
    ) -> None:
        """Art. 12(3): at most two months, for complexity or number of requests only, and only
        when the requester is told, with reasons, within the first month."""
        self._require(RequestStage.IN_PROGRESS, step="extend")
        if self.extension_months:
            raise ProcedureError("the request was already extended")
        if not 1 <= months <= MAX_EXTENSION_MONTHS:
            raise ProcedureError(f"an extension is 1 to {MAX_EXTENSION_MONTHS} months")
        if not explanation.strip():
            raise ProcedureError("the requester is told the reasons for the extension")
        notice_by = extension_notice_deadline(self.received_at, suspended_days=self.suspended_days)
        if local_date(requester_told_at) > notice_by:
            raise ProcedureError(
                f"an extension must be told within the first month (by {notice_by.isoformat()})"
            )
        self.extension_months = months

    class Decided(Aggregate.Event):
        checkpoint_after = True
        outcome: Outcome
        grounds: list[RefusalGround]
        reasons: str
        decided_at: datetime
        actor: str

    @event(Decided)
    def decide(
        self,
        *,
        outcome: Outcome,
        grounds: list[RefusalGround],
        reasons: str,
        decided_at: datetime,
        actor: str,
    ) -> None:
        self._require(RequestStage.IN_PROGRESS, step="decide")
        outcome = Outcome(outcome)  # stored events give back plain strings
        if outcome is not Outcome.GRANTED and not grounds:
            raise ProcedureError("refusing, wholly or partly, needs the legal grounds")
        if not reasons.strip():
            raise ProcedureError("an Awb decision states its reasons")
        self.outcome = outcome
        self.grounds = [RefusalGround(g) for g in grounds]
        self.decided_at = decided_at
        self.decided_late = local_date(decided_at) > self.deadline()
        self.stage = RequestStage.DECIDED

    @event("Sent")
    def send(self, *, channel: str, sent_at: datetime, actor: str) -> None:
        self._require(RequestStage.DECIDED, step="send")
        self.sent_at = sent_at
        self.stage = RequestStage.SENT

    def objection_deadline(self) -> date | None:
        return None if self.sent_at is None else objection_deadline(self.sent_at)

    @event("ObjectionLodged")
    def lodge_objection(self, *, grounds: str, lodged_at: datetime, actor: str) -> None:
        """Bezwaar within six weeks of sending (Awb 6:7); later is refused here, to be
        declared inadmissible by the bezwaarcommissie (Awb 6:11 allows excusable lateness)."""
        self._require(RequestStage.SENT, step="lodge an objection against")
        last_day = self.objection_deadline()
        assert last_day is not None
        if local_date(lodged_at) > last_day:
            raise ProcedureError(f"the objection period ended on {last_day.isoformat()}")
        self.stage = RequestStage.OBJECTED

    @event("ObjectionDecided")
    def decide_on_objection(
        self, *, well_founded: bool, reasons: str, decided_at: datetime, actor: str
    ) -> None:
        self._require(RequestStage.OBJECTED, step="decide on an objection for")
        if not reasons.strip():
            raise ProcedureError("a decision on objection states its reasons")
        self.stage = RequestStage.CLOSED

    @event("Closed")
    def close(self, *, closed_at: datetime, actor: str) -> None:
        self._require(RequestStage.SENT, step="close")
        self.stage = RequestStage.CLOSED

    @event("Withdrawn")
    def withdraw(self, *, withdrawn_at: datetime, actor: str) -> None:
        self._require(
            RequestStage.RECEIVED, RequestStage.IN_PROGRESS, RequestStage.SUSPENDED, step="withdraw"
        )
        self.stage = RequestStage.WITHDRAWN

    def days_left(self, today: date) -> int:
        return (self.deadline() - today).days
