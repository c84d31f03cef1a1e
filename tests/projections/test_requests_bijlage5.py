"""Rights requests and objections through the application, on both databases: who may give
each new step (seed 002 bijlage 5, the Awb), and what the request register, the FG's oversight
and the accountability report make of them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from adapters.services.projection_runner import ReadModelRunner
from domain.authorization import Actor, Grant, NotAuthorised, Role
from domain.commands import (
    AcknowledgeRequest,
    DecideRequest,
    LodgeObjection,
    ReceiveRequest,
    RecordNoticeOfDefault,
    ResumeRequest,
    SendDecision,
    SuspendRequest,
    VerifyIdentity,
)
from domain.requests import Mandate, Outcome, RefusalGround, Right, SuspensionReason
from projections import oversight
from projections.catalogue import all_projections
from projections.report import Period, report_figures
from projections.requests import request_register
from tests.projections.history import COLLEGE, T0, TOWN, Clock, open_history

# All on one worker (pytest -n, --dist loadgroup): its history is recorded once per database.
pytestmark = pytest.mark.xdist_group(__name__)

DOMAIN = f"{TOWN.lower()}.nl"


def one(role: Role, login: str) -> Actor:
    return Actor.with_grants(f"{login}@{DOMAIN}", [Grant(role, TOWN)])


PRIVACY = one(Role.PRIVACY_OFFICER, "privacybeheerder")
DEPARTMENT = one(Role.PROCESS_OWNER, "proceseigenaar")
SECRETARY = one(Role.SECRETARY, "gemeentesecretaris")


@pytest.fixture(scope="module")
def recorded(database_url, tmp_path_factory):
    """Three requests received Monday 2 March 2026 (due Thursday 2 April):
    D decided on 3 March and never sent; S refused because the requester never proved who they
    are, sent late on 11 April; O decided and sent on 4 March, objected to on 10 March with a
    committee advising (7:10 term to 8 July), then a notice of default on 9 July."""
    clock = Clock(T0)
    h = open_history(database_url, tmp_path_factory.mktemp("keys"), clock)

    def do(command, actor, days=0):
        clock.now = max([T0 + timedelta(days=days), *command.stated_moments().values()])
        return h.app.execute(command, actor)

    ids = {}
    for name in "DSO":
        ids[name] = do(
            ReceiveRequest(
                municipality=TOWN,
                controller=COLLEGE,
                right=Right.ACCESS,
                channel="post",
                requester_name=f"Requester {name}",
                requester_contact=f"{name}@example.nl",
                received_at=T0,
            ),
            PRIVACY,
        )
    do(AcknowledgeRequest(aggregate_id=ids["D"], channel="e-mail"), DEPARTMENT)
    for name in "DO":
        do(VerifyIdentity(aggregate_id=ids[name], method="DigiD"), PRIVACY)
    for name in "DO":
        do(
            DecideRequest(aggregate_id=ids[name], outcome=Outcome.GRANTED, reasons="inzage"),
            DEPARTMENT,
            days=1,
        )
    do(
        SuspendRequest(
            aggregate_id=ids["S"],
            missing="kopie identiteitsbewijs",
            reason=SuspensionReason.IDENTITY_PROOF,
        ),
        PRIVACY,
        days=1,
    )
    sent_on = T0 + timedelta(days=2)
    do(SendDecision(aggregate_id=ids["O"], channel="post", sent_at=sent_on), DEPARTMENT)
    do(ResumeRequest(aggregate_id=ids["S"]), PRIVACY, days=5)
    do(
        DecideRequest(
            aggregate_id=ids["S"],
            outcome=Outcome.REFUSED,
            grounds=[RefusalGround.IDENTITY_NOT_ESTABLISHED],
            reasons="geen bewijs van identiteit",
        ),
        SECRETARY,
        days=6,
    )
    lodged = T0 + timedelta(days=8)
    do(
        LodgeObjection(
            aggregate_id=ids["O"], grounds="te weinig", lodged_at=lodged, advisory_committee=True
        ),
        PRIVACY,
    )
    sent_late = T0 + timedelta(days=40)
    do(SendDecision(aggregate_id=ids["S"], channel="post", sent_at=sent_late), DEPARTMENT)
    notice = T0 + timedelta(days=129)
    do(RecordNoticeOfDefault(aggregate_id=ids["O"], notice_received_at=notice), PRIVACY)
    runner = ReadModelRunner(h.app, all_projections())
    runner.catch_up_all()
    return h, runner, ids


@pytest.fixture
def cursor(recorded):
    with recorded[1].db.transaction() as cursor:
        yield cursor


def test_the_department_sends_the_decision_not_the_privacy_officer(recorded):
    h, _, ids = recorded
    with pytest.raises(NotAuthorised, match="send_decision"):
        h.app.execute(
            SendDecision(aggregate_id=ids["D"], channel="post", sent_at=h.clock.now), PRIVACY
        )


def test_the_register_shows_acknowledgement_suspension_mandate_and_sending(cursor, recorded):
    _, _, ids = recorded
    register = {r["id"]: r for r in request_register(cursor, TOWN, date(2026, 3, 30))}
    d, s, o = (register[str(ids[n])] for n in "DSO")
    assert d["acknowledged"]["channel"] == "e-mail"
    assert d["decision"]["mandate"] == Mandate.DEPARTMENT.value
    assert (d["stage"], d["days_left"]) == ("besloten", 3)  # the clock runs until it is sent
    assert s["suspensions"][0]["reason"] == SuspensionReason.IDENTITY_PROOF.value
    assert "identity_verified" not in s
    assert s["decision"]["mandate"] == Mandate.SECRETARY.value
    # Four days stopped: 2 April + 4 is Easter Monday, so Tuesday 7 April; sent 11 April.
    assert s["deadline"] == "2026-04-07"
    assert (s["sent"]["on_time"], s["sent"]["judged_at"]) == (False, "sending")
    assert s["decision"]["on_time"] is True  # decided in time, yet the requester was told late
    assert o["sent"]["on_time"] is True
    assert o["objection"]["late"] is False
    # The objection period ended 15 April; twelve weeks with the committee: 8 July.
    assert o["objection"]["decision_deadline"] == "2026-07-08"
    assert o["notices_of_default"][0]["about"] == "objection"
    assert o["notices_of_default"][0]["first_penalty_day"] == "2026-07-24"


def test_a_decided_but_unsent_request_stays_near_its_deadline(cursor, recorded):
    _, _, ids = recorded
    near = oversight.requests_near_deadline(cursor, [TOWN], date(2026, 3, 30))
    assert [(r["id"], r["days_left"]) for r in near] == [(str(ids["D"]), 3)]
    unsent = oversight.requests_decided_not_sent(cursor, [TOWN], date(2026, 3, 30))
    assert [r["id"] for r in unsent] == [str(ids["D"])]


def test_objections_near_their_awb_7_10_term_and_notices_of_default(cursor, recorded):
    _, _, ids = recorded
    assert oversight.objections_near_term(cursor, [TOWN], date(2026, 6, 30)) == []
    (near,) = oversight.objections_near_term(cursor, [TOWN], date(2026, 7, 3))
    assert (near["id"], near["objection_days_left"]) == (str(ids["O"]), 5)
    (notice,) = oversight.notices_of_default(cursor, [TOWN], date(2026, 8, 3))
    assert (notice["penalty_days_so_far"], notice["penalty_euros_so_far"]) == (10, 230)


def test_the_report_judges_on_time_at_sending_and_counts_objections(cursor):
    figures = {
        f.key: f.value
        for f in report_figures(
            cursor, TOWN, COLLEGE, Period(date(2026, 1, 1), date(2026, 12, 31))
        )["requests"]
    }
    assert figures["requests.sent_on_time"] == 0.5  # S sent late, O on time
    assert figures["requests.decided_not_sent"] == 1
    assert figures["objections.total"] == 1
    assert figures["objections.late"] == 0
    assert figures["requests.notices_of_default"] == 1
