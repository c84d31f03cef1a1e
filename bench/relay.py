"""Relay throughput to RabbitMQ with publisher confirms, against publishing the same messages
without the ledger.

A ledger of N entries (SQLite file, and PostgreSQL when reachable) is filled through the ledger
recorder before the clock starts. Each round relays the whole ledger from index 0 to a fresh
exchange with a durable queue bound to every routing key (so that each persistent message is
routed and written to disk before the broker confirms it): read a batch, build the CloudEvents,
publish the batch concurrently, await every confirm, record the position, then read the next
batch. The baseline publishes the same encoded messages (built before its clock starts) in
batches of the same size through the same declared publisher and the same confirmed-publish
function, and neither reads the ledger nor builds messages nor records anything. Relay and
baseline rounds are interleaved (ABBA); medians are reported, with the relay/baseline ratio
from the same run.

    python bench/relay.py --amqp-url amqp://guest:guest@127.0.0.1:5672/ [--quick]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import aio_pika
import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from faststream.rabbit import ExchangeType, RabbitExchange

from adapters.bus.messages import Outgoing, entry_event, outgoing, routing_key
from adapters.bus.relay import BATCH, Relay, RelayTracking, publish_confirmed
from adapters.bus.wiring import ledger_bus
from adapters.persistence.postgres import LedgerPostgresApplicationRecorder
from adapters.persistence.sqldb import Database
from adapters.persistence.sqlite import LedgerSQLiteApplicationRecorder
from bench.common import machine, median, parser, pg_database

SOURCE = "urn:nld:oin:00000000000000000000:systeem:bench"
TOPICS = (
    "domain.incidents:Incident.Reported",
    "domain.incidents:Incident.BreachEstablished",
    "domain.requests:RightsRequest.Decided",
    "domain.processing:ProcessingActivity.Registered",
)
STATE_SIZE = 300
PER_STREAM = 10


def fill(recorder: Any, entries: int) -> None:
    """Streams of PER_STREAM successive events, 500 events a transaction."""
    events = []
    for first in range(0, entries, PER_STREAM):
        stream = uuid.uuid4()
        for version in range(1, min(PER_STREAM, entries - first) + 1):
            topic = TOPICS[(first + version) % len(TOPICS)]
            events.append(StoredEvent(stream, version, topic, os.urandom(STATE_SIZE)))
    for start in range(0, len(events), 500):
        recorder.insert_events(events[start : start + 500])


def fresh_exchange() -> RabbitExchange:
    return RabbitExchange(f"bench.{uuid.uuid4().hex[:10]}", type=ExchangeType.TOPIC, durable=True)


async def with_queue(url: str, exchange: RabbitExchange) -> Any:
    """A durable queue bound to everything, as a consumer would have; deleted after."""
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    declared = await channel.declare_exchange(
        exchange.name, type=aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"{exchange.name}.q", durable=True)
    await queue.bind(declared, "#")
    return connection, channel, queue


async def drop(url: str, exchange: RabbitExchange, held: Any) -> None:
    connection, channel, queue = held
    await queue.delete(if_unused=False, if_empty=False)
    await channel.exchange_delete(exchange.name)
    await connection.close()


async def relay_round(url: str, recorder: Any, datastore: Any, batch: int) -> float:
    """Seconds to relay the whole ledger from index 0."""
    exchange = fresh_exchange()
    held = await with_queue(url, exchange)
    bus = ledger_bus(url, exchange)
    tracking = RelayTracking(Database(datastore, schema="bus"), exchange.name)
    relay = Relay(recorder, tracking, bus, SOURCE, batch=batch)
    async with bus.broker:
        await bus.declare()
        started = time.perf_counter()
        await relay.relay_available()
        elapsed = time.perf_counter() - started
    await drop(url, exchange, held)
    return elapsed


async def baseline_round(url: str, messages: Sequence[Outgoing], batch: int) -> float:
    """Seconds to publish the same messages, confirmed batch by batch, with no ledger."""
    exchange = fresh_exchange()
    held = await with_queue(url, exchange)
    bus = ledger_bus(url, exchange)
    async with bus.broker:
        await bus.declare()
        started = time.perf_counter()
        for start in range(0, len(messages), batch):
            await publish_confirmed(bus.entries, messages[start : start + batch])
        elapsed = time.perf_counter() - started
    await drop(url, exchange, held)
    return elapsed


async def rabbitmq_version(url: str) -> str:
    async with await aio_pika.connect(url) as connection:
        properties = connection.transport.connection.server_properties  # type: ignore[union-attr]
        return str(properties.get("version", "?"))


def compare(label: str, url: str, recorder: Any, datastore: Any, rounds: int, batch: int) -> None:
    entries = recorder.ledger_size()
    messages = [
        outgoing(entry_event(r, SOURCE), routing_key(r.entry.topic))
        for r in recorder.records(0, entries - 1)
    ]
    relay_times: list[float] = []
    base_times: list[float] = []
    for i in range(rounds):
        order = ("relay", "base") if i % 2 == 0 else ("base", "relay")
        for kind in order:
            if kind == "relay":
                relay_times.append(asyncio.run(relay_round(url, recorder, datastore, batch)))
            else:
                base_times.append(asyncio.run(baseline_round(url, messages, batch)))
    relay_rate = entries / median(relay_times)
    base_rate = entries / median(base_times)
    print(
        f"| {label} | {entries:,} | {batch} | {relay_rate:,.0f} | {base_rate:,.0f} | "
        f"{relay_rate / base_rate:.2f} | "
        f"{', '.join(f'{entries / t:,.0f}' for t in relay_times)} | "
        f"{', '.join(f'{entries / t:,.0f}' for t in base_times)} |",
        flush=True,
    )


def main() -> int:
    p = parser(__doc__.split("\n")[0])
    p.add_argument(
        "--amqp-url",
        default=os.environ.get("BEWIJSLAST_BENCH_AMQP_URL")
        or os.environ.get("BEWIJSLAST_TEST_AMQP_URL")
        or "amqp://guest:guest@127.0.0.1:5672/",
    )
    p.add_argument("--entries", type=int, default=None)
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--batch", type=int, default=BATCH)
    args = p.parse_args()
    entries = args.entries or (2_000 if args.quick else 20_000)
    rounds = args.rounds or (2 if args.quick else 5)
    print(f"# {machine(args.pg_url)}, RabbitMQ {asyncio.run(rabbitmq_version(args.amqp_url))}")
    print(f"# {entries:,} entries, {rounds} rounds each, interleaved; entries/s (median)")
    print(
        "| database | entries | batch | relay | baseline | relay/baseline | relay rounds | "
        "baseline rounds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        datastore = SQLiteDatastore(str(Path(tmp) / "bench.db"), lock_timeout=60)
        recorder = LedgerSQLiteApplicationRecorder(datastore)
        recorder.create_table()
        fill(recorder, entries)
        compare("SQLite", args.amqp_url, recorder, datastore, rounds, args.batch)
    try:
        with pg_database(args.pg_url) as target:
            pg = PostgresDatastore(**target, pool_size=2, max_overflow=2, lock_timeout=60)
            pg_recorder = LedgerPostgresApplicationRecorder(pg)
            pg_recorder.create_table()
            fill(pg_recorder, entries)
            compare("PostgreSQL", args.amqp_url, pg_recorder, pg, rounds, args.batch)
            pg.close()
    except psycopg.OperationalError as e:
        print(f"# PostgreSQL skipped: {e}".splitlines()[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
