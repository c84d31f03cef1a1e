"""Audit reconstruction: records and registers as of an index or a moment, with evidence an
auditor checks with the verifier key alone."""

from __future__ import annotations

import base64
import dataclasses
from datetime import datetime, timedelta

import pytest

from adapters.persistence.personal_data import opened
from adapters.services.reconstruction import index_at, reconstruct
from ledger.entry import Entry
from ledger.errors import StateHashMismatch, StreamLinkBroken
from ledger.evidence import verify_evidence, verify_whole_stream
from projections.incidents import IncidentRegister
from projections.register import ProcessingRegister

# All on one worker (pytest -n, --dist loadgroup): its history is recorded once per database.
pytestmark = pytest.mark.xdist_group(__name__)


@pytest.fixture
def verifiers(recorded):
    return recorded[0].verifiers


def audit(document, verifiers):
    """What an auditor does with a reconstruction: nothing of the server is trusted."""
    receipts = {e["index"]: e["receipt"] for e in document["entries"]}
    states = {e["index"]: base64.b64decode(e["state"]) for e in document["entries"]}
    entries, checkpoint = verify_evidence(receipts, states, verifiers)
    following = document["following_entry"]
    if document["record"] is not None:
        after = None
        if following is not None:
            (after,), _ = verify_evidence({following["index"]: following["receipt"]}, {}, verifiers)
        verify_whole_stream(entries, after)
    return entries, checkpoint


def index_of(app, record, event: str) -> int:
    with_cursor = IncidentRegister()
    from adapters.services.projection_runner import ReadModelRunner

    runner = ReadModelRunner(app, [with_cursor])
    with runner.db.transaction() as cursor:
        return with_cursor.load(cursor, str(record))["evidence"][event][0]


def test_a_breach_as_it_stood_before_the_ap_was_notified(recorded, verifiers):
    history, _ = recorded
    b = str(history.ids["B"])
    notified = index_of(history.app, b, "APNotificationSubmitted")
    before = reconstruct(
        history.app, IncidentRegister(), upto=notified - 1, record=b, sign=history.sign
    )
    (record,) = before.result
    assert record["ap_notifications"] == []
    assert before.following is not None
    assert before.following.record.entry.index == notified
    entries, checkpoint = audit(before.to_json(), verifiers)
    assert [e.index for e in entries] == sorted(before.evidence)
    assert checkpoint.size > notified

    after = reconstruct(history.app, IncidentRegister(), upto=notified, record=b, sign=history.sign)
    assert after.result[0]["ap_notifications"][0]["meldingsnummer"] == "M-1"
    assert after.following is None or after.following.record.entry.index > notified
    audit(after.to_json(), verifiers)


def test_the_reconstruction_at_the_end_equals_the_live_read_model(recorded):
    history, runner = recorded
    last = history.app.recorder.ledger_size() - 1
    for projection in (IncidentRegister(), ProcessingRegister()):
        rebuilt = reconstruct(history.app, projection, upto=last, sign=history.sign)
        with runner.db.transaction() as cursor:
            assert rebuilt.result == opened(history.app, projection.snapshot(cursor))


def test_the_register_as_of_an_index_before_a_dpia(recorded, verifiers):
    history, _ = recorded
    register = ProcessingRegister()
    jeugdzorg = str(history.ids["Jeugdzorg"])
    whole = reconstruct(
        history.app, register, upto=history.app.recorder.ledger_size() - 1, sign=history.sign
    )
    dpia = max(whole.evidence)  # the DPIA was the register's last event
    before = reconstruct(history.app, register, upto=dpia - 1, sign=history.sign)
    assert {r["activity"]: r["dpia_at"] for r in before.result}[jeugdzorg] is None
    assert {r["activity"]: r["dpia_at"] for r in whole.result}[jeugdzorg] is not None
    audit(before.to_json(), verifiers)


def test_as_of_a_moment_finds_the_last_entry_recorded_by_then(recorded):
    history, _ = recorded
    recorder = history.app.recorder
    some = next(recorder.records(7, 7)).entry.recorded_at
    moment = datetime.strptime(some, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert index_at(recorder, moment) >= 7
    assert index_at(recorder, moment - timedelta(days=3650)) == -1
    assert index_at(recorder, moment + timedelta(days=3650)) == recorder.ledger_size() - 1


def test_an_auditor_catches_a_changed_state_and_a_left_out_entry(recorded, verifiers):
    history, _ = recorded
    b = str(history.ids["B"])
    document = reconstruct(
        history.app,
        IncidentRegister(),
        upto=history.app.recorder.ledger_size() - 1,
        record=b,
        sign=history.sign,
    ).to_json()
    changed = dict(document, entries=[dict(e) for e in document["entries"]])
    changed["entries"][1]["state"] = base64.b64encode(b"{}").decode()
    with pytest.raises(StateHashMismatch):
        audit(changed, verifiers)
    left_out = dict(document, entries=document["entries"][:1] + document["entries"][2:])
    with pytest.raises(StreamLinkBroken):
        audit(left_out, verifiers)


def test_the_stream_check_refuses_a_fork():
    first = Entry(0, "s", 1, None, "t", "00" * 32, "2026-01-01T00:00:00.000000Z")
    second = dataclasses.replace(first, index=1, stream_seq=2, stream_prev="11" * 32)
    with pytest.raises(StreamLinkBroken):
        verify_whole_stream([first, second], None)
