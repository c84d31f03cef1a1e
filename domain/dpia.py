"""The DPIA as a procedure (AVG art. 35-36; seed 002 bijlage 4; seed 004 section 5.4).

1 signal from the register (a version of a processing activity) -> 2 the FG's advice to the
process owner -> 3 the process owner assigns the DPIA to the privacy officer -> 4-5 the
QuickScan: is a DPIA required (the AP's list, art. 35(3), the EDPB criteria) -> 6-8 the DPIA
with its art. 35(7) content, risks and measures, and the residual risk -> 9 each measure done
-> residual high risk: prior consultation of the AP (art. 36) with its clock -> 10 the FG's
assessment -> the controller's decision, with the FG's advice or why none was asked, and the
date of the re-assessment. (Step 11, the register's update, is an amendment of the activity.)

Public verbs judge (the QuickScan's outcome, the AP's clock, whether its answer was late) and
hand their conclusions to ``@event`` methods that only apply them. Every free text may describe
a person: it is sealed under the DPIA's own record key.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TypedDict
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event
from pydantic import BaseModel, ConfigDict, Field

from domain.deadlines import (
    RULES,
    add_months,
    extension_announcement_deadline,
    local_date,
    prior_consultation_deadline,
)
from domain.errors import ProcedureError
from domain.fg_advice import SealedWithoutFGAdvice, WithoutFGAdvice, sealed_without_fg_advice
from domain.personal_data import PersonalData, Sealed, record_key
from domain.values import Text

MAX_RISKS = 50  # of one DPIA
MAX_MEASURES = 20  # per risk
REASSESSMENT_YEARS = 3  # policy: a decided DPIA is looked at again within three years
EDPB_THRESHOLD = 2  # WP248 rev.01: two criteria or more, a DPIA is required in most cases


class Trigger(StrEnum):
    """Why the procedure starts (bijlage 4, "Uitvoering procedure DPIA")."""

    NEW_PROCESSING = "nieuwe verwerking"
    CHANGED_PROCESSING = "aangepaste verwerking"
    NEW_TECHNOLOGY = "nieuwe technologie"
    NEW_SYSTEM = "nieuw systeem"
    REASSESSMENT = "herbeoordeling"


class APListItem(StrEnum):
    """The AP's list of processing for which a DPIA is mandatory (art. 35(4); Stcrt. 2019,
    64418)."""

    COVERT_INVESTIGATION = "AP-lijst: heimelijk onderzoek"
    BLACKLISTS = "AP-lijst: zwarte lijsten"
    FRAUD = "AP-lijst: fraudebestrijding"
    CREDIT_SCORES = "AP-lijst: creditscores"
    FINANCIAL_SITUATION = "AP-lijst: financiële situatie"
    GENETIC_DATA = "AP-lijst: genetische persoonsgegevens"
    BIOMETRIC_DATA = "AP-lijst: biometrische gegevens"
    COOPERATION = "AP-lijst: samenwerkingsverbanden"
    CAMERA_SURVEILLANCE = "AP-lijst: cameratoezicht"
    FLEXIBLE_CAMERAS = "AP-lijst: flexibel cameratoezicht"
    EMPLOYEE_MONITORING = "AP-lijst: controle werknemers"
    LOCATION_DATA = "AP-lijst: locatiegegevens"
    COMMUNICATION_DATA = "AP-lijst: communicatiegegevens"
    INTERNET_OF_THINGS = "AP-lijst: internet of things"
    PROFILING = "AP-lijst: profilering"
    BEHAVIOUR = "AP-lijst: observatie en beïnvloeding van gedrag"
    HEALTH_DATA = "AP-lijst: gezondheidsgegevens"


class Art35Case(StrEnum):
    """The cases in which art. 35(3) itself requires a DPIA."""

    AUTOMATED_EVALUATION = "art. 35(3)(a) stelselmatige en uitgebreide geautomatiseerde beoordeling"
    LARGE_SCALE_SPECIAL = "art. 35(3)(b) grootschalig bijzondere of strafrechtelijke gegevens"
    PUBLIC_MONITORING = "art. 35(3)(c) grootschalige monitoring van openbare ruimte"


class EDPBCriterion(StrEnum):
    """The nine criteria of the EDPB's guidelines (WP248 rev.01)."""

    SCORING = "WP248: evaluatie of scoretoekenning"
    AUTOMATED_DECISIONS = "WP248: geautomatiseerde besluitvorming met rechtsgevolg"
    SYSTEMATIC_MONITORING = "WP248: stelselmatige monitoring"
    SENSITIVE_DATA = "WP248: gevoelige of zeer persoonlijke gegevens"
    LARGE_SCALE = "WP248: grootschalige verwerking"
    COMBINED_DATASETS = "WP248: koppelen of combineren van gegevensverzamelingen"
    VULNERABLE_SUBJECTS = "WP248: kwetsbare betrokkenen"
    INNOVATIVE_USE = "WP248: innovatief gebruik of nieuwe technologie"
    BLOCKS_RIGHTS = "WP248: verhindert uitoefening van een recht of dienst"


