"""The register of processing activities, versioned: as it stands, as it stood, and history.

One row per version (``register_versions``) and one per activity for the current state
(``register_current``), both written in the runner's transaction.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict

from eventsourcing.dispatch import singledispatchmethod

from domain.dpia import DPIA, Status
from domain.organisation import RegisterContacts
from domain.processing import ProcessingActivity, RegisterEntry, version_uri
from domain.processors import Processor
from projections.base import Cursor, NoHandler, ReadModel, event_topics, utc_text
from projections.processors import PROCESSORS_TABLE, ProcessorRegister, processor_records

# A ledger that declared no organisation: no contact details to give.
NOT_DECLARED = RegisterContacts(controller="", fg_name="", fg_contact="")

COLUMNS = (
    "activity, version, version_uri, municipality, controller, valid_from, status, entry, dpia_at"
)


ACTIVE, RETIRED = "actief", "beëindigd"  # an activity's status in the register
PROCESSORS = ProcessorRegister()  # the processors' part of this read model


class Version(TypedDict):
    """What a version of an activity holds besides its identifiers and validity."""

    municipality: str
    controller: str
    entry: dict[str, Any]  # the ``RegisterEntry`` as JSON, as the domain checked it
    status: str  # ACTIVE or RETIRED
    dpia_at: str | None


def _current(cursor: Cursor, activity: str) -> Version:
    """The activity's latest version, as the next one starts from (active)."""
    cursor.execute(
        "SELECT municipality, controller, entry, dpia_at FROM register_current WHERE activity = ?",
        (activity,),
    )
    municipality, controller, entry, dpia_at = cursor.fetchone()
    return Version(
        municipality=municipality,
        controller=controller,
        entry=json.loads(entry),
        status=ACTIVE,
        dpia_at=dpia_at,
    )


