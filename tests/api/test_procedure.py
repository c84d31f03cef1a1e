"""The breach procedure through HTTP, each step by the role the role table gives it, on
SQLite and PostgreSQL; refused steps are problem documents and record nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.authorization import Grant, NotAuthorised, Role
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.forms import AP_FORM, URGENT
from tests.projections.history import T0

PROBLEM = "application/problem+json"


def refused(served: Served, response, status: int, kind: str, size: int):
    """A problem document of ``kind``, and the ledger as it was."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == f"https://bewijslast.nl/problems/{kind}"
    assert problem["status"] == status
    assert problem["detail"]
    assert served.ledger_size() == size
    return problem


def test_an_employee_reports_and_the_breach_is_notified_to_the_ap(served: Served):
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    privacy, secretary = served.role(Role.PRIVACY_OFFICER), served.role(Role.SECRETARY)

    reported = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="USB kwijt"
    )
    assert reported.status_code == 201, reported.text
    incident = reported.json()["id"]
    steps = [
        (ciso, "triage-incident", {"impact": "hoog"}),
        (
            privacy,
            "establish-breach",
            {
                "aware_at": (T0 - timedelta(hours=2)).isoformat(),
                "natures": ["vertrouwelijkheid"],
                "data_categories": ["NAW", "BSN"],
                "approx_subjects": 40,
                "approx_records": 40,
                "likely_consequences": "identiteitsfraude",
            },
        ),
        (
            secretary,
            "decide-notification",
            {
                "notify_ap": True,
                "ap_reasons": "BSN's van 40 inwoners",
                "inform_subjects": True,
                "subjects_reasons": "hoog risico",
                "without_fg_advice": URGENT,
            },
        ),
        (
            privacy,
            "submit-ap-notification",
            {
                "meldingsnummer": "AP-2026-0042",
                "preliminary": False,
                "form": AP_FORM,
                "submitted_at": T0.isoformat(),
            },
        ),
    ]
    for headers, name, body in steps:
        response = served.command(name, headers, aggregate_id=incident, **body)
        assert response.status_code == 201, (name, response.text)
        answer = response.json()
        assert answer["id"] == incident
        assert answer["receipt"] == f"/ledger/receipts/{answer['index']}"
        if name == "decide-notification":
            # A decision: the answer names the checkpoint signed over it.
            assert answer["checkpoint"] == answer["index"] + 1

    breaches = served.client.get(f"/municipalities/{TOWN}/breaches", headers=privacy).json()
    (breach,) = breaches["items"]
    assert breach["id"] == incident
    assert breach["ap"]["notified"]
    assert breach["ap"]["decision"] is True
    assert [n["meldingsnummer"] for n in breach["ap"]["notifications"]] == ["AP-2026-0042"]
    # Each write records the actor of the API key that made it.
    incidents = served.client.get(f"/municipalities/{TOWN}/incidents", headers=ciso).json()
    assert incidents["items"][0]["reported_by"] == "employee@leusden.nl"
    # The decision signed a checkpoint; it covers the AP notification's decision.
    assert served.client.get("/health").json()["checkpoint_size"] >= 4


def test_a_role_that_may_not_take_a_step_gets_403_another_municipality_404_nothing_recorded(
    served: Served,
):
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    incident = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="phishing"
    ).json()["id"]
    size = served.ledger_size()

    triage = served.command("triage-incident", employee, aggregate_id=incident, impact="laag")
    problem = refused(served, triage, 403, "forbidden", size)
    assert "triage_incident" in problem["detail"]
    assert "CISO" in problem["detail"]
    # The secretary decides, not the CISO (seed 002, step 15).
    decide = served.command(
        "decide-notification",
        ciso,
        aggregate_id=incident,
        notify_ap=False,
        ap_reasons="-",
        inform_subjects=False,
        subjects_reasons="-",
        without_fg_advice=URGENT,
    )
    refused(served, decide, 403, "forbidden", size)
    # To another municipality's CISO, Leusden's incident is not there: the answer is that to a
    # made-up id, and names neither municipality nor controller.
    elsewhere = served.role(Role.CISO, "Putten")
    other = served.command("triage-incident", elsewhere, aggregate_id=incident, impact="laag")
    problem = refused(served, other, 404, "not-found", size)
    made_up = "0b7e7c1e-52c2-4c4f-8d1a-2f7b6a1e9d00"
    unknown = served.command("triage-incident", elsewhere, aggregate_id=made_up, impact="laag")
    assert refused(served, unknown, 404, "not-found", size)["detail"] == problem["detail"].replace(
        incident, made_up
    )
    assert TOWN not in problem["detail"]
    assert COLLEGE not in problem["detail"]
    # Nor report in a municipality the key holds no grant for.
    report = served.command(
        "report-incident", employee, municipality="Putten", controller=COLLEGE, summary="x"
    )
    refused(served, report, 403, "forbidden", size)


