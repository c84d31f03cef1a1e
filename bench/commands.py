"""Commands per second end to end (validation, authorisation, domain rules, personal-data
encryption, ledger, a checkpoint after each decision) against raw ledger appends of the same
stored events, one transaction each, in the same run; p50/p95 latency of both."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from eventsourcing.persistence import StoredEvent

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from adapters.services.checkpointer import Checkpointer
from bench.common import arguments, median, percentile, pg_database
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from domain.commands import (
    ClassifyNotABreach,
    CloseIncident,
    DecideRequest,
    ReceiveRequest,
    ReportIncident,
    SendDecision,
    TriageIncident,
    VerifyIdentity,
)
from domain.deadlines import AMSTERDAM
from domain.incidents import Impact
from domain.requests import Outcome, Right
from ledger.note import NoteSigner

TOWN, BODY = "Nijkerk", "college van burgemeester en wethouders"
PEOPLE = {
    role: Actor.with_grants(f"{role.name.lower()}@nijkerk.nl", [Grant(role, TOWN)]) for role in Role
}
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=AMSTERDAM)
# The application's clock: requests arrive at NOW, an hour before it; decisions go out at it.
LATER = NOW + timedelta(hours=1)


def workload(app: Bewijslast, rounds: int) -> list[float]:
    """Eight commands a round: a request decided and sent, an incident that is no breach."""
    latencies: list[float] = []

    def run(command, role: Role):
        started = time.perf_counter()
        result = app.execute(command, PEOPLE[role])
        latencies.append(time.perf_counter() - started)
        return result

    for _ in range(rounds):
        request = run(
            ReceiveRequest(
                municipality=TOWN,
                controller=BODY,
                right=Right.ACCESS,
                channel="web",
                requester_name="A. Jansen",
                requester_contact="a@example.nl",
                received_at=NOW,
            ),
            Role.PRIVACY_OFFICER,
        )
        run(VerifyIdentity(aggregate_id=request, method="DigiD"), Role.PRIVACY_OFFICER)
        run(
            DecideRequest(aggregate_id=request, outcome=Outcome.GRANTED, reasons="inzage"),
            Role.PROCESS_OWNER,
        )
        run(SendDecision(aggregate_id=request, channel="post", sent_at=LATER), Role.PROCESS_OWNER)
        incident = run(
            ReportIncident(municipality=TOWN, controller=BODY, summary="phishing"), Role.EMPLOYEE
        )
        run(TriageIncident(aggregate_id=incident, impact=Impact.LOW), Role.CISO)
        run(ClassifyNotABreach(aggregate_id=incident, reasons="geen gegevens"), Role.CISO)
        run(CloseIncident(aggregate_id=incident), Role.CISO)
    return latencies


def raw_appends(recorder, events: list[StoredEvent]) -> list[float]:
    latencies = []
    for stored in events:
        started = time.perf_counter()
        recorder.insert_events([stored])
        latencies.append(time.perf_counter() - started)
    return latencies


def application(url: str) -> Bewijslast:
    keys = open_key_store(url, MasterKey.generate())
    app = Bewijslast(
        env=database_env(url),
        transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
        clock=lambda: LATER,
    )
    app.on_decision = Checkpointer(app.recorder, NoteSigner.generate("bench.example/l")).signed_size
    return app


def report(name: str, commands: list[float], raw: list[float]) -> None:
    for what, values in (("commands", commands), ("raw appends", raw)):
        rate = len(values) / sum(values)
        print(
            f"{name:9} {what:12} {rate:8,.0f}/s  p50 {median(values) * 1000:6.2f} ms  "
            f"p95 {percentile(values, 95) * 1000:6.2f} ms"
        )
    ratio = (len(commands) / sum(commands)) / (len(raw) / sum(raw))
    print(f"{name:9} commands/s over raw appends/s: {ratio:.2f}", flush=True)


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    rounds = 10 if args.quick else 150
    for name in ("sqlite", "postgres"):
        with ExitStack() as stack:
            if name == "sqlite":
                directory = stack.enter_context(tempfile.TemporaryDirectory())
                url, raw_url = (f"sqlite:///{directory}/{n}.db" for n in ("app", "raw"))
            else:
                a, b = (stack.enter_context(pg_database(args.pg_url)) for _ in range(2))
                url, raw_url = (
                    f"postgresql://{d['user']}@{d['host']}:{d['port']}/{d['dbname']}"
                    for d in (a, b)
                )
            app = application(url)
            commands = workload(app, rounds)
            events = [
                StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                for n in app.recorder.select_notifications(None, 1_000_000)
            ]
            target = Bewijslast(env=database_env(raw_url))  # kept alive: its pool is in use
            raw = raw_appends(target.recorder, events)
            report(name, commands, raw)


if __name__ == "__main__":
    main()
