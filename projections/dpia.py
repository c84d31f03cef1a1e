"""DPIAs as procedures (seed 002 bijlage 4): one row per DPIA, with what oversight asks of it."""

from __future__ import annotations

from typing import Any, ClassVar, NotRequired, TypedDict

from eventsourcing.dispatch import singledispatchmethod

from domain.dpia import DPIA, Status
from domain.fg_advice import SealedWithoutFGAdvice
from projections.base import NoHandler, Record, RecordProjection, SealedText, utc_text


class PreScan(TypedDict):
    ap_list: list[str]
    art35_cases: list[str]
    edpb_criteria: list[str]
    required: bool
    notes: SealedText
    scanned_at: str


class Measure(TypedDict):
    id: str
    description: SealedText
    done_at: str | None
    evidence: SealedText


class Assessment(TypedDict):
    team: list[str]
    systematic_description: SealedText
    necessity_and_proportionality: SealedText
    residual_risk: str
    prior_consultation: bool
    conclusion: SealedText
    assessed_at: str


class Consultation(TypedDict):
    ap_reference: str
    submitted_at: str
    deadline: str  # the last day of the AP's period, extended or not
    extension_announced_by: str
    extended_at: str | None
    answer: str | None
    answered_at: str | None
    late: bool | None


class FGAssessment(TypedDict):
    opinion: str
    measures_checked: bool
    remarks: SealedText
    assessed_at: str


class DPIADecision(TypedDict):
    decision: str
    reasons: SealedText
    fg_advice: str | None
    without_fg_advice: SealedWithoutFGAdvice | None  # the reason, its explanation sealed
    reassess_on: str
    ap_period_passed: bool
    decided_at: str
    actor: str


class DPIARecord(Record):
    municipality: str
    controller: str
    activity: str
    register_version: str
    trigger: str
    description: SealedText
    signalled_at: str
    status: str
    fg_advice: NotRequired[str]
    assigned_at: NotRequired[str]
    pre_scan: NotRequired[PreScan]
    assessment: NotRequired[Assessment]
    measures: list[Measure]
    consultation: NotRequired[Consultation]
    fg_assessment: NotRequired[FGAssessment]
    decision: NotRequired[DPIADecision]


