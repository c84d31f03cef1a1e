"""Data-subject rights requests (AVG art. 15-22; seed 002 bijlage 5), decided as Awb besluiten.

received -> identity verified -> (suspended -> resumed)* -> (extended) -> decided -> sent ->
(objection lodged -> decided on objection); or withdrawn before the decision. Each deadline is
computed by ``domain.deadlines`` when the fact that sets it is recorded, and stored with it;
the texts about the requester are sealed under the requester's own key.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.deadlines import (
    LEGACY_RULES,
    MAX_EXTENSION_MONTHS,
    RULES,
    TermCalendar,
    extension_notice_deadline,
    local_date,
    objection_deadline,
    request_deadline,
)
from domain.errors import ProcedureError
from domain.personal_data import Erased, PersonalData, Sealed


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
    @classmethod
    def receive(
        cls,
        *,
        municipality: str,
        controller: str,
        right: Right,
        channel: str,
        requester: PersonalData,
        contact: PersonalData,
        received_at: datetime,
        actor: str,
    ) -> RightsRequest:
        return cls(
            municipality=municipality,
            controller=controller,
            right=right,
            channel=channel,
            requester=requester,
            contact=contact,
            received_at=received_at,
            deadline=request_deadline(received_at),
            rules=RULES,
            actor=actor,
        )

    class Received(Aggregate.Created):
        class_version = 2
        municipality: str
        controller: str
        right: Right
        channel: str
        requester: PersonalData | Erased
        contact: PersonalData | Erased
        received_at: datetime
        deadline: date
        rules: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["deadline"] = request_deadline(state["received_at"])
            state["rules"] = LEGACY_RULES

    @event(Received)
    def __init__(
        self,
        *,
        municipality: str,
        controller: str,
        right: Right,
        channel: str,
        requester: PersonalData | Erased,
        contact: PersonalData | Erased,
        received_at: datetime,
        deadline: date,
        rules: str,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.right = Right(right)  # stored events give back plain strings
        self.requester = requester
        self.contact = contact
        self.subject = requester.subject  # the key every text about the requester is sealed under
        self.received_at = received_at
        self._deadline = deadline
        self.stage = RequestStage.RECEIVED
        self.suspended_since: datetime | None = None
        self.suspended_days = 0
        self.extension_months = 0
        self.outcome: Outcome | None = None
        self.sent_at: datetime | None = None
        self._objection_deadline: date | None = None

    def deadline(self) -> date:
        """The last day for the decision, as computed when its last cause was recorded."""
        return self._deadline

    def _sealed(self, text: str) -> PersonalData:
        return PersonalData(self.subject, text)

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

    def _not_before_receipt(self, moment: datetime, what: str) -> None:
        if moment < self.received_at:
            raise ProcedureError(f"{what} cannot lie before the request was received")

    def verify_identity(self, *, method: str, verified_at: datetime, actor: str) -> None:
        self._require(RequestStage.RECEIVED, step="verify the identity for")
        self._identity_verified(method=self._sealed(method), verified_at=verified_at, actor=actor)

    class IdentityVerified(Aggregate.Event):
        method: Sealed
        verified_at: datetime
        actor: str

    @event(IdentityVerified)
    def _identity_verified(self, *, method: Sealed, verified_at: datetime, actor: str) -> None:
        self.stage = RequestStage.IN_PROGRESS

    def suspend(self, *, missing: str, suspended_at: datetime, actor: str) -> None:
        """The clock stops while information the requester must give is missing."""
        self._require(RequestStage.IN_PROGRESS, step="suspend")
        self._suspended(missing=self._sealed(missing), suspended_at=suspended_at, actor=actor)

    class Suspended(Aggregate.Event):
        missing: Sealed
        suspended_at: datetime
        actor: str

    @event(Suspended)
    def _suspended(self, *, missing: Sealed, suspended_at: datetime, actor: str) -> None:
        self.suspended_since = suspended_at
        self.stage = RequestStage.SUSPENDED

    def _suspended_since(self) -> datetime:
        if self.suspended_since is None:
            raise ProcedureError("the request is not suspended")
        return self.suspended_since

    def resume(self, *, resumed_at: datetime, actor: str) -> None:
        self._require(RequestStage.SUSPENDED, step="resume")
        days = (local_date(resumed_at) - local_date(self._suspended_since())).days
        if days < 0:
            raise ProcedureError("a request resumes after it was suspended")
        self._resumed(
            resumed_at=resumed_at,
            days=days,
            deadline=request_deadline(
                self.received_at,
                suspended_days=self.suspended_days + days,
                extension_months=self.extension_months,
            ),
            rules=RULES,
            actor=actor,
        )

    class Resumed(Aggregate.Event):
        class_version = 2
        resumed_at: datetime
        days: int | None  # None: recorded before results were stored (computed when loaded)
        deadline: date | None
        rules: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(days=None, deadline=None, rules=LEGACY_RULES)

    @event(Resumed)
    def _resumed(
        self,
        *,
        resumed_at: datetime,
        days: int | None,
        deadline: date | None,
        rules: str,
        actor: str,
    ) -> None:
        if days is None:  # an event of the first ledger version
            days = (local_date(resumed_at) - local_date(self._suspended_since())).days
        self.suspended_days += days
        self._deadline = deadline or self._legacy_deadline()
        self.suspended_since = None
        self.stage = RequestStage.IN_PROGRESS

    def _legacy_deadline(self) -> date:
        return request_deadline(
            self.received_at,
            suspended_days=self.suspended_days,
            extension_months=self.extension_months,
        )

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
        self._not_before_receipt(requester_told_at, "telling the requester")
        notice_by = extension_notice_deadline(self.received_at, suspended_days=self.suspended_days)
        if local_date(requester_told_at) > notice_by:
            raise ProcedureError(
                f"an extension must be told within the first month (by {notice_by.isoformat()})"
            )
        self._extended(
            months=months,
            reason=reason,
            explanation=self._sealed(explanation),
            requester_told_at=requester_told_at,
            deadline=request_deadline(
                self.received_at, suspended_days=self.suspended_days, extension_months=months
            ),
            rules=RULES,
            actor=actor,
        )

    class Extended(Aggregate.Event):
        class_version = 2
        months: int
        reason: ExtensionReason
        explanation: Sealed
        requester_told_at: datetime
        deadline: date | None  # None: recorded before results were stored
        rules: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(deadline=None, rules=LEGACY_RULES)

    @event(Extended)
    def _extended(
        self,
        *,
        months: int,
        reason: ExtensionReason,
        explanation: Sealed,
        requester_told_at: datetime,
        deadline: date | None,
        rules: str,
        actor: str,
    ) -> None:
        self.extension_months = months
        self._deadline = deadline or self._legacy_deadline()

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
        if Outcome(outcome) is not Outcome.GRANTED and not grounds:
            raise ProcedureError("refusing, wholly or partly, needs the legal grounds")
        if not reasons.strip():
            raise ProcedureError("an Awb decision states its reasons")
        self._decided(
            outcome=outcome,
            grounds=grounds,
            reasons=self._sealed(reasons),
            decided_at=decided_at,
            late=local_date(decided_at) > self._deadline,
            deadline=self._deadline,
            actor=actor,
        )

    class Decided(Aggregate.Event):
        checkpoint_after = True
        class_version = 2
        outcome: Outcome
        grounds: list[RefusalGround]
        reasons: Sealed
        decided_at: datetime
        late: bool | None  # None: recorded before results were stored
        deadline: date | None  # the deadline it was judged against
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(late=None, deadline=None)

    @event(Decided)
    def _decided(
        self,
        *,
        outcome: Outcome,
        grounds: list[RefusalGround],
        reasons: Sealed,
        decided_at: datetime,
        late: bool | None,
        deadline: date | None,
        actor: str,
    ) -> None:
        self.outcome = Outcome(outcome)  # stored events give back plain strings
        self.grounds = [RefusalGround(g) for g in grounds]
        self.decided_at = decided_at
        self.decided_late = local_date(decided_at) > self._deadline if late is None else late
        self.stage = RequestStage.DECIDED

    def send(
        self, *, channel: str, sent_at: datetime, term_calendar: TermCalendar, actor: str
    ) -> None:
        """Sending starts the bezwaar term, an Awb term: the decree days count."""
        self._require(RequestStage.DECIDED, step="send")
        if sent_at < self.decided_at:
            raise ProcedureError("a decision is sent after it was taken")
        self._sent(
            channel=channel,
            sent_at=sent_at,
            objection_deadline=objection_deadline(sent_at, term_calendar.days),
            rules=term_calendar.rules(),
            actor=actor,
        )

    class Sent(Aggregate.Event):
        class_version = 2
        channel: str
        sent_at: datetime
        objection_deadline: date
        rules: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["objection_deadline"] = objection_deadline(state["sent_at"])
            state["rules"] = LEGACY_RULES

    @event(Sent)
    def _sent(
        self, *, channel: str, sent_at: datetime, objection_deadline: date, rules: str, actor: str
    ) -> None:
        self.sent_at = sent_at
        self._objection_deadline = objection_deadline
        self.stage = RequestStage.SENT

    def objection_deadline(self) -> date | None:
        return self._objection_deadline

    def lodge_objection(self, *, grounds: str, lodged_at: datetime, actor: str) -> None:
        """Bezwaar within six weeks of sending (Awb 6:7); later is refused here, to be
        declared inadmissible by the bezwaarcommissie (Awb 6:11 allows excusable lateness)."""
        self._require(RequestStage.SENT, step="lodge an objection against")
        last_day, sent_at = self._objection_deadline, self.sent_at
        if last_day is None or sent_at is None:
            raise ProcedureError("the decision was not sent")
        if lodged_at < sent_at:
            raise ProcedureError("an objection is lodged after the decision was sent")
        if local_date(lodged_at) > last_day:
            raise ProcedureError(f"the objection period ended on {last_day.isoformat()}")
        self._objection_lodged(grounds=self._sealed(grounds), lodged_at=lodged_at, actor=actor)

    class ObjectionLodged(Aggregate.Event):
        grounds: Sealed
        lodged_at: datetime
        actor: str

    @event(ObjectionLodged)
    def _objection_lodged(self, *, grounds: Sealed, lodged_at: datetime, actor: str) -> None:
        self.stage = RequestStage.OBJECTED

    def decide_on_objection(
        self, *, well_founded: bool, reasons: str, decided_at: datetime, actor: str
    ) -> None:
        self._require(RequestStage.OBJECTED, step="decide on an objection for")
        if not reasons.strip():
            raise ProcedureError("a decision on objection states its reasons")
        self._objection_decided(
            well_founded=well_founded,
            reasons=self._sealed(reasons),
            decided_at=decided_at,
            actor=actor,
        )

    class ObjectionDecided(Aggregate.Event):
        well_founded: bool
        reasons: Sealed
        decided_at: datetime
        actor: str

    @event(ObjectionDecided)
    def _objection_decided(
        self, *, well_founded: bool, reasons: Sealed, decided_at: datetime, actor: str
    ) -> None:
        self.stage = RequestStage.CLOSED

    def close(self, *, closed_at: datetime, actor: str) -> None:
        self._require(RequestStage.SENT, step="close")
        self._closed(closed_at=closed_at, actor=actor)

    class Closed(Aggregate.Event):
        closed_at: datetime
        actor: str

    @event(Closed)
    def _closed(self, *, closed_at: datetime, actor: str) -> None:
        self.stage = RequestStage.CLOSED

    def withdraw(self, *, withdrawn_at: datetime, actor: str) -> None:
        self._require(
            RequestStage.RECEIVED, RequestStage.IN_PROGRESS, RequestStage.SUSPENDED, step="withdraw"
        )
        self._withdrawn(withdrawn_at=withdrawn_at, actor=actor)

    class Withdrawn(Aggregate.Event):
        withdrawn_at: datetime
        actor: str

    @event(Withdrawn)
    def _withdrawn(self, *, withdrawn_at: datetime, actor: str) -> None:
        self.stage = RequestStage.WITHDRAWN

    def days_left(self, today: date) -> int:
        return (self._deadline - today).days
