"""Retention: one row per record that has a retention period, with the event that closed its
file, its legal hold and its destruction; and the oversight's three lists (due, held,
destroyed). A retention run takes its candidates from here and judges each from the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NotRequired, TypedDict, cast
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.deadlines import AMSTERDAM
from domain.retention import (
    RECORD_TYPES,
    LegalHold,
    RecordDestruction,
    RecordType,
    RetentionSchedule,
    due_on,
    trigger_moment,
)
from projections.base import Cursor, ReadModel, Record, SealedText, from_utc_text, to_json, utc_text
from projections.oversight import _in


class Hold(TypedDict):
    held: bool
    reasons: SealedText
    at: str
    actor: str
    lifted_reasons: NotRequired[SealedText]
    lifted_at: NotRequired[str]
    lifted_by: NotRequired[str]


class Destruction(TypedDict):
    category: str
    years: int
    schedule: str
    trigger: str
    trigger_at: str
    due_on: str
    keys: list[str]
    run: str
    destroyed_at: str
    actor: str


class RetentionRecord(Record):
    record_type: str
    municipality: str
    controller: str | None
    trigger: NotRequired[str]
    trigger_at: NotRequired[str]
    hold: NotRequired[Hold]
    destruction: NotRequired[Destruction]


_CREATED = {
    created: record_type for record_type, kind in RECORD_TYPES.items() for created in kind.created
}
_TRIGGERS = {
    trigger: record_type for record_type, kind in RECORD_TYPES.items() for trigger in kind.triggers
}
# Events that open a closed file again (a processor engaged anew): no period runs.
_REOPENING = frozenset(event for kind in RECORD_TYPES.values() for event in kind.reopening)
_HOLD_EVENTS: tuple[type[LegalHold.Event], ...] = (
    LegalHold.Placed,
    LegalHold.PlacedAgain,
    LegalHold.Lifted,
)


class RetentionRegister(ReadModel):
    name = "retention_register"
    tables = ("retention",)
    topics = tuple(
        map(
            get_topic,
            [*_CREATED, *_TRIGGERS, *_REOPENING, *_HOLD_EVENTS, RecordDestruction.Destroyed],
        )
    )

    def create_tables(self, cursor: Cursor) -> None:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS retention (record TEXT PRIMARY KEY, "
            "municipality TEXT NOT NULL, hold_id TEXT NOT NULL, trigger_at TEXT, "
            "held INTEGER NOT NULL, destroyed_at TEXT, doc TEXT NOT NULL, "
            "position BIGINT NOT NULL)"
        )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS retention_by_town ON retention (municipality, trigger_at)"
        )
        cursor.execute("CREATE INDEX IF NOT EXISTS retention_by_hold ON retention (hold_id)")

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        kind = type(event)
        if kind in _CREATED:
            record = RetentionRecord(
                id=str(event.originator_id),
                record_type=_CREATED[kind].value,
                municipality=event.municipality,
                controller=getattr(event, "controller", None),
                evidence={},
            )
        elif isinstance(event, _HOLD_EVENTS):
            record = self._find(cursor, "hold_id", str(event.originator_id), event)
            self._hold(event, record)
        elif isinstance(event, RecordDestruction.Destroyed):
            record = self._find(cursor, "record", str(event.record), event)
            record["destruction"] = Destruction(
                category=event.category,
                years=event.years,
                schedule=event.schedule,
                trigger=event.trigger,
                trigger_at=utc_text(event.trigger_at),
                due_on=event.due_on.isoformat(),
                keys=[str(key) for key in event.keys],
                run=str(event.run),
                destroyed_at=utc_text(event.destroyed_at),
                actor=event.actor,
            )
        elif kind in _REOPENING:
            record = self._find(cursor, "record", str(event.originator_id), event)
            record.pop("trigger", None)
            record.pop("trigger_at", None)
        else:
            record = self._find(cursor, "record", str(event.originator_id), event)
            moment = trigger_moment(_TRIGGERS[kind], event)
            if moment is not None:
                record["trigger"] = kind.__name__
                record["trigger_at"] = utc_text(moment)
        record["evidence"].setdefault(kind.__name__, []).append(position - 1)
        self._store(cursor, record, position)

    @staticmethod
    def _hold(event: Any, record: RetentionRecord) -> None:
        if isinstance(event, LegalHold.Lifted):
            hold = record["hold"]
            hold["held"] = False
            hold["lifted_reasons"] = event.reasons
            hold["lifted_at"] = utc_text(event.lifted_at)
            hold["lifted_by"] = event.actor
            return
        record["hold"] = Hold(
            held=True, reasons=event.reasons, at=utc_text(event.placed_at), actor=event.actor
        )

    @staticmethod
    def _find(cursor: Cursor, column: str, value: str, event: Any) -> RetentionRecord:
        cursor.execute(f"SELECT doc FROM retention WHERE {column} = ?", (value,))
        row = cursor.fetchone()
        if row is None:
            raise LookupError(f"{type(event).__qualname__} for a record retention never saw")
        return cast(RetentionRecord, json.loads(row[0]))

    @staticmethod
    def _store(cursor: Cursor, record: RetentionRecord, position: int) -> None:
        destruction = record.get("destruction")
        values = {
            "municipality": record["municipality"],
            "hold_id": str(LegalHold.id_for(UUID(record["id"]))),
            "trigger_at": record.get("trigger_at"),
            "held": int(record.get("hold", {}).get("held", False)),
            "destroyed_at": destruction and destruction["destroyed_at"],
            "doc": to_json(record),
            "position": position,
        }
        names = ", ".join(values)
        updates = ", ".join(f"{n} = excluded.{n}" for n in values)
        cursor.execute(
            f"INSERT INTO retention (record, {names}) VALUES (?{', ?' * len(values)}) "
            f"ON CONFLICT (record) DO UPDATE SET {updates}",
            (record["id"], *values.values()),
        )

    def entries_of(self, cursor: Cursor, record: str) -> list[int]:
        cursor.execute("SELECT doc FROM retention WHERE record = ?", (record,))
        row = cursor.fetchone()
        if row is None:
            return []
        found = cast(RetentionRecord, json.loads(row[0]))
        return sorted(i for indices in found["evidence"].values() for i in indices)

    def snapshot(self, cursor: Cursor, record: str | None = None) -> list[dict[str, Any]]:
        if record is None:
            cursor.execute("SELECT doc FROM retention ORDER BY record")
        else:
            cursor.execute("SELECT doc FROM retention WHERE record = ?", (record,))
        return [dict(json.loads(row[0])) for row in cursor.fetchall()]


def retention_candidates(cursor: Cursor, municipality: str) -> list[str]:
    """Records whose file was closed and that were not destroyed: the run judges each."""
    cursor.execute(
        "SELECT record FROM retention WHERE municipality = ? AND trigger_at IS NOT NULL "
        "AND destroyed_at IS NULL ORDER BY trigger_at",
        (municipality,),
    )
    return [str(row[0]) for row in cursor.fetchall()]


# --- the FG's oversight: what is due, what is held, what was destroyed ---------------------------


def _listed(record: RetentionRecord, due: date | None) -> dict[str, Any]:
    listed: dict[str, Any] = {
        "id": record["id"],
        "record_type": record["record_type"],
        "municipality": record["municipality"],
        "controller": record["controller"],
        "trigger": record.get("trigger"),
        "trigger_at": record.get("trigger_at"),
        "due_on": None if due is None else due.isoformat(),
    }
    if "hold" in record:
        listed["hold"] = record["hold"]
    return listed


def _first_day(schedule: RetentionSchedule, record: RetentionRecord) -> date | None:
    trigger_at = record.get("trigger_at")
    if trigger_at is None:
        return None
    rule = schedule.rule(RecordType(record["record_type"]))
    return due_on(rule, from_utc_text(trigger_at))


def retention_due(
    cursor: Cursor, municipalities: Sequence[str], now: datetime, schedule: RetentionSchedule
) -> list[dict[str, Any]]:
    """Records whose retention period has ended and that no legal hold keeps: the next run
    destroys them. Longest overdue first."""
    today = now.astimezone(AMSTERDAM).date()
    cursor.execute(
        "SELECT doc FROM retention WHERE trigger_at IS NOT NULL AND destroyed_at IS NULL "
        f"AND held = 0 AND {_in(municipalities)} ORDER BY trigger_at",
        tuple(municipalities),
    )
    found = []
    for row in cursor.fetchall():
        record = cast(RetentionRecord, json.loads(row[0]))
        first = _first_day(schedule, record)
        if first is not None and first <= today:
            found.append((first, _listed(record, first)))
    return [listed for _, listed in sorted(found, key=lambda pair: pair[0])]


def retention_held(
    cursor: Cursor, municipalities: Sequence[str], schedule: RetentionSchedule
) -> list[dict[str, Any]]:
    """Records under a legal hold, with the day they would otherwise be due (None: their file
    is still open)."""
    cursor.execute(
        f"SELECT doc FROM retention WHERE held = 1 AND {_in(municipalities)} ORDER BY record",
        tuple(municipalities),
    )
    found = [cast(RetentionRecord, json.loads(row[0])) for row in cursor.fetchall()]
    return [_listed(record, _first_day(schedule, record)) for record in found]


def retention_destroyed(cursor: Cursor, municipalities: Sequence[str]) -> list[dict[str, Any]]:
    """Records destroyed at the end of their retention period: under which category and
    table version, by which run and whom. Most recent first."""
    cursor.execute(
        "SELECT doc FROM retention WHERE destroyed_at IS NOT NULL "
        f"AND {_in(municipalities)} ORDER BY destroyed_at DESC",
        tuple(municipalities),
    )
    found = [cast(RetentionRecord, json.loads(row[0])) for row in cursor.fetchall()]
    return [
        {
            "id": record["id"],
            "record_type": record["record_type"],
            "municipality": record["municipality"],
            "controller": record["controller"],
            **record["destruction"],
        }
        for record in found
    ]