class DPIARegister(RecordProjection[DPIARecord]):
    name = "dpia_register"
    aggregate = DPIA
    table = "dpias"
    column_types: ClassVar[dict[str, str]] = {
        "municipality": "TEXT NOT NULL",
        "controller": "TEXT NOT NULL",
        "activity": "TEXT NOT NULL",
        "signalled_at": "TEXT NOT NULL",
        "status": "TEXT NOT NULL",
        "required": "INTEGER",  # NULL until the QuickScan
        "assessed_at": "TEXT",
        "consultation_deadline": "TEXT",  # while the AP has not answered
        "measures_open": "INTEGER NOT NULL",
        "decision": "TEXT",
        "reassess_on": "TEXT",
    }
    indexes = ("municipality, activity", "consultation_deadline", "reassess_on")

    def columns(self, r: DPIARecord) -> dict[str, Any]:
        scan, consultation, decision = r.get("pre_scan"), r.get("consultation"), r.get("decision")
        return {
            "municipality": r["municipality"],
            "controller": r["controller"],
            "activity": r["activity"],
            "signalled_at": r["signalled_at"],
            "status": r["status"],
            "required": None if scan is None else int(scan["required"]),
            "assessed_at": r["assessment"]["assessed_at"] if "assessment" in r else None,
            "consultation_deadline": (
                consultation["deadline"]
                if consultation is not None and consultation["answer"] is None
                else None
            ),
            "measures_open": sum(m["done_at"] is None for m in r["measures"]),
            "decision": decision and decision["decision"],
            "reassess_on": decision and decision["reassess_on"],
        }

    @singledispatchmethod
    def apply_event(self, e: DPIA.Event, r: DPIARecord) -> None:
        raise NoHandler(self, e)

    @apply_event.register
    def _(self, e: DPIA.Signalled, r: DPIARecord) -> None:
        r["municipality"] = e.municipality
        r["controller"] = e.controller
        r["activity"] = str(e.activity)
        r["register_version"] = e.register_version
        r["trigger"] = str(e.trigger)
        r["description"] = e.description
        r["signalled_at"] = utc_text(e.signalled_at)
        r["measures"] = []
        r["status"] = Status.SIGNALLED.value

    @apply_event.register
    def _(self, e: DPIA.FGAdviceTaken, r: DPIARecord) -> None:
        r["fg_advice"] = str(e.fg_advice)
        r["status"] = Status.ADVISED.value

    @apply_event.register
    def _(self, e: DPIA.Assigned, r: DPIARecord) -> None:
        r["assigned_at"] = utc_text(e.assigned_at)
        r["status"] = Status.ASSIGNED.value

    @apply_event.register
    def _(self, e: DPIA.PreScanned, r: DPIARecord) -> None:
        r["pre_scan"] = {
            "ap_list": [str(v) for v in e.ap_list],
            "art35_cases": [str(v) for v in e.art35_cases],
            "edpb_criteria": [str(v) for v in e.edpb_criteria],
            "required": e.required,
            "notes": e.notes,
            "scanned_at": utc_text(e.scanned_at),
        }
        r["status"] = (Status.REQUIRED if e.required else Status.NOT_REQUIRED).value

    @apply_event.register
    def _(self, e: DPIA.Assessed, r: DPIARecord) -> None:
        r["assessment"] = {
            "team": [str(v) for v in e.team],
            "systematic_description": e.systematic_description,
            "necessity_and_proportionality": e.necessity_and_proportionality,
            "residual_risk": str(e.residual_risk),
            "prior_consultation": e.prior_consultation,
            "conclusion": e.conclusion,
            "assessed_at": utc_text(e.assessed_at),
        }
        r["measures"] = [
            {"id": m["id"], "description": m["description"], "done_at": None, "evidence": ""}
            for risk in e.risks
            for m in risk["measures"]
        ]
        r["status"] = Status.ASSESSED.value

    @apply_event.register
    def _(self, e: DPIA.MeasureCompleted, r: DPIARecord) -> None:
        for m in r["measures"]:
            if m["id"] == e.measure:
                m["done_at"] = utc_text(e.completed_at)
                m["evidence"] = e.evidence

    @apply_event.register
    def _(self, e: DPIA.APConsulted, r: DPIARecord) -> None:
        r["consultation"] = {
            "ap_reference": e.ap_reference,
            "submitted_at": utc_text(e.submitted_at),
            "deadline": e.deadline.isoformat(),
            "extension_announced_by": e.extension_announced_by.isoformat(),
            "extended_at": None,
            "answer": None,
            "answered_at": None,
            "late": None,
        }
        r["status"] = Status.CONSULTING.value

    @apply_event.register
    def _(self, e: DPIA.APConsultationExtended, r: DPIARecord) -> None:
        r["consultation"]["deadline"] = e.deadline.isoformat()
        r["consultation"]["extended_at"] = utc_text(e.announced_at)

    @apply_event.register
    def _(self, e: DPIA.APAnswered, r: DPIARecord) -> None:
        r["consultation"]["answer"] = str(e.answer)
        r["consultation"]["answered_at"] = utc_text(e.received_at)
        r["consultation"]["late"] = e.late
        r["status"] = Status.AP_ANSWERED.value

    @apply_event.register
    def _(self, e: DPIA.FGAssessed, r: DPIARecord) -> None:
        r["fg_assessment"] = {
            "opinion": str(e.opinion),
            "measures_checked": e.measures_checked,
            "remarks": e.remarks,
            "assessed_at": utc_text(e.assessed_at),
        }
        r["status"] = Status.FG_ASSESSED.value

    @apply_event.register
    def _(self, e: DPIA.Decided, r: DPIARecord) -> None:
        r["decision"] = {
            "decision": str(e.decision),
            "reasons": e.reasons,
            "fg_advice": None if e.fg_advice is None else str(e.fg_advice),
            "without_fg_advice": e.without_fg_advice,
            "reassess_on": e.reassess_on.isoformat(),
            "ap_period_passed": e.ap_period_passed,
            "decided_at": utc_text(e.decided_at),
            "actor": e.actor,
        }
        r["status"] = Status.DECIDED.value
