"""Security incidents and personal-data breaches (seed 002 bijlage 3; AVG art. 33-34).

reported -> triaged (impact per the IBD table) -> not a breach, or breach established at an
awareness moment (EDPB 9/2022) -> the secretary's notification decision -> AP notifications
(submitted, supplemented in phases, withdrawn) -> data subjects informed -> closed ->
evaluated. An incident that turns out not to be a breach is reclassified, never edited.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.deadlines import ap_notification_deadline, nis2_early_warning_deadline
from domain.errors import ProcedureError


class Impact(StrEnum):
    """The IBD table's impact levels, which set the escalation (seed 002)."""

    LOW = "laag"  # solved by ICT, reported to the CISO
    MEDIUM = "midden"  # solved by ICT, coordinated by the CISO
    HIGH = "hoog"  # handled by the incident response team


class Nature(StrEnum):
    CONFIDENTIALITY = "vertrouwelijkheid"
    INTEGRITY = "integriteit"
    AVAILABILITY = "beschikbaarheid"


class Authority(StrEnum):
    POLICE = "politie (aangifte)"
    IBD = "Informatiebeveiligingsdienst (IBD)"
    CSIRT = "CSIRT / NCSC (Cyberbeveiligingswet)"


class Stage(StrEnum):
    REPORTED = "gemeld"
    TRIAGED = "beoordeeld"
    NOT_A_BREACH = "geen datalek"
    BREACH = "datalek"
    CLOSED = "afgesloten"


