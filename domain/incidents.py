"""Security incidents and personal-data breaches (seed 002 bijlage 3; AVG art. 33-34).

reported -> triaged (impact per the IBD table) -> not a breach, or breach established at an
awareness moment (EDPB 9/2022) -> the secretary's notification decision -> AP notifications
(submitted, supplemented in phases, withdrawn) -> data subjects informed -> closed ->
evaluated. An incident that turns out not to be a breach is reclassified, never edited.

Each public verb judges (the procedure, the reasons, the deadlines, whether a notification is
late) and hands its conclusions to a private ``@event`` method that only applies them, so a
later change in a rule never changes what a stored event says or stops it from loading.
Every free text may describe a person: it is sealed under the incident's own record key.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypedDict, cast
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.deadlines import (
    LEGACY_RULES,
    RULES,
    EarlyWarningRule,
    ap_notification_deadline,
    evaluation_deadline_after_closing,
    evaluation_window,
    local_date,
    nis2_early_warning_deadline,
)
from domain.errors import ProcedureError
from domain.fg_advice import SealedWithoutFGAdvice, WithoutFGAdvice, sealed_without_fg_advice
from domain.personal_data import PersonalData, Sealed, record_key
from domain.values import Count, OptionalText, ShortText, Text, Texts


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


class IRTMember(StrEnum):
    """Who sits on the incident response team (seed 002, "Incident Response Team"); the team
    may be joined per incident by the other parties the seed names."""

    CISO = "CISO (voorzitter)"
    REGIONAL_CISO = "regionale CISO"
    FG = "FG (bij een inbreuk op persoonsgegevens)"
    SECRETARY = "gemeentesecretaris (besluitvormer)"
    PRIVACY_OFFICER = "privacybeheerder (adviseur)"
    SECURITY_ADMINISTRATOR = "beveiligingsbeheerder ICT"
    SECURITY_CONTROLLER = "controller informatiebeveiliging"
    COMMUNICATION = "beleidsmedewerker communicatie"
    LEGAL = "juridisch controller"
    DEPARTMENT_MANAGER = "afdelingsmanager"
    EXTERNAL_EXPERT = "externe deskundige"


class Recipient(StrEnum):
    """Who is informed of an incident (seed 002 steps 15, 33-36). The police's aangifte is a
    step of its own (13); informing the police here is step 33."""

    POLICE = "politie"
    IBD = "IBD"
    CSIRT = "CSIRT / NCSC"
    THIRD_PARTY = "derde partij"
    BANK = "bank of creditcardmaatschappij"
    WETHOUDER = "vakwethouder"
    COLLEGE = "college van B en W"
    RAAD = "gemeenteraad"


# The IRT's chair (the CISO) informs the services and companies; the secretary the police and
# the municipality's own government (steps 15 and 33).
IRT_RECIPIENTS = frozenset({Recipient.IBD, Recipient.CSIRT, Recipient.THIRD_PARTY, Recipient.BANK})
GOVERNMENT_RECIPIENTS = frozenset(
    {Recipient.POLICE, Recipient.WETHOUDER, Recipient.COLLEGE, Recipient.RAAD}
)


class SubjectsNotInformedGround(StrEnum):
    """Why the data subjects were not informed of a breach (AVG art. 34(1) and (3))."""

    NO_HIGH_RISK = "art. 34(1): geen hoog risico"
    UNINTELLIGIBLE = "art. 34(3)(a): gegevens onbegrijpelijk (versleuteld)"
    SUBSEQUENT_MEASURES = "art. 34(3)(b): hoog risico weggenomen door maatregelen"
    DISPROPORTIONATE_EFFORT = "art. 34(3)(c): onevenredige inspanning, openbare mededeling"


class Stage(StrEnum):
    REPORTED = "gemeld"
    TRIAGED = "beoordeeld"
    NOT_A_BREACH = "geen datalek"
    BREACH = "datalek"
    CLOSED = "afgesloten"


class APForm(BaseModel):
    """What a notification tells the AP (AVG art. 33(3)), in phases where it must (33(4))."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    natures: list[Nature] = Field(min_length=1, max_length=3)
    nature: Text  # (a) what happened
    subject_categories: Texts = Field(min_length=1)  # (a) categories of data subjects
    approx_subjects: Count
    record_categories: Texts = Field(min_length=1)  # (a) categories of personal data records
    approx_records: Count
    fg_contact: ShortText  # (b) the FG's name and contact details
    likely_consequences: Text  # (c)
    measures: Text  # (d) taken or proposed, including mitigation
    phased: OptionalText = ""  # (33(4)) what follows in a later phase, and why not yet


class SealedForm(TypedDict):
    """An ``APForm`` as an event holds it: its free texts sealed under the record key."""

    natures: list[str]
    nature: Sealed
    subject_categories: list[str]
    approx_subjects: int
    record_categories: list[str]
    approx_records: int
    fg_contact: str
    likely_consequences: Sealed
    measures: Sealed
    phased: Sealed


# --- supplementing a notification in phases (art. 33(4)) --------------------------------------

Natures = Annotated[list[Nature], Field(min_length=1, max_length=3)]
Categories = Annotated[Texts, Field(min_length=1)]
SEALED_PARTS = frozenset({"nature", "likely_consequences", "measures", "phased"})


class APFormChanges(BaseModel):
    """What a supplement tells the AP: only the parts of the form that changed, each with its
    new value (the parts of ``APForm``); at least one."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    natures: Natures | None = None
    nature: Text | None = None
    subject_categories: Categories | None = None
    approx_subjects: Count | None = None
    record_categories: Categories | None = None
    approx_records: Count | None = None
    fg_contact: ShortText | None = None
    likely_consequences: Text | None = None
    measures: Text | None = None
    phased: OptionalText | None = None  # "": nothing follows any more

    @model_validator(mode="after")
    def _something_changed(self) -> APFormChanges:
        if not self.changed():
            raise ValueError("a supplement names at least one part of the form that changed")
        return self

    def changed(self) -> list[str]:
        """The parts it changes, in the form's order."""
        return [part for part in type(self).model_fields if getattr(self, part) is not None]


