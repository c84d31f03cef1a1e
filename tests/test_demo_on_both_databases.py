"""The full demo history through the wired application, on both databases, then verified."""

from __future__ import annotations

import pytest

from adapters.cli import open_application
from adapters.config import Settings
from adapters.demo import record_demo
from adapters.keys import generate_key_files
from adapters.keystore import MasterKey
from ledger.note import NoteVerifier
from ledger.verify import verify_ledger

ORIGIN = "ledger.test.example/bewijslast"


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_demo_history_is_recorded_signed_and_verifies(kind, request, tmp_path):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = request.getfixturevalue("pg_database").url
    key_file, vkey_file = generate_key_files(ORIGIN, tmp_path / "keys")
    MasterKey.generate_file(tmp_path / "keys" / "master.key")
    settings = Settings(url, ORIGIN, key_file, tmp_path / "keys" / "master.key")
    app = open_application(settings)
    recorded = record_demo(app)
    assert recorded["PersonalDataErasure.Erased"] == 4
    assert recorded["Incident.NotificationDecided"] == 10
    size = app.recorder.ledger_size()
    assert size == sum(recorded.values())
    checkpoints = app.recorder.signed_checkpoints()
    report = verify_ledger(
        app.recorder.records(0, size - 1),
        checkpoints,
        [NoteVerifier.from_vkey(vkey_file.read_text().strip())],
        origin=ORIGIN,
        reaches_end=True,
    )
    assert report.ok, [str(f) for f in report.failures]
    assert report.checkpoints >= 50  # one after every save with a decision
