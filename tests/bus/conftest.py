"""The demo history on a ledger, a relay of it to a fresh exchange of the test RabbitMQ,
and a queue that sees everything the relay publishes."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from faststream.rabbit import ExchangeType, RabbitExchange

from adapters.bootstrap import checkpointer_for, open_application
from adapters.bus.relay import Relay, relay_for
from adapters.bus.wiring import UNROUTED, LedgerBus, ledger_bus
from adapters.config import Settings
from adapters.demo import record_demo
from adapters.persistence.subject_keys import MasterKey
from adapters.services.checkpointer import Checkpointer
from adapters.signing_keys import generate_key_files
from domain.application import Bewijslast
from ledger.note import NoteVerifier
from tests.conftest import DEMO_ORIGIN as ORIGIN
from tests.conftest import copy_demo, fresh_pg_database

# The tests that publish on the ledger exchange of the default wiring (LEDGER_EXCHANGE), which
# they all share: one xdist group (pytest -n, --dist loadgroup), so that one worker runs them one
# after another and none receives what another relays there at the same time (a tap counts what
# arrives). Their module fixtures are then made once as well.
ON_THE_LEDGER_EXCHANGE = pytest.mark.xdist_group("ledger exchange")

SOURCE = "urn:nld:oin:00000001001589623000:systeem:bewijslast"  # the relay's CloudEvents source
# Whoever the demo's rights requests and incidents are about (adapters/demo/story.toml).
DEMO_PEOPLE = ("Vries", "Jansen", "Smit", "Bakker", "Visser", "Mulder", "Bos", "Kok")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    url = os.environ.get("BEWIJSLAST_TEST_AMQP_URL")
    if not url:
        pytest.fail(
            "BEWIJSLAST_TEST_AMQP_URL is not set: run the tests with scripts/test-all,"
            " which starts a RabbitMQ node for them"
        )
    return url


@dataclass
class DemoLedger:
    settings: Settings
    app: Bewijslast
    verifier: NoteVerifier

    @property
    def recorder(self) -> Any:
        return self.app.recorder

    @property
    def checkpointer(self) -> Checkpointer:
        return checkpointer_for(self.settings, self.app)

    def env(self) -> dict[str, str]:
        """For a ``bewijslast`` process on this ledger."""
        assert self.settings.signing_key_file
        assert self.settings.master_key_file
        return {
            **os.environ,
            "BEWIJSLAST_DATABASE_URL": self.settings.database_url,
            "BEWIJSLAST_ORIGIN": ORIGIN,
            "BEWIJSLAST_SIGNING_KEY_FILE": str(self.settings.signing_key_file),
            "BEWIJSLAST_MASTER_KEY_FILE": str(self.settings.master_key_file),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }


def open_demo_ledger(database_url: str, keys: Path) -> DemoLedger:
    settings = Settings(
        database_url=database_url,
        origin=ORIGIN,
        signing_key_file=keys / "ledger.key",
        master_key_file=keys / "master.key",
    )
    verifier = NoteVerifier.from_vkey((keys / "ledger.vkey").read_text().strip())
    return DemoLedger(settings, open_application(settings), verifier)


def record_demo_ledger(database_url: str, keys: Path) -> DemoLedger:
    generate_key_files(ORIGIN, keys)
    MasterKey.generate_file(keys / "master.key")
    ledger = open_demo_ledger(database_url, keys)
    record_demo(ledger.app)
    ledger.checkpointer.checkpoint()
    return ledger


def demo_ledger_copy(demo_folder: Path, to: Path) -> DemoLedger:
    """The demo's ledger on SQLite: a copy at ``to`` of the one recorded once for the run."""
    home = copy_demo(demo_folder, to)
    return open_demo_ledger(f"sqlite:///{home / 'bewijslast.db'}", home / "keys")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoLedger:
    """The demo's ledger on SQLite, for this module, under a signing key of its own: witnesses
    bound to the ledger exchange, which modules share, refuse another module's checkpoints
    (a copy of the run's one demo would sign them with the same key, as a fork)."""
    tmp = tmp_path_factory.mktemp("demo")
    return record_demo_ledger(f"sqlite:///{tmp / 'bewijslast.db'}", tmp / "keys")


