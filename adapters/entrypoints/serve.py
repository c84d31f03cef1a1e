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

With ``--workers N`` (N > 1) the API runs in N processes of its own, each listening on the
port, so that it is not held to one core by one interpreter lock; this process then runs the
other parts and supervises them. It also signs for them: a worker asks it for a checkpoint
after a decision (and for receipts and ``/health``), so that decisions from all workers share
one signing, as one process's do (``shared_signing``). A signal stops the workers first, as it
stops the API; a worker that ends by itself stops ``serve`` (exit 1), as a relay that ends does:
the supervisor that started it restarts it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import multiprocessing.process
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from multiprocessing.synchronize import Event
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from adapters.bootstrap import api_keys_of, checkpointer_for, open_application
from adapters.bus.relay import run_relay_until
from adapters.config import ConfigurationError, Settings
from adapters.persistence.stores import ledger_of
from adapters.services.checkpointer import INTERVAL_SECONDS, Checkpointer, KeyMismatch, Signing
from adapters.services.cosigning import cosigning_for
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.retention import DAY_SECONDS, RetentionRunner
from adapters.services.shared_signing import SigningClient, answer_worker
from domain.application import Bewijslast
from projections.catalogue import all_projections

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

log = logging.getLogger(__name__)
BROKER_URL = "BEWIJSLAST_BROKER_URL"
TRUSTED_PROXIES = "BEWIJSLAST_TRUSTED_PROXIES"
WORKERS = "BEWIJSLAST_API_WORKERS"
LOG_FORMAT = "%(levelname)s:     %(name)s: %(message)s"
POLL_SECONDS = 0.2  # how often the supervisor looks at its workers
# Asks from the workers answered at once: those that wait together share a signing.
ANSWERING_THREADS = 32


