"""``bewijslast serve`` when its signing cannot go on: it does not start with a key that does
not verify the ledger's checkpoints, and a last checkpoint that fails on SIGTERM still leaves
the read models caught up, with exit status 1 and one line saying why."""

from __future__ import annotations

import signal

import pytest

from adapters.bootstrap import open_application
from adapters.services.projection_runner import ReadModelRunner
from projections.catalogue import all_projections
from projections.incidents import incident_register
from tests.test_serve import TOWN, api_key, make_operator, report_incident, serving

pytestmark = pytest.mark.long


@pytest.fixture
def operator(tmp_path):
    return make_operator(tmp_path)


def test_serve_refuses_a_key_that_does_not_verify_the_ledgers_checkpoints(operator):
    headers = api_key(operator, "EMPLOYEE:Leusden")
    with serving(operator) as served:
        report_incident(served, headers)
        assert served.stop(signal.SIGTERM) == 0, served.output()
    made = operator.run(
        "keys", "generate", "--origin", "ledger.leusden.test/bewijslast", "--out", "other"
    )
    assert made.returncode == 0, made.stderr
    operator.env["BEWIJSLAST_SIGNING_KEY_FILE"] = str(operator.home / "other" / "ledger.key")
    refused = operator.run("serve", "--port", "1")
    assert refused.returncode == 2
    assert "is not signed by the key" in refused.stderr
    assert "BEWIJSLAST_SIGNING_KEY_FILE" in refused.stderr


def test_a_failing_last_checkpoint_still_catches_up_the_read_models(operator):
    headers = api_key(operator, "EMPLOYEE:Leusden")
    with serving(operator, "--poll", "60") as served:
        incident = report_incident(served, headers)
        (operator.home / "keys" / "ledger.key.checkpoint").write_text("garbled\n")
        status = served.stop(signal.SIGTERM)
    assert status == 1, served.output()
    lines = [line for line in served.output().splitlines() if "last checkpoint" in line]
    assert len(lines) == 1
    assert "stopped without a last checkpoint" in lines[0]
    assert "state file" in lines[0]
    app = open_application(operator.settings)
    caught_up = ReadModelRunner(app, all_projections()).catch_up_all()
    assert set(caught_up.values()) == {0}
    with ReadModelRunner(app, all_projections()).db.transaction() as cursor:
        assert [row["id"] for row in incident_register(cursor, TOWN)] == [incident]
