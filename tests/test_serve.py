"""``bewijslast serve`` as an operator runs it: a real process on the embedded default, a
command through the API, a signal, and then nothing lost: the event is in the ledger, a signed
checkpoint covers the whole ledger, the verifier agrees and the read models are caught up."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.bootstrap import api_keys_of, open_application
from adapters.config import Settings, config_file_from
from adapters.entrypoints.cli.main import main
from adapters.persistence.api_keys import parse_grant
from adapters.persistence.subject_keys import MasterKey
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.receipts import checkpoint_size
from adapters.signing_keys import generate_key_files
from domain.authorization import Actor, Grant, Role
from domain.commands import ReportIncident
from domain.requests import Outcome, Right
from ledger.checkpoint import open_checkpoint
from ledger.note import NoteVerifier
from projections.base import ReadModel
from projections.catalogue import all_projections
from projections.incidents import incident_register
from tests.bus.conftest import ON_THE_LEDGER_EXCHANGE
from tests.bus.rabbitmq import free_port

pytestmark = pytest.mark.long

ORIGIN = "ledger.leusden.test/bewijslast"
TOWN = "Leusden"
REPORT = {"municipality": TOWN, "controller": "college van B&W", "summary": "laptop kwijt"}
STARTUP_SECONDS = 60  # a bound for a slow machine, not a measurement
# An answer's bound, above httpx's 5 s: a decision waits up to 60 s for its checkpoint.
ANSWER_SECONDS = 90


@dataclass
class Operator:
    home: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "adapters.entrypoints.cli", *args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    @property
    def settings(self) -> Settings:
        """As a command run in ``home`` with ``env`` has them."""
        return Settings.from_environ(self.env, config_file=self.home / config_file_from(self.env))

    @property
    def vkey(self) -> Path:
        return self.home / "keys" / "ledger.vkey"


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    return make_operator(tmp_path)


def make_operator(tmp_path: Path) -> Operator:
    """Keys made, a SQLite database not made yet, no broker. The keys are made here rather
    than by ``bewijslast keys`` in processes of their own (tests/test_cli.py runs those): a
    process pays the CLI's imports, about a second, for what takes milliseconds."""
    env = {
        **os.environ,
        "BEWIJSLAST_ORIGIN": ORIGIN,
        "BEWIJSLAST_DATABASE_URL": f"sqlite:///{tmp_path / 'bewijslast.db'}",
        "BEWIJSLAST_SIGNING_KEY_FILE": str(tmp_path / "keys" / "ledger.key"),
        "BEWIJSLAST_MASTER_KEY_FILE": str(tmp_path / "keys" / "master.key"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    env.pop("BEWIJSLAST_BROKER_URL", None)
    generate_key_files(ORIGIN, tmp_path / "keys")
    MasterKey.generate_file(tmp_path / "keys" / "master.key")
    return Operator(tmp_path, env)


def api_key(operator: Operator, grant: str) -> dict[str, str]:
    """A key made as ``bewijslast apikey create`` makes it (tests/api/test_authentication.py
    runs that command), in this process: the first one also makes the database."""
    app = open_application(operator.settings)
    try:
        actor = Actor.with_grants("medewerker@leusden.nl", [parse_grant(grant)])
        token = api_keys_of(app).create(actor)
    finally:
        app.close()
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Serving:
    process: subprocess.Popen[str]
    url: str
    log: Path
    # One client for the test's requests: each of httpx.get's own makes a TLS context, even
    # for http://, ~15 ms of CPU.
    http: httpx.Client

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=120)

    def output(self) -> str:
        return self.log.read_text()


@contextmanager
def serving(operator: Operator, *flags: str) -> Iterator[Serving]:
    port = free_port()
    log = operator.home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            # The port last: it wins over one in ``flags``.
            [
                sys.executable,
                "-m",
                "adapters.entrypoints.cli",
                "serve",
                *flags,
                "--port",
                str(port),
            ],
            cwd=operator.home,
            env=operator.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=ANSWER_SECONDS) as http:
            served = Serving(process, url, log, http)
            wait_for_health(served)
            yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for_health(served: Serving) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert served.process.poll() is None, served.output()
        try:
            if served.http.get("/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"no /health within {STARTUP_SECONDS} s:\n{served.output()}")


def report_incident(served: Serving, headers: dict[str, str]) -> str:
    response = served.http.post("/commands/report-incident", headers=headers, json=REPORT)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_serve_with_everything_recorded_signed_and_projected(operator, signum):
    headers = api_key(operator, "EMPLOYEE:Leusden")
    with serving(operator) as served:
        incident = report_incident(served, headers)
        status = served.stop(signum)
    assert status == 0, served.output()

    app = open_application(operator.settings)
    recorder = app.recorder
    size = recorder.ledger_size()
    assert [r.entry.stream for r in recorder.records(0, size - 1)] == [incident]
    note = recorder.latest_signed_checkpoint()
    assert note is not None
    assert checkpoint_size(note) == size
    open_checkpoint(note, [NoteVerifier.from_vkey(operator.vkey.read_text())])

    verified = operator.run(
        "verify",
        "--database",
        operator.env["BEWIJSLAST_DATABASE_URL"],
        "--vkey",
        str(operator.vkey),
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    runner = ReadModelRunner(app, all_projections())
    assert set(runner.catch_up_all().values()) == {0}  # nothing left to apply
    with runner.db.transaction() as cursor:
        assert [row["id"] for row in incident_register(cursor, TOWN)] == [incident]


def test_without_projections_and_relay_serve_leaves_them_to_their_own_processes(operator):
    """As docker-compose.yml runs it: the projector and the relay are services of their own,
    so this API neither applies events to read models nor connects to the broker; the
    checkpoint state is kept in a volume, since the key's folder (secrets) is read-only."""
    operator.env["BEWIJSLAST_BROKER_URL"] = "amqp://guest:guest@127.0.0.1:1/"  # nobody there
    state = operator.home / "state" / "checkpoint"
    state.parent.mkdir()
    operator.env["BEWIJSLAST_CHECKPOINT_STATE_FILE"] = str(state)
    headers = api_key(operator, "EMPLOYEE:Leusden")
    with serving(operator, "--no-projections", "--no-relay") as served:
        report_incident(served, headers)
        status = served.stop(signal.SIGTERM)
    assert status == 0, served.output()

    app = open_application(operator.settings)
    assert checkpoint_size(app.recorder.latest_signed_checkpoint()) == 1
    assert checkpoint_size(state.read_text()) == 1
    assert not (operator.home / "keys" / "ledger.key.checkpoint").exists()
    caught_up = ReadModelRunner(app, all_projections()).catch_up_all()
    assert caught_up["incident_register"] == 1  # left for 'bewijslast project --follow'


@pytest.mark.parametrize("flags", [["--interval", "61"], ["--interval", "0"], ["--poll", "0"]])
def test_intervals_out_of_bounds_are_refused(flags, capsys):
    assert main(["serve", *flags]) == 2
    assert flags[0] in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "exported", "named"),
    [
        (["--workers", "0"], None, "--workers"),
        (["--workers", "two"], "2", "--workers"),
        ([], "abc", "BEWIJSLAST_API_WORKERS"),
        ([], "-1", "BEWIJSLAST_API_WORKERS"),
    ],
)
def test_a_worker_count_that_is_no_count_of_processes_is_refused_naming_where_it_was_given(
    flags, exported, named, capsys, monkeypatch
):
    if exported is not None:
        monkeypatch.setenv("BEWIJSLAST_API_WORKERS", exported)
    assert main(["serve", *flags]) == 2
    error = capsys.readouterr().err
    assert f"{named} is a number of processes, at least 1, not " in error


