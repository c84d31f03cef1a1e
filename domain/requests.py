"""Data-subject rights requests (AVG art. 15-22; seed 002 bijlage 5), decided as Awb besluiten.

received -> (acknowledged) -> (suspended -> resumed)* -> identity verified -> (suspended ->
resumed)* -> (extended) -> decided -> sent -> (recipients notified, art. 19) -> (objection lodged
-> (lateness excused | declared inadmissible) -> heard | hearing waived -> (term extended) ->
decided on objection); or withdrawn before the decision. A request whose requester never
proves who they are is refused on that ground without being verified. Each deadline is computed
by ``domain.deadlines`` when the fact that sets it is recorded, and stored with it; the texts
about the requester are sealed under the requester's own key.

"On time" is judged when the decision is sent: art. 12(3) requires the requester to be informed
within the month (seed 002: "Besluit moet ... binnen 1 maand verzonden worden"). Decisions sent
before that judgement was recorded keep the judgement made at their decision.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.authorization import Role
from domain.deadlines import (
    LEGACY_RULES,
    MAX_EXTENSION_MONTHS,
    RULES,
    TermCalendar,
    extended_objection_deadline,
    extension_notice_deadline,
    first_penalty_day,
    local_date,
    objection_deadline,
    objection_decision_deadline,
    penalty_owed,
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


class SuspensionReason(StrEnum):
    """Why the clock stops (art. 12(6) AVG; seed 002: "termijn opschorten en mogelijkheid tot
    herstel bieden")."""

    IDENTITY_PROOF = "art. 12(6) AVG: bewijs van identiteit gevraagd"
    MISSING_INFORMATION = "Awb 4:5: ontbrekende gegevens gevraagd"


class Mandate(StrEnum):
    """Under which mandate a decision is taken on behalf of the controller (seed 002: "Besluit
    in mandaat ondertekenen"; "namens burgemeester en wethouders")."""

    SECRETARY = "mandaat: gemeentesecretaris"
    DEPARTMENT = "ondermandaat: proceseigenaar van de vakafdeling"

    @classmethod
    def of(cls, role: Role) -> Mandate:
        mandates = {Role.SECRETARY: cls.SECRETARY, Role.PROCESS_OWNER: cls.DEPARTMENT}
        if role not in mandates:
            raise ProcedureError(f"a {role.value} holds no mandate to decide a request")
        return mandates[role]


class NotificationExemption(StrEnum):
    """Art. 19 AVG: recipients are told unless that proves impossible or disproportionate."""

    IMPOSSIBLE = "art. 19 AVG: onmogelijk"
    DISPROPORTIONATE = "art. 19 AVG: onevenredige inspanning"


class HearingWaiver(StrEnum):
    """Awb 7:3: the only grounds to decide on an objection without hearing the objector."""

    MANIFESTLY_INADMISSIBLE = "Awb 7:3 a: kennelijk niet-ontvankelijk"
    MANIFESTLY_UNFOUNDED = "Awb 7:3 b: kennelijk ongegrond"
    OBJECTOR_WAIVED = "Awb 7:3 c: belanghebbende heeft afgezien van horen"
    FULLY_GRANTED = "Awb 7:3 d: volledig tegemoetgekomen"


class Deliberation(StrEnum):
    """How the objection is decided, for Awb 10:3(3): who took the primary decision under
    mandate may not decide the objection alone."""

    ALONE = "alleen"
    WITH_OTHERS = "mede met anderen"
    ON_COMMITTEE_ADVICE = "op advies van de bezwaarcommissie (Awb 7:13)"


class ObjectionOutcome(StrEnum):
    WELL_FOUNDED = "gegrond"
    UNFOUNDED = "ongegrond"
    INADMISSIBLE = "niet-ontvankelijk"


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
        self.acknowledged = False
        self.identity_verified = False
        self.identity_asked = False
        self.recipients_notified = False
        self._resume_to = RequestStage.IN_PROGRESS
        self.decided_by: str | None = None
        self.objection_late = False
        self.lateness_excused = False
        self.hearing_done = False
        self._objection_decision_deadline: date | None = None
        self.objection_term_extended = False
        self._first_penalty_day: date | None = None

    def deadline(self) -> date:
        """The last day for the decision, as computed when its last cause was recorded."""
        return self._deadline

    def _sealed(self, text: str) -> PersonalData:
        return PersonalData(self.subject, text)

    def _require(self, *stages: RequestStage, step: str) -> None:
        if self.stage not in stages:
            allowed = {
                RequestStage.RECEIVED: ["verify_identity", "suspend", "decide", "withdraw"],
                RequestStage.IN_PROGRESS: ["suspend", "extend", "decide", "withdraw"],
                RequestStage.SUSPENDED: ["resume", "withdraw"],
                RequestStage.DECIDED: ["send"],
                RequestStage.SENT: ["lodge_objection", "close"],
                RequestStage.OBJECTED: self._objection_steps(),
                RequestStage.CLOSED: [],
                RequestStage.WITHDRAWN: [],
            }[self.stage]
            raise ProcedureError(f"cannot {step} a request in stage '{self.stage.value}'", allowed)

    def _not_before_receipt(self, moment: datetime, what: str) -> None:
        if moment < self.received_at:
            raise ProcedureError(f"{what} cannot lie before the request was received")

    def _objection_steps(self) -> list[str]:
        if self.objection_late and not self.lateness_excused:
            return ["excuse_lateness", "declare_inadmissible"]
        steps = ["extend_objection_term", "decide_on_objection"]
        return steps if self.hearing_done else ["hear_objector", "waive_hearing", *steps[:1]]

    def acknowledge(self, *, channel: str, acknowledged_at: datetime, actor: str) -> None:
        """Seed 002: the department confirms receipt ("ontvangst bevestigen")."""
        self._require(
            RequestStage.RECEIVED,
            RequestStage.IN_PROGRESS,
            RequestStage.SUSPENDED,
            step="acknowledge receipt of",
        )
        if self.acknowledged:
            raise ProcedureError("receipt was already acknowledged")
        self._not_before_receipt(acknowledged_at, "an acknowledgement")
        self._acknowledged(channel=channel, acknowledged_at=acknowledged_at, actor=actor)

    class ReceiptAcknowledged(Aggregate.Event):
        channel: str
        acknowledged_at: datetime
        actor: str

    @event(ReceiptAcknowledged)
    def _acknowledged(self, *, channel: str, acknowledged_at: datetime, actor: str) -> None:
        self.acknowledged = True

    def verify_identity(self, *, method: str, verified_at: datetime, actor: str) -> None:
        self._require(RequestStage.RECEIVED, step="verify the identity for")
        self._identity_verified(method=self._sealed(method), verified_at=verified_at, actor=actor)

    class IdentityVerified(Aggregate.Event):
        method: Sealed
        verified_at: datetime
        actor: str

    @event(IdentityVerified)
    def _identity_verified(self, *, method: Sealed, verified_at: datetime, actor: str) -> None:
        self.identity_verified = True
        self.stage = RequestStage.IN_PROGRESS

    def suspend(
        self,
        *,
        missing: str,
        reason: SuspensionReason,
        suspended_at: datetime,
        actor: str,
    ) -> None:
        """The clock stops while information the requester must give is missing; proof of
        identity can be asked before the identity is verified (art. 12(6))."""
        self._require(RequestStage.RECEIVED, RequestStage.IN_PROGRESS, step="suspend")
        if self.identity_verified and reason is SuspensionReason.IDENTITY_PROOF:
            raise ProcedureError("the identity was already verified")
        self._suspended(
            missing=self._sealed(missing), reason=reason, suspended_at=suspended_at, actor=actor
        )

    class Suspended(Aggregate.Event):
        class_version = 2
        missing: Sealed
        reason: SuspensionReason | None  # None: recorded before the reason was asked
        suspended_at: datetime
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = None

    @event(Suspended)
    def _suspended(
        self,
        *,
        missing: Sealed,
        reason: SuspensionReason | None,
        suspended_at: datetime,
        actor: str,
    ) -> None:
        self.identity_asked |= reason == SuspensionReason.IDENTITY_PROOF
        self.suspended_since = suspended_at
        self._resume_to = self.stage
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
        self.stage = self._resume_to

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
        role: Role,
        actor: str,
    ) -> None:
        """An Awb decision in mandate, by the role the actor decides under. Before the identity
        is verified the only decision is the refusal because it could not be established, and
        only after the requester was asked for proof (art. 12(6))."""
        self._require(RequestStage.RECEIVED, RequestStage.IN_PROGRESS, step="decide")
        if Outcome(outcome) is not Outcome.GRANTED and not grounds:
            raise ProcedureError("refusing, wholly or partly, needs the legal grounds")
        if not reasons.strip():
            raise ProcedureError("an Awb decision states its reasons")
        identity_refusal = RefusalGround.IDENTITY_NOT_ESTABLISHED in grounds
        if self.identity_verified and identity_refusal:
            raise ProcedureError("the identity was verified: it cannot be a ground for refusal")
        if not self.identity_verified:
            if outcome is not Outcome.REFUSED or grounds != [
                RefusalGround.IDENTITY_NOT_ESTABLISHED
            ]:
                raise ProcedureError(
                    "before the identity is verified a request can only be refused because the "
                    "identity could not be established",
                    ["verify_identity", "suspend"],
                )
            if not self.identity_asked:
                raise ProcedureError(
                    "the requester is first asked to prove their identity", ["suspend"]
                )
        self._decided(
            outcome=outcome,
            grounds=grounds,
            reasons=self._sealed(reasons),
            decided_at=decided_at,
            late=local_date(decided_at) > self._deadline,
            deadline=self._deadline,
            mandate=Mandate.of(role),
            actor=actor,
        )

    class Decided(Aggregate.Event):
        checkpoint_after = True
        class_version = 3
        outcome: Outcome
        grounds: list[RefusalGround]
        reasons: Sealed
        decided_at: datetime
        # Decided after the deadline; from version 3 "on time" is judged at sending.
        late: bool | None  # None: recorded before results were stored
        deadline: date | None  # the deadline it was judged against
        mandate: Mandate | None  # None: recorded before the mandate was
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(late=None, deadline=None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["mandate"] = None

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
        mandate: Mandate | None,
        actor: str,
    ) -> None:
        self.outcome = Outcome(outcome)  # stored events give back plain strings
        self.grounds = [RefusalGround(g) for g in grounds]
        self.decided_at = decided_at
        self.decided_late = local_date(decided_at) > self._deadline if late is None else late
        self.decided_by = actor
        self.stage = RequestStage.DECIDED

    def send(
        self, *, channel: str, sent_at: datetime, term_calendar: TermCalendar, actor: str
    ) -> None:
        """The department sends the decision (seed 002: "Besluit in mandaat ondertekenen en
        verzenden"): the requester is informed, so this is when "on time" is judged (art. 12(3)).
        Sending starts the bezwaar term, an Awb term: the decree days count."""
        self._require(RequestStage.DECIDED, step="send")
        if sent_at < self.decided_at:
            raise ProcedureError("a decision is sent after it was taken")
        self._sent(
            channel=channel,
            sent_at=sent_at,
            objection_deadline=objection_deadline(sent_at, term_calendar.days),
            rules=term_calendar.rules(),
            late=local_date(sent_at) > self._deadline,
            deadline=self._deadline,
            **self._penalty(sent_at),
            actor=actor,
        )

    def _penalty(self, decided_at: datetime) -> dict[str, int]:
        """Days in default and euros owed (Awb 4:17): none without a notice of default."""
        if self._first_penalty_day is None:
            return {"penalty_days": 0, "penalty_euros": 0}
        days, euros = penalty_owed(self._first_penalty_day, local_date(decided_at))
        return {"penalty_days": days, "penalty_euros": euros}

    class Sent(Aggregate.Event):
        class_version = 3
        channel: str
        sent_at: datetime
        objection_deadline: date
        rules: str
        # Sent after the deadline (art. 12(3)); None: sent before this was judged at sending,
        # the decision's own judgement stands.
        late: bool | None
        deadline: date | None
        penalty_days: int  # in default after a notice of default (Awb 4:17)
        penalty_euros: int
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["objection_deadline"] = objection_deadline(state["sent_at"])
            state["rules"] = LEGACY_RULES

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(late=None, deadline=None, penalty_days=0, penalty_euros=0)

    @event(Sent)
    def _sent(
        self,
        *,
        channel: str,
        sent_at: datetime,
        objection_deadline: date,
        rules: str,
        late: bool | None,
        deadline: date | None,
        penalty_days: int,
        penalty_euros: int,
        actor: str,
    ) -> None:
        self.sent_at = sent_at
        self._objection_deadline = objection_deadline
        self.sent_late = self.decided_late if late is None else late
        self._first_penalty_day = None
        self.stage = RequestStage.SENT

    def objection_deadline(self) -> date | None:
        return self._objection_deadline

    def notify_recipients(
        self,
        *,
        recipients: list[str],
        exemption: NotificationExemption | None,
        explanation: str,
        notified_at: datetime,
        actor: str,
    ) -> None:
        """Art. 19: the bodies the data were disclosed to are told of a rectification, erasure
        or restriction, unless that proves impossible or disproportionate (with the reason)."""
        if self.right not in (Right.RECTIFICATION, Right.ERASURE, Right.RESTRICTION):
            raise ProcedureError(f"art. 19 does not apply to a request for {self.right.value}")
        if self.outcome not in (Outcome.GRANTED, Outcome.PARTLY_GRANTED):
            raise ProcedureError(
                "recipients are told of a rectification, erasure or restriction granted"
            )
        if self.recipients_notified:
            raise ProcedureError("the recipients were already notified")
        if bool(recipients) == (exemption is not None):
            raise ProcedureError("name the recipients told, or why telling them is not possible")
        if exemption is not None and not explanation.strip():
            raise ProcedureError("the reason telling the recipients is not possible is recorded")
        if notified_at < self.decided_at:
            raise ProcedureError("recipients are told after the decision")
        self._recipients_notified(
            recipients=recipients,
            exemption=exemption,
            # Only the exemption has an explanation; nothing is sealed when none is given.
            explanation=self._sealed(explanation) if explanation.strip() else None,
            notified_at=notified_at,
            actor=actor,
        )

    class RecipientsNotified(Aggregate.Event):
        recipients: list[str]  # bodies (art. 4(9) recipients), not persons
        exemption: NotificationExemption | None
        explanation: Sealed | None
        notified_at: datetime
        actor: str

    @event(RecipientsNotified)
    def _recipients_notified(
        self,
        *,
        recipients: list[str],
        exemption: NotificationExemption | None,
        explanation: Sealed | None,
        notified_at: datetime,
        actor: str,
    ) -> None:
        self.recipients_notified = True

    def lodge_objection(
        self,
        *,
        grounds: str,
        lodged_at: datetime,
        advisory_committee: bool,
        term_calendar: TermCalendar,
        actor: str,
    ) -> None:
        """Bezwaar within six weeks of sending (Awb 6:7). A late one is recorded too, to be
        declared inadmissible or its lateness excused (6:11). The decision term (7:10) starts."""
        self._require(RequestStage.SENT, step="lodge an objection against")
        last_day, sent_at = self._objection_deadline, self.sent_at
        if last_day is None or sent_at is None:
            raise ProcedureError("the decision was not sent")
        if lodged_at < sent_at:
            raise ProcedureError("an objection is lodged after the decision was sent")
        self._objection_lodged(
            grounds=self._sealed(grounds),
            lodged_at=lodged_at,
            late=local_date(lodged_at) > last_day,
            advisory_committee=advisory_committee,
            decision_deadline=objection_decision_deadline(
                last_day,
                lodged_at,
                advisory_committee=advisory_committee,
                equated_days=term_calendar.days,
            ),
            rules=term_calendar.rules(),
            actor=actor,
        )

    class ObjectionLodged(Aggregate.Event):
        class_version = 2
        grounds: Sealed
        lodged_at: datetime
        late: bool
        advisory_committee: bool
        decision_deadline: date | None  # None: lodged before the 7:10 term was recorded
        rules: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Late objections were refused then, so every recorded one was on time.
            state.update(
                late=False, advisory_committee=False, decision_deadline=None, rules=LEGACY_RULES
            )

    @event(ObjectionLodged)
    def _objection_lodged(
        self,
        *,
        grounds: Sealed,
        lodged_at: datetime,
        late: bool,
        advisory_committee: bool,
        decision_deadline: date | None,
        rules: str,
        actor: str,
    ) -> None:
        self.objection_late = late
        self._objection_decision_deadline = decision_deadline
        # A penalty on the primary decision ended with its sending; one on this is new.
        self._first_penalty_day = None
        self.stage = RequestStage.OBJECTED

    def objection_decision_deadline(self) -> date | None:
        return self._objection_decision_deadline

    def _require_late_objection(self, step: str) -> None:
        self._require(RequestStage.OBJECTED, step=step)
        if not self.objection_late or self.lateness_excused:
            raise ProcedureError("the objection was lodged on time", self._objection_steps())

    def excuse_lateness(self, *, reasons: str, excused_at: datetime, actor: str) -> None:
        """Awb 6:11: lateness the objector cannot reasonably be blamed for is excused."""
        self._require_late_objection("excuse the lateness of")
        if not reasons.strip():
            raise ProcedureError("excusing lateness states its reasons")
        self._lateness_excused(reasons=self._sealed(reasons), excused_at=excused_at, actor=actor)

    class LatenessExcused(Aggregate.Event):
        reasons: Sealed
        excused_at: datetime
        actor: str

    @event(LatenessExcused)
    def _lateness_excused(self, *, reasons: Sealed, excused_at: datetime, actor: str) -> None:
        self.lateness_excused = True

    def declare_inadmissible(self, *, reasons: str, decided_at: datetime, actor: str) -> None:
        """Awb 6:11 read with 7:3 a: a late objection not excused is niet-ontvankelijk."""
        self._require_late_objection("declare inadmissible")
        if not reasons.strip():
            raise ProcedureError("a decision on objection states its reasons")
        self._declared_inadmissible(
            reasons=self._sealed(reasons), decided_at=decided_at, actor=actor
        )

    class DeclaredInadmissible(Aggregate.Event):
        reasons: Sealed
        decided_at: datetime
        actor: str

    @event(DeclaredInadmissible)
    def _declared_inadmissible(self, *, reasons: Sealed, decided_at: datetime, actor: str) -> None:
        self.stage = RequestStage.CLOSED

    def _require_admissible(self, step: str) -> None:
        self._require(RequestStage.OBJECTED, step=step)
        if self.objection_late and not self.lateness_excused:
            raise ProcedureError(
                "a late objection is first excused or declared inadmissible (Awb 6:11)",
                self._objection_steps(),
            )

    def hear_objector(
        self, *, by_committee: bool, report: str, heard_at: datetime, actor: str
    ) -> None:
        """Awb 7:2: the objector is heard before the decision on objection."""
        self._require_admissible("hear the objector on")
        if self.hearing_done:
            raise ProcedureError("the objector was already heard or the hearing waived")
        self._heard(
            by_committee=by_committee, report=self._sealed(report), heard_at=heard_at, actor=actor
        )

    class Heard(Aggregate.Event):
        by_committee: bool
        report: Sealed
        heard_at: datetime
        actor: str

    @event(Heard)
    def _heard(self, *, by_committee: bool, report: Sealed, heard_at: datetime, actor: str) -> None:
        self.hearing_done = True

    def waive_hearing(self, *, ground: HearingWaiver, waived_at: datetime, actor: str) -> None:
        """Awb 7:3: no hearing, on one of its grounds only."""
        self._require_admissible("waive the hearing on")
        if self.hearing_done:
            raise ProcedureError("the objector was already heard or the hearing waived")
        self._hearing_waived(ground=ground, waived_at=waived_at, actor=actor)

    class HearingWaived(Aggregate.Event):
        ground: HearingWaiver
        waived_at: datetime
        actor: str

    @event(HearingWaived)
    def _hearing_waived(self, *, ground: HearingWaiver, waived_at: datetime, actor: str) -> None:
        self.hearing_done = True

    def extend_objection_term(
        self, *, reasons: str, extended_at: datetime, term_calendar: TermCalendar, actor: str
    ) -> None:
        """Awb 7:10(3): once, by six weeks, told before the term ends."""
        self._require_admissible("extend the decision term of")
        deadline = self._objection_decision_deadline
        if deadline is None:
            raise ProcedureError("the objection's decision term was not recorded")
        if self.objection_term_extended:
            raise ProcedureError("the decision term on objection was already extended")
        if local_date(extended_at) > deadline:
            raise ProcedureError(f"the decision term ended on {deadline.isoformat()}")
        if not reasons.strip():
            raise ProcedureError("the objector is told the reasons for the extension")
        self._objection_term_extended(
            reasons=self._sealed(reasons),
            extended_at=extended_at,
            decision_deadline=extended_objection_deadline(deadline, term_calendar.days),
            rules=term_calendar.rules(),
            actor=actor,
        )

    class ObjectionTermExtended(Aggregate.Event):
        reasons: Sealed
        extended_at: datetime
        decision_deadline: date
        rules: str
        actor: str

    @event(ObjectionTermExtended)
    def _objection_term_extended(
        self,
        *,
        reasons: Sealed,
        extended_at: datetime,
        decision_deadline: date,
        rules: str,
        actor: str,
    ) -> None:
        self.objection_term_extended = True
        self._objection_decision_deadline = decision_deadline

    def record_notice_of_default(
        self, *, notice_received_at: datetime, term_calendar: TermCalendar, actor: str
    ) -> None:
        """Awb 4:17: a written notice of default, received after the decision term ended,
        starts the penalty two weeks later; it is owed until the decision (at most 42 days)."""
        if self.stage in (RequestStage.RECEIVED, RequestStage.IN_PROGRESS, RequestStage.DECIDED):
            deadline: date | None = self._deadline
        elif self.stage is RequestStage.OBJECTED:
            deadline = self._objection_decision_deadline
        else:
            raise ProcedureError(f"no decision is due on a request in stage '{self.stage.value}'")
        if deadline is None:
            raise ProcedureError("the decision term was not recorded")
        if self._first_penalty_day is not None:
            raise ProcedureError("a notice of default was already received")
        if local_date(notice_received_at) <= deadline:
            raise ProcedureError(
                f"a notice of default counts only after the term ended on {deadline.isoformat()}"
            )
        self._notice_of_default_received(
            notice_received_at=notice_received_at,
            first_penalty_day=first_penalty_day(notice_received_at, term_calendar.days),
            rules=term_calendar.rules(),
            actor=actor,
        )

    class NoticeOfDefaultReceived(Aggregate.Event):
        notice_received_at: datetime
        first_penalty_day: date
        rules: str
        actor: str

    @event(NoticeOfDefaultReceived)
    def _notice_of_default_received(
        self, *, notice_received_at: datetime, first_penalty_day: date, rules: str, actor: str
    ) -> None:
        self._first_penalty_day = first_penalty_day

    def decide_on_objection(
        self,
        *,
        well_founded: bool,
        reasons: str,
        deliberation: Deliberation,
        decided_at: datetime,
        actor: str,
    ) -> None:
        """After the hearing or its waiver; who took the primary decision does not decide the
        objection alone (Awb 10:3(3))."""
        self._require_admissible("decide on an objection for")
        if not self.hearing_done:
            raise ProcedureError(
                "the objector is heard, or the hearing waived, first (Awb 7:2, 7:3)",
                self._objection_steps(),
            )
        if not reasons.strip():
            raise ProcedureError("a decision on objection states its reasons")
        if actor == self.decided_by and deliberation is Deliberation.ALONE:
            raise ProcedureError(
                "who took the primary decision does not decide the objection alone (Awb 10:3(3))"
            )
        deadline = self._objection_decision_deadline
        self._objection_decided(
            well_founded=well_founded,
            reasons=self._sealed(reasons),
            decided_at=decided_at,
            deliberation=deliberation,
            late=None if deadline is None else local_date(decided_at) > deadline,
            **self._penalty(decided_at),
            actor=actor,
        )

    class ObjectionDecided(Aggregate.Event):
        class_version = 2
        well_founded: bool
        reasons: Sealed
        decided_at: datetime
        deliberation: Deliberation | None  # None: decided before this was recorded
        late: bool | None  # after the 7:10 term; None: no term recorded
        penalty_days: int
        penalty_euros: int
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(deliberation=None, late=None, penalty_days=0, penalty_euros=0)

    @event(ObjectionDecided)
    def _objection_decided(
        self,
        *,
        well_founded: bool,
        reasons: Sealed,
        decided_at: datetime,
        deliberation: Deliberation | None,
        late: bool | None,
        penalty_days: int,
        penalty_euros: int,
        actor: str,
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
