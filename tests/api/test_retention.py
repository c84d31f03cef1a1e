"""Retention and destruction as the Archiefwet and the Selectielijst 2020 run them: a closed
incident file is kept five years, then destroyed by destroying its key; a legal hold placed
by the secretary stops that until it is lifted; the FG's oversight lists what is due, held and
destroyed; the ledger still verifies offline after the destruction."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.services.retention import RetentionRunner
from domain.authorization import Role
from domain.organisation import DeclaredMunicipality, DeclareOrganisation
from domain.personal_data import Erased
from ledger.verify import verify_bundle
from tests.api.conftest import COLLEGE, TOWN, Served

SUMMARY = "Medewerker mailde het re-integratiedossier van mevrouw De Vries naar een verkeerd adres"


def closed_incident(served: Served) -> str:
    """An incident that turned out not to be a breach, its file closed today."""
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    incident: str = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary=SUMMARY
    ).json()["id"]
    for name, body in (
        ("triage-incident", {"impact": "laag"}),
        ("classify-not-a-breach", {"reasons": "de ontvanger is een collega binnen de gemeente"}),
        ("close-incident", {}),
    ):
        answer = served.command(name, ciso, aggregate_id=incident, **body)
        assert answer.status_code == 201, (name, answer.text)
    return incident


def oversight(served: Served, what: str) -> list[dict[str, Any]]:
    answer = served.client.get(f"/oversight/retention-{what}", headers=served.role(Role.FG))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def summary_of(served: Served, incident: str) -> Any:
    incidents = served.client.get(
        f"/municipalities/{TOWN}/incidents", headers=served.role(Role.CISO)
    ).json()["items"]
    (found,) = [i for i in incidents if i["id"] == incident]
    return found["summary"]


def years_later(served: Served, years: int, days: int = 0) -> None:
    start = served.clock.now
    served.clock.now = start.replace(year=start.year + years) + timedelta(days=days)


def test_a_closed_incident_file_is_destroyed_five_years_after_closing(
    served: Served, tmp_path: Path
):
    privacy = served.role(Role.PRIVACY_OFFICER)
    incident = closed_incident(served)
    assert summary_of(served, incident) == SUMMARY

    # A day before the five years are up nothing is due, and a run records nothing.
    years_later(served, 5, days=-1)
    assert oversight(served, "due") == []
    size = served.ledger_size()
    early = served.command("run-retention", privacy, municipality=TOWN)
    assert early.status_code == 409, early.text
    assert "nothing is due" in early.json()["detail"]
    assert served.ledger_size() == size

    # On the day, the FG sees it due, under the breach file's category and its day.
    served.clock.now += timedelta(days=1)
    (due,) = oversight(served, "due")
    assert (due["id"], due["record_type"], due["trigger"]) == (incident, "incident", "Closed")
    assert due["due_on"] == served.clock.now.date().isoformat()

    run = served.command("run-retention", privacy, municipality=TOWN)
    assert run.status_code == 201, run.text
    # The run is a decision: a checkpoint is signed right after it.
    assert run.json()["checkpoint"] == run.json()["index"] + 1

    # The record reads as destroyed; the oversight lists what was destroyed and why.
    assert summary_of(served, incident) == "[gewist]"
    assert oversight(served, "due") == []
    (destroyed,) = oversight(served, "destroyed")
    assert destroyed["id"] == incident
    assert (destroyed["category"], destroyed["years"]) == ("29.1", 5)
    assert destroyed["run"] == run.json()["id"]
    assert destroyed["actor"] == "privacy_officer@leusden.nl"
    assert destroyed["schedule"] == served.app.retention.version  # type: ignore[union-attr]

    # The ledger, which hashes only ciphertext, still verifies without the server.
    bundle = served.client.get("/ledger/bundle", headers=served.role(Role.AUDITOR))
    (tmp_path / "after.zip").write_bytes(bundle.content)
    report = verify_bundle(tmp_path / "after.zip", served.verifiers)
    assert report.ok, report.failures

    # A second run finds nothing left to destroy.
    again = served.command("run-retention", privacy, municipality=TOWN)
    assert again.status_code == 409


def test_a_legal_hold_stops_destruction_until_the_secretary_lifts_it(served: Served):
    privacy, secretary = served.role(Role.PRIVACY_OFFICER), served.role(Role.SECRETARY)
    incident = closed_incident(served)
    placed = served.command(
        "place-legal-hold", secretary, record=incident, reasons="aansprakelijkstelling 2026-17"
    )
    assert placed.status_code == 201, placed.text
    again = served.command("place-legal-hold", secretary, record=incident, reasons="nog eens")
    assert again.status_code == 409, again.text

    years_later(served, 6)
    assert oversight(served, "due") == []
    (held,) = oversight(served, "held")
    assert held["id"] == incident
    assert held["hold"]["reasons"] == "aansprakelijkstelling 2026-17"
    assert held["due_on"] is not None
    # A run destroys nothing while the hold stands.
    assert served.command("run-retention", privacy, municipality=TOWN).status_code == 409
    assert summary_of(served, incident) == SUMMARY

    lifted = served.command(
        "lift-legal-hold", secretary, record=incident, reasons="claim afgewezen, onherroepelijk"
    )
    assert lifted.status_code == 201, lifted.text
    assert oversight(served, "held") == []
    assert [d["id"] for d in oversight(served, "due")] == [incident]
    assert served.command("run-retention", privacy, municipality=TOWN).status_code == 201
    assert summary_of(served, incident) == "[gewist]"
    # The hold's own reasons were sealed under a key destroyed with the record; a destroyed
    # record is neither held nor released any more.
    (destroyed,) = oversight(served, "destroyed")
    assert destroyed["id"] == incident
    for name in ("place-legal-hold", "lift-legal-hold"):
        late = served.command(name, secretary, record=incident, reasons="te laat")
        assert late.status_code == 409, (name, late.text)
        assert "was destroyed" in late.json()["detail"]


def test_only_the_roles_the_seeds_name_run_retention_and_hold_records(served: Served):
    incident = closed_incident(served)
    for role in (Role.EMPLOYEE, Role.CISO, Role.FG, Role.PROCESS_OWNER):
        run = served.command("run-retention", served.role(role), municipality=TOWN)
        assert run.status_code == 403, (role, run.text)
    for role in (Role.EMPLOYEE, Role.CISO, Role.PRIVACY_OFFICER, Role.FG):
        hold = served.command("place-legal-hold", served.role(role), record=incident, reasons="x")
        assert hold.status_code == 403, (role, hold.text)
    # A secretary of another municipality does not see the record at all.
    other = served.command(
        "place-legal-hold", served.role(Role.SECRETARY, "Putten"), record=incident, reasons="x"
    )
    assert other.status_code == 404, other.text


def test_a_withdrawn_request_is_destroyed_with_the_requesters_key(served: Served):
    privacy = served.role(Role.PRIVACY_OFFICER)
    request: str = served.command(
        "receive-request",
        privacy,
        municipality=TOWN,
        controller=COLLEGE,
        right="art. 15 inzage",
        channel="e-mail",
        requester_name="J. de Vries",
        requester_contact="j.devries@example.nl",
        received_at=served.clock.now.isoformat(),
    ).json()["id"]
    assert served.command("withdraw-request", privacy, aggregate_id=request).status_code == 201
    years_later(served, 5)
    assert served.command("run-retention", privacy, municipality=TOWN).status_code == 201
    # The requester's name and contact were sealed under the requester's key: gone.
    destroyed_request = served.app.repository.get(UUID(request))
    assert isinstance(destroyed_request.requester, Erased)
    assert isinstance(destroyed_request.contact, Erased)
    (destroyed,) = oversight(served, "destroyed")
    assert (destroyed["id"], destroyed["record_type"]) == (request, "verzoek van betrokkene")
    assert destroyed["trigger"] == "Withdrawn"


def test_a_run_sent_again_records_once_and_destroys_the_keys_again(served: Served):
    """The first attempt may have ended between recording the run and destroying the keys:
    the same Idempotency-Key answers as the first time and finishes the destruction."""
    privacy = {**served.role(Role.PRIVACY_OFFICER), "Idempotency-Key": "run-2031-03-03"}
    incident = closed_incident(served)
    years_later(served, 5)
    shred, destroyed_keys = served.app.shred, []
    served.app.shred = lambda key: destroyed_keys.append(key)  # as if the first ended here
    first = served.command("run-retention", privacy, municipality=TOWN)
    assert first.status_code == 201, first.text
    assert summary_of(served, incident) == SUMMARY  # recorded, keys not yet destroyed
    served.app.shred = shred
    size = served.ledger_size()
    again = served.command("run-retention", privacy, municipality=TOWN)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert served.ledger_size() == size
    assert summary_of(served, incident) == "[gewist]"


def test_serve_runs_retention_in_every_declared_municipality(served: Served):
    served.app.declare_organisation(
        DeclareOrganisation(
            municipalities=[
                DeclaredMunicipality(name=TOWN, controllers=[COLLEGE]),
                DeclaredMunicipality(name="Putten", controllers=[COLLEGE]),
            ]
        ),
        operator="test",
    )
    incident = closed_incident(served)
    runner = RetentionRunner(served.app, "bewijslast serve (test)")
    runner.tick()  # nothing due yet: nothing recorded
    assert oversight(served, "destroyed") == []
    years_later(served, 5)
    runner.tick()
    (destroyed,) = oversight(served, "destroyed")
    assert (destroyed["id"], destroyed["actor"]) == (incident, "bewijslast serve (test)")


def test_advice_the_fg_gave_unasked_is_destroyed_like_advice_asked_for(served: Served):
    """Art. 39(1) advice is an FG advice record like any other: answered, it is kept ten years
    (the table's assumption) and then destroyed with its key."""
    incident = closed_incident(served)
    fg, secretary = served.role(Role.FG), served.role(Role.SECRETARY)
    unasked = served.command(
        "volunteer-fg-advice",
        fg,
        municipality=TOWN,
        about=incident,
        advice="bewaar het dossier korter",
        recommendation="ja",
    )
    assert unasked.status_code == 201, unasked.text
    advice = unasked.json()["id"]
    answered = served.command(
        "answer-fg-advice", secretary, aggregate_id=advice, followed=True, reasons="eens"
    )
    assert answered.status_code == 201, answered.text
    years_later(served, 10, days=1)
    privacy = served.role(Role.PRIVACY_OFFICER)
    run = served.command("run-retention", privacy, municipality=TOWN)
    assert run.status_code == 201, run.text
    assert advice in {r["id"] for r in oversight(served, "destroyed")}


def processor_with_ended_agreement(served: Served) -> str:
    privacy = served.role(Role.PRIVACY_OFFICER)
    processor: str = served.command(
        "register-processor", privacy, municipality=TOWN, controller=COLLEGE, name="Drukkerij"
    ).json()["id"]
    today = served.clock.now.date().isoformat()
    agreement = {
        "reference": "VO-1",
        "concluded_on": today,
        "location": {"country": "NL"},
        "sub_processors": [],
    }
    for name, body in (
        ("conclude-agreement", {"agreement": agreement}),
        ("end-agreement", {"ended_on": today, "reason": "opdracht beëindigd"}),
    ):
        answer = served.command(name, privacy, aggregate_id=processor, **body)
        assert answer.status_code == 201, (name, answer.text)
    return processor


def test_a_processor_is_destroyed_seven_years_after_its_agreement_ended(served: Served):
    """The table's assumption for processors; a processor engaged again is not due."""
    ended = processor_with_ended_agreement(served)
    engaged_again = processor_with_ended_agreement(served)
    served.clock.now += timedelta(days=30)
    again = {
        "reference": "VO-2",
        "concluded_on": served.clock.now.date().isoformat(),
        "location": {"country": "NL"},
        "sub_processors": [],
    }
    privacy = served.role(Role.PRIVACY_OFFICER)
    renewed = served.command(
        "conclude-agreement", privacy, aggregate_id=engaged_again, agreement=again
    )
    assert renewed.status_code == 201, renewed.text
    years_later(served, 7, days=1)
    due = {r["id"] for r in oversight(served, "due")}
    assert ended in due
    run = served.command("run-retention", privacy, municipality=TOWN)
    assert run.status_code == 201, run.text
    destroyed = {r["id"] for r in oversight(served, "destroyed")}
    assert ended in destroyed
    assert engaged_again not in destroyed
    assert engaged_again not in due
