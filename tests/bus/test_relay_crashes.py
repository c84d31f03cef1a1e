"""A crash at any instant loses nothing and duplicates only what a consumer drops: a relay
killed with SIGKILL re-sends at most one batch; a broker killed mid-stream loses nothing."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.bus.messages import event_id
from adapters.bus.relay import SCHEMA, Position, RelayTracking
from adapters.bus.wiring import LEDGER_EXCHANGE
from adapters.bus.witness import Witness, declare_dead_letters, witness_broker
from adapters.demo import record_demo
from adapters.persistence.sqldb import Database
from tests.bus.conftest import (
    ON_THE_LEDGER_EXCHANGE,
    ORIGIN,
    Tap,
    delete_queues,
    fresh_exchange,
    relay_to,
    run,
    until,
)
from tests.bus.rabbitmq import RabbitNode

pytestmark = ON_THE_LEDGER_EXCHANGE

BATCH = 20


def tracking_of(demo, exchange_name: str) -> RelayTracking:
    """Reads the position a relay records (it never takes the lease itself)."""
    return RelayTracking(Database(demo.app.factory.datastore, schema=SCHEMA), exchange_name)


def while_running(process: subprocess.Popen[bytes], condition):
    def check() -> bool:
        assert process.poll() is None, f"the relay exited with {process.returncode}"
        return bool(condition())

    return check


def last_checkpoint_size(demo) -> int:
    return int(demo.recorder.latest_signed_checkpoint().split("\n")[1])


def test_a_killed_relay_resends_at_most_one_batch_and_the_witness_drops_it(
    demo, amqp_url, tmp_path
):
    size = demo.recorder.ledger_size()
    done = Position(size, last_checkpoint_size(demo))
    tracking = tracking_of(demo, LEDGER_EXCHANGE.name)
    witness = Witness(tmp_path / "witness.db", [demo.verifier], ORIGIN)
    queue = f"witness.{uuid.uuid4().hex[:12]}"
    tap = Tap(amqp_url, LEDGER_EXCHANGE)
    relay = [
        sys.executable,
        "-m",
        "adapters.entrypoints.cli",
        "relay",
        "--batch",
        str(BATCH),
        "--lease",
        "1",
    ]
    env = {**demo.env(), "BEWIJSLAST_BROKER_URL": amqp_url}

    async def go() -> None:
        broker = witness_broker(amqp_url, witness, queue)
        async with broker:
            await declare_dead_letters(broker, queue)
            await broker.start()
            await tap.bind()
            first = subprocess.Popen(relay, env=env)
            await until(
                while_running(first, lambda: tracking.position().next_index > 0),
                "the relay's first batch",
            )
            first.send_signal(signal.SIGKILL)
            first.wait()
            second = subprocess.Popen(relay, env=env)
            await until(
                while_running(second, lambda: tracking.position() == done),
                "the second relay catching up",
            )
            second.send_signal(signal.SIGTERM)
            assert second.wait(60) == 0
            # Stopped gracefully, it gave up its lease: the next relay need not wait.
            assert tracking.hold() == done
            await until(
                lambda: (
                    witness.checkpoint is not None
                    and witness.checkpoint.size == done.checkpoint_size
                ),
                "the witness verifying the last checkpoint",
            )

    run(go())
    run(delete_queues(amqp_url, queue, f"{queue}.dead"))
    assert witness.size == size
    witness.close()
    entries = Counter(
        d.message_id for d in run(tap.drain()) if d.routing_key != "ledger.checkpoint"
    )
    assert len(entries) == size
    assert sum(entries.values()) - size <= BATCH


@pytest.fixture(scope="module")
def own_broker() -> Iterator[RabbitNode]:
    """A RabbitMQ node of this module alone: the other tests never see it restart."""
    home = Path(tempfile.mkdtemp(prefix="bewijslast-restart-", dir="/tmp"))
    home.chmod(0o755)  # user rabbitmq must reach the node's directory
    node = RabbitNode.create(home / "node")
    try:
        node.start()
        yield node
    finally:
        node.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_a_broker_killed_mid_stream_loses_nothing(demo, own_broker):
    exchange = fresh_exchange()
    tap = Tap(own_broker.url, exchange)
    relay, _ = relay_to(demo, own_broker.url, exchange, batch=BATCH)

    async def go() -> None:
        await tap.bind()
        stopping = asyncio.Event()
        relaying = asyncio.create_task(relay.run_until(stopping, poll=0.05))
        await until(lambda: relay.tracking.position().next_index > 0, "the first batch")
        await asyncio.to_thread(own_broker.kill)
        # While the broker is down the ledger grows: those entries cross the restart too.
        await asyncio.to_thread(record_demo, demo.app)
        await asyncio.to_thread(own_broker.start)
        size = demo.recorder.ledger_size()
        await until(lambda: relay.tracking.position().next_index == size, "the relay after it")
        stopping.set()
        await relaying

    run(go())
    ids = {d.message_id for d in run(tap.drain()) if d.routing_key != "ledger.checkpoint"}
    records = demo.recorder.records(0, demo.recorder.ledger_size() - 1)
    assert ids == {event_id(r.entry.stream, r.entry.stream_seq) for r in records}