@ON_THE_LEDGER_EXCHANGE
def test_with_a_broker_serve_relays_the_ledger_and_releases_the_relay_when_stopped(operator):
    """The relay runs in the process beside the API (RabbitMQ from scripts/test-all)."""
    amqp_url = os.environ.get("BEWIJSLAST_TEST_AMQP_URL")
    if not amqp_url:
        pytest.fail("BEWIJSLAST_TEST_AMQP_URL is not set: run the tests with scripts/test-all")
    operator.env["BEWIJSLAST_BROKER_URL"] = amqp_url
    headers = api_key(operator, "EMPLOYEE:Leusden")
    database = operator.home / "bewijslast.db"
    with serving(operator) as served:
        report_incident(served, headers)
        deadline = time.monotonic() + STARTUP_SECONDS
        while relay_position(database)[0] < 1:
            assert time.monotonic() < deadline, f"nothing relayed:\n{served.output()}"
            time.sleep(0.1)
        status = served.stop(signal.SIGTERM)
    assert status == 0, served.output()
    assert relay_position(database) == (1, None)  # everything published, the lease let go


def relay_position(database: Path) -> tuple[int, str | None]:
    """The relay's next index and the holder of its lease, as it keeps them."""
    with closing(sqlite3.connect(database)) as db:
        row = db.execute("SELECT next_index, holder FROM relay_positions").fetchone()
    return (0, None) if row is None else (int(row[0]), row[1])


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_two_runners_of_one_read_model_take_turns(operator, database, request):
    """As the API catching up before it answers does beside serve's runner: a batch that
    another runner applied meanwhile is left alone, not applied twice nor failed on."""
    if database == "postgres":
        operator.env["BEWIJSLAST_DATABASE_URL"] = request.getfixturevalue("pg_database").url
    app = open_application(operator.settings)
    employee = Actor.with_grants("medewerker@leusden.nl", [Grant(Role.EMPLOYEE, TOWN)])
    incidents = {str(app.execute(ReportIncident(**REPORT), employee)) for _ in range(3)}
    other = ReadModelRunner(app, all_projections())

    class Overtaken(ReadModelRunner):
        def position(self, projection: ReadModel) -> int:
            start = super().position(projection)
            other.catch_up(projection)  # moves on after this runner read where it was
            return start

    runner = Overtaken(app, all_projections())
    register = next(p for p in runner.projections if p.name == "incident_register")
    assert runner.catch_up(register) == 0
    with runner.db.transaction() as cursor:
        rows = incident_register(cursor, TOWN)
    assert sorted(row["id"] for row in rows) == sorted(incidents)
    applied = [i for row in rows for entries in row["evidence"].values() for i in entries]
    assert sorted(applied) == [0, 1, 2]  # each event once


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-workers"])
def test_requests_in_flight_when_the_signal_comes_are_finished_and_signed(operator, workers):
    """Commands keep coming while SIGTERM arrives: each answered 201 is in the ledger, no
    other is (the rest were refused before they began), and the last checkpoint covers all.
    With API workers, the signal reaches them through serve, which stops them first."""
    headers = api_key(operator, "EMPLOYEE:Leusden")
    with serving(operator, "--workers", str(workers)) as served:
        answers = asyncio.run(commands_across_a_signal(served, headers, total=120, signal_after=20))
        status = served.process.wait(timeout=120)
    assert status == 0, served.output()
    created = [a for a in answers if a == 201]
    assert len(created) >= 20
    assert all(
        a == 201 or a in ("ConnectError", "ReadError", "RemoteProtocolError") for a in answers
    )
    app = open_application(operator.settings)
    recorder = app.recorder
    assert recorder.ledger_size() == len(created)
    assert checkpoint_size(recorder.latest_signed_checkpoint()) == len(created)


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_api_workers_answer_beside_each_other_and_one_that_ends_stops_serve(
    operator, database, request
):
    """``--workers 2``: two API processes on one port, each taking part of a burst of new
    connections; one killed, serve stops the other, signs a last checkpoint over everything
    and exits 1."""
    if database == "postgres":
        operator.env["BEWIJSLAST_DATABASE_URL"] = request.getfixturevalue("pg_database").url
    headers = api_key(operator, "EMPLOYEE:Leusden")
    with serving(operator, "--workers", "2") as served:
        workers = worker_pids(served)
        assert len(workers) == 2
        answers, held = asyncio.run(concurrent_reports(served, headers, 40, workers))
        assert answers == [201] * 40
        assert all(held[pid] > 0 for pid in workers), held
        os.kill(workers[0], signal.SIGKILL)
        status = served.process.wait(timeout=120)
    assert status == 1, served.output()
    assert f"API worker {workers[0]} ended by itself" in served.output()
    assert not Path(f"/proc/{workers[1]}").exists()  # stopped with serve, not left behind
    recorder = open_application(operator.settings).recorder
    assert recorder.ledger_size() == 40
    assert checkpoint_size(recorder.latest_signed_checkpoint()) == 40


