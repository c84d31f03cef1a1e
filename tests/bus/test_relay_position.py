"""The relay records its position only after the broker confirmed the whole batch, and only
while it holds the ledger's lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.bus.relay import Batch, LeaseHeld, LeaseLost, NotConfirmed, Position, RelayTracking
from tests.bus.conftest import Tap, fresh_exchange, relay_everything, relay_to, run

# All on one worker (pytest -n, --dist loadgroup): its demo ledgers are recorded once.
pytestmark = pytest.mark.xdist_group(__name__)


def test_an_unroutable_batch_leaves_the_position_where_it_was(demo, amqp_url):
    # No alternate exchange and no queue bound: the broker returns every message.
    exchange = fresh_exchange(parks_unrouted=False)
    relay, bus = relay_to(demo, amqp_url, exchange, batch=50)
    tap = Tap(amqp_url, exchange)

    async def go() -> tuple[Position, Position]:
        async with bus.broker:
            await bus.declare()
            with pytest.raises(NotConfirmed):
                await relay.relay_batch()
            refused = relay.tracking.position()
            await tap.bind()
            await relay.relay_batch()
            return refused, relay.tracking.position()

    refused, confirmed = run(go())
    assert refused == Position(0, 0)
    assert confirmed.next_index == 50
    assert len(run(tap.drain())) >= 50


def test_entries_nobody_binds_to_are_parked_not_refused(demo, amqp_url):
    relay, bus = relay_to(demo, amqp_url, fresh_exchange(), batch=50)

    async def go() -> int:
        async with bus.broker:
            await bus.declare()
            return await relay.relay_batch()

    assert run(go()) >= 50
    assert relay.tracking.position().next_index == 50


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_one_relay_holds_the_lease_until_it_lapses_or_is_released(demo):
    relay, _ = relay_to(demo, "amqp://unused/", fresh_exchange())
    db, name = relay.tracking.db, relay.tracking.name
    clock = Clock()
    first = RelayTracking(db, name, lease_seconds=10, clock=clock)
    second = RelayTracking(db, name, lease_seconds=10, clock=clock)

    start = first.hold()
    with pytest.raises(LeaseHeld):
        second.hold()
    clock.now += timedelta(seconds=11)  # the first relay stopped renewing
    assert second.hold() == start
    with pytest.raises(LeaseLost):  # its batch is not recorded
        first.advance(start, Position(10, 0))
    second.advance(start, Position(10, 0))
    second.release()
    assert first.hold() == Position(10, 0)


def test_each_batch_is_read_from_the_position_the_one_before_recorded(demo, amqp_url):
    # Not while the broker confirms the one before: read beside the publishing, in a thread of
    # the same process, it slowed the relay (docs/BENCHMARKS.md, "Relay to RabbitMQ").
    relay, _ = relay_to(demo, amqp_url, fresh_exchange(), batch=50)
    read_from: list[int] = []
    read = relay.next_batch

    def next_batch() -> Batch:
        read_from.append(relay.tracking.position().next_index)
        return read()

    relay.next_batch = next_batch  # type: ignore[method-assign]
    run(relay_everything(relay))
    size = relay.recorder.ledger_size()
    assert size > 100
    assert read_from == [min(start, size) for start in range(0, size + 50, 50)]