class ProcessingRegister(ReadModel):
    """The register and, beside it, the processors its entries name (art. 30(1), 28): one
    read model, so that a register as it stood shows the processors as they stood."""

    name = "processing_register"
    # With the processors its entries name, and each activity's latest DPIA (bijlage 4).
    topics = event_topics(ProcessingActivity) + event_topics(Processor) + event_topics(DPIA)
    tables = ("register_versions", "register_current", PROCESSORS_TABLE, "register_dpia")
    version = 4

    def create_tables(self, cursor: Cursor) -> None:
        for table, key in (
            ("register_versions", "PRIMARY KEY (activity, version)"),
            ("register_current", "PRIMARY KEY (activity)"),
        ):
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (activity TEXT NOT NULL, "
                "version INTEGER NOT NULL, version_uri TEXT NOT NULL, municipality TEXT NOT NULL, "
                "controller TEXT NOT NULL, valid_from TEXT NOT NULL, status TEXT NOT NULL, "
                f"entry TEXT NOT NULL, dpia_at TEXT, position BIGINT NOT NULL, {key})"
            )
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS register_versions_by_town "
            "ON register_versions (municipality, valid_from)"
        )
        PROCESSORS.create_tables(cursor)
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS register_dpia (activity TEXT PRIMARY KEY, "
            "dpia TEXT NOT NULL, status TEXT NOT NULL, assessed_at TEXT, decision TEXT, "
            "reassess_on TEXT)"
        )
        cursor.execute("CREATE INDEX IF NOT EXISTS register_dpia_by_dpia ON register_dpia (dpia)")

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        if isinstance(event, Processor.Event):
            PROCESSORS.apply(cursor, event, position)
            return
        if isinstance(event, DPIA.Event):
            self.apply_dpia(cursor, event)
            return
        activity = str(event.originator_id)
        row = self.new_version(event, cursor)
        valid_from = getattr(event, "valid_from", None) or event.recorded_at  # a DPIA
        values = (
            activity,
            event.originator_version,
            version_uri(event.originator_id, event.originator_version),
            row["municipality"],
            row["controller"],
            utc_text(valid_from),
            row["status"],
            json.dumps(row["entry"], sort_keys=True, ensure_ascii=False),
            row["dpia_at"],
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

    @singledispatchmethod
    def new_version(self, e: ProcessingActivity.Event, cursor: Cursor) -> Version:
        """The activity's version that ``e`` records: its current one, changed by ``e``."""
        raise NoHandler(self, e)

    @new_version.register
    def _(self, e: ProcessingActivity.Registered, cursor: Cursor) -> Version:
        return Version(
            municipality=e.municipality,
            controller=e.controller,
            entry=dict(e.entry),
            status=ACTIVE,
            dpia_at=None,
        )

    @new_version.register
    def _(self, e: ProcessingActivity.Amended, cursor: Cursor) -> Version:
        row = _current(cursor, str(e.originator_id))
        # The version as the domain checked it (a first-version event: its changes).
        if e.entry is None:
            row["entry"].update(e.changes)
        else:
            row["entry"] = dict(e.entry)
        return row

    @new_version.register
    def _(self, e: ProcessingActivity.DPIARecorded, cursor: Cursor) -> Version:
        row = _current(cursor, str(e.originator_id))
        row["dpia_at"] = utc_text(e.recorded_at)
        return row

    @new_version.register
    def _(self, e: ProcessingActivity.Retired, cursor: Cursor) -> Version:
        row = _current(cursor, str(e.originator_id))
        row["status"] = RETIRED
        return row

    def apply_dpia(self, cursor: Cursor, e: DPIA.Event) -> None:
        """The activity's DPIA status: that of its latest DPIA; when the activity was last
        assessed, by any of them."""
        dpia = str(e.originator_id)
        if isinstance(e, DPIA.Signalled):
            activity = str(e.activity)
            cursor.execute("SELECT assessed_at FROM register_dpia WHERE activity = ?", (activity,))
            before = cursor.fetchone()
            cursor.execute("DELETE FROM register_dpia WHERE activity = ?", (activity,))
            cursor.execute(
                "INSERT INTO register_dpia (activity, dpia, status, assessed_at) "
                "VALUES (?, ?, ?, ?)",
                (activity, dpia, Status.SIGNALLED.value, before and before[0]),
            )
            return
        status = DPIA_STATUS.get(type(e))
        if isinstance(e, DPIA.PreScanned) and not e.required:
            status = Status.NOT_REQUIRED
        if status is not None:
            cursor.execute(
                "UPDATE register_dpia SET status = ? WHERE dpia = ?", (status.value, dpia)
            )
        if isinstance(e, DPIA.Assessed):
            cursor.execute(
                "UPDATE register_dpia SET assessed_at = ? WHERE dpia = ?",
                (utc_text(e.assessed_at), dpia),
            )
        if isinstance(e, DPIA.Decided):
            cursor.execute(
                "UPDATE register_dpia SET decision = ?, reassess_on = ? WHERE dpia = ?",
                (str(e.decision), e.reassess_on.isoformat(), dpia),
            )

    def snapshot(self, cursor: Cursor, record: str | None = None) -> list[dict[str, Any]]:
        """Every activity at its latest version, retired ones included (or the one named:
        an activity, or one of the processors the register names)."""
        where, params = ("", ()) if record is None else ("WHERE activity = ? ", (record,))
        cursor.execute(f"SELECT {COLUMNS} FROM register_current {where}ORDER BY activity", params)
        found = _rows(cursor)
        return found if found or record is None else PROCESSORS.snapshot(cursor, record)

    def key(self, row: dict[str, Any]) -> str:
        return str(row.get("activity") or row["id"])

    def entries_of(self, cursor: Cursor, record: str) -> list[int]:
        cursor.execute(
            "SELECT position FROM register_versions WHERE activity = ? ORDER BY version",
            (record,),
        )
        return [int(row[0]) - 1 for row in cursor.fetchall()] or PROCESSORS.entries_of(
            cursor, record
        )


# What each DPIA event makes of its activity's DPIA status (the QuickScan: by its outcome).
DPIA_STATUS: dict[type[DPIA.Event], Status] = {
    DPIA.FGAdviceTaken: Status.ADVISED,
    DPIA.Assigned: Status.ASSIGNED,
    DPIA.PreScanned: Status.REQUIRED,
    DPIA.Assessed: Status.ASSESSED,
    DPIA.APConsulted: Status.CONSULTING,
    DPIA.APAnswered: Status.AP_ANSWERED,
    DPIA.FGAssessed: Status.FG_ASSESSED,
    DPIA.Decided: Status.DECIDED,
}


def _rows(cursor: Cursor) -> list[dict[str, Any]]:
    """Register rows, each with its activity's DPIA (None: none was signalled); a DPIA
    carried out in the procedure counts as the row's ``dpia_at`` as a recorded one does."""
    names = [c.strip() for c in COLUMNS.split(",")]
    found = [
        {**dict(zip(names, row, strict=False)), "entry": json.loads(row[7])}
        for row in cursor.fetchall()
    ]
    if not found:
        return found
    # Each entry with the processor records it names, as they stand in this read model.
    named = sorted({p for row in found for p in row["entry"].get("processor_ids", [])})
    records = {r["id"]: r for r in processor_records(cursor, named)}
    for row in found:
        row["processor_records"] = [
            records[p] for p in row["entry"].get("processor_ids", []) if p in records
        ]
    activities = sorted({row["activity"] for row in found})
    cursor.execute(
        "SELECT activity, dpia, status, assessed_at, decision, reassess_on FROM register_dpia "
        f"WHERE activity IN ({', '.join('?' * len(activities))})",
        activities,
    )
    dpias = {
        activity: {
            "id": dpia,
            "status": status,
            "assessed_at": assessed_at,
            "decision": decision,
            "reassess_on": reassess_on,
        }
        for activity, dpia, status, assessed_at, decision, reassess_on in cursor.fetchall()
    }
    for row in found:
        row["dpia"] = dpias.get(row["activity"])
        if row["dpia"] is not None and row["dpia_at"] is None:
            row["dpia_at"] = row["dpia"]["assessed_at"]
    return found


def current_register(cursor: Cursor, municipality: str) -> list[dict[str, Any]]:
    """The register as it stands: active activities, each at its latest version."""
    cursor.execute(
        f"SELECT {COLUMNS} FROM register_current WHERE municipality = ? AND status = ? "
        "ORDER BY activity",
        (municipality, ACTIVE),
    )
    return _rows(cursor)


def register_as_of(cursor: Cursor, municipality: str, moment: datetime) -> list[dict[str, Any]]:
    """The register as it stood at ``moment``: per activity the version valid then."""
    cursor.execute(
        f"SELECT {COLUMNS} FROM register_versions v WHERE municipality = ? AND valid_from <= ? "
        "AND version = (SELECT MAX(version) FROM register_versions w "
        "WHERE w.activity = v.activity AND w.valid_from <= ?) ORDER BY activity",
        (municipality, utc_text(moment), utc_text(moment)),
    )
    return [row for row in _rows(cursor) if row["status"] == ACTIVE]


def history(cursor: Cursor, activity: str) -> list[dict[str, Any]]:
    cursor.execute(
        f"SELECT {COLUMNS} FROM register_versions WHERE activity = ? ORDER BY version",
        (activity,),
    )
    return _rows(cursor)


# --- exports ------------------------------------------------------------------------------

# What a municipality publishes (seed 004 section 5.2: controller, purposes, data and
# subjects, recipients, third countries, retention). An allow-list, so that a field added to
# the register later stays internal until someone decides to publish it. Left out on purpose:
# the security measures themselves (a map for attackers; their general description, field 7,
# is published), the process owner and the DPIA notes.
PUBLIC_FIELDS = (
    "name",
    "purposes",
    "legal_basis",
    "legal_basis_law",
    "joint_controllers",
    "data_subject_categories",
    "personal_data_categories",
    "special_categories",
    "special_category_grounds",
    "criminal_data",
    "criminal_data_ground",
    "bsn_used",
    "bsn_legal_basis",
    "recipients",
    "third_country_transfers",
    "retention",
    "selectielijst_reference",
    "security_description",
    "processors",
)

_PUBLIC_DEFAULTS = {
    field: RegisterEntry.model_fields[field].get_default(call_default_factory=True)
    for field in PUBLIC_FIELDS
}


def public_register(
    cursor: Cursor, municipality: str, contacts: RegisterContacts = NOT_DECLARED
) -> list[dict[str, Any]]:
    """The register as it stands, for publication: identifiers and public fields only."""
    return published(current_register(cursor, municipality), contacts)


def published(
    rows: list[dict[str, Any]], contacts: RegisterContacts = NOT_DECLARED
) -> list[dict[str, Any]]:
    """Register rows as published: identifiers and public fields only; the processors by name
    (linked records and names recorded before there were any), and processing by them
    outside the EEA among the third-country transfers (seed 004 §5.2, items 4 and 5); the
    controller's contact details and the FG's (art. 30(1)(a); art. 37(7) has the FG's contact
    published, not its name)."""
    return [
        {
            "id": row["version_uri"],
            "controller": row["controller"],
            "controller_contact": contacts.controller,
            "fg_contact": contacts.fg_contact,
            "valid_from": row["valid_from"],
            # An entry recorded before a field existed shows that field's default.
            **{field: row["entry"].get(field, _PUBLIC_DEFAULTS[field]) for field in PUBLIC_FIELDS},
            "processors": processor_names(row),
            "third_country_transfers": third_country_transfers(row),
        }
        for row in rows
    ]


def processor_names(row: dict[str, Any]) -> list[str]:
    """A register row's processors: by name as recorded, then the linked records' names."""
    linked = [r["name"] for r in row.get("processor_records", [])]
    return [
        *row["entry"]["processors"],
        *(n for n in linked if n not in row["entry"]["processors"]),
    ]


def third_country_transfers(row: dict[str, Any]) -> list[str]:
    """Every transfer outside the EEA a register row names: the entry's own (as texts when
    recorded before they were typed), then processing by its processors outside the EEA."""
    return [
        *row["entry"]["third_country_transfers"],
        *(
            f"{t['recipient']}: {t['country']} ({t['safeguard']})"
            for t in row["entry"].get("transfers", [])
        ),
        *processor_transfers(row),
    ]


def processor_transfers(row: dict[str, Any]) -> list[str]:
    """Processing outside the EEA under the linked processors' agreements, with the safeguard
    (``geen waarborg``: none recorded)."""
    return [
        f"{r['name']}{' / ' + t['by'] if t['by'] else ''}: {t['country']} "
        f"({t['safeguard'] or 'geen waarborg'})"
        for r in row["processor_records"]
        if r["agreement"]
        for t in r["agreement"]["outside_eea"]
    ]


def processor_agreements(row: dict[str, Any]) -> list[str]:
    """The agreements in force with the linked processors (reference, until when)."""
    return [
        f"{r['name']}: {a['reference']} ({a['concluded_on']} - {a['expires_on'] or 'onbepaald'})"
        if (a := r["agreement"])
        else f"{r['name']}: geen verwerkersovereenkomst"
        for r in row["processor_records"]
    ]


def _cell(value: Any) -> str:
    if isinstance(value, list):
        text = "; ".join(str(v) for v in value)
    elif isinstance(value, bool):
        text = "ja" if value else "nee"
    else:
        text = "" if value is None else str(value)
    return _inert(text)


def _inert(text: str) -> str:
    """A spreadsheet reads a cell that starts so as a formula (=HYPERLINK(...), +, -, @; a
    tab or carriage return before one): a leading quote keeps it text (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# The art. 30(1) columns of the IBD/VNG model register ("vooringevuld verwerkingsregister"),
# with the municipal additions (BSN, Selectielijst, DPIA) and the version identifier that
# Logboek Dataverwerkingen points to.
VNG_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("Verwerkingsactiviteit-ID", lambda r: r["version_uri"]),
    ("Naam verwerking", lambda r: r["entry"]["name"]),
    ("Verwerkingsverantwoordelijke", lambda r: r["controller"]),
    ("Gezamenlijke verwerkingsverantwoordelijken", lambda r: r["entry"]["joint_controllers"]),
    ("Doeleinden", lambda r: r["entry"]["purposes"]),
    ("Grondslag", lambda r: r["entry"]["legal_basis"]),
    ("Toelichting grondslag", lambda r: r["entry"]["legal_basis_law"]),
    ("Categorieën betrokkenen", lambda r: r["entry"]["data_subject_categories"]),
    ("Categorieën persoonsgegevens", lambda r: r["entry"]["personal_data_categories"]),
    ("Bijzondere persoonsgegevens", lambda r: r["entry"]["special_categories"]),
    (
        "Grondslag bijzondere persoonsgegevens (art. 9 lid 2)",
        lambda r: r["entry"].get("special_category_grounds", []),
    ),
    ("Strafrechtelijke gegevens", lambda r: r["entry"]["criminal_data"]),
    (
        "Grondslag strafrechtelijke gegevens (art. 10)",
        lambda r: r["entry"].get("criminal_data_ground"),
    ),
    ("BSN", lambda r: r["entry"]["bsn_used"]),
    ("Grondslag BSN", lambda r: r["entry"]["bsn_legal_basis"]),
    ("Categorieën ontvangers", lambda r: r["entry"]["recipients"]),
    (
        "Doorgifte derde land of internationale organisatie",
        third_country_transfers,
    ),
    ("Bewaartermijn", lambda r: r["entry"]["retention"]),
    ("Selectielijst", lambda r: r["entry"]["selectielijst_reference"]),
    ("Beveiligingsmaatregelen", lambda r: r["entry"]["security_measures"]),
    (
        "Algemene beschrijving beveiligingsmaatregelen",
        lambda r: r["entry"].get("security_description", ""),
    ),
    ("Verwerkers", processor_names),
    ("Proceseigenaar", lambda r: r["entry"]["process_owner"]),
    ("DPIA vereist", lambda r: r["entry"]["dpia_required"]),
    ("Reden DPIA", lambda r: r["entry"]["dpia_reason"]),
    ("DPIA uitgevoerd op", lambda r: r["dpia_at"]),
    ("Geldig vanaf", lambda r: r["valid_from"]),
    ("Verwerkersovereenkomsten", processor_agreements),
)


# Art. 30(1)(a): the same for every row of one municipality's register.
CONTACT_COLUMNS: tuple[tuple[str, Callable[[RegisterContacts], str]], ...] = (
    ("Contactgegevens verwerkingsverantwoordelijke", lambda c: c.controller),
    ("Functionaris gegevensbescherming", lambda c: c.fg_name),
    ("Contactgegevens functionaris gegevensbescherming", lambda c: c.fg_contact),
)
BYTE_ORDER_MARK = "\ufeff"


def vng_csv(rows: list[dict[str, Any]], contacts: RegisterContacts = NOT_DECLARED) -> str:
    """The register in the model register's columns: ``;``-separated, as Dutch Excel opens,
    after a byte-order mark, without which Excel reads UTF-8 as Windows-1252 ("CategorieÃ«n")."""
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for title, _ in VNG_COLUMNS] + [title for title, _ in CONTACT_COLUMNS])
    for row in rows:
        writer.writerow(
            [_cell(value(row)) for _, value in VNG_COLUMNS]
            + [_cell(value(contacts)) for _, value in CONTACT_COLUMNS]
        )
    return out.getvalue()
