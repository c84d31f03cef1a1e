"""The decree days (Atw art. 3(3)) are data: the repository's table, extended by a deployment's
own file without a code change; the application opened from the settings counts them in Awb
terms, and what it recorded keeps the table it was computed with."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from adapters.bootstrap import open_application
from adapters.config import ConfigurationError, Settings
from adapters.persistence.subject_keys import MasterKey
from adapters.term_calendar import load_term_calendar
from domain.authorization import Actor, Grant, Role
from domain.commands import (
    DecideRequest,
    LodgeObjection,
    ReceiveRequest,
    SendDecision,
    VerifyIdentity,
)
from domain.deadlines import AMSTERDAM
from domain.requests import Outcome, Right, RightsRequest

PUTTEN, COLLEGE = "Putten", "college van burgemeester en wethouders"
PRIVACY = Actor.with_grants("pb@putten.nl", [Grant(Role.PRIVACY_OFFICER, PUTTEN)])
OWNER = Actor.with_grants("pe@putten.nl", [Grant(Role.PROCESS_OWNER, PUTTEN)])
LATER_DECREE = """
[[day]]
date = 2029-05-11
decree = "Besluit gelijkstelling van 11 mei 2029 (a later decree)"
publication = "Staatsblad 2028, 1"
"""


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=AMSTERDAM)


def test_the_repository_table_lists_the_decree_of_2026_to_2028_with_its_source():
    calendar = load_term_calendar()
    assert calendar.days == {
        date(2026, 1, 2),
        date(2026, 5, 15),
        date(2027, 5, 7),
        date(2028, 4, 28),
        date(2028, 5, 26),
    }
    assert all(
        row.decree.startswith("Besluit gelijkstelling van 2 januari 2026")
        for row in calendar.equated
    )


def test_a_deployment_adds_a_later_decree_in_its_own_file(tmp_path):
    extra = tmp_path / "decree-days.toml"
    extra.write_text(LATER_DECREE, encoding="utf-8")
    calendar = load_term_calendar(extra)
    assert date(2029, 5, 11) in calendar.days
    assert date(2026, 5, 15) in calendar.days
    assert calendar.version != load_term_calendar().version
    settings = Settings.from_environ({"BEWIJSLAST_EQUATED_DAYS_FILE": str(extra)})
    assert settings.equated_days_file == extra


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[day]]\ndate = 2026-05-15\ndecree = "again"\npublication = "x"\n', "listed twice"),
        ('[[day]]\ndate = "15 mei"\ndecree = "x"\npublication = "x"\n', "day.0.date"),
        ('[[day]]\ndate = 2029-05-11\ndecree = "x"\n', "day.0.publication"),
        ("[[day]\n", "cannot read"),
    ],
)
def test_a_wrong_decree_file_is_refused_with_what_is_wrong(tmp_path, text, message):
    extra = tmp_path / "decree-days.toml"
    extra.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        load_term_calendar(extra)


def sent_on_3_april(settings: Settings) -> tuple[RightsRequest, object]:
    app = open_application(settings)
    app.clock = lambda: at(4, 3, 9)  # the decision is taken on 3 April, sent later that day
    received = app.execute(
        ReceiveRequest(
            municipality=PUTTEN,
            controller=COLLEGE,
            right=Right.ACCESS,
            channel="webformulier",
            requester_name="Anna de Vries",
            requester_contact="anna@example.nl",
            received_at=at(3, 20),
        ),
        PRIVACY,
    )
    app.execute(VerifyIdentity(aggregate_id=received, method="DigiD"), PRIVACY)
    app.execute(
        DecideRequest(aggregate_id=received, outcome=Outcome.GRANTED, reasons="toegewezen"), OWNER
    )
    app.clock = lambda: at(4, 3, 12)
    app.execute(SendDecision(aggregate_id=received, channel="post", sent_at=at(4, 3, 11)), OWNER)
    return app.repository.get(received), app


def test_a_bezwaar_on_the_monday_after_a_decree_day_is_on_time_and_stays_so(tmp_path):
    MasterKey.generate_file(tmp_path / "master.key")
    settings = Settings(f"sqlite:///{tmp_path / 'b.db'}", master_key_file=tmp_path / "master.key")
    request, app = sent_on_3_april(settings)
    # Six weeks from 3 April 2026 end on Friday 15 May, a decree day: the term runs to Monday.
    assert request.objection_deadline() == date(2026, 5, 18)
    sent = list(app.events.get(request.id))[-1]
    assert sent.rules == load_term_calendar().rules()

    # Replay only applies: opened with another table, the recorded term is what it was.
    extra = tmp_path / "decree-days.toml"
    extra.write_text(LATER_DECREE, encoding="utf-8")
    reopened = open_application(
        Settings(
            settings.database_url, master_key_file=settings.master_key_file, equated_days_file=extra
        )
    )
    assert reopened.repository.get(request.id).objection_deadline() == date(2026, 5, 18)

    app.clock = lambda: at(5, 19, 9)
    app.execute(
        LodgeObjection(
            aggregate_id=request.id, grounds="te veel afgeschermd", lodged_at=at(5, 18, 16)
        ),
        PRIVACY,
    )
    assert not app.repository.get(request.id).objection_late


def test_the_gdpr_month_ends_on_the_decree_day_itself(tmp_path):
    """Received 15 April 2026: the art. 12(3) month ends on Friday 15 May 2026 (DESIGN: the
    decree equates days for the Atw only, not for Regulation 1182/71)."""
    MasterKey.generate_file(tmp_path / "master.key")
    app = open_application(
        Settings(f"sqlite:///{tmp_path / 'b.db'}", master_key_file=tmp_path / "master.key")
    )
    assert date(2026, 5, 15) in app.term_calendar.days
    received = app.execute(
        ReceiveRequest(
            municipality=PUTTEN,
            controller=COLLEGE,
            right=Right.ACCESS,
            channel="webformulier",
            requester_name="Anna de Vries",
            requester_contact="anna@example.nl",
            received_at=at(4, 15),
        ),
        PRIVACY,
    )
    assert app.repository.get(received).deadline() == date(2026, 5, 15)
