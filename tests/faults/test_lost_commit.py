"""A COMMIT whose acknowledgement is lost (the connection drops right after the server
committed) and then the client's retry with its idempotency key: recorded exactly once, and
the retry learns the id of what was recorded. Against a real PostgreSQL, through a proxy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from eventsourcing.persistence import PersistenceError

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from domain.commands import ReportIncident
from ledger.verify import verify_ledger
from tests.faults.proxy import CommitDropper

pytestmark = pytest.mark.long

TOWN = "Leusden"
EMPLOYEE = Actor.with_grants("medewerker@leusden.nl", [Grant(Role.EMPLOYEE, TOWN)])
T = TypeVar("T")
REPORT = ReportIncident(municipality=TOWN, controller="college van B&W", summary="laptop kwijt")


@pytest.fixture
def through_proxy(pg_database):
    proxy = CommitDropper((pg_database.host, pg_database.port))
    url = f"postgresql://{pg_database.user}@127.0.0.1:{proxy.port}/{pg_database.name}"
    # The incident's summary is sealed under its record key; the keys are kept beside the
    # proxy so that the one COMMIT it drops is the events'.
    keys = open_key_store(pg_database.url, MasterKey.generate())
    app = Bewijslast(
        env=database_env(url), transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()]
    )
    yield app, proxy
    app.close()
    proxy.close()


def as_a_client(call: Callable[[], T]) -> T:
    """Retried while the database cannot be reached, as a client retries a 503."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return call()
        except PersistenceError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.parametrize("refuse_seconds", [0.0, 15.0], ids=["server-back-at-once", "server-gone"])
def test_a_lost_commit_acknowledgement_and_the_retry_record_once(through_proxy, refuse_seconds):
    """At once: the recorder's own retry finds the key and answers with the first record.
    Gone for longer than the recorder retries: the command fails as an outage, and the
    client's retry with the same key gets the id it never learned."""
    app, proxy = through_proxy
    app.record(REPORT, EMPLOYEE, "warm-up")  # tables made, a pooled connection
    size = app.recorder.ledger_size()
    proxy.arm(refuse_seconds)
    try:
        first = app.record(REPORT, EMPLOYEE, "melding-1")
    except PersistenceError:
        first = None
    assert proxy.dropped == 1
    assert as_a_client(app.recorder.ledger_size) == size + 1
    retried = as_a_client(lambda: app.record(REPORT, EMPLOYEE, "melding-1"))
    assert retried.repeated
    if first is not None:
        assert first.repeated  # answered from the stored key, not recorded twice
        assert first.id == retried.id
    # Each of the pool's connections that the outage cut fails once when next used; a
    # client retries a read as it retries a command.
    assert as_a_client(app.recorder.ledger_size) == size + 1
    assert retried.index == size
    records = as_a_client(lambda: list(app.recorder.records(0, size)))
    assert records[-1].entry.stream == str(retried.id)
    assert verify_ledger(records, [], [], origin="-", reaches_end=True).ok
    assert (first is None) == (refuse_seconds > 0)


def test_without_a_key_the_recorders_retry_finds_its_own_events(through_proxy):
    """The library's retry would meet its own committed row as a duplicate key and fail a
    recorded command; the recorder sees that these very events are stored and answers."""
    app, proxy = through_proxy
    app.record(REPORT, EMPLOYEE)
    proxy.arm()
    recorded = app.record(REPORT, EMPLOYEE)
    assert proxy.dropped == 1
    assert app.recorder.ledger_size() == 2
    assert next(app.recorder.records(1, 1)).entry.stream == str(recorded.id)
