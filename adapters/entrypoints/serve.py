"""``bewijslast serve``: the HTTP API, the checkpointer, the read models and (with a broker
configured) the bus relay, in one process; on the embedded default it needs nothing else.

SIGTERM or SIGINT stops the parts in an order that loses nothing: the API stops accepting
connections and finishes the requests in flight; the relay finishes the batch it is publishing;
a checkpoint is signed over everything recorded; the projection runner finishes its pass (each
batch commits with its position, so none is half applied) and the read models are brought up to
the last recorded event. A second signal stops waiting for open connections. Should that last
checkpoint fail, the read models are caught up all the same and serve exits 1, saying why in
one line (what was recorded stays recorded; the next signer signs it).

``serve`` does not start with a signing key, or a state file, that does not verify the
checkpoints the ledger already holds: it would only fail to sign later.

Every part runs its own short transactions. On SQLite they share the library's connection
pool (one connection per transaction, in WAL mode); appends and projection batches take the
write lock first, so that no part fails on a lock it could have waited for.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from adapters.bootstrap import api_keys_of, checkpointer_for, open_application
from adapters.bus.relay import run_relay_until
from adapters.config import ConfigurationError, Settings
from adapters.persistence.stores import ledger_of
from adapters.services.checkpointer import INTERVAL_SECONDS, Checkpointer, KeyMismatch
from adapters.services.cosigning import cosigning_for
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.retention import DAY_SECONDS, RetentionRunner
from domain.application import Bewijslast
from projections.catalogue import all_projections

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)
BROKER_URL = "BEWIJSLAST_BROKER_URL"
TRUSTED_PROXIES = "BEWIJSLAST_TRUSTED_PROXIES"


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    # The web framework is loaded by serve alone: every other command starts without it.
    import uvicorn

    from adapters.entrypoints.api.app import create_app
    from adapters.entrypoints.api.auth import OIDC, Authenticator

    if not 0 < args.interval <= INTERVAL_SECONDS:
        raise ConfigurationError(f"--interval must be above 0 and at most {INTERVAL_SECONDS:g}")
    if args.poll <= 0:
        raise ConfigurationError("--poll must be above 0")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    broker = None if args.no_relay else os.environ.get(BROKER_URL) or None
    app = open_application(settings)
    # One checkpointer for all this process signs (after decisions, for receipts, on the
    # clock, at the end): each one rewrites the state file beside the key.
    cosigning = cosigning_for(settings, ledger_of(app))
    checkpointer = checkpointer_for(settings, app, cosigning)
    try:
        checkpointer.check_key()
    except KeyMismatch as e:
        raise ConfigurationError(f"{e}: check BEWIJSLAST_SIGNING_KEY_FILE") from None
    app.on_decision = checkpointer.signed_size
    authenticator = Authenticator(
        api_keys_of(app),
        OIDC.from_environ(),
    )
    api = create_app(
        app, authenticator, lambda: checkpointer.checkpoint()[1], checkpointer=checkpointer
    )
    runner = None if args.no_projections else ReadModelRunner(app, all_projections())
    retention = (
        None
        if app.retention is None
        else RetentionRunner(app, f"bewijslast serve ({socket.gethostname()})", args.retention)
    )
    proxies = args.forwarded_allow_ips.strip()
    server = _server(
        uvicorn.Config(
            api,
            host=args.host,
            port=args.port,
            log_level="info",
            # X-Forwarded-For is believed only from the proxies named: by default none, so
            # a client cannot put another address in the access log.
            proxy_headers=bool(proxies),
            forwarded_allow_ips=proxies or None,
        )
    )

    with _signals_stop(server):
        checkpointer.start(interval=args.interval)
        if cosigning is not None:
            # A witness that was down gets the newest checkpoint once it is back.
            cosigning.start(interval=args.interval)
        if retention is not None:
            retention.start()
        projecting = None
        if runner is not None:
            projecting = threading.Thread(
                target=runner.run, args=(args.poll,), name="projections", daemon=True
            )
            projecting.start()
        try:
            # The loop uvicorn.run would choose: uvloop when installed.
            with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as loop:
                loop.run(_serve(server, settings, app, broker))
        finally:
            if retention is not None:
                retention.stop()
            if cosigning is not None:
                cosigning.stop()
            checkpointer.stop()
            signed = _sign_last(checkpointer)
            _stop_projections(runner, projecting)
    return 0 if signed else 1


def _sign_last(checkpointer: Checkpointer) -> bool:
    try:
        checkpoint, _ = checkpointer.checkpoint()
    except Exception as e:
        log.error("stopped without a last checkpoint (all is recorded; sign it later): %s", e)
        return False
    log.info("signed a last checkpoint, over %d entries", checkpoint.size)
    return True


async def _serve(
    server: uvicorn.Server, settings: Settings, app: Bewijslast, broker: str | None
) -> None:
    if broker is None:
        await server.serve()
        return
    stopping = asyncio.Event()
    relaying = asyncio.create_task(run_relay_until(settings, app, broker, stopping))
    # The relay retries what it can; should it end all the same, the API stops too: a
    # process that serves without publishing would look healthy while the bus falls behind.
    relaying.add_done_callback(lambda _: setattr(server, "should_exit", True))
    try:
        await server.serve()
    finally:
        stopping.set()
        await relaying


def _stop_projections(runner: ReadModelRunner | None, projecting: threading.Thread | None) -> None:
    if runner is None or projecting is None:
        return
    runner.stop()
    projecting.join()
    # What the last requests recorded after the runner's last poll.
    runner.catch_up_all()


def _server(config: uvicorn.Config) -> uvicorn.Server:
    import uvicorn  # as in cmd_serve

    class Server(uvicorn.Server):
        """Without uvicorn's own signal handling: it re-raises the signal that stopped it once
        the API is down, which would end the process before the other parts stop."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server(config)


@contextmanager
def _signals_stop(server: uvicorn.Server) -> Iterator[None]:
    """SIGTERM and SIGINT ask the server to stop (a second one: without waiting for open
    connections); from here on, not only once the server runs."""

    def stop(signum: int, frame: FrameType | None) -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True
        log.info("%s: stopping", signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="the API, with checkpoints, read models and the relay in one process",
        description=(
            "The HTTP API and, in the same process, the checkpointer, the projection runner "
            f"and (when {BROKER_URL} is set) the bus relay. Needs BEWIJSLAST_SIGNING_KEY_FILE."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get(TRUSTED_PROXIES, ""),
        metavar="ADDRESSES",
        help=f"comma-separated addresses of the proxies whose X-Forwarded-For is trusted "
        f"(default: {TRUSTED_PROXIES}, else none)",
    )
    serve.add_argument(
        "--interval",
        type=float,
        default=INTERVAL_SECONDS,
        metavar="SECONDS",
        help=f"sign a checkpoint at least this often while entries are added (at most "
        f"{INTERVAL_SECONDS:g})",
    )
    serve.add_argument(
        "--poll",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="read models: seconds between polls",
    )
    serve.add_argument(
        "--retention",
        type=float,
        default=DAY_SECONDS,
        metavar="SECONDS",
        help="destroy what is due (Selectielijst) this often, in every declared municipality",
    )
    serve.add_argument(
        "--no-projections",
        action="store_true",
        help="leave the read models to 'bewijslast project --follow' (the API still catches "
        "them up before it answers)",
    )
    serve.add_argument(
        "--no-relay",
        action="store_true",
        help=f"leave the bus to 'bewijslast relay' ({BROKER_URL})",
    )
    serve.set_defaults(run=cmd_serve)
