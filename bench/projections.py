"""Projections at scale: catch-up of every read model over N events (default 1,000,000)
against reading and decoding the same events without projecting, in the same run; then the
p95 of each FG oversight query at that size.

The history is a realistic mix written straight through the aggregates (no authorisation,
no checkpoints: those are not what is measured): per unit of work one incident that is a
breach and goes through notification, closing and evaluation (8 events), one rights request
decided, sent and closed (5), one FG advice given and answered (3). So that every oversight
query has as much to find, one unit in a hundred each is left open (breach not yet decided,
request undecided, advice unanswered), notified late with a reason, decided against the FG's
advice, never evaluated, or ends with the requester's personal data erased; twenty
municipalities, an FG serving four of them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from uuid import uuid4

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from adapters.config import database_env
from adapters.persistence.personal_data import ErasedAsSubject, PersonalDataAsCiphertext
from adapters.persistence.subject_keys import MasterKey, open_key_store
from adapters.services.projection_runner import BATCH, ReadModelRunner
from bench.common import machine, parser, percentile, pg_database
from domain.application import Bewijslast
from domain.authorization import Role
from domain.deadlines import AMSTERDAM, TermCalendar
from domain.fg_advice import FGAdvice
from domain.incidents import APForm, Impact, Incident, Nature
from domain.personal_data import ErasureGround, PersonalData, PersonalDataErasure
from domain.processing import LegalBasis, ProcessingActivity, RegisterEntry
from domain.requests import Outcome, Right, RightsRequest
from projections import oversight
from projections.catalogue import all_projections

TOWNS = [f"Gemeente {n:02d}" for n in range(20)]
FG_TOWNS = TOWNS[:4]
BODY = "college van burgemeester en wethouders"
START = datetime(2020, 1, 6, 9, tzinfo=AMSTERDAM)
EVENTS_PER_UNIT = 16
AP_FORM = APForm(
    natures=[Nature.CONFIDENTIALITY],
    nature="brief met persoonsgegevens naar een verkeerd adres",
    subject_categories=["inwoners"],
    approx_subjects=3,
    record_categories=["NAW"],
    approx_records=3,
    fg_contact="FG, fg@example.nl",
    likely_consequences="kennisname",
    measures="ontvanger gevraagd de brief terug te sturen",
    phased="",
)
ACTOR = "bench@example.nl"


def unit(i: int, at: datetime) -> list:
    """One unit of work, the exceptions spread by ``i % 100``."""
    town = TOWNS[i % len(TOWNS)]
    kind = i % 100
    open_ = kind == 0
    incident = Incident(
        municipality=town, controller=BODY, summary=f"incident {i}", reported_at=at, actor=ACTOR
    )
    incident.triage(impact=Impact.MEDIUM, significant=False, triaged_at=at, actor=ACTOR)
    incident.establish_breach(
        aware_at=at,
        natures=[Nature.CONFIDENTIALITY],
        data_categories=["NAW"],
        approx_subjects=3,
        approx_records=3,
        likely_consequences="kennisname",
        established_at=at,
        actor=ACTOR,
    )
    request = RightsRequest.receive(
        municipality=town,
        controller=BODY,
        right=Right.ACCESS,
        channel="e-mail",
        requester=PersonalData(uuid4(), f"Inwoner {i}"),
        contact=PersonalData(uuid4(), f"inwoner{i}@example.org"),
        received_at=at,
        actor=ACTOR,
    )
    request.verify_identity(method="DigiD", verified_at=at, actor=ACTOR)
    advice = FGAdvice(
        municipality=town, about=incident.id, question="melden?", requested_at=at, actor=ACTOR
    )
    advice.give(advice="melden", recommendation="melden", given_at=at, actor=ACTOR)
    if open_:
        return [incident, request, advice]
    later = at + timedelta(hours=80 if kind == 1 else 30)
    departed = kind == 2
    incident.decide_notification(
        notify_ap=True,
        ap_reasons="risico",
        inform_subjects=True,
        subjects_reasons="risico",
        fg_advice=advice.id,
        fg_advice_followed=not departed,
        departure_reasons="eigen afweging" if departed else "",
        decided_at=later,
        actor=ACTOR,
    )
    incident.submit_ap_notification(
        meldingsnummer=f"M-{i}",
        preliminary=False,
        form=AP_FORM,
        late_reason="melding na het weekend" if kind == 1 else "",
        submitted_at=later,
        actor=ACTOR,
    )
    incident.inform_subjects(channel="brief", informed_at=later, actor=ACTOR)
    incident.close(closed_at=later, actor=ACTOR)
    if kind != 3:
        incident.evaluate(findings="ok", evaluated_at=later + timedelta(days=14), actor=ACTOR)
    request.decide(
        outcome=Outcome.GRANTED,
        grounds=[],
        reasons="inzage",
        decided_at=later,
        role=Role.PROCESS_OWNER,
        actor=ACTOR,
    )
    request.send(channel="post", sent_at=later, term_calendar=TermCalendar(), actor=ACTOR)
    request.close(closed_at=later, actor=ACTOR)
    if not departed:  # the departure is answered in the breach decision
        advice.answer(followed=True, reasons="", answered_at=later, actor=ACTOR)
    if kind == 20:
        erasure = PersonalDataErasure(
            subject=request.requester.subject,
            municipality=town,
            ground=ErasureGround.ERASURE_REQUEST,
            reference=f"verzoek {i}",
            erased_at=later,
            actor=ACTOR,
        )
        return [incident, request, advice, erasure]
    return [incident, request, advice]


def register_entries(app: Bewijslast) -> None:
    for n, town in enumerate(TOWNS):
        activities = [
            ProcessingActivity(
                municipality=town,
                controller=BODY,
                entry=RegisterEntry(
                    name=f"verwerking {n}-{k}",
                    purposes=["taak"],
                    legal_basis=LegalBasis.PUBLIC_TASK,
                    legal_basis_law="Gemeentewet",
                    data_subject_categories=["inwoners"],
                    personal_data_categories=["NAW"],
                    bsn_used=k % 5 == 0,
                    bsn_legal_basis="Wet BRP" if k % 5 == 0 else "",
                    retention="7 jaar",
                    security_measures=["BIO"],
                    process_owner="afdelingshoofd",
                ).model_dump(mode="json"),
                valid_from=START,
                actor=ACTOR,
            )
            for k in range(50)
        ]
        app.save(*activities)


def record_history(app: Bewijslast, events: int) -> int:
    register_entries(app)
    units = max(1, (events - app.recorder.ledger_size()) // EVENTS_PER_UNIT)  # type: ignore[attr-defined]
    step = (datetime(2026, 11, 1, tzinfo=AMSTERDAM) - START) / units
    batch: list = []
    for i in range(units):
        batch += unit(i, START + i * step)
        if len(batch) >= 300:
            app.save(*batch)
            batch = []
    if batch:
        app.save(*batch)
    return int(app.recorder.ledger_size())  # type: ignore[attr-defined]


def read_all(app: Bewijslast) -> int:
    """The baseline: every event read and decoded in the runner's batches, nothing applied."""
    count, start = 0, 0
    while True:
        batch = app.recorder.select_notifications(start, BATCH, inclusive_of_start=False)
        if not batch:
            return count
        for notification in batch:
            app.mapper.to_domain_event(notification)
        count += len(batch)
        start = batch[-1].id


