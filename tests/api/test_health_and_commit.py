"""A recorded decision is a success, whatever happens to signing after it; ``/health`` says
what is behind and why. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import checkpointer_for
from adapters.entrypoints.api.app import create_app
from adapters.entrypoints.api.health import Thresholds
from domain.authorization import Role
from tests.api.conftest import COLLEGE, TOWN, Served, serve
from tests.api.test_idempotency import keyed
from tests.forms import URGENT

BREACH = {
    "aware_at": "2026-03-02T07:00:00+00:00",
    "natures": ["vertrouwelijkheid"],
    "data_categories": ["NAW"],
    "approx_subjects": 3,
    "approx_records": 3,
    "likely_consequences": "geen",
}
DECISION = {
    "notify_ap": False,
    "ap_reasons": "gering risico",
    "inform_subjects": False,
    "subjects_reasons": "gering risico",
    "without_fg_advice": URGENT,
}


@pytest.fixture
def with_checkpointer(database_url: str, tmp_path: Path):
    """As ``serve`` wires it: the checkpointer that signs after decisions is the one
    ``/health`` asks about."""
    served = serve(database_url, tmp_path / "keys")
    checkpointer = checkpointer_for(served.settings, served.app)
    served.app.on_decision = checkpointer.signed_size
    api = create_app(
        served.app,
        served.client.app.state.authenticator,
        lambda: checkpointer.checkpoint()[1],
        checkpointer=checkpointer,
    )
    served.client = TestClient(api)
    yield served
    served.app.close()


def breach(served: Served) -> str:
    employee, ciso = served.role(Role.EMPLOYEE), served.role(Role.CISO)
    privacy = served.role(Role.PRIVACY_OFFICER)
    incident = served.command(
        "report-incident", employee, municipality=TOWN, controller=COLLEGE, summary="USB kwijt"
    ).json()["id"]
    served.command("triage-incident", ciso, aggregate_id=incident, impact="hoog")
    served.command("establish-breach", privacy, aggregate_id=incident, **BREACH)
    return str(incident)


def test_a_decision_is_answered_as_recorded_when_signing_fails(with_checkpointer: Served):
    served = with_checkpointer
    incident = breach(served)
    secretary = served.role(Role.SECRETARY)
    size = served.ledger_size()
    assert served.client.get(f"/ledger/receipts/{size - 1}").status_code == 200  # signs
    state = served.settings.signing_key_file.with_name("ledger.key.checkpoint")
    state.write_text("")  # the checkpointer's state file emptied

    decided = keyed(
        served, "decide-notification", secretary, "d-1", aggregate_id=incident, **DECISION
    )
    assert decided.status_code == 201, decided.text
    answer = decided.json()
    assert answer == {
        "id": incident,
        "index": size,
        "checkpoint": None,
        "receipt": f"/ledger/receipts/{size}",
    }
    assert served.ledger_size() == size + 1
    # The client's retry is not a 409: it gets the first answer.
    again = keyed(
        served, "decide-notification", secretary, "d-1", aggregate_id=incident, **DECISION
    )
    assert (again.status_code, again.json()) == (201, answer)
    assert served.ledger_size() == size + 1

    health = served.client.get("/health").json()
    assert health["status"] == "degraded"
    (reason,) = health["reasons"]
    assert reason.startswith("checkpoints are not being signed")
    assert str(state) in reason
    assert health["checkpoint"]["lag"] == 1

    state.unlink()  # the operator's fix: the database's checkpoints are trusted again
    assert served.client.get(f"/ledger/receipts/{size}").status_code == 200  # signs
    health = served.client.get("/health").json()
    assert (health["status"], health["checkpoint"]["lag"]) == ("ok", 0)


def test_health_reports_each_lag_and_entries_held_at_a_future_time(with_checkpointer: Served):
    served = with_checkpointer
    health = served.client.get("/health").json()
    assert health["status"] == "ok"
    assert health["key_store"] == "configured"
    assert health["relays"] == {}
    breach(served)
    recorder = served.app.recorder
    ahead = datetime.now(UTC) + timedelta(days=1)
    recorder.clock = lambda: ahead  # the clock stepped a day ahead for one entry
    breach(served)
    recorder.clock = lambda: datetime.now(UTC)
    breach(served)
    health = served.client.get("/health").json()
    assert health["ledger_size"] == 9
    assert health["clock"] == {"entries_held_at_a_future_time": 6}
    assert "entries held at a future time: 6 (the clock stepped back)" in health["reasons"]
    lags = {name: model["lag"] for name, model in health["read_models"].items()}
    # Nothing read yet, and /health applies nothing: three incidents, nine entries.
    assert (lags["incident_register"], lags["request_register"]) == (9, 0)
    served.client.get(f"/municipalities/{TOWN}/incidents", headers=served.role(Role.CISO))
    health = served.client.get("/health").json()
    assert {model["lag"] for model in health["read_models"].values()} == {0}, health
    ready = served.client.get("/health/ready")
    assert ready.status_code == 200


def test_thresholds_come_from_the_environment():
    thresholds = Thresholds.from_environ(
        {"BEWIJSLAST_HEALTH_CHECKPOINT_LAG": "5", "BEWIJSLAST_HEALTH_CHECKPOINT_AGE": "2.5"}
    )
    assert (thresholds.checkpoint_lag, thresholds.checkpoint_age) == (5, 2.5)
    assert thresholds.read_model_lag == Thresholds().read_model_lag
