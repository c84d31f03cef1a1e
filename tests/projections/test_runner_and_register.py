"""Projections are built from the ledger exactly once per event, resume after a crash without
skipping or counting twice, rebuild from index 0 to the same state; the register is versioned."""

from __future__ import annotations

from datetime import datetime

import pytest

from adapters.config import database_env
from adapters.services.projection_runner import ProjectionFailed, ReadModelRunner
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from domain.commands import (
    AmendProcessingActivity,
    RegisterProcessingActivity,
    RetireProcessingActivity,
)
from domain.deadlines import AMSTERDAM
from domain.processing import LegalBasis, RegisterChanges, RegisterEntry, version_uri
from projections.register import ProcessingRegister, current_register, history, register_as_of

# All on one worker (pytest -n, --dist loadgroup): its history is recorded once per database.
pytestmark = pytest.mark.xdist_group(__name__)

JAN, FEB, MAR, APR = (datetime(2026, m, 1, 9, tzinfo=AMSTERDAM) for m in (1, 2, 3, 4))


def entry(name: str) -> RegisterEntry:
    return RegisterEntry(
        name=name,
        purposes=[name],
        legal_basis=LegalBasis.PUBLIC_TASK,
        legal_basis_law="Awb",
        data_subject_categories=["inwoners"],
        personal_data_categories=["NAW"],
        retention="7 jaar",
        security_measures=["BIO"],
        process_owner="hoofd Publiekszaken",
    )


@pytest.fixture(params=["sqlite", "postgres"])
def app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = request.getfixturevalue("pg_database").url
    return Bewijslast(env=database_env(url), clock=lambda: MAR)


def officer(town: str) -> Actor:
    return Actor.with_grants(f"pb@{town}.nl", [Grant(Role.PRIVACY_OFFICER, town)])


def register(app, town: str, name: str, valid_from: datetime):
    return app.execute(
        RegisterProcessingActivity(
            municipality=town,
            controller="college van B&W",
            entry=entry(name),
            valid_from=valid_from,
        ),
        officer(town),
    )


@pytest.fixture
def history_of_two_towns(app):
    bijstand = register(app, "Leusden", "Bijstand", JAN)
    camera = register(app, "Leusden", "Cameratoezicht", JAN)
    register(app, "Putten", "Bijstand", JAN)
    app.execute(
        AmendProcessingActivity(
            aggregate_id=bijstand,
            changes=RegisterChanges(name="Bijstand en terugvordering"),
            valid_from=FEB,
        ),
        officer("Leusden"),
    )
    # A DPIA as recorded before the DPIA procedure: still a version of the register.
    recorded = app.repository.get(camera)
    recorded._dpia_recorded(
        outcome="aanvaardbaar", residual_risk="laag", fg_advice=None, recorded_at=MAR, actor="pb"
    )
    app.save(recorded)
    app.execute(
        RetireProcessingActivity(aggregate_id=camera, reason="gestopt", valid_from=APR),
        officer("Leusden"),
    )
    return bijstand, camera


def test_the_register_as_it_stands_as_it_stood_and_each_entrys_history(app, history_of_two_towns):
    _, camera = history_of_two_towns
    runner = ReadModelRunner(app, [ProcessingRegister()])
    assert runner.catch_up_all() == {"processing_register": 6}
    with runner.db.transaction() as cursor:
        now = current_register(cursor, "Leusden")
        assert [r["entry"]["name"] for r in now] == ["Bijstand en terugvordering"]
        in_january = register_as_of(cursor, "Leusden", datetime(2026, 1, 15, tzinfo=AMSTERDAM))
        assert sorted(r["entry"]["name"] for r in in_january) == ["Bijstand", "Cameratoezicht"]
        in_march = register_as_of(cursor, "Leusden", datetime(2026, 3, 15, tzinfo=AMSTERDAM))
        assert sorted(r["entry"]["name"] for r in in_march) == [
            "Bijstand en terugvordering",
            "Cameratoezicht",
        ]
        versions = history(cursor, str(camera))
    assert [v["status"] for v in versions] == ["actief", "actief", "beëindigd"]
    assert [v["version_uri"] for v in versions] == [version_uri(camera, n) for n in (1, 2, 3)]
    assert app.repository.get(camera).version_uri == versions[-1]["version_uri"]


class Crashing(ProcessingRegister):
    """Fails once, at the given position, as a process killed mid-batch would."""

    def __init__(self, at: int) -> None:
        self.at, self.failed = at, False

    def apply(self, cursor, event, position):
        super().apply(cursor, event, position)
        if position == self.at and not self.failed:
            self.failed = True
            raise RuntimeError("crash")


def test_a_crash_mid_way_resumes_without_skipping_or_double_counting(app, history_of_two_towns):
    crashing = Crashing(at=4)
    runner = ReadModelRunner(app, [crashing])
    with pytest.raises(ProjectionFailed, match="processing_register cannot apply") as failed:
        runner.catch_up(crashing)
    assert "from index 0 on (RuntimeError: crash)" in str(failed.value)
    assert runner.position(crashing) == 0
    with runner.db.transaction() as cursor:
        cursor.execute("SELECT COUNT(*) FROM register_versions")
        assert cursor.fetchone()[0] == 0  # the batch was rolled back whole
    assert runner.catch_up(crashing) == 6
    assert runner.catch_up(crashing) == 0
    with runner.db.transaction() as cursor:
        cursor.execute("SELECT COUNT(*) FROM register_versions")
        assert cursor.fetchone()[0] == 6


def test_small_batches_resume_where_they_stopped(app, history_of_two_towns):
    runner = ReadModelRunner(app, [ProcessingRegister()])
    projection = runner.projections[0]
    assert runner.catch_up(projection, limit=4) == 4
    assert runner.catch_up(projection) == 2
    with runner.db.transaction() as cursor:
        cursor.execute("SELECT COUNT(*) FROM register_versions")
        assert cursor.fetchone()[0] == 6


def test_a_rebuild_from_index_0_gives_the_same_register(app, history_of_two_towns):
    runner = ReadModelRunner(app, [ProcessingRegister()])
    runner.catch_up_all()
    with runner.db.transaction() as cursor:
        before = history(cursor, str(history_of_two_towns[0]))
    assert runner.rebuild(runner.projections[0]) == 6
    with runner.db.transaction() as cursor:
        assert history(cursor, str(history_of_two_towns[0])) == before


def test_on_postgresql_the_read_models_live_in_their_own_schema(pg_database):
    app = Bewijslast(env=database_env(pg_database.url), clock=lambda: MAR)
    register(app, "Leusden", "Bijstand", JAN)
    ReadModelRunner(app, [ProcessingRegister()]).catch_up_all()
    import psycopg

    with psycopg.connect(pg_database.url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_name IN ('register_versions', 'projection_positions', 'bewijslast_events')"
        ).fetchall()
    assert sorted(tables) == [
        ("projections", "projection_positions"),
        ("projections", "register_versions"),
        ("public", "bewijslast_events"),
    ]
