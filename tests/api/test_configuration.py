"""A server started without the master key: what needs it is refused with a problem document
that names the setting, and nothing is recorded."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from fastapi.testclient import TestClient

from adapters.bootstrap import open_application, signer_of
from adapters.config import Settings
from adapters.entrypoints.api.app import create_app
from adapters.entrypoints.api.auth import Authenticator
from adapters.persistence.api_keys import ApiKeys
from adapters.signing_keys import generate_key_files
from domain.authorization import Actor, Grant, Role
from projections.incidents import IncidentRegister
from tests.api.conftest import COLLEGE, ORIGIN, TOWN
from tests.api.test_procedure import refused


class WithoutMasterKey:
    def __init__(self, tmp_path: Path) -> None:
        generate_key_files(ORIGIN, tmp_path / "keys")
        settings = Settings(f"sqlite:///{tmp_path / 'b.db'}", ORIGIN, tmp_path / "keys/ledger.key")
        self.app = open_application(settings)
        keys = ApiKeys(self.app.factory.datastore)  # type: ignore[attr-defined]
        self.client = TestClient(
            create_app(self.app, Authenticator(keys, None), signer_of(settings, self.app))
        )
        token = keys.create(
            Actor.with_grants("privacy@leusden.nl", [Grant(Role.PRIVACY_OFFICER, TOWN)])
        )
        self.headers = {"Authorization": f"Bearer {token}"}

    def ledger_size(self) -> int:
        return int(self.app.recorder.ledger_size())  # type: ignore[attr-defined]


def test_a_request_with_personal_data_is_refused_until_the_master_key_is_set(tmp_path):
    server = WithoutMasterKey(tmp_path)
    response = server.client.post(
        "/commands/receive-request",
        headers=server.headers,
        json={
            "municipality": TOWN,
            "controller": COLLEGE,
            "right": "art. 15 inzage",
            "channel": "web",
            "requester_name": "A. Jansen",
            "requester_contact": "a@example.nl",
            "received_at": "2026-03-02T09:00:00+01:00",
        },
    )
    problem = refused(server, response, 503, "not-configured", 0)
    assert "BEWIJSLAST_MASTER_KEY_FILE" in problem["detail"]


def test_an_erasure_is_refused_without_a_key_store(tmp_path):
    server = WithoutMasterKey(tmp_path)
    response = server.client.post(
        "/commands/erase-personal-data",
        headers=server.headers,
        json={
            "municipality": TOWN,
            "subject": str(uuid4()),
            "ground": "art. 17 AVG: toegewezen verzoek om wissing",
            "reference": "verzoek 2026-17",
        },
    )
    problem = refused(server, response, 503, "not-configured", 0)
    assert "key store" in problem["detail"]


def test_a_read_model_that_cannot_apply_an_entry_is_a_503_naming_it(on_sqlite, monkeypatch):
    """Answering from a read model that stopped short of the ledger would be answering wrongly."""
    ciso = on_sqlite.role(Role.CISO)
    employee = on_sqlite.role(Role.EMPLOYEE)
    reported = on_sqlite.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="USB kwijt"
    )
    assert reported.status_code == 201, reported.text

    def broken(self, record):
        raise KeyError("impact")  # as a read model with a bug would

    monkeypatch.setattr(IncidentRegister, "columns", broken)
    response = on_sqlite.client.get(f"/municipalities/{TOWN}/incidents", headers=ciso)
    problem = refused(on_sqlite, response, 503, "read-model-failed", 1)
    assert (
        "read model incident_register cannot apply the ledger entries from index 0"
        in (problem["detail"])
    )
    monkeypatch.undo()  # the bug fixed: the same read answers, nothing was half applied
    listed = on_sqlite.client.get(f"/municipalities/{TOWN}/incidents", headers=ciso)
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == 1
