"""The FG's oversight queries (AVG art. 39: monitoring compliance), over the read models.

Each takes the municipalities the FG serves (one FG may serve several) and the moment it is
asked; each is one indexed query, so it stays fast however long the ledger grows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from domain.deadlines import EVALUATION_PERIOD, local_date, penalty_owed
from domain.dpia import Decision
from domain.requests import RequestStage
from projections.base import Cursor, documents, from_utc_text, rows, utc_text
from projections.dpia import DPIARecord
from projections.fg_advice import AdviceRecord
from projections.incidents import IncidentRecord
from projections.processors import PROCESSORS_TABLE, ProcessorRecord
from projections.register import current_register
from projections.requests import RequestRecord, with_time_left

NEAR_DEADLINE_DAYS = 7  # a week's warning before a request's deadline


def _in(municipalities: Sequence[str]) -> str:
    if not municipalities:
        raise ValueError("name at least one municipality")
    return f"municipality IN ({', '.join('?' * len(municipalities))})"


def open_breaches(
    cursor: Cursor, municipalities: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """Breaches the AP is still to be told of, soonest deadline first, with hours left
    (negative: the 72 hours have passed)."""
    cursor.execute(
        "SELECT record, municipality, controller, summary, ap_deadline FROM incidents "
        f"WHERE ap_pending = 1 AND {_in(municipalities)} ORDER BY ap_deadline",
        tuple(municipalities),
    )
    return [
        {
            "id": record,
            "municipality": municipality,
            "controller": controller,
            "summary": json.loads(summary),
            "ap_deadline": deadline,
            "hours_left": round((from_utc_text(deadline) - now).total_seconds() / 3600, 1),
        }
        for record, municipality, controller, summary, deadline in cursor.fetchall()
    ]


def late_ap_notifications(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """AP notifications made after the 72 hours, with the reasons given for the delay."""
    cursor.execute(
        "SELECT record, municipality, late_notifications FROM incidents "
        f"WHERE notified_late = 1 AND {_in(municipalities)} ORDER BY reported_at",
        tuple(municipalities),
    )
    return [
        {"incident": record, "municipality": municipality, **late}
        for record, municipality, text in cursor.fetchall()
        for late in json.loads(text)
    ]


def departures_from_fg_advice(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """Each piece of FG advice that was not followed, once, with the reasons given and its
    kind: ``breach-decision`` when a breach's notification decision departed from it (its
    answer, if also given, adds its evidence), ``advice-answer`` when only the answer to the
    advice says so. Oldest decision first."""
    cursor.execute(
        "SELECT record, municipality, departure FROM incidents "
        f"WHERE departed_from_fg = 1 AND {_in(municipalities)}",
        tuple(municipalities),
    )
    found: dict[str, dict[str, Any]] = {}
    for record, municipality, text in cursor.fetchall():
        departure = json.loads(text)
        key = departure["advice"] or f"incident {record}"
        found[key] = {
            "kind": "breach-decision",
            "about": record,
            "municipality": municipality,
            **departure,
        }
    cursor.execute(
        f"SELECT doc FROM fg_advice WHERE followed = 0 AND {_in(municipalities)}",
        tuple(municipalities),
    )
    for r in documents(cursor, AdviceRecord):
        evidence = r["evidence"]["Answered"]
        if r["id"] in found:
            found[r["id"]]["evidence"] = sorted({*found[r["id"]]["evidence"], *evidence})
            continue
        found[r["id"]] = {
            "kind": "advice-answer",
            "about": r["about"],
            "municipality": r["municipality"],
            "advice": r["id"],
            "reasons": r["answer"]["reasons"],
            "decided_at": r["answer"]["answered_at"],
            "evidence": evidence,
        }
    return sorted(found.values(), key=lambda d: (d["decided_at"], d["advice"] or ""))


def unanswered_fg_advice(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """Advice the FG gave that the controller has not answered, neither on the advice itself
    nor in the breach decision it was about."""
    cursor.execute(
        f"SELECT doc FROM fg_advice WHERE followed IS NULL AND given_at IS NOT NULL "
        f"AND {_in(municipalities)} AND NOT EXISTS "
        "(SELECT 1 FROM incidents i WHERE i.fg_advice = fg_advice.record) ORDER BY given_at",
        tuple(municipalities),
    )
    return rows(cursor)


def requests_near_deadline(
    cursor: Cursor, municipalities: Sequence[str], today: date, days: int = NEAR_DEADLINE_DAYS
) -> list[dict[str, Any]]:
    """Running requests whose deadline is within ``days`` or past (suspended clocks stand
    still and are left out); a decided request runs until it is sent (art. 12(3))."""
    cursor.execute(
        f"SELECT doc FROM requests WHERE open = 1 AND deadline <= ? AND stage <> ? "
        f"AND {_in(municipalities)} ORDER BY deadline",
        ((today + timedelta(days=days)).isoformat(), RequestStage.SUSPENDED.value, *municipalities),
    )
    return [with_time_left(r, today) for r in documents(cursor, RequestRecord)]


def sensitive_processing_without_dpia(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """Active processing with special categories, criminal data or the BSN and no DPIA
    recorded (art. 35; seed 004)."""
    return [
        row
        for municipality in municipalities
        for row in current_register(cursor, municipality)
        if row["dpia_at"] is None
        and (
            row["entry"]["special_categories"]
            or row["entry"]["criminal_data"]
            or row["entry"]["bsn_used"]
        )
    ]


def incidents_not_evaluated(
    cursor: Cursor, municipalities: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """Incidents closed more than six weeks ago and never evaluated (seed 002), of those
    handled without a response team: the team's evaluations are ``evaluations_due``."""
    cursor.execute(
        "SELECT record, municipality, controller, summary, closed_at FROM incidents "
        "WHERE evaluated_at IS NULL AND evaluation_due_by IS NULL "
        f"AND closed_at IS NOT NULL AND closed_at < ? "
        f"AND {_in(municipalities)} ORDER BY closed_at",
        (utc_text(now - EVALUATION_PERIOD), *municipalities),
    )
    return [
        {
            "id": record,
            "municipality": municipality,
            "controller": controller,
            "summary": json.loads(summary),
            "closed_at": closed_at,
        }
        for record, municipality, controller, summary, closed_at in cursor.fetchall()
    ]


