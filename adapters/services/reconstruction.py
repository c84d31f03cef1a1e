"""Audit reconstruction: a record, or a whole read model, as the ledger stood at an index or
a moment, with every entry it was built from and a receipt for each.

Two questions, one for each of an entry's two times (DESIGN.md "Two times"): what the ledger
knew at a moment (``as recorded at``: the entries recorded by then) and what was in force at a
moment (``as of``: per record, its entries up to the first one stated after that moment). Both
may be asked at once: what the ledger knew then about what was in force earlier.

The reconstruction is computed afresh: the entries up to the cut-off are replayed through the
same projection code into an empty in-memory database, so it does not depend on the live
read models being right. An auditor checks it without trusting the server
(``ledger.evidence``): every receipt verifies under one signed checkpoint, every state
matches its entry, and a record's entries are its whole stream up to the cut-off.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.persistence.personal_data import opened
from adapters.persistence.sqldb import Cursor
from adapters.persistence.stores import ledger_of
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.receipts import Proven, checkpoint_for, prove
from domain.application import Bewijslast
from domain.errors import UnknownRecord
from ledger.entry import format_recorded_at
from ledger.errors import MalformedInput
from ledger.store import LedgerStore
from projections.base import ReadModel, stated_at

BATCH = 500
# A whole read model is replayed from index 0 in memory and every entry gets a receipt (an
# inclusion proof each, most of the cost): at most this many events, so that one request's cost
# has a bound (bench/reconstruction.py); a record's reconstruction fetches only its own entries.
MAX_EVENTS = 5_000
# Whether the caller may see a record of this municipality and controller.
Visible = Callable[[str, str | None], bool]


class TooMuchToReplay(MalformedInput):
    """A whole read model over more events than a request may replay."""


def index_at(ledger: LedgerStore, moment: datetime) -> int:
    """The last ledger index recorded at or before ``moment`` (-1: none). ``recorded_at``
    never decreases along the ledger, so a binary search finds it."""
    target = format_recorded_at(moment)
    low, high = 0, ledger.ledger_size() - 1
    found = -1
    while low <= high:
        middle = (low + high) // 2
        if next(ledger.records(middle, middle)).entry.recorded_at <= target:
            found, low = middle, middle + 1
        else:
            high = middle - 1
    return found


@dataclass(frozen=True)
class Reconstruction:
    projection: str
    record: str | None
    upto: int  # the last ledger index taken into account
    as_of: datetime | None  # the stated moment, if the question was asked for one
    result: list[dict[str, Any]]
    evidence: dict[int, Proven]  # every entry it was built from
    following: Proven | None  # a record's next entry after the cut-off, if any
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        def entry(proven: Proven) -> dict[str, Any]:
            state = proven.record.state
            return {
                "index": proven.record.entry.index,
                "entry": proven.record.entry.to_object(),
                "state": None if state is None else base64.b64encode(state).decode(),
                "receipt": proven.receipt.format(),
            }

        return {
            "projection": self.projection,
            "record": self.record,
            "as_of_index": self.upto,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "result": self.result,
            "entries": [entry(p) for _, p in sorted(self.evidence.items())],
            "following_entry": None if self.following is None else entry(self.following),
            "checkpoint": self.checkpoint,
        }


def _events(
    app: Bewijslast, projection: ReadModel, upto: int, limit: int | None = MAX_EVENTS
) -> Iterator[tuple[int, Any]]:
    start, count = 1, 0
    while True:
        batch = app.recorder.select_notifications(
            start, BATCH, stop=upto + 1, topics=projection.topics
        )
        count += len(batch)
        if limit is not None and count > limit:
            raise TooMuchToReplay(
                f"{projection.name} up to index {upto} holds more than {MAX_EVENTS} events: "
                "reconstruct one record, or at an earlier index"
            )
        for notification in batch:
            yield notification.id, app.mapper.to_domain_event(notification)
        if len(batch) < BATCH:
            return
        start = batch[-1].id + 1


def _event_at(app: Bewijslast, index: int) -> tuple[int, Any]:
    (notification,) = app.recorder.select_notifications(index + 1, 1)
    return notification.id, app.mapper.to_domain_event(notification)


def in_force(events: list[tuple[int, Any]], as_of: datetime) -> list[tuple[int, Any]]:
    """Per record, its events up to the first stated after ``as_of``: what had happened by
    then, in the order the ledger learnt it (a later step never stands without its earlier)."""
    passed: set[Any] = set()
    kept = []
    for position, event in events:
        if event.originator_id in passed:
            continue
        if stated_at(event) > as_of:
            passed.add(event.originator_id)
            continue
        kept.append((position, event))
    return kept


def replayed(
    projection: ReadModel, events: list[tuple[int, Any]], into: Cursor | None = None
) -> Cursor:
    """The read model built afresh from ``events`` alone, in memory (``into``: beside others
    built there)."""
    replay = into or Cursor(sqlite3.connect(":memory:").cursor(), postgres=False)
    projection.create_tables(replay)
    for position, event in events:
        projection.apply(replay, event, position)
    return replay


def events_upto(
    app: Bewijslast, projection: ReadModel, upto: int, limit: int | None = MAX_EVENTS
) -> list[tuple[int, Any]]:
    return list(_events(app, projection, upto, limit))


def reconstruct(
    app: Bewijslast,
    projection: ReadModel,
    *,
    upto: int,
    record: str | None = None,
    as_of: datetime | None = None,
    sign: Callable[[], str] | None = None,
    visible: Visible | None = None,
) -> Reconstruction:
    """``record`` (or every record, when None) as it stood after ledger index ``upto``, and,
    with ``as_of``, as far as it was in force at that stated moment.

    With ``visible``, only the records it allows, and the entries they were built from, are
    given: another municipality's records are not shown, and need not be, since each record's
    receipts prove it on their own against the signed checkpoint. A record not visible is
    reported as not there at all (``UnknownRecord``)."""
    ledger = ledger_of(app)
    size = ledger.ledger_size()
    if not 0 <= upto < size:
        raise MalformedInput(f"index {upto} is not in the ledger (size {size})")
    if record is None:
        events = events_upto(app, projection, upto)
        following = None
    else:
        # The live read model only tells which entries to fetch; the stream links prove
        # that none were left out.
        runner = ReadModelRunner(app, [projection])
        runner.catch_up(projection)
        with runner.db.transaction() as cursor:
            indices = projection.entries_of(cursor, record)
        events = [_event_at(app, i) for i in indices if i <= upto]
        following = next((i for i in indices if i > upto), None)
    if as_of is not None:
        kept = in_force(events, as_of)
        if record is not None and len(kept) < len(events):
            # The record's first entry stated after ``as_of``: its stream went on.
            following = events[len(kept)][0] - 1
        events = kept
    result = projection.snapshot(replayed(projection, events), record)
    if visible is not None:
        result = [r for r in result if visible(r["municipality"], r.get("controller"))]
        shown = {projection.key(r) for r in result}
        events = [(p, e) for p, e in events if str(e.originator_id) in shown]
        if record is not None and not result:
            raise UnknownRecord(f"record {record}")
    result = opened(app, result)
    wanted = [position - 1 for position, _ in events]
    last = max([upto, *([] if following is None else [following])])
    note = checkpoint_for(ledger, max(last, 0), sign)
    proven = prove(ledger, [*wanted, *([] if following is None else [following])], note)
    return Reconstruction(
        projection=projection.name,
        record=record,
        upto=upto,
        as_of=as_of,
        result=result,
        evidence={i: proven[i] for i in wanted},
        following=None if following is None else proven[following],
        checkpoint=note,
    )
