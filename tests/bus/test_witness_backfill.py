"""A witness that subscribes late fetches what its queue never received from the HTTP feed
(``--feed``), verifies it as it verifies messages, and refuses a feed that lies."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import uvicorn

from adapters.bootstrap import signer_of
from adapters.bus.wiring import LEDGER_EXCHANGE
from adapters.bus.witness import Feed, Witness, declare_dead_letters, witness_broker
from adapters.demo import B_AND_W
from adapters.entrypoints.api.app import create_app
from adapters.entrypoints.api.auth import Authenticator
from adapters.persistence.api_keys import ApiKeys
from domain.authorization import Actor, Grant, Role
from domain.commands import ReportIncident
from ledger.errors import LeafHashMismatch
from tests.bus.conftest import (
    ON_THE_LEDGER_EXCHANGE,
    ORIGIN,
    DemoLedger,
    delete_queues,
    newest_verified,
    queue_length,
    relay_everything,
    relay_to,
    run,
)
from tests.bus.conftest import until as until_true
from tests.bus.rabbitmq import free_port

pytestmark = ON_THE_LEDGER_EXCHANGE

TAMPERED = 7  # the index of the entry the lying feed alters


@pytest.fixture(scope="module")
def api(demo: DemoLedger) -> Iterator[str]:
    """The real API on the demo ledger, served by uvicorn on 127.0.0.1; its base URL."""
    keys = ApiKeys(demo.app.factory.datastore)  # type: ignore[attr-defined]
    app = create_app(demo.app, Authenticator(keys, None), signer_of(demo.settings, demo.app))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=30)


@dataclass
class Lying:
    url: str
    requests: list[str]


@pytest.fixture
def lying_feed(api: str) -> Iterator[Lying]:
    """A feed in front of the real one that alters one entry's topic on the way."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            with urllib.request.urlopen(api + self.path, timeout=30) as response:
                body = response.read()
            if self.path.startswith("/ledger/entries"):
                page = json.loads(body)
                for item in page["items"]:
                    if item["entry"]["index"] == TAMPERED:
                        item["entry"]["topic"] += "Again"
                body = json.dumps(page).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Lying(f"http://127.0.0.1:{server.server_address[1]}", requests)
    server.shutdown()
    thread.join(timeout=30)


def record_more(demo: DemoLedger, count: int) -> int:
    """New entries and a checkpoint over them; the new ledger size."""
    employee = Actor.with_grants("medewerker@bunschoten.nl", [Grant(Role.EMPLOYEE, "Bunschoten")])
    for n in range(count):
        report = ReportIncident(municipality="Bunschoten", controller=B_AND_W, summary=f"usb {n}")
        demo.app.execute(report, employee)
    demo.checkpointer.checkpoint()
    return int(demo.recorder.ledger_size())


async def publish(demo: DemoLedger, url: str) -> None:
    """Relay what is new to the witnesses' exchange, as one relay after another would."""
    relay, _ = relay_to(demo, url, LEDGER_EXCHANGE)
    await relay_everything(relay)
    relay.tracking.release()  # or the next one waits out this one's lease


def test_a_late_witness_catches_up_from_the_feed_then_follows_the_bus(
    demo, api, amqp_url, tmp_path
):
    """``python -m adapters.bus.witness --feed``: the history was published before its queue
    existed; it fetches and verifies it from the API, then verifies new entries off the bus."""
    assert demo.settings.signing_key_file is not None
    vkey = demo.settings.signing_key_file.with_suffix(".vkey")
    run(publish(demo, amqp_url))
    size = demo.recorder.ledger_size()
    assert size > TAMPERED
    queue, store = f"witness.{uuid.uuid4().hex[:12]}", tmp_path / "witness.db"
    command = [sys.executable, "-m", "adapters.bus.witness", "--broker", amqp_url]
    command += ["--store", str(store), "--vkey", str(vkey), "--queue", queue, "--feed", api]
    witness = subprocess.Popen(command, env=demo.env(), stdout=subprocess.PIPE, text=True)

    def verified(n: int) -> bool:
        assert witness.poll() is None, "the witness exited"
        return newest_verified(store) == n

    async def go() -> int:
        await until_true(lambda: verified(size), "the witness verifying the history")
        grown = record_more(demo, 3)
        await publish(demo, amqp_url)
        await until_true(lambda: verified(grown), "the witness verifying the new entries")
        return grown

    try:
        grown = run(go())
        witness.send_signal(signal.SIGTERM)
        out, _ = witness.communicate(timeout=60)
    finally:
        if witness.poll() is None:
            witness.kill()
        run(delete_queues(amqp_url, queue, f"{queue}.dead"))
    assert witness.returncode == 0
    assert f"witness: {grown} entries verified" in out


def test_a_message_ahead_of_a_gap_has_the_gap_filled_from_the_feed(demo, api, amqp_url, tmp_path):
    witness = Witness(tmp_path / "witness.db", [demo.verifier], ORIGIN)
    queue = f"witness.{uuid.uuid4().hex[:12]}"
    # Everything so far is published before the queue exists.
    run(publish(demo, amqp_url))

    async def go() -> int:
        # No backfill at start (``watch`` does that): only the message ahead brings it about.
        broker = witness_broker(amqp_url, witness, queue, Feed(api, witness))
        async with broker:
            await declare_dead_letters(broker, queue)
            await broker.start()
            grown = record_more(demo, 2)
            await publish(demo, amqp_url)
            await until_true(
                lambda: witness.checkpoint is not None and witness.checkpoint.size == grown,
                "the witness filling its gap from the feed",
            )
            return grown

    try:
        grown = run(go())
        assert (witness.size, witness.waiting()) == (grown, False)
        assert queue_length(amqp_url, f"{queue}.dead") == 0
    finally:
        run(delete_queues(amqp_url, queue, f"{queue}.dead"))
        witness.close()


def test_a_tampered_feed_entry_is_refused(demo, api, lying_feed, tmp_path):
    witness = Witness(tmp_path / "witness.db", [demo.verifier], ORIGIN)
    try:
        with pytest.raises(LeafHashMismatch):
            run(Feed(lying_feed.url, witness).fill(to_end=True))
        assert lying_feed.requests, "the lying feed was read"
        # Nothing of the lie is kept, nor anything after it: what came before stays verified.
        assert (witness.size, witness.waiting(), witness.checkpoint) == (TAMPERED, False, None)
        # The honest feed completes it.
        run(Feed(api, witness).fill(to_end=True))
        assert witness.size == demo.recorder.ledger_size()
        assert witness.checkpoint is not None
    finally:
        witness.close()