def test_a_step_the_procedure_does_not_allow_is_409_and_says_what_is(served: Served):
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    incident = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="laptop"
    ).json()["id"]
    size = served.ledger_size()

    closing = served.command("close-incident", ciso, aggregate_id=incident)
    problem = refused(served, closing, 409, "procedure", size)
    assert problem["allowed"] == ["triage-incident"]


def test_invalid_bodies_are_422_naming_the_field(served: Served):
    employee = served.role(Role.EMPLOYEE)
    size = served.ledger_size()

    blank = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="   "
    )
    problem = refused(served, blank, 422, "invalid", size)
    assert [e["field"] for e in problem["errors"]] == ["body.summary"]
    assert "body.summary" in problem["detail"]

    # PostgreSQL text cannot hold NUL: refused at the edge, not in the read models later.
    nul = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="a\x00b"
    )
    problem = refused(served, nul, 422, "invalid", size)
    assert [e["field"] for e in problem["errors"]] == ["body.summary"]
    ciso = served.role(Role.CISO)
    assert served.client.get(f"/municipalities/{TOWN}/incidents", headers=ciso).status_code == 200

    # The actor comes from the API key, never from the body.
    smuggled = served.command(
        "report-incident",
        employee,
        municipality=TOWN,
        controller=COLLEGE,
        summary="x",
        actor="fg@leusden.nl",
    )
    problem = refused(served, smuggled, 422, "invalid", size)
    assert [e["field"] for e in problem["errors"]] == ["body.actor"]

    triage = served.command(
        "triage-incident", served.role(Role.CISO), aggregate_id="not-a-uuid", impact="enorm"
    )
    problem = refused(served, triage, 422, "invalid", size)
    assert {e["field"] for e in problem["errors"]} == {"body.aggregate_id", "body.impact"}

    unknown = served.command(
        "triage-incident",
        served.role(Role.CISO),
        aggregate_id="00000000-0000-4000-8000-000000000000",
        impact="laag",
    )
    refused(served, unknown, 404, "not-found", size)


def test_an_fg_of_four_municipalities_oversees_those_and_no_fifth(served: Served):
    towns = ["Bunschoten", "Leusden", "Nijkerk", "Putten"]
    for town in [*towns, "Barneveld"]:
        served.command(
            "report-incident",
            served.role(Role.EMPLOYEE, town),
            municipality=town,
            controller=COLLEGE,
            summary=f"datalek {town}",
        )
    # The FG's grants are theirs, whatever the body or query would claim.
    fg = served.key("fg@regio.nl", *(Grant(Role.FG, t) for t in towns))
    query = "&".join(f"municipality={t}" for t in towns)

    for town in towns:
        listed = served.client.get(f"/municipalities/{town}/incidents", headers=fg)
        assert listed.status_code == 200
        assert [i["summary"] for i in listed.json()["items"]] == [f"datalek {town}"]
    oversight = served.client.get(f"/oversight/open-breaches?{query}", headers=fg)
    assert oversight.status_code == 200
    assert oversight.json()["items"] == []

    fifth = served.client.get("/municipalities/Barneveld/incidents", headers=fg)
    assert fifth.status_code == 403
    assert fifth.json()["type"] == "https://bewijslast.nl/problems/forbidden"
    mixed = served.client.get(
        f"/oversight/open-breaches?{query}&municipality=Barneveld", headers=fg
    )
    assert mixed.status_code == 403
    assert "Barneveld" in mixed.json()["detail"]
    # An FG advises; it does not report in its own name where it holds no grant.
    assert (
        served.command(
            "report-incident", fg, municipality="Barneveld", controller=COLLEGE, summary="x"
        ).status_code
        == 403
    )