class RiskLevel(StrEnum):
    LOW = "laag risico"
    MEDIUM = "gemiddeld risico"
    HIGH = "hoog risico"


class TeamRole(StrEnum):
    """The DPIA team's standing members (bijlage 4, "DPIA-team"), and the FG as adviser."""

    PRIVACY_OFFICER = "DPIA-team: privacybeheerder"
    CISO = "DPIA-team: CISO"
    PROCESS_OWNER = "DPIA-team: proceseigenaar"
    PROJECT_LEADER = "DPIA-team: projectleider"
    EMPLOYEE = "DPIA-team: uitvoerend medewerker"
    FG = "DPIA-team: FG als adviseur"


class APAnswer(StrEnum):
    """What the AP answers to a prior consultation (art. 36(2), art. 58)."""

    NO_OBJECTION = "AP: geen bezwaar"
    WRITTEN_ADVICE = "AP: schriftelijk advies"
    BAN = "AP: verwerking beperkt of verboden (art. 58(2)(f))"


class FGOpinion(StrEnum):
    """The FG's assessment of the DPIA (step 10)."""

    SUFFICIENT = "FG: DPIA volstaat"
    INSUFFICIENT = "FG: DPIA schiet tekort"


class Decision(StrEnum):
    """The controller's decision on the processing the DPIA is about."""

    PROCEED = "verwerking gaat door"
    ABANDON = "verwerking gaat niet door"


class Status(StrEnum):
    """Where a DPIA stands, as the register and oversight show it."""

    SIGNALLED = "DPIA gesignaleerd"
    ADVISED = "FG-advies aan proceseigenaar"
    ASSIGNED = "DPIA opgedragen"
    NOT_REQUIRED = "geen DPIA vereist"
    REQUIRED = "DPIA vereist"
    ASSESSED = "DPIA uitgevoerd"
    CONSULTING = "voorafgaande raadpleging AP"
    AP_ANSWERED = "AP heeft geantwoord"
    FG_ASSESSED = "FG-beoordeling gegeven"
    DECIDED = "besluit over DPIA genomen"


