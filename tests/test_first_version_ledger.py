"""A ledger recorded before the domain judged once at the command (commit a2de679) stays
readable: every aggregate loads through the upcasters, every read model catches up, the ledger
verifies, and new decisions recorded on top of it verify with it (a rolling upgrade)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from uuid import UUID

from adapters.bootstrap import open_application
from adapters.config import Settings
from adapters.services.projection_runner import ReadModelRunner
from domain.authorization import Actor, Grant, Role
from domain.commands import ReportIncident
from ledger.note import NoteVerifier
from ledger.verify import verify_ledger
from projections.catalogue import all_projections

FIXTURE = Path(__file__).parent / "fixtures" / "ledger-a2de679"
SIZE = 308  # entries the old demo recorded


def opened(tmp_path: Path):
    home = tmp_path / "old"
    shutil.copytree(FIXTURE, home)
    for key in ("ledger.key", "master.key"):  # git keeps no file modes but the executable bit
        (home / key).chmod(0o600)
    settings = Settings.from_environ(
        {
            "BEWIJSLAST_DATABASE_URL": f"sqlite:///{home / 'ledger.db'}",
            "BEWIJSLAST_MASTER_KEY_FILE": str(home / "master.key"),
            "BEWIJSLAST_SIGNING_KEY_FILE": str(home / "ledger.key"),
        }
    )
    return home, open_application(settings)


def verified(home: Path, app) -> None:
    recorder = app.recorder
    size = recorder.ledger_size()
    report = verify_ledger(
        recorder.records(0, size - 1),
        recorder.signed_checkpoints(),
        [NoteVerifier.from_vkey((home / "ledger.vkey").read_text().strip())],
        origin="bewijslast.localhost/ledger",
        reaches_end=True,
    )
    assert report.ok, [str(f) for f in report.failures]


def test_every_aggregate_of_the_old_ledger_loads_and_every_read_model_catches_up(tmp_path):
    home, app = opened(tmp_path)
    assert app.recorder.ledger_size() == SIZE
    streams = {r.entry.stream for r in app.recorder.records(0, SIZE - 1)}
    loaded = [app.repository.get(UUID(stream)) for stream in streams]
    assert len(loaded) == len(streams) > 70
    runner = ReadModelRunner(app, all_projections())
    runner.catch_up_all()
    with runner.db.transaction() as cursor:
        cursor.execute("SELECT count(*) FROM incidents")
        assert cursor.fetchone()[0] > 0
    verified(home, app)


def test_new_decisions_on_top_of_the_old_ledger_verify_with_it(tmp_path):
    home, app = opened(tmp_path)
    employee = Actor("medewerker@leusden.nl", (Grant(Role.EMPLOYEE, "Leusden"),))
    app.execute(
        ReportIncident(
            municipality="Leusden",
            controller="college van burgemeester en wethouders",
            summary="laptop kwijt",
        ),
        employee,
    )
    assert app.recorder.ledger_size() == SIZE + 1
    verified(home, app)


def test_old_sent_decisions_keep_their_judgement_at_decision(tmp_path):
    """Issue 14 judges "on time" at sending; a decision sent before that keeps the judgement
    made when it was decided, and the register says so. Old objections were all on time (late
    ones were refused then)."""
    _, app = opened(tmp_path)
    runner = ReadModelRunner(app, all_projections())
    runner.catch_up_all()
    with runner.db.transaction() as cursor:
        cursor.execute("SELECT doc FROM requests")
        records = [json.loads(doc) for (doc,) in cursor.fetchall()]
    sent = [r for r in records if "sent" in r]
    assert sent
    for r in sent:
        assert r["sent"]["judged_at"] == "decision"
        assert r["sent"]["on_time"] is r["decision"]["on_time"]
        assert r["decision"]["mandate"] is None  # recorded before the mandate was
    objections = [r["objection"] for r in records if "objection" in r]
    assert objections
    assert all(o["late"] is False for o in objections)