def test_api_workers_stop_when_serve_is_killed_outright(operator):
    """SIGKILL (the OOM killer, say) gives serve no chance to stop its workers: they notice."""
    with serving(operator, "--workers", "2") as served:
        workers = worker_pids(served)
        served.process.kill()
        served.process.wait()
        deadline = time.monotonic() + STARTUP_SECONDS
        while any(running(pid) for pid in workers):
            assert time.monotonic() < deadline, f"workers left serving: {workers}"
            time.sleep(0.1)


def test_serve_signs_for_its_api_workers_and_each_reports_its_failures(operator):
    """With API workers, ``serve`` signs their decisions' checkpoints: each decision is answered
    with a checkpoint that holds it. Once ``serve`` cannot sign (its state file spoilt), the
    ``/health`` of every worker says why, also of a worker that never asked for a checkpoint
    (each worker signing for itself knew only its own failures)."""
    privacy = api_key(operator, "PRIVACY_OFFICER:Leusden")
    owner = api_key(operator, "PROCESS_OWNER:Leusden")
    with serving(operator, "--workers", "2", "--interval", "0.2") as served:
        worker_pids(served)
        for _ in range(4):  # a connection each: the kernel spreads them over the workers
            decided = decide_request(served, privacy, owner)
            assert decided["checkpoint"] is not None, decided
            assert decided["checkpoint"] > decided["index"]
        operator.home.joinpath("keys", "ledger.key.checkpoint").write_text("spoilt\n")
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            # A connection per request: both workers answer, sooner or later.
            failing = {signing_failure(served), signing_failure(served)}
            if None not in failing:
                break
            assert time.monotonic() < deadline, failing
            time.sleep(0.1)
        assert all("the state file" in reason for reason in failing), failing
        served.process.kill()


