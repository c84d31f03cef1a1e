"""The full demo history through the wired application, on both databases, then verified."""

from __future__ import annotations

import pytest

from adapters.bootstrap import open_application
from adapters.config import Settings
from adapters.demo import record_demo
from adapters.persistence.subject_keys import MasterKey
from adapters.signing_keys import generate_key_files
from ledger.note import NoteVerifier
from ledger.verify import verify_ledger

pytestmark = pytest.mark.long

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


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_read_models_of_the_demo_are_the_same_after_a_rebuild(kind, request, tmp_path):
    from datetime import date

    from adapters.bootstrap import signer_of
    from adapters.services.accountability_report import build_report
    from adapters.services.projection_runner import ReadModelRunner
    from projections.catalogue import all_projections
    from projections.report import Period

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = request.getfixturevalue("pg_database").url
    key_file, _ = generate_key_files(ORIGIN, tmp_path / "keys")
    MasterKey.generate_file(tmp_path / "keys" / "master.key")
    settings = Settings(url, ORIGIN, key_file, tmp_path / "keys" / "master.key")
    app = open_application(settings)
    record_demo(app)
    sign = signer_of(settings, app)
    years = Period(date(2024, 1, 1), date(2025, 12, 31))

    def figures():
        reports = [
            build_report(app, town, "college van burgemeester en wethouders", years, sign=sign)
            for town in ("Bunschoten", "Leusden", "Nijkerk", "Putten")
        ]
        return [r.to_json()["sections"] for r in reports]

    before = figures()
    assert any(s["breaches"][0]["value"] for s in before)  # the demo has breaches to count
    runner = ReadModelRunner(app, all_projections())
    for projection in runner.projections:
        runner.rebuild(projection)
    assert figures() == before
