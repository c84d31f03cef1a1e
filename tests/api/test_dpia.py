"""The DPIA procedure (seed 002 bijlage 4) through HTTP, on SQLite and PostgreSQL: its steps
by the roles the seed names, the register's DPIA status and the FG's oversight."""

from __future__ import annotations

from domain.authorization import Role
from domain.dpia import Status
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.api.test_procedure import refused
from tests.projections.history import T0

ENTRY = {
    "name": "Signalen jeugd",
    "purposes": ["vroegsignalering"],
    "legal_basis": "art. 6(1)(e) publieke taak",
    "legal_basis_law": "Jeugdwet",
    "data_subject_categories": ["jeugdigen"],
    "personal_data_categories": ["NAW"],
    "retention": "5 jaar",
    "security_measures": ["BIO"],
    "process_owner": "afdelingshoofd Jeugd",
    "dpia_required": True,
    "dpia_reason": "profilering van kwetsbare betrokkenen",
}


def test_a_dpia_required_by_the_register_is_listed_until_it_is_carried_out(served: Served):
    owner, fg = served.role(Role.PROCESS_OWNER), served.role(Role.FG)
    activity = served.command(
        "register-processing-activity",
        owner,
        municipality=TOWN,
        controller=COLLEGE,
        entry=ENTRY,
        valid_from=T0.isoformat(),
    ).json()["id"]
    # No special categories, criminal data or BSN: listed for the DPIA all the same.
    listed = served.client.get("/oversight/dpias-not-started", headers=fg).json()["items"]
    assert [(r["activity"], r["required_by"]) for r in listed] == [(activity, "register")]

    size = served.ledger_size()
    signal = {"activity": activity, "trigger": "nieuwe verwerking", "description": "signalen"}
    refused(
        served,
        served.command("signal-dpia", served.role(Role.EMPLOYEE), **signal),
        403,
        "forbidden",
        size,
    )
    elsewhere = served.role(Role.PROCESS_OWNER, "Putten")
    refused(served, served.command("signal-dpia", elsewhere, **signal), 404, "not-found", size)
    made = served.command("signal-dpia", owner, **signal)
    assert made.status_code == 201, made.text
    dpia = made.json()["id"]

    # Step 3 before step 2: refused, naming the step allowed now.
    size = served.ledger_size()
    assign = served.command("assign-dpia", owner, aggregate_id=dpia, assignee="P. de Beheerder")
    problem = refused(served, assign, 409, "procedure", size)
    assert problem["allowed"] == ["take-fg-advice-on-dpia"]

    (row,) = served.client.get(f"/municipalities/{TOWN}/register", headers=owner).json()["items"]
    assert row["dpia"]["id"] == dpia
    assert row["dpia"]["status"] == Status.SIGNALLED.value
    for question in (
        "ap-consultations-past-deadline",
        "dpia-measures-not-done",
        "dpia-reassessments-due",
    ):
        assert served.client.get(f"/oversight/{question}", headers=fg).json()["items"] == []