class SealedFormChanges(TypedDict, total=False):
    """``APFormChanges`` as an event holds it: the changed parts only, texts sealed."""

    natures: list[str]
    nature: Sealed
    subject_categories: list[str]
    approx_subjects: int
    record_categories: list[str]
    approx_records: int
    fg_contact: str
    likely_consequences: Sealed
    measures: Sealed
    phased: Sealed


class Incident(Aggregate):
    @classmethod
    def report(
        cls, *, municipality: str, controller: str, summary: str, reported_at: datetime, actor: str
    ) -> Incident:
        # The record key: under it every text of this incident is sealed, and shredded at the
        # end of its retention period.
        return cls(
            municipality=municipality,
            controller=controller,
            summary=PersonalData(uuid4(), summary),
            reported_at=reported_at,
            actor=actor,
        )

    class Reported(Aggregate.Created):
        municipality: str
        controller: str
        summary: Sealed
        reported_at: datetime
        actor: str

    @event(Reported)
    def __init__(
        self,
        *,
        municipality: str,
        controller: str,
        summary: Sealed,
        reported_at: datetime,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.summary = summary
        self.key = record_key(summary, self.id)
        self.reported_at = reported_at
        self.stage = Stage.REPORTED
        self.impact: Impact | None = None
        self.aware_at: datetime | None = None
        self.ap_deadline: datetime | None = None
        self.early_warning_deadline: datetime | None = None
        self.decision: dict[str, Any] | None = None
        self.ap_notifications: dict[str, dict[str, Any]] = {}
        self.subjects_informed_at: datetime | None = None
        self.evaluated = False
        self.significant = False
        self.triaged_at: datetime | None = None
        self.significant_found = False  # by its own step, under the early-warning rule
        self.early_warning_sent = False
        self.processor_notices: list[UUID] = []
        self.fg_informed_at: datetime | None = None
        self.external_reports: list[str] = []  # ``Recipient`` and older ``Authority`` values
        self.irt_convened = False
        self.evaluation_due_by: date | None = None
        self.criminal: bool | None = None
        self.mayor_consulted_at: datetime | None = None  # when the mayor agreed to an aangifte
        self.aangifte_filed = False
        self.evidence: dict[int, datetime] = {}  # item number: when it last changed hands
        self.subjects_ground: SubjectsNotInformedGround | None = None
        self.addresses_collected_at: datetime | None = None
        self.addresses_destroyed = False

    def _sealed(self, text: str) -> PersonalData:
        return PersonalData(self.key, text)

    def _require(self, *stages: Stage, step: str) -> None:
        if self.stage not in stages:
            raise ProcedureError(
                f"cannot {step} an incident in stage '{self.stage.value}'", self._allowed()
            )

    def _allowed(self) -> list[str]:
        return self._stage_steps() + self._irt_steps()

    def _irt_steps(self) -> list[str]:
        """The response team's steps, next to those of the stage (steps 10-37)."""
        if self.stage in (Stage.REPORTED, Stage.CLOSED):
            return []
        if not self.irt_convened:
            return ["convene_irt"]
        return ["assess_incident", "assess_criminal_activity", "record_evidence", "inform_party"]

    def _stage_steps(self) -> list[str]:
        return {
            Stage.REPORTED: ["triage"],
            Stage.TRIAGED: ["classify_not_a_breach", "establish_breach"],
            Stage.NOT_A_BREACH: ["close"],
            Stage.BREACH: ["decide_notification", "submit_ap_notification", "close"],
            Stage.CLOSED: ["evaluate"],
        }[self.stage]

    def triage(
        self, *, impact: Impact, significant: bool, triaged_at: datetime, actor: str
    ) -> None:
        """``significant``: a significant incident under the Cyberbeveiligingswet, whose
        24-hour early warning runs from now until a breach's awareness moment sets it anew."""
        self._require(Stage.REPORTED, step="triage")
        self._triaged(
            impact=impact,
            significant=significant,
            triaged_at=triaged_at,
            # The early warning's clock starts when the incident is found significant, a step
            # of its own judged by the dated rule (``find_significant_incident``).
            early_warning_deadline=None,
            rules=RULES,
            actor=actor,
        )

    class Triaged(Aggregate.Event):
        class_version = 2
        impact: Impact
        significant: bool
        triaged_at: datetime
        early_warning_deadline: datetime | None
        rules: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Recorded before results were stored: the rule of that time, NIS2's 24 hours.
            state["early_warning_deadline"] = (
                nis2_early_warning_deadline(state["triaged_at"]) if state["significant"] else None
            )
            state["rules"] = LEGACY_RULES

    @event(Triaged)
    def _triaged(
        self,
        *,
        impact: Impact,
        significant: bool,
        triaged_at: datetime,
        early_warning_deadline: datetime | None,
        rules: str,
        actor: str,
    ) -> None:
        self.impact = Impact(impact)  # stored events give back plain strings
        self.significant = significant
        self.triaged_at = triaged_at
        self.early_warning_deadline = early_warning_deadline
        self.stage = Stage.TRIAGED

    def classify_not_a_breach(self, *, reasons: str, classified_at: datetime, actor: str) -> None:
        self._require(Stage.TRIAGED, step="classify as not a breach")
        if not reasons.strip():
            raise ProcedureError("concluding that there is no breach requires reasons")
        self._classified_not_a_breach(
            reasons=self._sealed(reasons), classified_at=classified_at, actor=actor
        )

    class ClassifiedNotABreach(Aggregate.Event):
        reasons: Sealed
        classified_at: datetime
        actor: str

    @event(ClassifiedNotABreach)
    def _classified_not_a_breach(
        self, *, reasons: Sealed, classified_at: datetime, actor: str
    ) -> None:
        self.stage = Stage.NOT_A_BREACH

    def establish_breach(
        self,
        *,
        aware_at: datetime,
        natures: list[Nature],
        data_categories: list[str],
        approx_subjects: int,
        approx_records: int,
        likely_consequences: str,
        established_at: datetime,
        actor: str,
    ) -> None:
        self._require(Stage.TRIAGED, step="establish a breach for")
        if not natures:
            raise ProcedureError("a breach affects confidentiality, integrity or availability")
        if approx_subjects < 0 or approx_records < 0:
            raise ProcedureError("approximate numbers are never negative")
        if aware_at > established_at:
            raise ProcedureError("awareness cannot lie after the moment it is recorded")
        self._breach_established(
            aware_at=aware_at,
            natures=natures,
            data_categories=data_categories,
            approx_subjects=approx_subjects,
            approx_records=approx_records,
            likely_consequences=self._sealed(likely_consequences),
            ap_deadline=ap_notification_deadline(aware_at),
            early_warning_deadline=None,  # not the breach's awareness: see above
            rules=RULES,
            actor=actor,
        )

    class BreachEstablished(Aggregate.Event):
        class_version = 2
        aware_at: datetime
        natures: list[Nature]
        data_categories: list[str]
        approx_subjects: int
        approx_records: int
        likely_consequences: Sealed
        ap_deadline: datetime
        early_warning_deadline: datetime | None
        rules: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Recorded before results were stored: the deadline is the 72 hours of art. 33(1)
            # that applied then; a significant incident's 24 hours are known from its triage.
            state["ap_deadline"] = ap_notification_deadline(state["aware_at"])
            state["early_warning_deadline"] = None
            state["rules"] = LEGACY_RULES

    @event(BreachEstablished)
    def _breach_established(
        self,
        *,
        aware_at: datetime,
        natures: list[Nature],
        data_categories: list[str],
        approx_subjects: int,
        approx_records: int,
        likely_consequences: Sealed,
        ap_deadline: datetime,
        early_warning_deadline: datetime | None,
        rules: str,
        actor: str,
    ) -> None:
        self.aware_at = aware_at
        self.ap_deadline = ap_deadline
        if early_warning_deadline is not None:
            self.early_warning_deadline = early_warning_deadline
        self.natures = [Nature(n) for n in natures]
        self.stage = Stage.BREACH

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
        without_fg_advice: WithoutFGAdvice | None = None,
    ) -> None:
        """The secretary's decision on behalf of the controller (seed 002, step 15-16), after
        the FG's advice (which the application found given about this incident) or with the
        reasons none was asked."""
        self._require(Stage.BREACH, step="decide on notifying")
        if self.decision is not None:
            raise ProcedureError("the notification decision was already taken")
        if not ap_reasons.strip() or not subjects_reasons.strip():
            raise ProcedureError("both parts of the decision need reasons (AP and data subjects)")
        if (fg_advice is None) == (without_fg_advice is None):
            raise ProcedureError("name the FG's advice or say why none was asked")
        if fg_advice is not None and fg_advice_followed is None:
            raise ProcedureError("say whether the FG's advice was followed")
        if fg_advice is None and (fg_advice_followed is not None or departure_reasons):
            raise ProcedureError("without FG advice there is no advice to follow or depart from")
        if fg_advice_followed is False and not departure_reasons.strip():
            raise ProcedureError("departing from the FG's advice requires reasons")
        self._notification_decided(
            notify_ap=notify_ap,
            ap_reasons=self._sealed(ap_reasons),
            inform_subjects=inform_subjects,
            subjects_reasons=self._sealed(subjects_reasons),
            fg_advice=fg_advice,
            without_fg_advice=sealed_without_fg_advice(without_fg_advice, self._sealed),
            fg_advice_followed=fg_advice_followed,
            departure_reasons=self._sealed(departure_reasons) if departure_reasons else "",
            decided_at=decided_at,
            actor=actor,
        )

    class NotificationDecided(Aggregate.Event):
        checkpoint_after = True
        class_version = 2
        notify_ap: bool
        ap_reasons: Sealed
        inform_subjects: bool
        subjects_reasons: Sealed
        fg_advice: UUID | None
        # None with no fg_advice: recorded before a decision had to say why none was asked.
        without_fg_advice: SealedWithoutFGAdvice | None
        fg_advice_followed: bool | None
        departure_reasons: Sealed
        decided_at: datetime
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["without_fg_advice"] = None

    @event(NotificationDecided)
    def _notification_decided(
        self,
        *,
        notify_ap: bool,
        ap_reasons: Sealed,
        inform_subjects: bool,
        subjects_reasons: Sealed,
        fg_advice: UUID | None,
        without_fg_advice: SealedWithoutFGAdvice | None,
        fg_advice_followed: bool | None,
        departure_reasons: Sealed,
        decided_at: datetime,
        actor: str,
    ) -> None:
        self.decision = {
            "notify_ap": notify_ap,
            "inform_subjects": inform_subjects,
            "fg_advice": fg_advice,
            "fg_advice_followed": fg_advice_followed,
        }

    def _breach_moments(self) -> tuple[datetime, datetime]:
        """The awareness moment and the AP's deadline, which establishing the breach set."""
        if self.aware_at is None or self.ap_deadline is None:
            raise ProcedureError("no breach was established for this incident")
        return self.aware_at, self.ap_deadline

    def _sealed_form(self, form: APForm) -> SealedForm:
        parts = {part: getattr(form, part) for part in APForm.model_fields}
        return cast(SealedForm, self._sealed_parts(parts))

    def _sealed_parts(self, parts: dict[str, Any]) -> dict[str, object]:
        """Parts of an AP form as an event holds them: natures by their value, free texts
        sealed under the record key (an empty one stays empty), lists as lists."""
        sealed: dict[str, object] = {}
        for part, value in parts.items():
            if part == "natures":
                value = [Nature(n).value for n in value]
            elif part in SEALED_PARTS and value:
                value = self._sealed(value)
            elif isinstance(value, list):
                value = list(value)
            sealed[part] = value
        return sealed

    def submit_ap_notification(
        self,
        *,
        meldingsnummer: str,
        preliminary: bool,
        form: APForm,
        late_reason: str,
        submitted_at: datetime,
        actor: str,
    ) -> None:
        self._require(Stage.BREACH, step="notify the AP of")
        if self.decision is None or not self.decision["notify_ap"]:
            raise ProcedureError("the AP is notified only after a decision to notify")
        if meldingsnummer in self.ap_notifications:
            raise ProcedureError(f"notification {meldingsnummer} was already submitted")
        aware_at, ap_deadline = self._breach_moments()
        if submitted_at < aware_at:
            raise ProcedureError("the AP is notified of a breach after awareness of it")
        late = submitted_at > ap_deadline
        if late and not late_reason.strip():
            raise ProcedureError("a notification after 72 hours needs the reason for the delay")
        self._ap_notification_submitted(
            meldingsnummer=meldingsnummer,
            preliminary=preliminary,
            form=self._sealed_form(form),
            late_reason=self._sealed(late_reason) if late_reason else "",
            submitted_at=submitted_at,
            late=late,
            actor=actor,
        )

    class APNotificationSubmitted(Aggregate.Event):
        checkpoint_after = True
        class_version = 2
        meldingsnummer: str
        preliminary: bool
        form: SealedForm
        late_reason: Sealed
        submitted_at: datetime
        late: bool | None  # None: recorded before lateness was stored (judged by the register)
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["late"] = None

    @event(APNotificationSubmitted)
    def _ap_notification_submitted(
        self,
        *,
        meldingsnummer: str,
        preliminary: bool,
        form: SealedForm,
        late_reason: Sealed,
        submitted_at: datetime,
        late: bool | None,
        actor: str,
    ) -> None:
        self.ap_notifications[meldingsnummer] = {"preliminary": preliminary, "withdrawn": False}

    def supplement_ap_notification(
        self,
        *,
        meldingsnummer: str,
        changes: APFormChanges,
        final: bool,
        supplemented_at: datetime,
        actor: str,
    ) -> None:
        """Art. 33(4): the AP's notification ``meldingsnummer`` supplemented with what changed."""
        self._active_notification(meldingsnummer, "supplement")
        if supplemented_at < self._breach_moments()[0]:
            raise ProcedureError("a notification is supplemented after awareness of the breach")
        changed = changes.changed()
        if not changed:
            raise ProcedureError("a supplement names at least one part of the form that changed")
        self._ap_notification_supplemented(
            meldingsnummer=meldingsnummer,
            changed=changed,
            changes=self._sealed_changes(changes),
            final=final,
            supplemented_at=supplemented_at,
            actor=actor,
        )

    def _sealed_changes(self, changes: APFormChanges) -> SealedFormChanges:
        parts = {part: getattr(changes, part) for part in changes.changed()}
        return cast(SealedFormChanges, self._sealed_parts(parts))

    class APNotificationSupplemented(Aggregate.Event):
        checkpoint_after = True
        class_version = 2
        meldingsnummer: str
        changed: list[str]  # the parts of the form the supplement changes
        changes: SealedFormChanges  # their new values
        final: bool
        supplemented_at: datetime
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Recorded with the whole form (before that, any form): its parts as it gave them.
            state["changes"] = state.pop("form")
            state["changed"] = list(state["changes"])

    @event(APNotificationSupplemented)
    def _ap_notification_supplemented(
        self,
        *,
        meldingsnummer: str,
        changed: list[str],
        changes: SealedFormChanges,
        final: bool,
        supplemented_at: datetime,
        actor: str,
    ) -> None:
        if final:
            self.ap_notifications[meldingsnummer]["preliminary"] = False

    def withdraw_ap_notification(
        self, *, meldingsnummer: str, reason: str, withdrawn_at: datetime, actor: str
    ) -> None:
        self._active_notification(meldingsnummer, "withdraw")
        if not reason.strip():
            raise ProcedureError("withdrawing a notification needs a reason")
        self._ap_notification_withdrawn(
            meldingsnummer=meldingsnummer,
            reason=self._sealed(reason),
            withdrawn_at=withdrawn_at,
            actor=actor,
        )

    class APNotificationWithdrawn(Aggregate.Event):
        checkpoint_after = True
        meldingsnummer: str
        reason: Sealed
        withdrawn_at: datetime
        actor: str

    @event(APNotificationWithdrawn)
    def _ap_notification_withdrawn(
        self, *, meldingsnummer: str, reason: Sealed, withdrawn_at: datetime, actor: str
    ) -> None:
        self.ap_notifications[meldingsnummer]["withdrawn"] = True

    def _active_notification(self, meldingsnummer: str, step: str) -> None:
        notification = self.ap_notifications.get(meldingsnummer)
        if notification is None or notification["withdrawn"]:
            raise ProcedureError(
                f"cannot {step} notification {meldingsnummer}: it is not an active notification",
                [n for n, v in self.ap_notifications.items() if not v["withdrawn"]],
            )

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
        self._reclassified_not_a_breach(
            reasons=self._sealed(reasons), reclassified_at=reclassified_at, actor=actor
        )

    class ReclassifiedNotABreach(Aggregate.Event):
        reasons: Sealed
        reclassified_at: datetime
        actor: str

    @event(ReclassifiedNotABreach)
    def _reclassified_not_a_breach(
        self, *, reasons: Sealed, reclassified_at: datetime, actor: str
    ) -> None:
        self.stage = Stage.NOT_A_BREACH

    def inform_subjects(self, *, channel: str, informed_at: datetime, actor: str) -> None:
        self._require(Stage.BREACH, step="inform data subjects of")
        if informed_at < self._breach_moments()[0]:
            raise ProcedureError("data subjects are informed of a breach after awareness of it")
        self._subjects_informed(channel=channel, informed_at=informed_at, actor=actor)

    class SubjectsInformed(Aggregate.Event):
        channel: str
        informed_at: datetime
        actor: str

    @event(SubjectsInformed)
    def _subjects_informed(self, *, channel: str, informed_at: datetime, actor: str) -> None:
        self.subjects_informed_at = informed_at

    # Recorded before informing was one step with a typed recipient (``inform_party``): the
    # ledgers that hold it still read.
    class ReportedToAuthority(Aggregate.Event):
        authority: Authority
        reference: str
        reported_at: datetime
        actor: str

    @event(ReportedToAuthority)
    def _reported_to_authority(
        self, *, authority: Authority, reference: str, reported_at: datetime, actor: str
    ) -> None:
        self.external_reports.append(Authority(authority).value)

    def record_measure(self, *, measure: str, taken_at: datetime, actor: str) -> None:
        if self.stage is Stage.CLOSED:
            raise ProcedureError("the incident is closed", self._allowed())
        self._measure_recorded(measure=self._sealed(measure), taken_at=taken_at, actor=actor)

    class MeasureRecorded(Aggregate.Event):
        measure: Sealed
        taken_at: datetime
        actor: str

    @event(MeasureRecorded)
    def _measure_recorded(self, *, measure: Sealed, taken_at: datetime, actor: str) -> None:
        pass  # the measure is evidence for the registers; it changes no state of the procedure

    def close(self, *, closed_at: datetime, actor: str) -> None:
        self._require(Stage.NOT_A_BREACH, Stage.BREACH, step="close")
        if self.stage is Stage.BREACH:
            self._require_decision_carried_out()
        self._closed(closed_at=closed_at, actor=actor)

    class Closed(Aggregate.Event):
        closed_at: datetime
        actor: str

    @event(Closed)
    def _closed(self, *, closed_at: datetime, actor: str) -> None:
        self.closed_at = closed_at
        self.stage = Stage.CLOSED

    def _require_decision_carried_out(self) -> None:
        if self.decision is None:
            raise ProcedureError("a breach is closed only after the notification decision")
        if self.decision["notify_ap"] and not self.ap_notifications:
            raise ProcedureError("the AP was to be notified", ["submit_ap_notification"])
        if self.decision["inform_subjects"] and self.subjects_informed_at is None:
            raise ProcedureError("the data subjects were to be informed", ["inform_subjects"])

    def evaluate(self, *, findings: str, evaluated_at: datetime, actor: str) -> None:
        """Seed 002 step 38: two to six weeks after the incident, the obligation its IRT's
        convening dated; an incident handled without an IRT, within six weeks of closing."""
        if self.evaluated:
            raise ProcedureError("the incident was already evaluated")
        if self.evaluation_due_by is not None:
            due_by = self.evaluation_due_by
        else:
            self._require(Stage.CLOSED, step="evaluate")
            due_by = evaluation_deadline_after_closing(self.closed_at)
        self._evaluated(
            findings=self._sealed(findings),
            evaluated_at=evaluated_at,
            due_by=due_by,
            late=local_date(evaluated_at) > due_by,
            rules=RULES,
            actor=actor,
        )

    class Evaluated(Aggregate.Event):
        class_version = 2
        findings: Sealed
        evaluated_at: datetime
        due_by: date | None
        late: bool | None  # None: recorded before the evaluation's timeliness was judged
        rules: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["due_by"] = None
            state["late"] = None
            state["rules"] = LEGACY_RULES

    @event(Evaluated)
    def _evaluated(
        self,
        *,
        findings: Sealed,
        evaluated_at: datetime,
        due_by: date | None,
        late: bool | None,
        rules: str,
        actor: str,
    ) -> None:
        self.evaluated = True

    # --- processors (art. 33(2)) and the Cyberbeveiligingswet's early warning -----------------

    def record_processor_notice(
        self, *, processor: UUID, informed_at: datetime, recorded_at: datetime, actor: str
    ) -> None:
        """A processor informed the controller of the breach (art. 33(2)): when, and which
        processor record (the application checks it is one of this controller's)."""
        if self.stage is Stage.CLOSED:
            raise ProcedureError("the incident is closed", self._allowed())
        if processor in self.processor_notices:
            raise ProcedureError("this processor's notice was already recorded")
        if informed_at > recorded_at:
            raise ProcedureError("a notice is recorded after it was received")
        self._processor_notice_recorded(
            processor=processor, informed_at=informed_at, recorded_at=recorded_at, actor=actor
        )

    class ProcessorNoticeRecorded(Aggregate.Event):
        processor: UUID
        informed_at: datetime
        recorded_at: datetime
        actor: str

    @event(ProcessorNoticeRecorded)
    def _processor_notice_recorded(
        self, *, processor: UUID, informed_at: datetime, recorded_at: datetime, actor: str
    ) -> None:
        self.processor_notices.append(processor)

    def find_significant_incident(
        self,
        *,
        aware_at: datetime,
        early_warning_rule: EarlyWarningRule,
        found_at: datetime,
        actor: str,
    ) -> None:
        """A significant incident under the Cyberbeveiligingswet: its awareness moment, and
        whether the early warning is owed then, by the rule in force on that day."""
        self._require(Stage.TRIAGED, Stage.NOT_A_BREACH, Stage.BREACH, step="find significant")
        if self.significant_found:
            raise ProcedureError("the incident was already found significant")
        if aware_at > found_at:
            raise ProcedureError("awareness cannot lie after the moment it is recorded")
        if aware_at < self.reported_at:
            raise ProcedureError("awareness of a significant incident follows its report")
        deadline = early_warning_rule.deadline(aware_at)
        self._significant_incident_found(
            aware_at=aware_at,
            early_warning_applies=deadline is not None,
            early_warning_deadline=deadline,
            rule=early_warning_rule.version,
            found_at=found_at,
            actor=actor,
        )

    class SignificantIncidentFound(Aggregate.Event):
        aware_at: datetime
        early_warning_applies: bool
        early_warning_deadline: datetime | None
        rule: str  # the dated rule and its version, as judged
        found_at: datetime
        actor: str

    @event(SignificantIncidentFound)
    def _significant_incident_found(
        self,
        *,
        aware_at: datetime,
        early_warning_applies: bool,
        early_warning_deadline: datetime | None,
        rule: str,
        found_at: datetime,
        actor: str,
    ) -> None:
        self.significant = True
        self.significant_found = True
        self.early_warning_deadline = early_warning_deadline

    def send_early_warning(self, *, reference: str, sent_at: datetime, actor: str) -> None:
        """The early warning to the CSIRT; late when after the deadline the finding stored."""
        if not self.significant_found:
            raise ProcedureError(
                "an early warning follows finding the incident significant",
                ["find_significant_incident"],
            )
        if self.early_warning_deadline is None:
            raise ProcedureError(
                "no early warning is owed: the Cyberbeveiligingswet did not apply when the "
                "incident was found significant"
            )
        if self.early_warning_sent:
            raise ProcedureError("the early warning was already sent")
        self._early_warning_sent(
            reference=reference,
            sent_at=sent_at,
            late=sent_at > self.early_warning_deadline,
            actor=actor,
        )

    class EarlyWarningSent(Aggregate.Event):
        checkpoint_after = True
        reference: str
        sent_at: datetime
        late: bool
        actor: str

    @event(EarlyWarningSent)
    def _early_warning_sent(
        self, *, reference: str, sent_at: datetime, late: bool, actor: str
    ) -> None:
        self.early_warning_sent = True

    # --- the FG informed (seed 002 bijlage 3 step 3) -------------------------------------------

    def inform_fg(self, *, informed_at: datetime, actor: str) -> None:
        """The local CISO informs the FG of a (suspected) breach at once, each time recorded;
        possibly before the incident was entered here (by telephone, step 3 says immediately)."""
        if self.stage is Stage.CLOSED:
            raise ProcedureError("the incident is closed", self._allowed())
        self._fg_informed(informed_at=informed_at, actor=actor)

    class FGInformed(Aggregate.Event):
        informed_at: datetime
        actor: str

    @event(FGInformed)
    def _fg_informed(self, *, informed_at: datetime, actor: str) -> None:
        if self.fg_informed_at is None:
            self.fg_informed_at = informed_at

    # --- the incident response team's steps (seed 002 bijlage 3, steps 10-38) ------------------

    def _require_open(self, step: str) -> None:
        """The IRT's steps: on an incident triaged and not yet closed."""
        if self.stage in (Stage.REPORTED, Stage.CLOSED):
            raise ProcedureError(
                f"cannot {step} an incident in stage '{self.stage.value}'", self._allowed()
            )

    def _require_irt(self, step: str) -> None:
        self._require_open(step)
        if not self.irt_convened:
            raise ProcedureError(
                f"the incident response team {step}s: convene it first", ["convene_irt"]
            )

    def convene_irt(
        self, *, members: list[IRTMember], notes: str, convened_at: datetime, actor: str
    ) -> None:
        """Step 10: the CISO convenes the team, which plans its evaluation (step 38) two to six
        weeks after the incident: that obligation is dated now."""
        self._require_open("convene the incident response team for")
        if self.irt_convened:
            raise ProcedureError("the incident response team was already convened")
        if IRTMember.CISO not in members:
            raise ProcedureError("the CISO chairs the incident response team")
        due_from, due_by = evaluation_window(self.reported_at)
        self._irt_convened(
            members=sorted(set(members)),
            notes=self._sealed(notes) if notes else "",
            convened_at=convened_at,
            evaluation_due_from=due_from,
            evaluation_due_by=due_by,
            rules=RULES,
            actor=actor,
        )

    class IRTConvened(Aggregate.Event):
        members: list[IRTMember]
        notes: Sealed
        convened_at: datetime
        evaluation_due_from: date
        evaluation_due_by: date
        rules: str
        actor: str

    @event(IRTConvened)
    def _irt_convened(
        self,
        *,
        members: list[IRTMember],
        notes: Sealed,
        convened_at: datetime,
        evaluation_due_from: date,
        evaluation_due_by: date,
        rules: str,
        actor: str,
    ) -> None:
        self.irt_convened = True
        self.evaluation_due_by = evaluation_due_by

    def assess_incident(
        self,
        *,
        likely_breach: bool,
        ap_pre_notification: bool,
        investigation: str,
        assessed_at: datetime,
        actor: str,
    ) -> None:
        """Step 11: the team's first assessment: a breach or not, whether the AP gets a
        preliminary notification, and how the incident will be investigated."""
        self._require_irt("assess")
        if ap_pre_notification and not likely_breach:
            raise ProcedureError("a preliminary notification to the AP is for a likely breach")
        self._incident_assessed(
            likely_breach=likely_breach,
            ap_pre_notification=ap_pre_notification,
            investigation=self._sealed(investigation),
            assessed_at=assessed_at,
            actor=actor,
        )

    class IncidentAssessed(Aggregate.Event):
        likely_breach: bool
        ap_pre_notification: bool
        investigation: Sealed
        assessed_at: datetime
        actor: str

    @event(IncidentAssessed)
    def _incident_assessed(
        self,
        *,
        likely_breach: bool,
        ap_pre_notification: bool,
        investigation: Sealed,
        assessed_at: datetime,
        actor: str,
    ) -> None:
        pass  # evidence of the team's judgement; the breach itself is established on its own

    def assess_criminal_activity(
        self, *, criminal: bool, reasons: str, assessed_at: datetime, actor: str
    ) -> None:
        """Step 12; a later assessment replaces an earlier one, which the ledger keeps."""
        self._require_irt("assess criminal activity")
        self._criminal_activity_assessed(
            criminal=criminal, reasons=self._sealed(reasons), assessed_at=assessed_at, actor=actor
        )

    class CriminalActivityAssessed(Aggregate.Event):
        criminal: bool
        reasons: Sealed
        assessed_at: datetime
        actor: str

    @event(CriminalActivityAssessed)
    def _criminal_activity_assessed(
        self, *, criminal: bool, reasons: Sealed, assessed_at: datetime, actor: str
    ) -> None:
        self.criminal = criminal

    def consult_mayor(
        self, *, file_aangifte: bool, reasons: str, consulted_at: datetime, actor: str
    ) -> None:
        """Step 13: whether to file an aangifte is decided with the burgemeester, always."""
        self._require_open("consult the burgemeester on")
        if self.criminal is not True:
            raise ProcedureError(
                "the burgemeester is consulted on criminal activity the team found (step 12)",
                ["assess_criminal_activity"],
            )
        self._mayor_consulted(
            file_aangifte=file_aangifte,
            reasons=self._sealed(reasons),
            consulted_at=consulted_at,
            actor=actor,
        )

    class MayorConsulted(Aggregate.Event):
        file_aangifte: bool
        reasons: Sealed
        consulted_at: datetime
        actor: str

    @event(MayorConsulted)
    def _mayor_consulted(
        self, *, file_aangifte: bool, reasons: Sealed, consulted_at: datetime, actor: str
    ) -> None:
        self.mayor_consulted_at = consulted_at if file_aangifte else None

    def file_aangifte(self, *, reference: str, filed_at: datetime, actor: str) -> None:
        """Step 13: the secretary files the police report the burgemeester agreed to."""
        self._require_open("file an aangifte for")
        if self.mayor_consulted_at is None:
            raise ProcedureError(
                "an aangifte is filed after the burgemeester agreed to it", ["consult_mayor"]
            )
        if self.aangifte_filed:
            raise ProcedureError("the aangifte was already filed")
        if filed_at < self.mayor_consulted_at:
            raise ProcedureError("the burgemeester is consulted before the aangifte is filed")
        self._aangifte_filed(reference=reference, filed_at=filed_at, actor=actor)

    class AangifteFiled(Aggregate.Event):
        checkpoint_after = True
        reference: str
        filed_at: datetime
        actor: str

    @event(AangifteFiled)
    def _aangifte_filed(self, *, reference: str, filed_at: datetime, actor: str) -> None:
        self.aangifte_filed = True

    def record_evidence(
        self,
        *,
        description: str,
        custodian: str,
        kept_at: str,
        sha256: str,
        collected_at: datetime,
        actor: str,
    ) -> None:
        """Steps 17-18: an item of evidence, numbered in the team's inventory; a file's hash
        shows later that the copy worked on (step 19) is the item collected."""
        self._require_irt("record evidence")
        self._evidence_recorded(
            item=len(self.evidence) + 1,
            description=self._sealed(description),
            custodian=self._sealed(custodian),
            kept_at=self._sealed(kept_at),
            sha256=sha256,
            collected_at=collected_at,
            actor=actor,
        )

    class EvidenceRecorded(Aggregate.Event):
        item: int
        description: Sealed
        custodian: Sealed
        kept_at: Sealed
        sha256: str  # "" when the item is not a file
        collected_at: datetime
        actor: str

    @event(EvidenceRecorded)
    def _evidence_recorded(
        self,
        *,
        item: int,
        description: Sealed,
        custodian: Sealed,
        kept_at: Sealed,
        sha256: str,
        collected_at: datetime,
        actor: str,
    ) -> None:
        self.evidence[item] = collected_at

    def hand_over_evidence(
        self,
        *,
        item: int,
        custodian: str,
        kept_at: str,
        reason: str,
        receipt_signed: bool,
        handed_over_at: datetime,
        actor: str,
    ) -> None:
        """Step 18(4): evidence changes hands only against the recipient's signed receipt."""
        if self.stage is Stage.REPORTED:
            raise ProcedureError("no evidence was recorded for this incident")
        since = self.evidence.get(item)
        if since is None:
            raise ProcedureError(f"no evidence item {item}; the items are {sorted(self.evidence)}")
        if not receipt_signed:
            raise ProcedureError("the recipient signs for receipt before evidence is handed over")
        if handed_over_at < since:
            raise ProcedureError("evidence is handed over after it was collected or received")
        self._evidence_handed_over(
            item=item,
            custodian=self._sealed(custodian),
            kept_at=self._sealed(kept_at),
            reason=self._sealed(reason),
            handed_over_at=handed_over_at,
            actor=actor,
        )

    class EvidenceHandedOver(Aggregate.Event):
        item: int
        custodian: Sealed
        kept_at: Sealed
        reason: Sealed
        handed_over_at: datetime
        actor: str

    @event(EvidenceHandedOver)
    def _evidence_handed_over(
        self,
        *,
        item: int,
        custodian: Sealed,
        kept_at: Sealed,
        reason: Sealed,
        handed_over_at: datetime,
        actor: str,
    ) -> None:
        self.evidence[item] = handed_over_at

    def _inform(
        self,
        allowed: frozenset[Recipient],
        *,
        recipient: Recipient,
        party: str,
        reference: str,
        informed_at: datetime,
        actor: str,
    ) -> None:
        self._require_open("inform others of")
        if recipient not in allowed:
            other = "inform_government" if allowed is IRT_RECIPIENTS else "inform_party"
            raise ProcedureError(f"{recipient.value} is informed by another step", [other])
        self._party_informed(
            recipient=recipient,
            party=self._sealed(party) if party else "",
            reference=reference,
            informed_at=informed_at,
            actor=actor,
        )

    def inform_party(
        self, *, recipient: Recipient, party: str, reference: str, informed_at: datetime, actor: str
    ) -> None:
        """Steps 34-36: the IBD, the CSIRT, third parties and banks, by the IRT's chair."""
        self._inform(
            IRT_RECIPIENTS,
            recipient=recipient,
            party=party,
            reference=reference,
            informed_at=informed_at,
            actor=actor,
        )

    def inform_government(
        self, *, recipient: Recipient, party: str, reference: str, informed_at: datetime, actor: str
    ) -> None:
        """Steps 15 and 33: the wethouder, college or raad of a serious breach, and the police,
        by the secretary."""
        self._inform(
            GOVERNMENT_RECIPIENTS,
            recipient=recipient,
            party=party,
            reference=reference,
            informed_at=informed_at,
            actor=actor,
        )

    class PartyInformed(Aggregate.Event):
        recipient: Recipient
        party: Sealed  # who exactly: a bank's or a person's name
        reference: str
        informed_at: datetime
        actor: str

    @event(PartyInformed)
    def _party_informed(
        self,
        *,
        recipient: Recipient,
        party: Sealed,
        reference: str,
        informed_at: datetime,
        actor: str,
    ) -> None:
        self.external_reports.append(Recipient(recipient).value)

    def record_time_and_costs(
        self, *, hours: int, costs_eur: int, description: str, recorded_at: datetime, actor: str
    ) -> None:
        """Step 37: the time written and what it cost, which may be recovered from a suspect."""
        if self.stage is Stage.REPORTED:
            raise ProcedureError("time is recorded on an incident being handled", self._allowed())
        self._time_and_costs_recorded(
            hours=hours,
            costs_eur=costs_eur,
            description=self._sealed(description) if description else "",
            recorded_at=recorded_at,
            actor=actor,
        )

    class TimeAndCostsRecorded(Aggregate.Event):
        hours: int
        costs_eur: int
        description: Sealed
        recorded_at: datetime
        actor: str

    @event(TimeAndCostsRecorded)
    def _time_and_costs_recorded(
        self, *, hours: int, costs_eur: int, description: Sealed, recorded_at: datetime, actor: str
    ) -> None:
        pass  # summed by the registers and the report

    def record_subjects_not_informed(
        self,
        *,
        ground: SubjectsNotInformedGround,
        reasons: str,
        public_communication: str,
        communicated_at: datetime | None,
        recorded_at: datetime,
        actor: str,
    ) -> None:
        """Step 27: why the data subjects are not told of a breach; under art. 34(3)(c) a
        public communication informs them instead."""
        self._require(Stage.BREACH, step="record why data subjects are not informed of")
        if self.decision is None:
            raise ProcedureError("first the decision on informing them", ["decide_notification"])
        if self.decision["inform_subjects"]:
            raise ProcedureError("the decision was to inform them", ["inform_subjects"])
        if self.subjects_ground is not None:
            raise ProcedureError("the ground was already recorded")
        public = ground is SubjectsNotInformedGround.DISPROPORTIONATE_EFFORT
        if public != (bool(public_communication) and communicated_at is not None):
            raise ProcedureError(
                "a public communication, with its moment, goes with art. 34(3)(c) and only there"
            )
        if communicated_at is not None and communicated_at < self._breach_moments()[0]:
            raise ProcedureError("the public is informed of a breach after awareness of it")
        self._subjects_not_informed(
            ground=ground,
            reasons=self._sealed(reasons),
            public_communication=self._sealed(public_communication) if public else "",
            communicated_at=communicated_at,
            recorded_at=recorded_at,
            actor=actor,
        )

    class SubjectsNotInformed(Aggregate.Event):
        checkpoint_after = True
        ground: SubjectsNotInformedGround
        reasons: Sealed
        public_communication: Sealed
        communicated_at: datetime | None
        recorded_at: datetime
        actor: str

    @event(SubjectsNotInformed)
    def _subjects_not_informed(
        self,
        *,
        ground: SubjectsNotInformedGround,
        reasons: Sealed,
        public_communication: Sealed,
        communicated_at: datetime | None,
        recorded_at: datetime,
        actor: str,
    ) -> None:
        self.subjects_ground = SubjectsNotInformedGround(ground)

    def collect_addresses(
        self, *, approx_subjects: int, kept_at: str, collected_at: datetime, actor: str
    ) -> None:
        """Step 28: the names and addresses of those affected, kept safe to write to them."""
        self._require(Stage.BREACH, step="collect the addresses of those affected by")
        if self.addresses_collected_at is not None:
            raise ProcedureError("the addresses were already collected")
        if collected_at < self._breach_moments()[0]:
            raise ProcedureError("addresses are collected after awareness of the breach")
        self._addresses_collected(
            approx_subjects=approx_subjects,
            kept_at=self._sealed(kept_at),
            collected_at=collected_at,
            actor=actor,
        )

    class AddressesCollected(Aggregate.Event):
        approx_subjects: int
        kept_at: Sealed
        collected_at: datetime
        actor: str

    @event(AddressesCollected)
    def _addresses_collected(
        self, *, approx_subjects: int, kept_at: Sealed, collected_at: datetime, actor: str
    ) -> None:
        self.addresses_collected_at = collected_at

    def destroy_addresses(self, *, method: str, destroyed_at: datetime, actor: str) -> None:
        """Step 28: destroyed when no longer needed, also after the incident was closed."""
        if self.addresses_collected_at is None or self.addresses_destroyed:
            raise ProcedureError("no addresses are kept for this incident")
        if destroyed_at < self.addresses_collected_at:
            raise ProcedureError("addresses are destroyed after they were collected")
        self._addresses_destroyed(method=method, destroyed_at=destroyed_at, actor=actor)

    class AddressesDestroyed(Aggregate.Event):
        method: str
        destroyed_at: datetime
        actor: str

    @event(AddressesDestroyed)
    def _addresses_destroyed(self, *, method: str, destroyed_at: datetime, actor: str) -> None:
        self.addresses_destroyed = True
