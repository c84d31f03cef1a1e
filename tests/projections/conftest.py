"""The known history of ``history.py``, recorded once per database and projected."""

from __future__ import annotations

import pytest

from adapters.services.projection_runner import ReadModelRunner
from projections.catalogue import all_projections
from tests.conftest import fresh_pg_database
from tests.projections.history import T0, Clock, open_history, record_history


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'b.db'}"
    else:
        with fresh_pg_database(request.getfixturevalue("pg_url")) as database:
            yield database.url


@pytest.fixture(scope="module")
def recorded(database_url, tmp_path_factory):
    url, tmp = database_url, tmp_path_factory.mktemp("keys")
    clock = Clock(T0)
    history = open_history(url, tmp / "keys", clock)
    record_history(history)
    runner = ReadModelRunner(history.app, all_projections())
    runner.catch_up_all()
    return history, runner


@pytest.fixture
def cursor(recorded):
    _, runner = recorded
    with runner.db.transaction() as cursor:
        yield cursor


@pytest.fixture
def ids(recorded):
    return recorded[0].ids


@pytest.fixture
def app(recorded):
    return recorded[0].app