def test_oversight_looks_at_all_the_fgs_municipalities_unless_asked_for_fewer(served: Served):
    towns = ("Leusden", "Woudenberg")
    for town in towns:
        incident = served.command(
            "report-incident",
            served.role(Role.EMPLOYEE, town),
            municipality=town,
            controller=COLLEGE,
            summary=f"datalek {town}",
        ).json()["id"]
        ciso = served.role(Role.CISO, town)
        served.command("triage-incident", ciso, aggregate_id=incident, impact="midden")
        established = served.command(
            "establish-breach",
            ciso,
            aggregate_id=incident,
            aware_at=served.clock.now.isoformat(),
            natures=["vertrouwelijkheid"],
            data_categories=["NAW"],
            approx_subjects=3,
            approx_records=3,
            likely_consequences="onbevoegde inzage",
        )
        assert established.status_code == 201, established.text
    fg = served.key("fg@regio.nl", *(Grant(Role.FG, t) for t in towns))
    everywhere = served.client.get("/oversight/open-breaches", headers=fg)
    assert everywhere.status_code == 200, everywhere.text
    assert sorted(b["municipality"] for b in everywhere.json()["items"]) == list(towns)
    one = served.client.get("/oversight/open-breaches?municipality=Leusden", headers=fg)
    assert [b["municipality"] for b in one.json()["items"]] == ["Leusden"]
    # A key that may read no register at all is refused, not answered with nothing.
    nobody = served.client.get(
        "/oversight/open-breaches", headers=served.role(Role.EMPLOYEE, "Leusden")
    )
    assert nobody.status_code == 403


def test_each_departure_from_fg_advice_is_listed_once_with_its_kind(served: Served):
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    secretary, fg = served.role(Role.SECRETARY), served.role(Role.FG)
    incident = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="lek"
    ).json()["id"]
    served.command("triage-incident", ciso, aggregate_id=incident, impact="midden")
    served.command(
        "establish-breach",
        ciso,
        aggregate_id=incident,
        aware_at=served.clock.now.isoformat(),
        natures=["vertrouwelijkheid"],
        data_categories=["NAW"],
        approx_subjects=3,
        approx_records=3,
        likely_consequences="onbevoegde inzage",
    )

    def advice(about: str) -> str:
        asked = served.command(
            "request-fg-advice", secretary, municipality=TOWN, about=about, question="melden?"
        ).json()["id"]
        given = served.command(
            "give-fg-advice", fg, aggregate_id=asked, advice="wel melden", recommendation="melden"
        )
        assert given.status_code == 201, given.text
        return asked

    on_breach, on_other = advice(incident), advice(incident)
    decided = served.command(
        "decide-notification",
        secretary,
        aggregate_id=incident,
        notify_ap=False,
        ap_reasons="versleuteld",
        inform_subjects=False,
        subjects_reasons="geen risico",
        fg_advice=on_breach,
        fg_advice_followed=False,
        departure_reasons="de sleutel is niet gelekt",
    )
    assert decided.status_code == 201, decided.text
    # The same departure, also answered on the advice itself (as the demo does).
    for asked in (on_breach, on_other):
        answered = served.command(
            "answer-fg-advice", secretary, aggregate_id=asked, followed=False, reasons="anders"
        )
        assert answered.status_code == 201, answered.text

    listed = served.client.get("/oversight/departures-from-fg-advice", headers=fg).json()
    kinds = {d["advice"]: d["kind"] for d in listed["items"]}
    assert kinds == {on_breach: "breach-decision", on_other: "advice-answer"}
    assert listed["total"] == 2
    (decision,) = [d for d in listed["items"] if d["advice"] == on_breach]
    assert decision["reasons"] == "de sleutel is niet gelekt"
    assert len(decision["evidence"]) == 2  # the decision and the answer


