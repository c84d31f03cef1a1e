"""The relay: the event store is the outbox, and the relay empties it onto the bus.

It follows the ledger from its tracked position, publishes a batch of entries (and the signed
checkpoints they complete) concurrently, and records the new position only once the broker
has confirmed every message of the batch. Any failure backs off and retries the whole batch:
a message may be published twice (a consumer drops it by its event id), never lost. The
position lives in the event-store database beside a lease, so that two relays of one ledger
never interleave; the position only advances from the value the batch started at.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from faststream.rabbit.publisher import RabbitPublisher
from pamqp.commands import Basic

from adapters.bus.messages import (
    CHECKPOINT_ROUTING_KEY,
    Outgoing,
    checkpoint_event,
    entry_message,
    outgoing,
)
from adapters.bus.wiring import LedgerBus, ledger_bus
from adapters.config import Settings
from adapters.persistence.appending import Clock, utc_now
from adapters.persistence.positions import (
    LEASE_SECONDS,
    LeaseHeld,
    LeaseLost,
    Position,
    RelayTracking,
)
from adapters.persistence.sqldb import Database
from adapters.persistence.stores import datastore_of, ledger_of
from adapters.services.receipts import checkpoint_size
from domain.application import Bewijslast
from ledger.note import split_note
from ledger.store import LedgerStore

log = logging.getLogger(__name__)
SCHEMA = "bus"  # on PostgreSQL; SQLite has one namespace per file
BATCH = 500
POLL_SECONDS = 0.2
CONFIRM_TIMEOUT = 10.0
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 10.0


class NotConfirmed(Exception):
    """The broker did not confirm every message of a batch; the position stays put."""


@dataclass(frozen=True)
class Batch:
    start: Position
    entries: list[Outgoing]
    checkpoints: list[Outgoing]
    end: Position


class Relay:
    def __init__(
        self,
        recorder: LedgerStore,
        tracking: RelayTracking,
        bus: LedgerBus,
        source: str,
        *,
        batch: int = BATCH,
        with_state: bool = False,
        confirm_timeout: float = CONFIRM_TIMEOUT,
    ) -> None:
        self.recorder, self.tracking, self.bus, self.source = recorder, tracking, bus, source
        self.batch_size, self.with_state = batch, with_state
        self.confirm_timeout = confirm_timeout
        self._cosigned: str | None = None  # the cosigned checkpoint this process published

    def next_batch(self) -> Batch:
        """The entries after the recorded position and the checkpoints they complete,
        encoded: work done off the event loop. The lease is renewed on the way."""
        start = self.tracking.hold()
        last = min(self.recorder.ledger_size(), start.next_index + self.batch_size) - 1
        records = list(self.recorder.records(start.next_index, last))
        entries = [entry_message(r, self.source, with_state=self.with_state) for r in records]
        end_index = start.next_index + len(records)
        notes = self._checkpoints_between(start.checkpoint_size, end_index)
        checkpoints = [
            outgoing(checkpoint_event(n, self.source), CHECKPOINT_ROUTING_KEY) for n in notes
        ]
        end_size = checkpoint_size(notes[-1]) if notes else start.checkpoint_size
        return Batch(start, entries, checkpoints, Position(end_index, end_size))

    def _checkpoints_between(self, after_size: int, up_to_size: int) -> list[str]:
        """Signed checkpoints larger than the last one published, whose entries are all
        published by then: a consumer can check each as it arrives."""
        latest = self.recorder.latest_signed_checkpoint()
        if latest is None or checkpoint_size(latest) <= after_size:
            return []
        return [
            note
            for note in self.recorder.signed_checkpoints()
            if after_size < checkpoint_size(note) <= up_to_size
        ]

    async def relay_batch(self) -> int:
        """Publish one batch and record it; how many messages were published."""
        return await self._send(await asyncio.to_thread(self.next_batch))

    async def relay_available(self) -> int:
        """Publish batch after batch until nothing is left; how many messages were published.
        A batch is read once the one before is confirmed and recorded: read while the broker
        confirmed, in a thread of this process, it took the interpreter from the event loop
        that publishes, and the relay was slower (docs/BENCHMARKS.md, "Relay to RabbitMQ")."""
        published = 0
        while sent := await self.relay_batch():
            published += sent
        return published

    async def relay_cosignatures(self) -> int:
        """The newest checkpoint once more when witnesses' cosignatures arrived for it after
        it was published (under its own event id, so that consumers keep the copy). Run
        after a batch, by the relay that holds the lease; 1 when it was published."""
        note = await asyncio.to_thread(self.recorder.latest_signed_checkpoint)
        if note is None or note == self._cosigned:
            return 0
        cosignatures = len(split_note(note)[1]) - 1
        published = await asyncio.to_thread(self.tracking.position)
        if cosignatures < 1 or checkpoint_size(note) > published.checkpoint_size:
            return 0  # none yet, or its entries are not all out: the batch will carry it
        event = checkpoint_event(note, self.source)
        event = event.model_copy(update={"id": f"{event.id}-cosigned-{cosignatures}"})
        message = outgoing(event, CHECKPOINT_ROUTING_KEY)
        await publish_confirmed(self.bus.checkpoints, [message], self.confirm_timeout)
        self._cosigned = note
        return 1

    async def _send(self, batch: Batch) -> int:
        await publish_confirmed(self.bus.entries, batch.entries, self.confirm_timeout)
        await publish_confirmed(self.bus.checkpoints, batch.checkpoints, self.confirm_timeout)
        if batch.end != batch.start:
            await asyncio.to_thread(self.tracking.advance, batch.start, batch.end)
        return len(batch.entries) + len(batch.checkpoints)

    async def run_until(self, stopping: asyncio.Event, *, poll: float = POLL_SECONDS) -> None:
        """Connect, declare, and keep publishing until ``stopping`` is set; a batch in flight
        is finished (its confirms wait at most ``confirm_timeout``), never half recorded."""
        backoff = BACKOFF_FIRST
        try:
            while not stopping.is_set():
                try:
                    async with self.bus.broker:
                        await self.bus.declare()
                        await self._follow(stopping, poll)
                except Exception as e:
                    log.warning("relay: %s; retrying in %.1f s", e, backoff)
                    await _pause(stopping, backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            await asyncio.to_thread(self.tracking.release)

    async def _follow(self, stopping: asyncio.Event, poll: float) -> None:
        backoff = BACKOFF_FIRST
        while not stopping.is_set():
            try:
                published = await self.relay_available()
                published += await self.relay_cosignatures()
            except (NotConfirmed, LeaseHeld, LeaseLost) as e:
                log.warning("relay: %s; retrying the batch in %.1f s", e, backoff)
                await _pause(stopping, backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_FIRST
            if published == 0:
                await _pause(stopping, poll)


async def publish_confirmed(
    publisher: RabbitPublisher, messages: Sequence[Outgoing], timeout: float = CONFIRM_TIMEOUT
) -> None:
    """Publish concurrently, each awaiting its own confirm; NotConfirmed unless every one
    came back as Basic.Ack."""
    results = await asyncio.gather(
        *(
            publisher.publish(
                m.body,
                routing_key=m.routing_key,
                message_id=m.message_id,
                message_type=m.type,
                timeout=timeout,
            )
            for m in messages
        ),
        return_exceptions=True,
    )
    for message, result in zip(messages, results, strict=True):
        if not isinstance(result, Basic.Ack):
            cause = result if isinstance(result, BaseException) else None
            raise NotConfirmed(f"{message.message_id} ({message.type}): {result!r}") from cause


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


def relay_for(
    app: Bewijslast,
    bus: LedgerBus,
    source: str,
    *,
    batch: int = BATCH,
    with_state: bool = False,
    lease_seconds: float = LEASE_SECONDS,
    clock: Clock = utc_now,
) -> Relay:
    """A relay of ``app``'s ledger to ``bus``; its position is named after the exchange."""
    db = Database(datastore_of(app), schema=SCHEMA)
    tracking = RelayTracking(db, bus.exchange.name, lease_seconds=lease_seconds, clock=clock)
    return Relay(ledger_of(app), tracking, bus, source, batch=batch, with_state=with_state)


async def run_relay_until(
    settings: Settings,
    app: Bewijslast,
    broker_url: str,
    stopping: asyncio.Event,
    *,
    batch: int = BATCH,
    with_state: bool = False,
    lease_seconds: float = LEASE_SECONDS,
) -> None:
    """Relay ``app``'s ledger to the broker at ``broker_url`` until ``stopping`` is set."""
    relay = relay_for(
        app,
        ledger_bus(broker_url),
        settings.event_source,
        batch=batch,
        with_state=with_state,
        lease_seconds=lease_seconds,
    )
    await relay.run_until(stopping)
