"""``bewijslast relay``: publish the ledger to the bus (BEWIJSLAST_BROKER_URL) until stopped."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

from adapters.bootstrap import open_application
from adapters.bus.relay import BATCH, run_relay_until
from adapters.config import ConfigurationError, Settings
from adapters.persistence.positions import LEASE_SECONDS


def broker_url() -> str:
    url = os.environ.get("BEWIJSLAST_BROKER_URL")
    if not url:
        raise ConfigurationError(
            "no broker: set BEWIJSLAST_BROKER_URL, e.g. amqp://user:password@rabbitmq:5672/"
        )
    return url


def cmd_relay(args: argparse.Namespace, settings: Settings) -> int:
    url = broker_url()
    app = open_application(settings)

    async def relay() -> None:
        # SIGTERM or Ctrl-C: the batch in flight is finished, then the lease is released.
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await run_relay_until(
            settings,
            app,
            url,
            stopping,
            batch=args.batch,
            with_state=args.with_state,
            lease_seconds=args.lease,
        )

    asyncio.run(relay())
    return 0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    relay = commands.add_parser(
        "relay", parents=[common], help="publish every ledger entry and checkpoint to the bus"
    )
    relay.add_argument("--batch", type=int, default=BATCH, help="entries per confirmed batch")
    relay.add_argument(
        "--with-state",
        action="store_true",
        help="include each event's stored state (personal data, encrypted per data subject); "
        "off by default",
    )
    relay.add_argument(
        "--lease",
        type=float,
        default=LEASE_SECONDS,
        metavar="SECONDS",
        help="how long another relay waits after this one stops renewing its lease",
    )
    relay.set_defaults(run=cmd_relay)