def erasures(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """Erasures carried out for data subjects of these municipalities."""
    cursor.execute(
        f"SELECT doc FROM erasures WHERE {_in(municipalities)} ORDER BY erased_at",
        tuple(municipalities),
    )
    return rows(cursor)


# --- processors (art. 28) and the Cyberbeveiligingswet's early warning ----------------------

AGREEMENT_WARNING_DAYS = 60  # two months to renew an agreement before it expires


def _in_force(record: ProcessorRecord, today: date) -> bool:
    agreement = record["agreement"]
    return agreement is not None and (
        agreement["expires_on"] is None or date.fromisoformat(agreement["expires_on"]) >= today
    )


def processing_without_agreement(
    cursor: Cursor, municipalities: Sequence[str], today: date
) -> list[dict[str, Any]]:
    """Active processing with a processor but no agreement in force today (art. 28(3)): a
    processor named only by name (no record of it, so no agreement is known), or a processor
    record whose agreement was never concluded, was ended or has expired."""
    found = []
    for municipality in municipalities:
        for row in current_register(cursor, municipality):
            linked = {r["name"] for r in row["processor_records"]}
            missing = [
                *(
                    {"processor": None, "name": n}
                    for n in row["entry"]["processors"]
                    if n not in linked
                ),
                *(
                    {"processor": r["id"], "name": r["name"]}
                    for r in row["processor_records"]
                    if not _in_force(r, today)
                ),
            ]
            if missing:
                found.append(
                    {
                        "activity": row["activity"],
                        "version_uri": row["version_uri"],
                        "municipality": municipality,
                        "controller": row["controller"],
                        "name": row["entry"]["name"],
                        "processors": missing,
                    }
                )
    return found


def processor_agreements_expiring(
    cursor: Cursor, municipalities: Sequence[str], today: date, days: int = AGREEMENT_WARNING_DAYS
) -> list[dict[str, Any]]:
    """Agreements in force that expire within ``days`` or have expired, soonest first, with the
    days left (negative: expired)."""
    cursor.execute(
        f"SELECT doc FROM {PROCESSORS_TABLE} WHERE expires_on IS NOT NULL AND expires_on <= ? "
        f"AND {_in(municipalities)} ORDER BY expires_on",
        ((today + timedelta(days=days)).isoformat(), *municipalities),
    )
    return [
        {
            "processor": r["id"],
            "municipality": r["municipality"],
            "controller": r["controller"],
            "name": r["name"],
            "agreement": agreement["reference"],
            "expires_on": agreement["expires_on"],
            "days_left": (date.fromisoformat(agreement["expires_on"]) - today).days,
            "evidence": r["evidence"]["AgreementConcluded"],
        }
        for r in documents(cursor, ProcessorRecord)
        if (agreement := r["agreement"]) is not None and agreement["expires_on"] is not None
    ]


def special_categories_outside_eea(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """Active processing of special categories (art. 9) or criminal data (art. 10) by a
    processor that processes outside the EEA without a transfer safeguard (seed 002 §7.4:
    such data stay inside the EEA in principle; chapter V outside it)."""
    return [
        {
            "activity": row["activity"],
            "version_uri": row["version_uri"],
            "municipality": municipality,
            "controller": row["controller"],
            "name": row["entry"]["name"],
            "special_categories": row["entry"]["special_categories"],
            "criminal_data": row["entry"]["criminal_data"],
            "transfers": unsafeguarded,
        }
        for municipality in municipalities
        for row in current_register(cursor, municipality)
        if row["entry"]["special_categories"] or row["entry"]["criminal_data"]
        if (
            unsafeguarded := [
                {"processor": r["id"], "name": r["name"], **t}
                for r in row["processor_records"]
                if r["agreement"] is not None
                for t in r["agreement"]["outside_eea"]
                if t["safeguard"] is None
            ]
        )
    ]


def early_warnings(
    cursor: Cursor, municipalities: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """Cyberbeveiligingswet early warnings owed and not sent (``due``, with hours left;
    negative: late) and those sent after their 24 hours (``sent late``), soonest first."""
    cursor.execute(
        "SELECT doc FROM incidents WHERE (early_warning_pending = 1 OR early_warning_late = 1) "
        f"AND {_in(municipalities)} ORDER BY early_warning_deadline",
        tuple(municipalities),
    )
    found = []
    for r in documents(cursor, IncidentRecord):
        significance, sent = r["significance"], r.get("early_warning")
        deadline = significance["early_warning_deadline"]
        if deadline is None:
            continue
        found.append(
            {
                "id": r["id"],
                "municipality": r["municipality"],
                "controller": r["controller"],
                "summary": r["summary"],
                "aware_at": significance["aware_at"],
                "deadline": deadline,
                "rule": significance["rule"],
                "status": "due" if sent is None else "sent late",
                "hours_left": round((from_utc_text(deadline) - now).total_seconds() / 3600, 1)
                if sent is None
                else None,
                "sent_at": sent and sent["sent_at"],
            }
        )
    return found


# --- FG involvement (AVG art. 38(1), 39(1)) ----------------------------------------------------


def decisions_without_fg_advice(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """Every decision the seeds put after FG advice that was taken without it, with the reason
    given (``reason`` None: recorded before a decision had to give one). Oldest first."""
    cursor.execute(
        "SELECT doc FROM incidents "
        f"WHERE without_fg_advice = 1 AND {_in(municipalities)} ORDER BY reported_at",
        tuple(municipalities),
    )
    return [
        {
            "kind": "breach-decision",
            "about": r["id"],
            "municipality": r["municipality"],
            "reason": without["reason"],
            "explanation": without["explanation"],
            "decided_at": decision["decided_at"],
            "evidence": r["evidence"]["NotificationDecided"],
        }
        for r in documents(cursor, IncidentRecord)
        if (decision := r["decision"]) and (without := decision["without_fg_advice"])
    ] + _dpia_decisions_without_fg_advice(cursor, municipalities)


def _dpia_decisions_without_fg_advice(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """The controller's decisions on a DPIA (bijlage 4) taken without FG advice."""
    cursor.execute(
        f"SELECT doc FROM dpias WHERE decision IS NOT NULL AND {_in(municipalities)} "
        "ORDER BY signalled_at",
        tuple(municipalities),
    )
    return [
        {
            "kind": "dpia-decision",
            "about": r["id"],
            "municipality": r["municipality"],
            "reason": without["reason"],
            "explanation": without["explanation"],
            "decided_at": decision["decided_at"],
            "evidence": r["evidence"]["Decided"],
        }
        for r in documents(cursor, DPIARecord)
        if (decision := r.get("decision")) and (without := decision["without_fg_advice"])
    ]


# --- the incident response team (seed 002 bijlage 3) -------------------------------------------


def _incident_rows(cursor: Cursor, where: str, municipalities: Sequence[str]) -> list[Any]:
    cursor.execute(
        "SELECT record, municipality, controller, summary, doc FROM incidents "
        f"WHERE {where} AND {_in(municipalities)} ORDER BY reported_at",
        tuple(municipalities),
    )
    return cursor.fetchall()


def evaluations_due(
    cursor: Cursor, municipalities: Sequence[str], today: date, days: int = NEAR_DEADLINE_DAYS
) -> list[dict[str, Any]]:
    """Evaluations the response team is to hold two to six weeks after the incident (step
    38), not held, whose last day is within ``days`` (``due-soon``) or past (``late``)."""
    cursor.execute(
        "SELECT record, municipality, controller, summary, doc FROM incidents "
        "WHERE evaluated_at IS NULL AND evaluation_due_by <= ? "
        f"AND {_in(municipalities)} ORDER BY evaluation_due_by",
        ((today + timedelta(days=days)).isoformat(), *municipalities),
    )
    found = []
    for record, municipality, controller, summary, doc in cursor.fetchall():
        irt = json.loads(doc)["irt"]
        days_left = (date.fromisoformat(irt["evaluation_due_by"]) - today).days
        found.append(
            {
                "id": record,
                "municipality": municipality,
                "controller": controller,
                "summary": json.loads(summary),
                "due_from": irt["evaluation_due_from"],
                "due_by": irt["evaluation_due_by"],
                "days_left": days_left,
                "status": "late" if days_left < 0 else "due-soon",
            }
        )
    return found


def criminal_activity_without_aangifte(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """Incidents the team found criminal (step 12) for which no aangifte was filed (13),
    with the burgemeester's consultation if there was one."""
    return [
        {
            "id": record,
            "municipality": municipality,
            "controller": controller,
            "summary": json.loads(summary),
            "assessment": (r := json.loads(doc))["criminal_assessments"][-1],
            "mayor_consulted": r["mayor_consultations"][-1] if r["mayor_consultations"] else None,
        }
        for record, municipality, controller, summary, doc in _incident_rows(
            cursor, "criminal = 1 AND aangifte_at IS NULL", municipalities
        )
    ]


def addresses_not_destroyed(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """Addresses of those affected, collected to inform them (step 28), still kept."""
    return [
        {
            "id": record,
            "municipality": municipality,
            "controller": controller,
            "summary": json.loads(summary),
            "stage": (r := json.loads(doc))["stage"],
            "collected_at": r["addresses"]["collected_at"],
            "approx_subjects": r["addresses"]["approx_subjects"],
        }
        for record, municipality, controller, summary, doc in _incident_rows(
            cursor, "addresses_kept = 1", municipalities
        )
    ]


def subjects_not_informed_without_ground(
    cursor: Cursor, municipalities: Sequence[str]
) -> list[dict[str, Any]]:
    """Breaches whose data subjects were not to be told, with no art. 34(1) or 34(3) ground
    recorded for it (step 27)."""
    return [
        {
            "id": record,
            "municipality": municipality,
            "controller": controller,
            "summary": json.loads(summary),
            "decision": (r := json.loads(doc))["decision"],
            "evidence": r["evidence"]["NotificationDecided"],
        }
        for record, municipality, controller, summary, doc in _incident_rows(
            cursor, "subjects_unexplained = 1", municipalities
        )
    ]


# --- the DPIA procedure (seed 002 bijlage 4) ---------------------------------------------------


def dpias_not_started(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """Active processing for which a DPIA is required, by its register entry or by a
    QuickScan, and none was carried out (art. 35: before the processing)."""
    cursor.execute(
        f"SELECT activity FROM dpias WHERE required = 1 AND {_in(municipalities)}",
        tuple(municipalities),
    )
    scanned = {activity for (activity,) in cursor.fetchall()}
    return [
        {**row, "required_by": "register" if row["entry"]["dpia_required"] else "quickscan"}
        for municipality in municipalities
        for row in current_register(cursor, municipality)
        if row["dpia_at"] is None and (row["entry"]["dpia_required"] or row["activity"] in scanned)
    ]


def ap_consultations_past_deadline(
    cursor: Cursor, municipalities: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """Prior consultations the AP has not answered within its period (art. 36(2)): the
    controller may then decide, and the FG sees that it may."""
    cursor.execute(
        "SELECT doc FROM dpias WHERE consultation_deadline < ? "
        f"AND {_in(municipalities)} ORDER BY consultation_deadline",
        (local_date(now).isoformat(), *municipalities),
    )
    return rows(cursor)


def dpia_measures_not_done(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """Each measure of a DPIA not done yet (step 9), unless the processing was abandoned."""
    cursor.execute(
        "SELECT doc FROM dpias WHERE measures_open > 0 AND (decision IS NULL OR decision <> ?) "
        f"AND {_in(municipalities)} ORDER BY signalled_at",
        (Decision.ABANDON.value, *municipalities),
    )
    return [
        {
            "dpia": r["id"],
            "municipality": r["municipality"],
            "activity": r["activity"],
            "measure": m["id"],
            "description": m["description"],
        }
        for r in documents(cursor, DPIARecord)
        for m in r["measures"]
        if m["done_at"] is None
    ]


def dpia_reassessments_due(
    cursor: Cursor, municipalities: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """Decided DPIAs whose re-assessment date has come, with no DPIA signalled since for the
    same activity."""
    cursor.execute(
        "SELECT doc FROM dpias d WHERE reassess_on <= ? AND decision = ? "
        f"AND {_in(municipalities)} AND NOT EXISTS (SELECT 1 FROM dpias later "
        "WHERE later.activity = d.activity AND later.signalled_at > d.signalled_at) "
        "ORDER BY reassess_on",
        (local_date(now).isoformat(), Decision.PROCEED.value, *municipalities),
    )
    return rows(cursor)


# --- rights requests as bijlage 5 runs them, objections under the Awb (issue 14) -------------


def requests_decided_not_sent(
    cursor: Cursor, municipalities: Sequence[str], today: date
) -> list[dict[str, Any]]:
    """Requests decided but not sent: the requester is not yet informed (art. 12(3))."""
    cursor.execute(
        f"SELECT doc FROM requests WHERE stage = ? AND {_in(municipalities)} ORDER BY deadline",
        (RequestStage.DECIDED.value, *municipalities),
    )
    return [with_time_left(r, today) for r in documents(cursor, RequestRecord)]


def objections_near_term(
    cursor: Cursor, municipalities: Sequence[str], today: date, days: int = NEAR_DEADLINE_DAYS
) -> list[dict[str, Any]]:
    """Objections not yet decided whose Awb 7:10 term ends within ``days`` or has passed."""
    cursor.execute(
        "SELECT doc, objection_deadline FROM requests WHERE objection_deadline IS NOT NULL "
        f"AND objection_deadline <= ? AND {_in(municipalities)} ORDER BY objection_deadline",
        ((today + timedelta(days=days)).isoformat(), *municipalities),
    )
    return [
        {**json.loads(doc), "objection_days_left": (date.fromisoformat(deadline) - today).days}
        for doc, deadline in cursor.fetchall()
    ]


def notices_of_default(
    cursor: Cursor, municipalities: Sequence[str], today: date
) -> list[dict[str, Any]]:
    """Notices of default not yet answered by the decision, with the penalty run up so far
    (Awb 4:17: from two weeks after the notice, at most 42 days)."""
    cursor.execute(
        f"SELECT doc FROM requests WHERE penalty_from IS NOT NULL AND {_in(municipalities)} "
        "ORDER BY penalty_from",
        tuple(municipalities),
    )
    found = []
    for r in documents(cursor, RequestRecord):
        notice = r["notices_of_default"][-1]
        days, euros = penalty_owed(date.fromisoformat(notice["first_penalty_day"]), today)
        found.append({**r, "penalty_days_so_far": days, "penalty_euros_so_far": euros})
    return found