QUERIES = {
    "open breaches": lambda c, now: oversight.open_breaches(c, FG_TOWNS, now),
    "late AP notifications": lambda c, now: oversight.late_ap_notifications(c, FG_TOWNS),
    "departures from FG advice": lambda c, now: oversight.departures_from_fg_advice(c, FG_TOWNS),
    "FG advice not answered": lambda c, now: oversight.unanswered_fg_advice(c, FG_TOWNS),
    "requests near deadline": lambda c, now: oversight.requests_near_deadline(
        c, FG_TOWNS, now.date()
    ),
    "special data/BSN without DPIA": lambda c, now: oversight.sensitive_processing_without_dpia(
        c, FG_TOWNS
    ),
    "incidents not evaluated": lambda c, now: oversight.incidents_not_evaluated(c, FG_TOWNS, now),
    "erasures": lambda c, now: oversight.erasures(c, FG_TOWNS),
}


def run(kind: str, url: str, events: int, runs: int) -> None:
    keys = open_key_store(url, MasterKey.generate())
    app = Bewijslast(
        env=database_env(url),
        transcodings=[PersonalDataAsCiphertext(keys), ErasedAsSubject()],
        shred=keys.destroy,
    )
    started = time.perf_counter()
    size = record_history(app, events)
    print(f"{kind}: {size:,} events recorded in {time.perf_counter() - started:.0f} s")

    started = time.perf_counter()
    read = read_all(app)
    baseline = time.perf_counter() - started
    runner = ReadModelRunner(app, all_projections())
    started = time.perf_counter()
    applied = runner.catch_up_all()
    catch_up = time.perf_counter() - started
    print(
        f"{kind}: read and decode {read:,} events {baseline:.1f} s ({read / baseline:,.0f}/s); "
        f"catch-up of {len(applied)} read models {catch_up:.1f} s "
        f"({sum(applied.values()):,} events applied, {read / catch_up:,.0f} ledger events/s); "
        f"ratio catch-up / read = {catch_up / baseline:.2f}"
    )
    now = datetime(2026, 11, 23, 12, tzinfo=AMSTERDAM)
    with runner.db.transaction() as cursor:
        for name, query in QUERIES.items():
            timings = []
            for _ in range(runs):
                t = time.perf_counter()
                found = query(cursor, now)
                timings.append(time.perf_counter() - t)
            print(
                f"{kind}: {name:32} p50 {percentile(timings, 50) * 1000:6.2f} ms  "
                f"p95 {percentile(timings, 95) * 1000:6.2f} ms  ({len(found)} rows)"
            )


def main() -> None:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--runs", type=int, default=200)
    args = p.parse_args()
    events = 20_000 if args.quick else args.events
    print(machine(args.pg_url if args.db != "sqlite" else None))
    with ExitStack() as stack:
        if args.db in ("sqlite", "both"):
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            run("SQLite", f"sqlite:///{folder}/bench.db", events, args.runs)
        if args.db in ("postgres", "both"):
            db = stack.enter_context(pg_database(args.pg_url))
            url = f"postgresql://{db['user']}@{db['host']}:{db['port']}/{db['dbname']}"
            run("PostgreSQL", url, events, args.runs)


if __name__ == "__main__":
    main()