def signing_failure(served: Serving) -> str | None:
    """Why the worker that answers cannot sign, as its ``/health`` says; None if it can."""
    health = served.http.get("/health").json()
    return health["checkpoint"]["failing"]


def decide_request(served: Serving, privacy: dict[str, str], owner: dict[str, str]) -> dict:
    """A rights request received, its requester's identity verified, and decided: the
    decision's answer."""

    def command(name: str, headers: dict[str, str], **body: object) -> dict:
        response = served.http.post(f"/commands/{name}", headers=headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    request = command(
        "receive-request",
        privacy,
        municipality=TOWN,
        controller="college van B&W",
        right=Right.ACCESS.value,
        channel="post",
        requester_name="Anna de Vries",
        requester_contact="anna@example.nl",
        received_at=datetime.now(UTC).isoformat(),
    )["id"]
    command("verify-identity", privacy, aggregate_id=request, method="DigiD")
    return command(
        "decide-request", owner, aggregate_id=request, outcome=Outcome.GRANTED.value, reasons="ja"
    )


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent that is gone to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def worker_pids(served: Serving) -> list[int]:
    """The API workers' process ids, as serve logs them once all serve (the first may
    answer /health before the others have started)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not (lines := [x for x in served.output().splitlines() if "worker processes (" in x]):
        assert time.monotonic() < deadline, served.output()
        time.sleep(0.1)
    (line,) = lines
    return [int(pid) for pid in line.rpartition("(")[2].rstrip(")").split(", ")]


async def concurrent_reports(
    served: Serving, headers: dict[str, str], total: int, workers: list[int]
) -> tuple[list[int], dict[int, int]]:
    """``total`` incidents reported at once, each on a connection of its own; the answers, and
    how many of those connections each worker held."""
    # Every connection kept open until counted (httpx keeps 20 by default, closing the rest).
    limits = httpx.Limits(max_connections=total, max_keepalive_connections=total)
    async with httpx.AsyncClient(base_url=served.url, timeout=120, limits=limits) as client:
        answers = await asyncio.gather(
            *(
                client.post("/commands/report-incident", headers=headers, json=REPORT)
                for _ in range(total)
            )
        )
        held = connections_held(int(served.url.rpartition(":")[2]), workers)
    return [a.status_code for a in answers], held


def connections_held(port: int, pids: list[int]) -> dict[int, int]:
    """Established TCP connections to ``port`` per process, from /proc."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rpartition(":")[2], 16) == port:
                established.add(f"socket:[{fields[9]}]")
    return {
        pid: sum(os.readlink(fd) in established for fd in Path(f"/proc/{pid}/fd").iterdir())
        for pid in pids
    }


def test_api_workers_that_cannot_listen_stop_serve_saying_why(operator):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = operator.run("serve", "--workers", "2", "--port", str(port))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


async def commands_across_a_signal(
    served: Serving, headers: dict[str, str], *, total: int, signal_after: int
) -> list[int | str]:
    """Send ``total`` commands at once; SIGTERM once ``signal_after`` are answered. Each
    answer's status, or the name of the transport error instead."""
    answered = 0

    async def one(client: httpx.AsyncClient) -> int | str:
        nonlocal answered
        try:
            response = await client.post("/commands/report-incident", headers=headers, json=REPORT)
        except httpx.TransportError as e:
            return type(e).__name__
        answered += 1
        if answered == signal_after:
            served.process.send_signal(signal.SIGTERM)
        return response.status_code

    async with httpx.AsyncClient(base_url=served.url, timeout=120) as client:
        return list(await asyncio.gather(*(one(client) for _ in range(total))))


@pytest.mark.parametrize(
    ("flags", "logged"),
    [((), "127.0.0.1"), (("--forwarded-allow-ips", "127.0.0.1"), "203.0.113.9")],
    ids=["no-proxy-trusted", "a-trusted-proxy"],
)
def test_x_forwarded_for_is_believed_only_from_a_configured_proxy(operator, flags, logged):
    with serving(operator, *flags) as served:
        answer = served.http.get("/ledger/entries", headers={"X-Forwarded-For": "203.0.113.9"})
        assert answer.status_code == 200
        assert served.stop(signal.SIGTERM) == 0
    (line,) = [x for x in served.output().splitlines() if "GET /ledger/entries" in x]
    assert f"{logged}:" in line or f"{logged} " in line, line


def test_serve_in_a_folder_with_a_configuration_file_and_nothing_exported(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEWIJSLAST_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    operator = Operator(tmp_path, env)
    made = operator.run("init", "--database", "sqlite:///ledger.db")
    assert made.returncode == 0, made.stderr
    headers = api_key(operator, "EMPLOYEE:Leusden")
    with serving(operator, "--no-relay") as served:
        incident = report_incident(served, headers)
        assert served.stop(signal.SIGTERM) == 0, served.output()
    settings = Settings.from_environ({}, config_file=tmp_path / "bewijslast.toml")
    app = open_application(settings)  # held: a collected application closes its connections
    recorder = app.recorder
    assert [r.entry.stream for r in recorder.records(0, 0)] == [incident]
    assert checkpoint_size(recorder.latest_signed_checkpoint()) == 1
