"""The registers and the FG's oversight queries, from a known history, on both databases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from adapters.persistence.personal_data import opened
from projections import oversight
from projections.incidents import breach_register, incident_register
from projections.requests import request_register
from tests.projections.history import OTHER, T0, TOWN

# All on one worker (pytest -n, --dist loadgroup): its history is recorded once per database.
pytestmark = pytest.mark.xdist_group(__name__)


def test_the_read_models_hold_no_text_about_a_person_in_the_clear(cursor, ids, app):
    (b,) = [r for r in incident_register(cursor, TOWN) if r["id"] == str(ids["B"])]
    assert b["summary"]["sealed_under"] == str(app.repository.get(ids["B"]).key)
    assert "wachtwoord gewijzigd" not in str(b)  # the measure, sealed under the same key
    assert opened(app, b)["measures"][0]["measure"] == "wachtwoord gewijzigd"


def test_open_breaches_show_the_hours_left_to_the_ap_deadline(cursor, ids):
    now = T0 + timedelta(hours=25)
    found = oversight.open_breaches(cursor, [TOWN], now)
    # A awaits its decision; B was notified and C was decided not to be: neither is open.
    assert [r["id"] for r in found] == [str(ids["A"])]
    assert found[0]["hours_left"] == 48.0  # aware at T0 + 1 h, 72 h, asked at T0 + 25 h
    assert oversight.open_breaches(cursor, [TOWN], T0 + timedelta(hours=74))[0]["hours_left"] == -1
    both = oversight.open_breaches(cursor, [TOWN, OTHER], now)
    assert {r["id"] for r in both} == {str(ids["A"]), str(ids["P"])}


def test_late_ap_notifications_come_with_their_reasons(cursor, ids, app):
    (late,) = oversight.late_ap_notifications(cursor, [TOWN])
    assert late["incident"] == str(ids["B"])
    assert late["meldingsnummer"] == "M-1"
    assert opened(app, late["late_reason"]) == "melding kwam na het weekend binnen"
    assert late["evidence"]  # the ledger index of the notification


def test_departures_from_fg_advice_come_with_their_reasons(cursor, ids, app):
    (departure,) = oversight.departures_from_fg_advice(cursor, [TOWN])
    assert departure["about"] == str(ids["C"])
    assert departure["advice"] == str(ids["C-advice"])
    assert opened(app, departure["reasons"]) == "de sleutel is niet gelekt"
    assert departure["kind"] == "breach-decision"
    assert oversight.departures_from_fg_advice(cursor, [OTHER]) == []


def test_advice_never_answered(cursor, ids):
    assert [r["id"] for r in oversight.unanswered_fg_advice(cursor, [TOWN])] == [
        str(ids["unanswered"])
    ]


def test_requests_near_or_past_their_deadline(cursor, ids):
    # Received Monday 2 March 2026: one month, to Thursday 2 April. R2 was suspended five
    # days (to 7 April: Easter Monday 6 April is no working day either way); R3 was decided.
    near = oversight.requests_near_deadline(cursor, [TOWN], date(2026, 3, 30))
    assert [(r["id"], r["days_left"]) for r in near] == [(str(ids["R1"]), 3)]
    later = oversight.requests_near_deadline(cursor, [TOWN], date(2026, 4, 3))
    assert [(r["id"], r["days_left"]) for r in later] == [
        (str(ids["R1"]), -1),
        (str(ids["R2"]), 4),
    ]


def test_the_request_register_has_deadlines_suspensions_extension_and_outcome(cursor, ids):
    register = {r["id"]: r for r in request_register(cursor, TOWN, date(2026, 3, 20))}
    r1, r2, r3 = (register[str(ids[n])] for n in ("R1", "R2", "R3"))
    assert (r1["deadline"], r1["days_left"]) == ("2026-04-02", 13)
    assert r2["deadline"] == "2026-04-07"
    assert [s["days"] for s in r2["suspensions"]] == [5]
    assert r3["deadline"] == "2026-06-02"
    assert r3["extension"]["months"] == 2
    assert r3["decision"]["outcome"] == "toegewezen"
    assert r3["decision"]["on_time"] is True
    # Decided, not yet sent: the clock runs until the requester is informed (art. 12(3)).
    assert r3["days_left"] == 74
    assert "Requester" not in str(register)  # names stay in the ledger, encrypted


def test_sensitive_processing_without_a_dpia(cursor, ids):
    found = oversight.sensitive_processing_without_dpia(cursor, [TOWN])
    assert [r["activity"] for r in found] == [str(ids["Parkeren"])]


def test_incidents_not_evaluated_six_weeks_after_closing(cursor, ids):
    closed = T0 + timedelta(days=1)
    assert oversight.incidents_not_evaluated(cursor, [TOWN], closed + timedelta(weeks=5)) == []
    late = oversight.incidents_not_evaluated(cursor, [TOWN], closed + timedelta(weeks=7))
    assert [r["id"] for r in late] == [str(ids["F"])]


def test_erasures_carried_out(cursor, ids):
    (erasure,) = oversight.erasures(cursor, [TOWN])
    assert erasure["subject"] == str(ids["R1-subject"])
    assert erasure["municipality"] == TOWN
    assert erasure["reference"] == "verzoek R1"
    assert oversight.erasures(cursor, [OTHER]) == []


def test_the_breach_register_says_what_was_notified_and_why(cursor, ids, app):
    register = {r["id"]: r for r in opened(app, breach_register(cursor, TOWN))}
    assert set(register) == {str(ids[n]) for n in "ABC"}
    b, c = register[str(ids["B"])], register[str(ids["C"])]
    assert b["ap"]["notified"] is True
    assert b["measures"][0]["measure"] == "wachtwoord gewijzigd"
    assert b["facts"]["approx_subjects"] == 12
    assert b["effects"] == "ongewenste kennisname"
    assert (c["ap"]["notified"], c["ap"]["reasons"]) == (False, "versleutelde gegevens")
    assert c["data_subjects"]["reasons"] == "geen risico"


def test_the_incident_register_holds_every_incident_of_the_town(cursor, ids):
    stages = {r["id"]: r["stage"] for r in incident_register(cursor, TOWN)}
    assert stages == {
        str(ids["A"]): "datalek",
        str(ids["B"]): "datalek",
        str(ids["C"]): "datalek",
        str(ids["F"]): "afgesloten",
        str(ids["G"]): "afgesloten",
    }


def test_a_rebuild_from_index_0_gives_the_same_read_models(recorded):
    _, runner = recorded

    def dump():
        with runner.db.transaction() as cursor:
            tables = {}
            for projection in runner.projections:
                for table in projection.tables:
                    cursor.execute(f"SELECT * FROM {table}")
                    tables[table] = sorted(tuple(row) for row in cursor.fetchall())
            return tables

    before = dump()
    assert all(before.values())
    for projection in runner.projections:
        runner.rebuild(projection)
    assert dump() == before


def test_the_public_register_leaves_internal_fields_out(cursor, ids):
    from projections.register import public_register

    published = {r["name"]: r for r in public_register(cursor, TOWN)}
    assert set(published) == {"Parkeren", "Jeugdzorg"}
    jeugdzorg = published["Jeugdzorg"]
    assert jeugdzorg["special_categories"] == ["gezondheid"]
    assert jeugdzorg["id"].startswith("urn:uuid:")
    for internal in ("security_measures", "process_owner", "dpia_reason", "dpia_at"):
        assert internal not in jeugdzorg


def test_the_vng_export_has_the_model_registers_columns(cursor, ids):
    import csv
    import io

    from projections.register import CONTACT_COLUMNS, VNG_COLUMNS, current_register, vng_csv

    text = vng_csv(current_register(cursor, TOWN))
    assert text.startswith("\ufeff")  # so that Excel reads it as UTF-8
    table = list(csv.DictReader(io.StringIO(text.encode().decode("utf-8-sig")), delimiter=";"))
    assert list(table[0]) == [title for title, _ in (*VNG_COLUMNS, *CONTACT_COLUMNS)]
    jeugdzorg = next(r for r in table if r["Naam verwerking"] == "Jeugdzorg")
    assert jeugdzorg["Bijzondere persoonsgegevens"] == "gezondheid"
    assert jeugdzorg["BSN"] == "ja"
    assert jeugdzorg["DPIA uitgevoerd op"].startswith("2026-03-05")
    assert text.endswith("\r\n")


def test_decisions_taken_without_fg_advice_come_with_the_reason_given(cursor, ids, app):
    # B was decided on a weekend without asking the FG: urgency, with its explanation.
    (without,) = oversight.decisions_without_fg_advice(cursor, [TOWN])
    assert (without["about"], without["kind"]) == (str(ids["B"]), "breach-decision")
    assert without["reason"] == "spoed"
    assert opened(app, without["explanation"]) == "weekend"
    assert without["evidence"]  # the ledger index of the decision
    # C was decided after advice (and departed from it): listed once, as a departure only.
    assert [d["about"] for d in oversight.departures_from_fg_advice(cursor, [TOWN])] == [
        str(ids["C"])
    ]
    assert oversight.decisions_without_fg_advice(cursor, [OTHER]) == []


def test_the_breach_register_shows_the_fgs_part_in_each_decision(cursor, ids, app):
    register = {r["id"]: r for r in breach_register(cursor, TOWN)}
    b, c = register[str(ids["B"])]["fg"], register[str(ids["C"])]["fg"]
    assert (b["decision"], b["without_advice_reason"], b["advice"]) == (
        "without_advice",
        "spoed",
        None,
    )
    assert (c["decision"], c["advice"]) == ("departed", str(ids["C-advice"]))
    assert opened(app, c["reasons"]) == "de sleutel is niet gelekt"