@pytest.fixture(scope="module")
def pg_demo(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoLedger]:
    with fresh_pg_database(pg_url) as database:
        yield record_demo_ledger(database.url, tmp_path_factory.mktemp("pg-keys"))


def fresh_exchange(*, parks_unrouted: bool = True) -> RabbitExchange:
    """An exchange of this test alone, so that relay positions and queues never mix."""
    arguments = {"alternate-exchange": UNROUTED} if parks_unrouted else None
    return RabbitExchange(
        f"test.{uuid.uuid4().hex[:12]}", type=ExchangeType.TOPIC, durable=True, arguments=arguments
    )


@dataclass
class Delivered:
    routing_key: str
    message_id: str | None
    content_type: str | None
    persistent: bool
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Tap:
    """A durable queue bound to an exchange before anything is published to it."""

    def __init__(self, url: str, exchange: RabbitExchange, binding: str = "#") -> None:
        self.url, self.exchange, self.binding = url, exchange, binding
        self.name = f"tap.{uuid.uuid4().hex[:12]}"

    async def bind(self) -> None:
        async with await aio_pika.connect(self.url) as connection:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                self.exchange.name,
                type=aio_pika.ExchangeType.TOPIC,
                durable=True,
                arguments=self.exchange.arguments,
            )
            queue = await channel.declare_queue(self.name, durable=True)
            await queue.bind(exchange, self.binding)

    async def drain(self) -> list[Delivered]:
        """Everything in the queue now (confirmed messages are in it already)."""
        delivered: list[Delivered] = []
        async with await aio_pika.connect(self.url) as connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(self.name, durable=True)
            while (message := await queue.get(fail=False)) is not None:
                delivered.append(
                    Delivered(
                        message.routing_key or "",
                        message.message_id,
                        message.content_type,
                        message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT,
                        message.body,
                    )
                )
                await message.ack()
            await queue.delete()
        return delivered


async def delete_queues(url: str, *names: str) -> None:
    """The test broker outlives a test: its witness queues would keep filling."""
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        for name in names:
            await channel.queue_delete(name)


def relay_to(
    ledger: DemoLedger, url: str, exchange: RabbitExchange, **options: Any
) -> tuple[Relay, LedgerBus]:
    bus = ledger_bus(url, exchange)
    return relay_for(ledger.app, bus, SOURCE, **options), bus


async def relay_everything(relay: Relay) -> int:
    """Publish batch after batch until the relay has nothing left; how many messages."""
    async with relay.bus.broker:
        await relay.bus.declare()
        return await relay.relay_available()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def until(condition: Any, what: str, deadline: float = 120.0) -> None:
    """Wait for a condition that the system under test brings about; the deadline only
    keeps a broken run from hanging, nothing is measured."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    while not await asyncio.to_thread(condition):
        if loop.time() > give_up:
            pytest.fail(f"gave up waiting: {what}")
        await asyncio.sleep(0.02)


def queue_length(url: str, name: str) -> int | None:
    """Messages ready in a queue; None when there is no such queue (yet)."""

    async def look() -> int | None:
        async with await aio_pika.connect(url) as connection:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                return None
            return int(queue.declaration_result.message_count or 0)

    return asyncio.run(look())


def newest_verified(store: Path) -> int:
    if not store.exists():
        return -1
    db = sqlite3.connect(store)
    try:
        row = db.execute("SELECT MAX(tree_size) FROM checkpoints WHERE verified = 1")
        return int(row.fetchone()[0] or 0)
    except sqlite3.OperationalError:  # the witness is still creating its tables
        return -1
    finally:
        db.close()