def api_workers(flag: str | None, exported: str | None) -> int:
    """``--workers``, else BEWIJSLAST_API_WORKERS, else 1; a value that is no count of
    processes is refused naming where it was given."""
    where, text = ("--workers", flag) if flag is not None else (WORKERS, exported or "1")
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ConfigurationError(f"{where} is a number of processes, at least 1, not {text!r}")
    return int(text)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if not 0 < args.interval <= INTERVAL_SECONDS:
        raise ConfigurationError(f"--interval must be above 0 and at most {INTERVAL_SECONDS:g}")
    if args.poll <= 0:
        raise ConfigurationError("--poll must be above 0")
    workers = api_workers(args.workers, os.environ.get(WORKERS))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    broker = None if args.no_relay else os.environ.get(BROKER_URL) or None
    app = open_application(settings)
    # One checkpointer for all that is signed (on the clock, at the end, after decisions and
    # for receipts, also those of the API's workers): each signing rewrites the state file
    # beside the key.
    cosigning = cosigning_for(settings, ledger_of(app))
    checkpointer = checkpointer_for(settings, app, cosigning)
    try:
        checkpointer.check_key()
    except KeyMismatch as e:
        raise ConfigurationError(f"{e}: check BEWIJSLAST_SIGNING_KEY_FILE") from None
    runner = None if args.no_projections else ReadModelRunner(app, all_projections())
    retention = (
        None
        if app.retention is None
        else RetentionRunner(app, f"bewijslast serve ({socket.gethostname()})", args.retention)
    )
    listening = Listening(args.host, args.port, args.forwarded_allow_ips.strip())
    server: Server = (
        _server(_config(_api(app, checkpointer), listening))
        if workers == 1
        else Supervisor(settings, listening, workers, checkpointer)
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
            with asyncio.Runner(loop_factory=_loop_factory()) as loop:
                served = loop.run(_serve(server, settings, app, broker))
        finally:
            if retention is not None:
                retention.stop()
            if cosigning is not None:
                cosigning.stop()
            checkpointer.stop()
            signed = _sign_last(checkpointer)
            _stop_projections(runner, projecting)
    return 0 if signed and served else 1


@dataclass(frozen=True)
class Listening:
    host: str
    port: int
    # X-Forwarded-For is believed only from the proxies named: by default none, so a client
    # cannot put another address in the access log.
    trusted_proxies: str


class Server(Protocol):
    """What serves the API (uvicorn's server, or the supervisor of its workers): a signal
    sets ``should_exit``, a second one ``force_exit``; ``serve`` answers ``False`` when it
    ended without being asked to."""

    should_exit: bool
    force_exit: bool

    def serve(self) -> Awaitable[bool | None]: ...


def _api(app: Bewijslast, checkpointer: Signing) -> FastAPI:
    # The web framework is loaded by serve alone: every other command starts without it.
    from adapters.entrypoints.api.app import create_app
    from adapters.entrypoints.api.auth import OIDC, Authenticator

    app.on_decision = checkpointer.signed_size
    authenticator = Authenticator(api_keys_of(app), OIDC.from_environ())
    return create_app(
        app, authenticator, lambda: checkpointer.checkpoint()[1], checkpointer=checkpointer
    )


def _config(api: FastAPI | str, listening: Listening) -> uvicorn.Config:
    import uvicorn

    return uvicorn.Config(
        api,
        host=listening.host,
        port=listening.port,
        log_level="info",
        proxy_headers=bool(listening.trusted_proxies),
        forwarded_allow_ips=listening.trusted_proxies or None,
    )


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop uvicorn.run would choose: uvloop when installed (no app plays a part in it)."""
    import uvicorn

    return uvicorn.Config("").get_loop_factory()


class Supervisor:
    """The API in worker processes of its own, each listening on the port, and the signer
    they ask for checkpoints."""

    def __init__(
        self, settings: Settings, listening: Listening, workers: int, checkpointer: Checkpointer
    ) -> None:
        self.settings = settings
        self.listening = listening
        self.workers = workers
        self.checkpointer = checkpointer
        self.should_exit = False
        self.force_exit = False
        self._processes: list[multiprocessing.process.BaseProcess] = []

    async def serve(self) -> bool:
        """Until a signal, or a worker ends by itself; ``False`` in that case."""
        # Spawned, not forked: a worker shares no connection, lock or thread with this process.
        context = multiprocessing.get_context("spawn")
        with ThreadPoolExecutor(ANSWERING_THREADS, "signer-for-workers") as answering:
            for _ in range(self.workers):
                if not await self._start_worker(context, answering):
                    break
            else:
                log.info(
                    "API on http://%s:%d in %d worker processes (%s)",
                    self.listening.host,
                    self.listening.port,
                    self.workers,
                    ", ".join(str(p.pid) for p in self._processes),
                )
            ended = await self._until_stopped()
            await self._stop_workers()
        if ended is not None:
            log.error(
                "API worker %s ended by itself (exit code %s): stopping", ended.pid, ended.exitcode
            )
            return False
        return True

    async def _start_worker(self, context: SpawnContext, answering: ThreadPoolExecutor) -> bool:
        """Start a worker and wait until it serves, unless it ends or a signal comes first.
        One after another: each creates what it finds missing (schemas, read model tables)
        before the next looks, since PostgreSQL's IF NOT EXISTS does not hold against two
        processes at once."""
        ready = context.Event()
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_api_worker,
            args=(self.settings, self.listening, ready, theirs),
            name="bewijslast-api",
        )
        process.start()
        theirs.close()  # the worker's alone now: its end closes when it ends
        answer_worker(ours, self.checkpointer, answering)
        self._processes.append(process)
        while not ready.is_set():
            if self.should_exit or not process.is_alive():
                return False
            await asyncio.sleep(POLL_SECONDS / 4)
        return True

    async def _until_stopped(self) -> multiprocessing.process.BaseProcess | None:
        while not self.should_exit:
            for process in self._processes:
                if not process.is_alive():
                    return process
            await asyncio.sleep(POLL_SECONDS)
        return None

    async def _stop_workers(self) -> None:
        """Each finishes the requests in flight, as one API does; after a second signal it
        stops waiting for open connections."""
        forced = False
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        while any(p.is_alive() for p in self._processes):
            if self.force_exit and not forced:
                forced = True
                for process in self._processes:
                    if process.is_alive():
                        process.terminate()
            await asyncio.sleep(POLL_SECONDS)
        for process in self._processes:
            process.join()


def _api_worker(settings: Settings, listening: Listening, ready: Event, signer: Connection) -> None:
    """One API process: commands and reads; the supervisor signs its checkpoints (asked over
    ``signer``) and runs the rest. SIGTERM stops it, a second one without waiting for open
    connections; SIGINT is the supervisor's, which passes it on as SIGTERM."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sock = _worker_socket(listening)
    except OSError as e:
        log.error("cannot listen on %s:%d: %s", listening.host, listening.port, e)
        raise SystemExit(1) from None
    app = open_application(settings)
    server = _server(_config(_api(app, SigningClient(signer)), listening))

    async def serve() -> None:
        # A supervisor killed outright (SIGKILL, the OOM killer) must not leave its workers
        # serving: they stop as on SIGTERM once it is gone.
        parent = multiprocessing.parent_process()
        if parent is not None:
            loop = asyncio.get_running_loop()
            loop.add_reader(parent.sentinel, _orphaned, loop, parent.sentinel, server)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not (server.started or serving.done()):
            await asyncio.sleep(POLL_SECONDS / 4)
        if server.started:
            ready.set()
        await serving

    try:
        with (
            _signals_stop(server, (signal.SIGTERM,)),
            asyncio.Runner(loop_factory=_loop_factory()) as loop,
        ):
            loop.run(serve())
    finally:
        app.close()


def _orphaned(loop: asyncio.AbstractEventLoop, sentinel: int, server: uvicorn.Server) -> None:
    loop.remove_reader(sentinel)
    log.error("serve, which started this API worker, is gone: stopping")
    server.should_exit = True


def _worker_socket(listening: Listening) -> socket.socket:
    """A worker's own socket on the port (SO_REUSEPORT): the kernel spreads new connections
    over the workers' sockets. On one socket shared by all, the first worker to wake took every
    connection of a burst of clients, and keep-alive kept them there."""
    family = socket.AF_INET6 if ":" in listening.host else socket.AF_INET
    return socket.create_server(
        (listening.host, listening.port), family=family, backlog=2048, reuse_port=True
    )


def _sign_last(checkpointer: Checkpointer) -> bool:
    try:
        checkpoint, _ = checkpointer.checkpoint()
    except Exception as e:
        log.error("stopped without a last checkpoint (all is recorded; sign it later): %s", e)
        return False
    log.info("signed a last checkpoint, over %d entries", checkpoint.size)
    return True


async def _serve(server: Server, settings: Settings, app: Bewijslast, broker: str | None) -> bool:
    """Whether the API stopped because it was asked to."""
    if broker is None:
        return await server.serve() is not False
    stopping_relay = asyncio.Event()
    relaying = asyncio.create_task(run_relay_until(settings, app, broker, stopping_relay))
    # The relay retries what it can; should it end all the same, the API stops too: a
    # process that serves without publishing would look healthy while the bus falls behind.
    relaying.add_done_callback(lambda _: setattr(server, "should_exit", True))
    try:
        return await server.serve() is not False
    finally:
        stopping_relay.set()
        await relaying


def _stop_projections(runner: ReadModelRunner | None, projecting: threading.Thread | None) -> None:
    if runner is None or projecting is None:
        return
    runner.stop()
    projecting.join()
    # What the last requests recorded after the runner's last poll.
    runner.catch_up_all()


def _server(config: uvicorn.Config) -> uvicorn.Server:
    import uvicorn  # loaded by serve alone

    class SignalFreeServer(uvicorn.Server):
        """Without uvicorn's own signal handling: it re-raises the signal that stopped it once
        the API is down, which would end the process before the other parts stop."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return SignalFreeServer(config)


@contextmanager
def _signals_stop(
    server: Server, signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
) -> Iterator[None]:
    """SIGTERM and SIGINT (or ``signals``) ask the server to stop (a second one: without
    waiting for open connections); from here on, not only once the server runs."""

    def stop(signum: int, frame: FrameType | None) -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True
        log.info("%s: stopping", signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in signals}
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
        "--workers",
        metavar="N",
        help=f"run the API in N processes of its own, to use more than one core (default: "
        f"{WORKERS}, else 1: the API in this process)",
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
