"""The FG's oversight queries (AVG art. 39: monitoring compliance), over the read models.

Each takes the municipalities the FG serves (one FG may serve several) and the moment it is
asked; each is one indexed query, so it stays fast however long the ledger grows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from domain.deadlines import EVALUATION_PERIOD
from domain.requests import RequestStage
from projections.base import Cursor, documents, from_utc_text, rows, utc_text
from projections.fg_advice import AdviceRecord
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
    still and are left out)."""
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