class Risk(BaseModel):
    """A risk to the rights and freedoms of data subjects (art. 35(7)(c)) and the measures
    that address it (35(7)(d))."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    description: Text
    likelihood: RiskLevel
    impact: RiskLevel
    measures: list[Text] = Field(default=[], max_length=MAX_MEASURES)


class SealedMeasure(TypedDict):
    id: str  # "R1-M2": the second measure of the first risk
    description: Sealed


class SealedRisk(TypedDict):
    id: str
    description: Sealed
    likelihood: str
    impact: str
    measures: list[SealedMeasure]


class DPIA(Aggregate):
    @classmethod
    def signal(
        cls,
        *,
        municipality: str,
        controller: str,
        activity: UUID,
        register_version: str,
        register_requires: bool,
        trigger: Trigger,
        description: str,
        signalled_at: datetime,
        actor: str,
    ) -> DPIA:
        """Step 1: ``register_version`` is the version of the activity signalled, and
        ``register_requires`` whether that version marks a DPIA as required."""
        return cls(
            municipality=municipality,
            controller=controller,
            activity=activity,
            register_version=register_version,
            register_requires=register_requires,
            trigger=trigger,
            description=PersonalData(uuid4(), description),
            signalled_at=signalled_at,
            actor=actor,
        )

    class Signalled(Aggregate.Created):
        municipality: str
        controller: str
        activity: UUID
        register_version: str
        register_requires: bool
        trigger: Trigger
        description: Sealed
        signalled_at: datetime
        actor: str

    @event(Signalled)
    def __init__(
        self,
        *,
        municipality: str,
        controller: str,
        activity: UUID,
        register_version: str,
        register_requires: bool,
        trigger: Trigger,
        description: Sealed,
        signalled_at: datetime,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.activity = activity
        self.register_requires = register_requires
        self.key = record_key(description, self.id)
        self.signalled_at = signalled_at
        self.fg_advice: UUID | None = None
        self.assigned = False
        self.required: bool | None = None  # the QuickScan's outcome
        self.assessed_at: datetime | None = None
        self.prior_consultation = False
        self.measures: dict[str, bool] = {}  # measure id: done
        self.consulted_at: datetime | None = None
        self.consultation_deadline: date | None = None
        self.extended = False
        self.ap_answer: APAnswer | None = None
        self.fg_assessed = False
        self.decided = False

    def _sealed(self, text: str) -> PersonalData:
        return PersonalData(self.key, text)

    # --- 2. the FG's advice to the process owner ---------------------------------------------

    def take_fg_advice(self, *, fg_advice: UUID, advised_at: datetime, actor: str) -> None:
        if self.fg_advice is not None:
            raise ProcedureError("the FG's advice on this DPIA was already taken", ["assign"])
        self._fg_advice_taken(fg_advice=fg_advice, advised_at=advised_at, actor=actor)

    class FGAdviceTaken(Aggregate.Event):
        fg_advice: UUID
        advised_at: datetime
        actor: str

    @event(FGAdviceTaken)
    def _fg_advice_taken(self, *, fg_advice: UUID, advised_at: datetime, actor: str) -> None:
        self.fg_advice = fg_advice

    # --- 3. the assignment to the privacy officer --------------------------------------------

    def assign(self, *, assignee: str, assigned_at: datetime, actor: str) -> None:
        if self.fg_advice is None:
            raise ProcedureError(
                "the process owner assigns the DPIA after the FG's advice", ["take_fg_advice"]
            )
        if self.assigned:
            raise ProcedureError("the DPIA was already assigned", ["pre_scan"])
        self._assigned(assignee=self._sealed(assignee), assigned_at=assigned_at, actor=actor)

    class Assigned(Aggregate.Event):
        assignee: Sealed  # the privacy officer, by name
        assigned_at: datetime
        actor: str

    @event(Assigned)
    def _assigned(self, *, assignee: Sealed, assigned_at: datetime, actor: str) -> None:
        self.assigned = True

    # --- 4-5. the QuickScan ------------------------------------------------------------------

    def pre_scan(
        self,
        *,
        ap_list: list[APListItem],
        art35_cases: list[Art35Case],
        edpb_criteria: list[EDPBCriterion],
        notes: str,
        scanned_at: datetime,
        actor: str,
    ) -> None:
        """Required when the register says so, the AP's list or art. 35(3) names the
        processing, or two or more of the EDPB's criteria apply."""
        if not self.assigned:
            raise ProcedureError("the QuickScan follows the assignment", ["assign"])
        if self.required is not None:
            raise ProcedureError("the QuickScan was already done", ["assess"])
        required = (
            self.register_requires
            or bool(ap_list)
            or bool(art35_cases)
            or len(set(edpb_criteria)) >= EDPB_THRESHOLD
        )
        self._pre_scanned(
            ap_list=sorted(set(ap_list)),
            art35_cases=sorted(set(art35_cases)),
            edpb_criteria=sorted(set(edpb_criteria)),
            notes=self._sealed(notes) if notes else "",
            required=required,
            scanned_at=scanned_at,
            actor=actor,
        )

    class PreScanned(Aggregate.Event):
        ap_list: list[APListItem]
        art35_cases: list[Art35Case]
        edpb_criteria: list[EDPBCriterion]
        notes: Sealed
        required: bool
        scanned_at: datetime
        actor: str

    @event(PreScanned)
    def _pre_scanned(
        self,
        *,
        ap_list: list[APListItem],
        art35_cases: list[Art35Case],
        edpb_criteria: list[EDPBCriterion],
        notes: Sealed,
        required: bool,
        scanned_at: datetime,
        actor: str,
    ) -> None:
        self.required = required

    # --- 6-8. the DPIA and its report (art. 35(7)) -------------------------------------------

    def assess(
        self,
        *,
        team: list[TeamRole],
        systematic_description: str,
        legitimate_interests: str,
        necessity_and_proportionality: str,
        risks: list[Risk],
        residual_risk: RiskLevel,
        conclusion: str,
        assessed_at: datetime,
        actor: str,
    ) -> None:
        if self.required is None:
            raise ProcedureError("the DPIA follows the QuickScan", ["pre_scan"])
        if not self.required:
            raise ProcedureError("the QuickScan found no DPIA required")
        if self.assessed_at is not None:
            raise ProcedureError("the DPIA was already carried out", ["decide"])
        sealed = [
            SealedRisk(
                id=f"R{r}",
                description=self._sealed(risk.description),
                likelihood=risk.likelihood.value,
                impact=risk.impact.value,
                measures=[
                    SealedMeasure(id=f"R{r}-M{m}", description=self._sealed(measure))
                    for m, measure in enumerate(risk.measures, start=1)
                ],
            )
            for r, risk in enumerate(risks, start=1)
        ]
        self._assessed(
            team=sorted(set(team)),
            systematic_description=self._sealed(systematic_description),
            legitimate_interests=self._sealed(legitimate_interests) if legitimate_interests else "",
            necessity_and_proportionality=self._sealed(necessity_and_proportionality),
            risks=sealed,
            residual_risk=residual_risk,
            # art. 36(1): a high risk that remains after the measures goes to the AP first.
            prior_consultation=residual_risk is RiskLevel.HIGH,
            conclusion=self._sealed(conclusion),
            assessed_at=assessed_at,
            actor=actor,
        )

    class Assessed(Aggregate.Event):
        team: list[TeamRole]
        systematic_description: Sealed
        legitimate_interests: Sealed
        necessity_and_proportionality: Sealed
        risks: list[SealedRisk]
        residual_risk: RiskLevel
        prior_consultation: bool
        conclusion: Sealed
        assessed_at: datetime
        actor: str

    @event(Assessed)
    def _assessed(
        self,
        *,
        team: list[TeamRole],
        systematic_description: Sealed,
        legitimate_interests: Sealed,
        necessity_and_proportionality: Sealed,
        risks: list[SealedRisk],
        residual_risk: RiskLevel,
        prior_consultation: bool,
        conclusion: Sealed,
        assessed_at: datetime,
        actor: str,
    ) -> None:
        self.assessed_at = assessed_at
        self.prior_consultation = prior_consultation
        self.measures = {m["id"]: False for risk in risks for m in risk["measures"]}

    # --- 9. measures tracked to done ---------------------------------------------------------

    def complete_measure(
        self, *, measure: str, evidence: str, completed_at: datetime, actor: str
    ) -> None:
        if measure not in self.measures:
            raise ProcedureError(f"the DPIA has no measure {measure}")
        if self.measures[measure]:
            raise ProcedureError(f"measure {measure} was already done")
        self._measure_completed(
            measure=measure,
            evidence=self._sealed(evidence),
            completed_at=completed_at,
            actor=actor,
        )

    class MeasureCompleted(Aggregate.Event):
        measure: str
        evidence: Sealed
        completed_at: datetime
        actor: str

    @event(MeasureCompleted)
    def _measure_completed(
        self, *, measure: str, evidence: Sealed, completed_at: datetime, actor: str
    ) -> None:
        self.measures[measure] = True

    # --- prior consultation of the AP (art. 36) ----------------------------------------------

    def consult_ap(self, *, ap_reference: str, submitted_at: datetime, actor: str) -> None:
        """``submitted_at``: when the AP received the request, from which its periods run."""
        if self.assessed_at is None:
            raise ProcedureError("the AP is consulted on a DPIA carried out", ["assess"])
        if not self.prior_consultation:
            raise ProcedureError("no high residual risk: art. 36 asks no prior consultation")
        if self.consulted_at is not None:
            raise ProcedureError("the AP was already consulted", ["record_ap_answer"])
        if submitted_at < self.assessed_at:
            raise ProcedureError("the AP is consulted on the DPIA once it was carried out")
        self._ap_consulted(
            ap_reference=ap_reference,
            submitted_at=submitted_at,
            deadline=prior_consultation_deadline(submitted_at),
            extension_announced_by=extension_announcement_deadline(submitted_at),
            rules=RULES,
            actor=actor,
        )

    class APConsulted(Aggregate.Event):
        checkpoint_after = True
        ap_reference: str
        submitted_at: datetime
        deadline: date  # the last day of the AP's eight weeks
        extension_announced_by: date  # the last day the AP may announce six more
        rules: str
        actor: str

    @event(APConsulted)
    def _ap_consulted(
        self,
        *,
        ap_reference: str,
        submitted_at: datetime,
        deadline: date,
        extension_announced_by: date,
        rules: str,
        actor: str,
    ) -> None:
        self.consulted_at = submitted_at
        self.consultation_deadline = deadline
        self.extension_announced_by = extension_announced_by

    def _consulting(self) -> tuple[datetime, date]:
        """When the AP received the request, and the last day of its period."""
        if self.consulted_at is None or self.consultation_deadline is None:
            raise ProcedureError("the AP was not consulted on this DPIA", ["consult_ap"])
        if self.ap_answer is not None:
            raise ProcedureError("the AP already answered the consultation")
        return self.consulted_at, self.consultation_deadline

    def extend_ap_consultation(self, *, reasons: str, announced_at: datetime, actor: str) -> None:
        """The AP extends its period by six weeks, for a complex processing, and says so
        within one month of receipt; an announcement after that month extends nothing."""
        submitted_at, _ = self._consulting()
        if self.extended:
            raise ProcedureError("the AP extends its period once, by six weeks")
        if announced_at < submitted_at:
            raise ProcedureError("the AP announces an extension after it received the request")
        if local_date(announced_at) > self.extension_announced_by:
            raise ProcedureError(
                "the AP announces an extension within one month of receipt "
                f"(by {self.extension_announced_by.isoformat()}, art. 36(2))"
            )
        self._ap_consultation_extended(
            reasons=self._sealed(reasons),
            announced_at=announced_at,
            deadline=prior_consultation_deadline(submitted_at, extended=True),
            rules=RULES,
            actor=actor,
        )

    class APConsultationExtended(Aggregate.Event):
        reasons: Sealed
        announced_at: datetime
        deadline: date  # the last day of the fourteen weeks
        rules: str
        actor: str

    @event(APConsultationExtended)
    def _ap_consultation_extended(
        self, *, reasons: Sealed, announced_at: datetime, deadline: date, rules: str, actor: str
    ) -> None:
        self.extended = True
        self.consultation_deadline = deadline

    def record_ap_answer(
        self, *, answer: APAnswer, summary: str, received_at: datetime, actor: str
    ) -> None:
        submitted_at, deadline = self._consulting()
        if received_at < submitted_at:
            raise ProcedureError("the AP answers after it received the request")
        self._ap_answered(
            answer=answer,
            summary=self._sealed(summary),
            received_at=received_at,
            late=local_date(received_at) > deadline,
            actor=actor,
        )

    class APAnswered(Aggregate.Event):
        answer: APAnswer
        summary: Sealed
        received_at: datetime
        late: bool  # after the AP's (extended) period
        actor: str

    @event(APAnswered)
    def _ap_answered(
        self, *, answer: APAnswer, summary: Sealed, received_at: datetime, late: bool, actor: str
    ) -> None:
        self.ap_answer = APAnswer(answer)

    # --- 10. the FG's assessment -------------------------------------------------------------

    def fg_assess(
        self,
        *,
        opinion: FGOpinion,
        measures_checked: bool,
        remarks: str,
        assessed_at: datetime,
        actor: str,
    ) -> None:
        if self.assessed_at is None:
            raise ProcedureError("the FG assesses a DPIA carried out", ["assess"])
        if self.fg_assessed:
            raise ProcedureError("the FG already assessed this DPIA", ["decide"])
        self._fg_assessed(
            opinion=opinion,
            measures_checked=measures_checked,
            remarks=self._sealed(remarks),
            assessed_at=assessed_at,
            actor=actor,
        )

    class FGAssessed(Aggregate.Event):
        opinion: FGOpinion
        measures_checked: bool  # step 9: the FG checked the measures' progress
        remarks: Sealed
        assessed_at: datetime
        actor: str

    @event(FGAssessed)
    def _fg_assessed(
        self,
        *,
        opinion: FGOpinion,
        measures_checked: bool,
        remarks: Sealed,
        assessed_at: datetime,
        actor: str,
    ) -> None:
        self.fg_assessed = True

    # --- the controller's decision and the re-assessment ------------------------------------

    def decide(
        self,
        *,
        decision: Decision,
        reasons: str,
        fg_advice: UUID | None,
        without_fg_advice: WithoutFGAdvice | None,
        reassess_on: date,
        decided_at: datetime,
        actor: str,
    ) -> None:
        if not self.fg_assessed:
            raise ProcedureError("the controller decides after the FG's assessment", ["fg_assess"])
        if self.decided:
            raise ProcedureError("the controller already decided on this DPIA")
        if (fg_advice is None) == (without_fg_advice is None):
            raise ProcedureError(
                "the decision cites the FG's advice or says why none was asked, not both"
            )
        today = local_date(decided_at)
        if not today < reassess_on <= add_months(today, 12 * REASSESSMENT_YEARS):
            raise ProcedureError(
                f"the re-assessment lies after the decision and within {REASSESSMENT_YEARS} years"
            )
        ap_period_passed = False
        if decision is Decision.PROCEED:
            open_measures = sorted(m for m, done in self.measures.items() if not done)
            if open_measures:
                # Seed 004 section 5.4: only once the measures are taken is the data processed.
                raise ProcedureError(
                    f"measures not done yet: {', '.join(open_measures)}", ["complete_measure"]
                )
            if self.prior_consultation:
                ap_period_passed = self._ap_period_passed(today)
        self._decided(
            decision=decision,
            reasons=self._sealed(reasons),
            fg_advice=fg_advice,
            without_fg_advice=sealed_without_fg_advice(without_fg_advice, self._sealed),
            reassess_on=reassess_on,
            ap_period_passed=ap_period_passed,
            decided_at=decided_at,
            actor=actor,
        )

    def _ap_period_passed(self, today: date) -> bool:
        """Whether the processing proceeds because the AP's period passed without an answer;
        refused while the AP may still answer, and after a ban."""
        if self.consultation_deadline is None:
            raise ProcedureError(
                "a high residual risk: consult the AP first (art. 36)", ["consult_ap"]
            )
        if self.ap_answer is APAnswer.BAN:
            raise ProcedureError("the AP banned or limited this processing")
        if self.ap_answer is not None:
            return False
        if today <= self.consultation_deadline:
            raise ProcedureError(
                "the AP may answer until "
                f"{self.consultation_deadline.isoformat()}: wait for its answer",
                ["record_ap_answer"],
            )
        return True

    class Decided(Aggregate.Event):
        checkpoint_after = True
        decision: Decision
        reasons: Sealed
        fg_advice: UUID | None
        without_fg_advice: SealedWithoutFGAdvice | None
        reassess_on: date
        ap_period_passed: bool  # proceeded after the AP's period ended without an answer
        decided_at: datetime
        actor: str

    @event(Decided)
    def _decided(
        self,
        *,
        decision: Decision,
        reasons: Sealed,
        fg_advice: UUID | None,
        without_fg_advice: SealedWithoutFGAdvice | None,
        reassess_on: date,
        ap_period_passed: bool,
        decided_at: datetime,
        actor: str,
    ) -> None:
        self.decided = True
        self.reassess_on = reassess_on