def test_the_fg_is_informed_advises_unasked_and_decisions_rest_on_given_advice(served: Served):
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    secretary, fg = served.role(Role.SECRETARY), served.role(Role.FG)

    def breach(summary: str) -> str:
        incident = served.command(
            "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary=summary
        ).json()["id"]
        served.command("triage-incident", ciso, aggregate_id=incident, impact="hoog")
        served.command(
            "establish-breach",
            ciso,
            aggregate_id=incident,
            aware_at=served.clock.now.isoformat(),
            natures=["vertrouwelijkheid"],
            data_categories=["NAW"],
            approx_subjects=3,
            approx_records=3,
            likely_consequences="onbevoegde inzage",
        )
        return incident

    incident = breach("lek")
    # Step 3: the local CISO informs the FG, no one else records it.
    informed = {"aggregate_id": incident, "informed_at": served.clock.now.isoformat()}
    size = served.ledger_size()
    refused(served, served.command("inform-fg", employee, **informed), 403, "forbidden", size)
    assert served.command("inform-fg", ciso, **informed).status_code == 201
    # Art. 39(1): the FG advises on its own initiative; only the FG.
    unasked = {"municipality": TOWN, "about": incident, "advice": "melden", "recommendation": "ja"}
    by_secretary = served.command("volunteer-fg-advice", secretary, **unasked)
    refused(served, by_secretary, 403, "forbidden", served.ledger_size())
    volunteered = served.command("volunteer-fg-advice", fg, **unasked)
    assert volunteered.status_code == 201, volunteered.text
    # Step 15: a decision rests on advice given about this breach, not on a question unanswered.
    asked = served.command(
        "request-fg-advice", secretary, municipality=TOWN, about=incident, question="melden?"
    ).json()["id"]
    decision = {
        "aggregate_id": incident,
        "notify_ap": True,
        "ap_reasons": "risico",
        "inform_subjects": False,
        "subjects_reasons": "gering risico",
        "fg_advice_followed": True,
    }
    size = served.ledger_size()
    pending = served.command("decide-notification", secretary, **decision, fg_advice=asked)
    assert "has not given advice" in refused(served, pending, 409, "procedure", size)["detail"]
    decided = served.command(
        "decide-notification", secretary, **decision, fg_advice=volunteered.json()["id"]
    )
    assert decided.status_code == 201, decided.text

    urgent = breach("spoedlek")
    decided = served.command(
        "decide-notification",
        secretary,
        **{**decision, "aggregate_id": urgent, "fg_advice_followed": None},
        without_fg_advice=URGENT,
    )
    assert decided.status_code == 201, decided.text
    listed = served.client.get("/oversight/decisions-without-fg-advice", headers=fg).json()
    assert [(d["about"], d["reason"]) for d in listed["items"]] == [(urgent, "spoed")]
    assert listed["items"][0]["explanation"] == URGENT["explanation"]


def test_no_api_key_makes_an_fg_a_decider_where_it_is_fg(served: Served):
    for role in (Role.SECRETARY, Role.PROCESS_OWNER):
        with pytest.raises(NotAuthorised, match="art. 38"):
            served.key("fg@blnp.nl", Grant(Role.FG, TOWN), Grant(role, TOWN))
    # A secretary elsewhere is no conflict.
    served.key("fg@blnp.nl", Grant(Role.FG, "Putten"), Grant(Role.SECRETARY, TOWN))


# --- rights requests as bijlage 5 runs them (issue 14) ------------------------------------------


def done(response) -> None:
    assert response.status_code < 300, response.text


def test_the_department_acknowledges_decides_in_mandate_and_sends_through_http(served: Served):
    privacy, owner = served.role(Role.PRIVACY_OFFICER), served.role(Role.PROCESS_OWNER)
    request = served.command(
        "receive-request",
        privacy,
        municipality=TOWN,
        controller=COLLEGE,
        right="art. 16 rectificatie",
        channel="post",
        requester_name="Anna de Vries",
        requester_contact="anna@example.nl",
        received_at=T0.isoformat(),
    ).json()["id"]
    done(served.command("acknowledge-request", owner, aggregate_id=request, channel="post"))
    # Before the identity is verified, the clock can stop to ask for proof (art. 12(6)).
    size = served.ledger_size()
    early = served.command(
        "decide-request", owner, aggregate_id=request, outcome="toegewezen", reasons="ja"
    )
    assert refused(served, early, 409, "procedure", size)["allowed"] == [
        "suspend-request",
        "verify-identity",
    ]
    done(served.command("verify-identity", privacy, aggregate_id=request, method="DigiD"))
    done(
        served.command(
            "decide-request", owner, aggregate_id=request, outcome="toegewezen", reasons="adres"
        )
    )
    size = served.ledger_size()
    served.clock.now = T0 + timedelta(days=1)
    sent_at = served.clock.now.isoformat()
    by_privacy = served.command(
        "send-decision", privacy, aggregate_id=request, channel="post", sent_at=sent_at
    )
    assert "send_decision" in refused(served, by_privacy, 403, "forbidden", size)["detail"]
    done(
        served.command(
            "send-decision", owner, aggregate_id=request, channel="post", sent_at=sent_at
        )
    )
    done(served.command("notify-recipients", owner, aggregate_id=request, recipients=["BRP"]))
    (row,) = served.client.get(f"/municipalities/{TOWN}/requests", headers=privacy).json()["items"]
    assert row["decision"]["mandate"] == "ondermandaat: proceseigenaar van de vakafdeling"
    assert (row["sent"]["on_time"], row["sent"]["judged_at"]) == (True, "sending")
    assert row["recipients_notified"]["recipients"] == ["BRP"]
