"""Command latency through the HTTP API (``bewijslast serve``: uvicorn on 127.0.0.1 in two API
worker processes as docker-compose.yml runs it, API keys, problem documents, read models
followed) with 50 concurrent clients, against the same commands
through the Python API (``Bewijslast.execute`` from 50 threads, decisions signed as serve signs
them) on the same PostgreSQL ledger, in interleaved rounds of the same run; p50/p95 and their
ratios, and the CPU each side spent per command. With ``--no-projections`` the
server leaves the read models to ``bewijslast project --follow`` (not run here), as the Python
API does: both sides then do the same work, and only the HTTP layer differs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import httpx

from adapters.bootstrap import checkpointer_for, open_application
from adapters.config import Settings
from adapters.persistence.api_keys import ApiKeys
from adapters.persistence.subject_keys import MasterKey
from adapters.signing_keys import generate_key_files
from bench.commands import BODY, NOW, PEOPLE, TOWN
from bench.common import machine, median, parser, percentile, pg_database
from domain.application import Bewijslast
from domain.authorization import Role
from domain.commands import (
    ClassifyNotABreach,
    CloseIncident,
    CommandModel,
    DecideRequest,
    ReceiveRequest,
    ReportIncident,
    SendDecision,
    TriageIncident,
    VerifyIdentity,
    command_name,
)
from domain.incidents import Impact
from domain.requests import Outcome, Right

ORIGIN = "bench.example/ledger"
# The round of bench/commands.py: a request decided and sent, an incident that is no breach.
# Each step: who, the command's class, and its fields but the record it acts on.
STEPS: list[tuple[Role, type[CommandModel], dict[str, Any]]] = [
    (
        Role.PRIVACY_OFFICER,
        ReceiveRequest,
        {
            "municipality": TOWN,
            "controller": BODY,
            "right": Right.ACCESS.value,
            "channel": "web",
            "requester_name": "A. Jansen",
            "requester_contact": "a@example.nl",
            "received_at": NOW.isoformat(),
        },
    ),
    (Role.PRIVACY_OFFICER, VerifyIdentity, {"method": "DigiD"}),
    (Role.PROCESS_OWNER, DecideRequest, {"outcome": Outcome.GRANTED.value, "reasons": "inzage"}),
    (Role.PROCESS_OWNER, SendDecision, {"channel": "post"}),  # sent_at: when it is sent
    (
        Role.EMPLOYEE,
        ReportIncident,
        {"municipality": TOWN, "controller": BODY, "summary": "phishing"},
    ),
    (Role.CISO, TriageIncident, {"impact": Impact.LOW.value}),
    (Role.CISO, ClassifyNotABreach, {"reasons": "geen gegevens"}),
    (Role.CISO, CloseIncident, {}),
]
STARTS_RECORD = (ReceiveRequest, ReportIncident)


def fields(cls: type[CommandModel], body: dict[str, Any], record: str | None) -> dict[str, Any]:
    if cls in STARTS_RECORD:
        return body
    if cls is SendDecision:  # after the decision, which the application dates by its clock
        body = {**body, "sent_at": datetime.now(UTC).isoformat()}
    return {**body, "aggregate_id": record}


def python_client(app: Bewijslast, rounds: int, latencies: list[float]) -> None:
    record: str | None = None
    for _ in range(rounds):
        for role, cls, body in STEPS:
            command = cls.model_validate(fields(cls, body, record))
            started = time.perf_counter()
            record = str(app.execute(command, PEOPLE[role]))
            latencies.append(time.perf_counter() - started)


class Connection:
    """One keep-alive HTTP/1.1 connection, written and read by hand: a load generator as light
    as ``wrk``, so that the clients take as little as possible of the two cores the server
    and PostgreSQL need (httpx took 3 ms of CPU per request)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base: str) -> Connection:
        host, port = base.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def post(self, path: str, body: dict[str, Any], token: str) -> tuple[int, bytes]:
        content = json.dumps(body).encode()
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n".encode()
            + content
        )
        status = int((await self.reader.readline()).split()[1])
        length = None
        while (line := await self.reader.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"{path}: {status} without Content-Length")
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def http_client(
    base: str, tokens: dict[Role, str], rounds: int, latencies: list[float]
) -> None:
    connection = await Connection.open(base)
    record: str | None = None
    try:
        for _ in range(rounds):
            for role, cls, body in STEPS:
                started = time.perf_counter()
                status, answer = await connection.post(
                    f"/commands/{command_name(cls)}", fields(cls, body, record), tokens[role]
                )
                latencies.append(time.perf_counter() - started)
                if status != 201:
                    raise RuntimeError(f"{cls.__name__}: {status} {answer.decode()}")
                record = json.loads(answer)["id"]
    finally:
        connection.close()


def python_phase(app: Bewijslast, clients: int, rounds: int) -> list[float]:
    latencies: list[float] = []
    with ThreadPoolExecutor(clients) as pool:
        for done in [pool.submit(python_client, app, rounds, latencies) for _ in range(clients)]:
            done.result()
    return latencies


def http_phase(base: str, tokens: dict[Role, str], clients: int, rounds: int) -> list[float]:
    async def everyone() -> list[float]:
        latencies: list[float] = []
        # A connection per client, opened for the phase: none sits idle into uvicorn's 5 s
        # keep-alive limit.
        runs: list[Awaitable[None]] = [
            http_client(base, tokens, rounds, latencies) for _ in range(clients)
        ]
        await asyncio.gather(*runs)
        return latencies

    return asyncio.run(everyone())


