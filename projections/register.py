"""The register of processing activities, versioned: as it stands, as it stood, and history.

One row per version (``register_versions``) and one per activity for the current state
(``register_current``), both written in the runner's transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from eventsourcing.utils import get_topic

from domain.processing import ProcessingActivity, version_uri
from projections.base import Cursor, Projection

COLUMNS = "activity, version, version_uri, municipality, controller, valid_from, status, entry"


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


class ProcessingRegister(Projection):
    name = "processing_register"
    topics = tuple(
        get_topic(cls)
        for cls in (
            ProcessingActivity.Registered,  # type: ignore[attr-defined]
            ProcessingActivity.Amended,  # type: ignore[attr-defined]
            ProcessingActivity.DPIARecorded,  # type: ignore[attr-defined]
            ProcessingActivity.Retired,  # type: ignore[attr-defined]
        )
    )
    tables = ("register_versions", "register_current")

    def create_tables(self, cursor: Cursor) -> None:
        for table, key in (
            ("register_versions", "PRIMARY KEY (activity, version)"),
            ("register_current", "PRIMARY KEY (activity)"),
        ):
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (activity TEXT NOT NULL, "
                "version INTEGER NOT NULL, version_uri TEXT NOT NULL, municipality TEXT NOT NULL, "
                "controller TEXT NOT NULL, valid_from TEXT NOT NULL, status TEXT NOT NULL, "
                f"entry TEXT NOT NULL, position BIGINT NOT NULL, {key})"
            )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS register_versions_by_town "
            "ON register_versions (municipality, valid_from)"
        )

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        activity = str(event.originator_id)
        if isinstance(event, ProcessingActivity.Registered):  # type: ignore[attr-defined]
            row = {
                "municipality": event.municipality,
                "controller": event.controller,
                "entry": dict(event.entry),
                "status": "actief",
            }
        else:
            cursor.execute(
                "SELECT municipality, controller, entry FROM register_current WHERE activity = ?",
                (activity,),
            )
            municipality, controller, entry = cursor.fetchone()
            row = {
                "municipality": municipality,
                "controller": controller,
                "entry": json.loads(entry),
                "status": "actief",
            }
            if isinstance(event, ProcessingActivity.Amended):  # type: ignore[attr-defined]
                row["entry"].update(event.changes)
            elif isinstance(event, ProcessingActivity.Retired):  # type: ignore[attr-defined]
                row["status"] = "beëindigd"
        valid_from = getattr(event, "valid_from", None) or event.recorded_at  # a DPIA
        values = (
            activity,
            event.originator_version,
            version_uri(event.originator_id, event.originator_version),
            row["municipality"],
            row["controller"],
            _moment(valid_from),
            row["status"],
            json.dumps(row["entry"], sort_keys=True, ensure_ascii=False),
            position,
        )
        marks = ", ".join("?" * len(values))
        cursor.execute(
            f"INSERT INTO register_versions ({COLUMNS}, position) VALUES ({marks})", values
        )
        cursor.execute("DELETE FROM register_current WHERE activity = ?", (activity,))
        cursor.execute(
            f"INSERT INTO register_current ({COLUMNS}, position) VALUES ({marks})", values
        )


def _rows(cursor: Cursor) -> list[dict[str, Any]]:
    names = [c.strip() for c in COLUMNS.split(",")]
    return [
        {**dict(zip(names, row, strict=False)), "entry": json.loads(row[7])}
        for row in cursor.fetchall()
    ]


def current_register(cursor: Cursor, municipality: str) -> list[dict[str, Any]]:
    """The register as it stands: active activities, each at its latest version."""
    cursor.execute(
        f"SELECT {COLUMNS} FROM register_current WHERE municipality = ? AND status = 'actief' "
        "ORDER BY activity",
        (municipality,),
    )
    return _rows(cursor)


def register_as_of(cursor: Cursor, municipality: str, moment: datetime) -> list[dict[str, Any]]:
    """The register as it stood at ``moment``: per activity the version valid then."""
    cursor.execute(
        f"SELECT {COLUMNS} FROM register_versions v WHERE municipality = ? AND valid_from <= ? "
        "AND version = (SELECT MAX(version) FROM register_versions w "
        "WHERE w.activity = v.activity AND w.valid_from <= ?) ORDER BY activity",
        (municipality, _moment(moment), _moment(moment)),
    )
    return [row for row in _rows(cursor) if row["status"] == "actief"]


def history(cursor: Cursor, activity: str) -> list[dict[str, Any]]:
    cursor.execute(
        f"SELECT {COLUMNS} FROM register_versions WHERE activity = ? ORDER BY version",
        (activity,),
    )
    return _rows(cursor)
