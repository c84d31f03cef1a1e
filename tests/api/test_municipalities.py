"""One municipality's data stays in it (issue 10, item 4), on SQLite and PostgreSQL: a data
subject is erased only by its own municipality, reconstructions and bundles give a caller only
what its grants reach, and an id from elsewhere is not told apart from one that never was."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from domain.authorization import DEPLOYMENT, Grant, Role
from ledger.evidence import verify_evidence
from ledger.verify import verify_bundle
from tests.api.conftest import COLLEGE, TOWN, Served

ELSEWHERE = "Amersfoort"
REQUEST = {
    "right": "art. 17 vergetelheid",
    "channel": "brief",
    "requester_name": "Jan Jansen",
    "requester_contact": "jan@example.nl",
    "received_at": "2026-03-02T09:00:00+01:00",
}


def receive(served: Served, town: str) -> tuple[str, str]:
    """A rights request in ``town``: its id and its data subject."""
    privacy = served.role(Role.PRIVACY_OFFICER, town)
    made = served.command(
        "receive-request", privacy, municipality=town, controller=COLLEGE, **REQUEST
    )
    assert made.status_code == 201, made.text
    rows = served.client.get(f"/municipalities/{town}/requests", headers=privacy).json()["items"]
    (row,) = [r for r in rows if r["id"] == made.json()["id"]]
    return made.json()["id"], row["subject"]


def erase(served: Served, headers: dict[str, str], town: str, subject: str) -> Any:
    return served.command(
        "erase-personal-data",
        headers,
        municipality=town,
        subject=subject,
        ground="art. 17 AVG: toegewezen verzoek om wissing",
        reference="verzoek 2026-117",
    )


def requester(served: Served, request: str) -> str:
    """The requester's name as the record gives it back: "[gewist]" once erased."""
    found = served.app.repository.get(UUID(request)).requester  # type: ignore[attr-defined]
    return str(getattr(found, "value", found))


def test_a_data_subject_is_erased_only_by_its_own_municipality_and_only_once(served: Served):
    request, subject = receive(served, TOWN)
    receive(served, ELSEWHERE)
    theirs = served.role(Role.PRIVACY_OFFICER, ELSEWHERE)
    size = served.ledger_size()

    # Amersfoort's privacy officer, naming Amersfoort or Leusden: as if there were no such
    # subject, and nothing is recorded or destroyed.
    for town in (ELSEWHERE, TOWN):
        refused = erase(served, theirs, town, subject)
        assert refused.status_code == 404, refused.text
        assert refused.json()["detail"] == f"data subject {subject} does not exist"
    made_up = str(uuid4())
    unknown = erase(served, served.role(Role.PRIVACY_OFFICER), TOWN, made_up)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == f"data subject {made_up} does not exist"
    # In Leusden, a role that may not erase.
    assert erase(served, served.role(Role.CISO), TOWN, subject).status_code == 403
    assert served.ledger_size() == size
    assert requester(served, request) == "Jan Jansen"

    ours = served.role(Role.PRIVACY_OFFICER)
    assert erase(served, ours, TOWN, subject).status_code == 201
    assert requester(served, request) == "[gewist]"
    again = erase(served, ours, TOWN, subject)
    assert again.status_code == 409, again.text
    assert served.ledger_size() == size + 1
    fg = served.role(Role.FG)
    erasures = served.client.get(
        "/oversight/erasures", params={"municipality": TOWN}, headers=fg
    ).json()
    assert [e["subject"] for e in erasures["items"]] == [subject]


def incident(served: Served, town: str) -> str:
    made = served.command(
        "report-incident",
        served.role(Role.EMPLOYEE, town),
        municipality=town,
        controller=COLLEGE,
        summary=f"laptop kwijt in {town}",
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_a_reconstruction_holds_only_the_records_the_caller_may_see(served: Served):
    ours, theirs = incident(served, TOWN), incident(served, ELSEWHERE)
    last = served.ledger_size() - 1
    url = f"/reconstructions/incident_register?index={last}"

    found = served.client.get(url, headers=served.role(Role.AUDITOR)).json()
    assert [r["id"] for r in found["result"]] == [ours]
    assert ELSEWHERE not in json.dumps(found)
    # Each record's entries still prove it against the signed checkpoint on their own.
    receipts = {e["index"]: e["receipt"] for e in found["entries"]}
    states = {e["index"]: base64.b64decode(e["state"]) for e in found["entries"]}
    entries, _ = verify_evidence(receipts, states, served.verifiers)
    assert {e.index for e in entries} == {0}

    everything = served.key("audit@ibd.nl", Grant(Role.DEPLOYMENT_AUDITOR, DEPLOYMENT))
    whole = served.client.get(url, headers=everything).json()
    assert sorted(r["id"] for r in whole["result"]) == sorted([ours, theirs])

    # One record of another municipality: the answer to a record that never was.
    one = served.client.get(f"{url}&record={theirs}", headers=served.role(Role.AUDITOR))
    never = served.client.get(f"{url}&record={uuid4()}", headers=served.role(Role.AUDITOR))
    assert one.status_code == never.status_code == 404
    assert ELSEWHERE not in one.text
    assert COLLEGE not in one.text


def bundle(served: Served, headers: dict[str, str], tmp_path: Path) -> tuple[Path, list[Any]]:
    response = served.client.get("/ledger/bundle", headers=headers)
    assert response.status_code == 200, response.text
    path = tmp_path / f"{uuid4()}.zip"
    path.write_bytes(response.content)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".jsonl"))
        lines = archive.read(name).decode().splitlines()
    return path, [json.loads(line) for line in lines]


def test_states_of_every_municipality_only_for_a_grant_on_the_whole_deployment(
    served: Served, tmp_path: Path
):
    incident(served, TOWN)
    incident(served, ELSEWHERE)
    for headers, stated in (
        (served.role(Role.AUDITOR), False),
        (served.role(Role.FG), False),
        (served.key("audit@ibd.nl", Grant(Role.DEPLOYMENT_AUDITOR, DEPLOYMENT)), True),
    ):
        path, entries = bundle(served, headers, tmp_path)
        assert [e.get("state") is not None for e in entries] == [stated] * len(entries)
        # Without states it proves the same tree.
        report = verify_bundle(path, served.verifiers)
        assert report.ok, report.failures
        assert report.entries == 2