def start_server(
    settings: Settings, env: dict[str, str], log: Path, flags: list[str]
) -> tuple[subprocess.Popen[bytes], str]:
    """``bewijslast serve`` in its own process, as deployed; waits until /health answers."""
    port = free_port()
    command = ["serve", "--database", settings.database_url, "--port", str(port), "--no-relay"]
    command += flags
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "adapters.entrypoints.cli", *command],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"serve stopped:\n{log.read_text()}")
        time.sleep(0.1)
    raise RuntimeError("serve did not answer /health within 30 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()  # graceful: requests in flight finish, a last checkpoint is signed
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User and system CPU time so far of a process (with ``children``: and of its children,
    serve's API workers): what a phase cost, whatever else runs."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat") if children else [Path(f"/proc/{pid}/stat")]:
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def summary(values: list[float]) -> tuple[float, float]:
    return median(values) * 1000, percentile(values, 95) * 1000


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--no-projections", action="store_true", help="serve --no-projections")
    p.add_argument(
        "--workers", type=int, default=2, help="serve --workers (2, as docker-compose.yml has it)"
    )
    p.add_argument("--rounds", type=int, default=5, help="rounds of each side (default 5)")
    args = p.parse_args()
    # The same commands per phase whatever the number of clients: 20 or 150 rounds of eight.
    rounds = 2 if args.quick else args.rounds
    per_client = max(1, (20 if args.quick else 150) // args.clients)
    print(machine(args.pg_url), flush=True)
    with tempfile.TemporaryDirectory() as home, pg_database(args.pg_url) as d:
        keys = Path(home)
        generate_key_files(ORIGIN, keys)
        MasterKey.generate_file(keys / "master.key")
        url = f"postgresql://{d['user']}@{d['host']}:{d['port']}/{d['dbname']}"
        settings = Settings(url, ORIGIN, keys / "ledger.key", keys / "master.key")
        env = {
            "BEWIJSLAST_ORIGIN": ORIGIN,
            "BEWIJSLAST_SIGNING_KEY_FILE": str(keys / "ledger.key"),
            "BEWIJSLAST_MASTER_KEY_FILE": str(keys / "master.key"),
        }
        app = open_application(settings)
        # As serve has it: a decision is signed into a checkpoint before it is answered.
        app.on_decision = checkpointer_for(settings, app).signed_size
        api_keys = ApiKeys(app.factory.datastore)  # type: ignore[attr-defined]
        tokens = {role: api_keys.create(PEOPLE[role]) for role in Role}
        flags = ["--workers", str(args.workers)]
        flags += ["--no-projections"] if args.no_projections else []
        server, base = start_server(settings, env, keys / "serve.log", flags)
        try:
            run(app, base, tokens, args.clients, rounds, per_client, server.pid)
        finally:
            stop_server(server)


def run(
    app: Bewijslast,
    base: str,
    tokens: dict[Role, str],
    clients: int,
    rounds: int,
    per_client: int,
    server: int,
) -> None:
    phases: dict[str, Callable[[], list[float]]] = {
        "python": lambda: python_phase(app, clients, per_client),
        "http": lambda: http_phase(base, tokens, clients, per_client),
    }
    for warm in phases.values():  # connections, pools, caches
        warm()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in phases}
    commands = clients * per_client * len(STEPS)
    # CPU per command of the process doing the command work: this one for the Python API (its
    # clients included), the server for HTTP (its clients run here, counted apart).
    doer = {"python": os.getpid(), "http": server}
    for r in range(rounds):
        for name, phase in phases.items():
            serving = name == "http"
            here, there = cpu_seconds(os.getpid()), cpu_seconds(doer[name], serving)
            started = time.perf_counter()
            latencies = phase()
            wall = time.perf_counter() - started
            spent = (cpu_seconds(doer[name], serving) - there) / commands * 1000
            clients_cpu = (
                ""
                if name == "python"
                else (f"  clients {(cpu_seconds(os.getpid()) - here) / commands * 1000:.2f}")
            )
            p50, p95 = summary(latencies)
            results[name].append((p50, p95))
            print(
                f"round {r + 1} {name:6} {len(latencies)} commands, {commands / wall:6.0f}/s  "
                f"p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  CPU ms/command {spent:.2f}{clients_cpu}",
                flush=True,
            )
    py50, py95 = (median([x[i] for x in results["python"]]) for i in (0, 1))
    h50, h95 = (median([x[i] for x in results["http"]]) for i in (0, 1))
    print(f"median over {rounds} rounds, {clients} concurrent clients:")
    print(f"  Python API  p50 {py50:7.2f} ms  p95 {py95:7.2f} ms")
    print(f"  HTTP API    p50 {h50:7.2f} ms  p95 {h95:7.2f} ms")
    print(f"  HTTP / Python: p50 {h50 / py50:.2f}x  p95 {h95 / py95:.2f}x")
    # Each HTTP round against the Python round just before it, which saw the same machine.
    by_round = [
        median([h[i] / p[i] for p, h in zip(results["python"], results["http"], strict=True)])
        for i in (0, 1)
    ]
    print(f"  median of the rounds' ratios: p50 {by_round[0]:.2f}x  p95 {by_round[1]:.2f}x")


if __name__ == "__main__":
    main()
