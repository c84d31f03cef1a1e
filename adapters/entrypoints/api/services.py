"""What the API's routes work with: one ``Services`` per application, kept in the FastAPI
application's state. The routes themselves are built once per process and shared by every
application made in it (``app.routes``): they find their application's services through the
request, never through closures of their own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from fastapi import Request

from adapters.entrypoints.api.problems import invalid, not_found
from adapters.persistence.stores import ledger_of
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.receipts import checkpoint_size
from adapters.services.reconstruction import events_upto, in_force, index_at, replayed
from domain.application import Bewijslast, Recorded
from domain.authorization import Actor, Command, authorise
from domain.values import plausible
from projections.base import Cursor, ReadModel
from projections.catalogue import all_projections

Sign = Callable[[], str]
MAX_EXPORTS = 2  # bundles made at once, so that many cannot exhaust the server


class Services:
    def __init__(self, app: Bewijslast, sign: Sign | None) -> None:
        self.app = app
        self.sign = sign
        self.runner = ReadModelRunner(app, all_projections())
        self.ledger = ledger_of(app)
        self.exporting = threading.BoundedSemaphore(MAX_EXPORTS)

    def answer(self, recorded: Recorded) -> dict[str, Any]:
        """The record, its entry, and the signed checkpoint that already holds it (``null``
        until one does: the receipt can then be fetched later, or signed on request)."""
        signed = recorded.signed
        if recorded.repeated:
            note = self.ledger.latest_signed_checkpoint()
            signed = None if note is None else checkpoint_size(note)
        return {
            "id": str(recorded.id),
            "index": recorded.index,
            "checkpoint": signed if signed is not None and signed > recorded.index else None,
            "receipt": f"/ledger/receipts/{recorded.index}",
        }

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        """A transaction on caught-up read models: answers are never behind the ledger."""
        self.runner.catch_up_all()  # runners take turns on the positions' locks
        with self.runner.db.reading() as cursor:
            yield cursor

    def may_read(self, caller: Actor, municipality: str, controller: str | None = None) -> None:
        """The caller may read there, and the organisation declares that owner."""
        authorise(caller, Command.READ_REGISTERS, municipality, None)
        self.app.check_owner(municipality, controller)

    @contextmanager
    def read_then(
        self,
        projection: ReadModel,
        as_recorded_at: datetime | None,
        as_of: datetime | None = None,
    ) -> Iterator[Cursor]:
        """The read model as the ledger knew it at ``as_recorded_at`` and as far as it was in
        force at ``as_of`` (stated), replayed afresh; the live one when neither is asked."""
        if as_recorded_at is None and as_of is None:
            with self.read() as cursor:
                yield cursor
            return
        upto = self.ledger.ledger_size() - 1
        if as_recorded_at is not None:
            upto = index_at(self.ledger, utc(as_recorded_at, "query.as_recorded_at"))
            if upto < 0:
                raise not_found("an entry recorded at or before that moment")
        events = events_upto(self.app, projection, upto)
        if as_of is not None:
            events = in_force(events, utc(as_of, "query.as_of"))
        yield replayed(projection, events)


def services_of(request: Request) -> Services:
    """The services of the application that ``request`` came to."""
    return cast(Services, request.app.state.services)


def utc(moment: datetime, field: str) -> datetime:
    """A query's moment in UTC, within the years the domain accepts moments in."""
    if moment.tzinfo is None:
        raise invalid(field, "give the moment with its UTC offset, e.g. 2026-03-02T09:00:00Z")
    try:
        return plausible(moment).astimezone(UTC)
    except ValueError as e:
        raise invalid(field, str(e)) from None