class Incident(Aggregate):
    @event("Reported")
    def __init__(
        self,
        *,
        municipality: str,
        controller: str,
        summary: str,
        reported_at: datetime,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.summary = summary
        self.reported_at = reported_at
        self.stage = Stage.REPORTED
        self.impact: Impact | None = None
        self.aware_at: datetime | None = None
        self.decision: dict[str, Any] | None = None
        self.ap_notifications: dict[str, dict[str, Any]] = {}
        self.subjects_informed_at: datetime | None = None
        self.evaluated = False
        self.significant = False
        self.triaged_at: datetime | None = None
        self.external_reports: list[str] = []

    def _require(self, *stages: Stage, step: str) -> None:
        if self.stage not in stages:
            raise ProcedureError(
                f"cannot {step} an incident in stage '{self.stage.value}'", self._allowed()
            )

    def _allowed(self) -> list[str]:
        return {
            Stage.REPORTED: ["triage"],
            Stage.TRIAGED: ["classify_not_a_breach", "establish_breach"],
            Stage.NOT_A_BREACH: ["close"],
            Stage.BREACH: ["decide_notification", "submit_ap_notification", "close"],
            Stage.CLOSED: ["evaluate"],
        }[self.stage]

    @property
    def ap_deadline(self) -> datetime | None:
        return None if self.aware_at is None else ap_notification_deadline(self.aware_at)

    @property
    def early_warning_deadline(self) -> datetime | None:
        """NIS2 (Cyberbeveiligingswet): 24 hours from awareness of a significant incident,
        beside the AP's 72 hours and from the same recorded moment where there is a breach."""
        if not self.significant:
            return None
        aware = self.aware_at or self.triaged_at
        return None if aware is None else nis2_early_warning_deadline(aware)

    @event("Triaged")
    def triage(
        self, *, impact: Impact, significant: bool, triaged_at: datetime, actor: str
    ) -> None:
        """``significant``: a significant incident under the Cyberbeveiligingswet."""
        self._require(Stage.REPORTED, step="triage")
        self.impact = Impact(impact)  # stored events give back plain strings
        self.significant = significant
        self.triaged_at = triaged_at
        self.stage = Stage.TRIAGED

    @event("ClassifiedNotABreach")
    def classify_not_a_breach(self, *, reasons: str, classified_at: datetime, actor: str) -> None:
        self._require(Stage.TRIAGED, step="classify as not a breach")
        if not reasons.strip():
            raise ProcedureError("concluding that there is no breach requires reasons")
        self.stage = Stage.NOT_A_BREACH

    @event("BreachEstablished")
    def establish_breach(
        self,
        *,
        aware_at: datetime,
        natures: list[Nature],
        data_categories: list[str],
        approx_subjects: int,
        approx_records: int,
        likely_consequences: str,
        actor: str,
    ) -> None:
        self._require(Stage.TRIAGED, step="establish a breach for")
        if not natures:
            raise ProcedureError("a breach affects confidentiality, integrity or availability")
        if approx_subjects < 0 or approx_records < 0:
            raise ProcedureError("approximate numbers are never negative")
        self.aware_at = aware_at
        self.natures = [Nature(n) for n in natures]
        self.stage = Stage.BREACH

    class NotificationDecided(Aggregate.Event):
        checkpoint_after = True
        notify_ap: bool
        ap_reasons: str
        inform_subjects: bool
        subjects_reasons: str
        fg_advice: UUID | None
        fg_advice_followed: bool | None
        departure_reasons: str
        decided_at: datetime
        actor: str

    @event(NotificationDecided)
    def decide_notification(
        self,
        *,
        notify_ap: bool,
        ap_reasons: str,
        inform_subjects: bool,
        subjects_reasons: str,
        fg_advice: UUID | None,
        fg_advice_followed: bool | None,
        departure_reasons: str,
        decided_at: datetime,
        actor: str,
    ) -> None:
        """The secretary's decision on behalf of the controller (seed 002, step 15-16)."""
        self._require(Stage.BREACH, step="decide on notifying")
        if self.decision is not None:
            raise ProcedureError("the notification decision was already taken")
        if not ap_reasons.strip() or not subjects_reasons.strip():
            raise ProcedureError("both parts of the decision need reasons (AP and data subjects)")
        if fg_advice is not None and fg_advice_followed is None:
            raise ProcedureError("say whether the FG's advice was followed")
        if fg_advice_followed is False and not departure_reasons.strip():
            raise ProcedureError("departing from the FG's advice requires reasons")
        self.decision = {
            "notify_ap": notify_ap,
            "inform_subjects": inform_subjects,
            "fg_advice": fg_advice,
            "fg_advice_followed": fg_advice_followed,
        }

    class APNotificationSubmitted(Aggregate.Event):
        checkpoint_after = True
        meldingsnummer: str
        preliminary: bool
        form: dict[str, Any]
        late_reason: str
        submitted_at: datetime
        actor: str

    @event(APNotificationSubmitted)
    def submit_ap_notification(
        self,
        *,
        meldingsnummer: str,
        preliminary: bool,
        form: dict[str, Any],
        late_reason: str,
        submitted_at: datetime,
        actor: str,
    ) -> None:
        self._require(Stage.BREACH, step="notify the AP of")
        if self.decision is None or not self.decision["notify_ap"]:
            raise ProcedureError("the AP is notified only after a decision to notify")
        if meldingsnummer in self.ap_notifications:
            raise ProcedureError(f"notification {meldingsnummer} was already submitted")
        assert self.aware_at is not None
        if submitted_at > ap_notification_deadline(self.aware_at) and not late_reason.strip():
            raise ProcedureError("a notification after 72 hours needs the reason for the delay")
        self.ap_notifications[meldingsnummer] = {"preliminary": preliminary, "withdrawn": False}

    class APNotificationSupplemented(Aggregate.Event):
        checkpoint_after = True
        meldingsnummer: str
        form: dict[str, Any]
        final: bool
        supplemented_at: datetime
        actor: str

    @event(APNotificationSupplemented)
    def supplement_ap_notification(
        self,
        *,
        meldingsnummer: str,
        form: dict[str, Any],
        final: bool,
        supplemented_at: datetime,
        actor: str,
    ) -> None:
        notification = self._active_notification(meldingsnummer, "supplement")
        if final:
            notification["preliminary"] = False

    class APNotificationWithdrawn(Aggregate.Event):
        checkpoint_after = True
        meldingsnummer: str
        reason: str
        withdrawn_at: datetime
        actor: str

    @event(APNotificationWithdrawn)
    def withdraw_ap_notification(
        self, *, meldingsnummer: str, reason: str, withdrawn_at: datetime, actor: str
    ) -> None:
        notification = self._active_notification(meldingsnummer, "withdraw")
        if not reason.strip():
            raise ProcedureError("withdrawing a notification needs a reason")
        notification["withdrawn"] = True

    def _active_notification(self, meldingsnummer: str, step: str) -> dict[str, Any]:
        notification = self.ap_notifications.get(meldingsnummer)
        if notification is None or notification["withdrawn"]:
            raise ProcedureError(
                f"cannot {step} notification {meldingsnummer}: it is not an active notification",
                [n for n, v in self.ap_notifications.items() if not v["withdrawn"]],
            )
        return notification

    @event("ReclassifiedNotABreach")
    def reclassify_not_a_breach(
        self, *, reasons: str, reclassified_at: datetime, actor: str
    ) -> None:
        """Not a breach after all (EDPB 9/2022 para 60): active notifications go first."""
        self._require(Stage.BREACH, step="reclassify")
        active = [n for n, v in self.ap_notifications.items() if not v["withdrawn"]]
        if active:
            raise ProcedureError(
                "withdraw the AP notifications before reclassifying", ["withdraw_ap_notification"]
            )
        if not reasons.strip():
            raise ProcedureError("reclassifying requires reasons")
        self.stage = Stage.NOT_A_BREACH

    @event("SubjectsInformed")
    def inform_subjects(self, *, channel: str, informed_at: datetime, actor: str) -> None:
        self._require(Stage.BREACH, step="inform data subjects of")
        self.subjects_informed_at = informed_at

    @event("ReportedToAuthority")
    def report_to_authority(
        self, *, authority: Authority, reference: str, reported_at: datetime, actor: str
    ) -> None:
        """Aangifte with the police (seed 002 step 13), the IBD informed, or the CSIRT warned."""
        if self.stage in (Stage.REPORTED, Stage.CLOSED):
            raise ProcedureError(f"cannot report an incident in stage '{self.stage.value}'")
        self.external_reports.append(Authority(authority).value)

    @event("MeasureRecorded")
    def record_measure(self, *, measure: str, taken_at: datetime, actor: str) -> None:
        if self.stage is Stage.CLOSED:
            raise ProcedureError("the incident is closed", self._allowed())

    @event("Closed")
    def close(self, *, closed_at: datetime, actor: str) -> None:
        self._require(Stage.NOT_A_BREACH, Stage.BREACH, step="close")
        if self.stage is Stage.BREACH:
            self._require_decision_carried_out()
        self.closed_at = closed_at
        self.stage = Stage.CLOSED

    def _require_decision_carried_out(self) -> None:
        if self.decision is None:
            raise ProcedureError("a breach is closed only after the notification decision")
        if self.decision["notify_ap"] and not self.ap_notifications:
            raise ProcedureError("the AP was to be notified", ["submit_ap_notification"])
        if self.decision["inform_subjects"] and self.subjects_informed_at is None:
            raise ProcedureError("the data subjects were to be informed", ["inform_subjects"])

    @event("Evaluated")
    def evaluate(self, *, findings: str, evaluated_at: datetime, actor: str) -> None:
        """Seed 002: two to six weeks after closing."""
        self._require(Stage.CLOSED, step="evaluate")
        if self.evaluated:
            raise ProcedureError("the incident was already evaluated")
        self.evaluated = True
