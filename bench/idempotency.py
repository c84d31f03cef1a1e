"""The cost of an idempotency key on the append path: the same command (an incident
reported) with and without a key, in alternating blocks in the same run, on both databases;
commands/s of each and the ratio keyed over unkeyed."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import ExitStack

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.commands import BODY, TOWN, application
from bench.common import arguments, median, pg_database
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from domain.commands import ReportIncident

EMPLOYEE = Actor.with_grants("medewerker@nijkerk.nl", [Grant(Role.EMPLOYEE, TOWN)])
REPORT = ReportIncident(municipality=TOWN, controller=BODY, summary="phishing")
BLOCK = 50


def timed(app: Bewijslast, keys: list[str | None]) -> list[float]:
    latencies = []
    for key in keys:
        started = time.perf_counter()
        app.record(REPORT, EMPLOYEE, key)
        latencies.append(time.perf_counter() - started)
    return latencies


def main() -> None:
    args = arguments(__doc__.split("\n")[0])
    blocks = 2 if args.quick else 12
    for name in ("sqlite", "postgres"):
        with ExitStack() as stack:
            if name == "sqlite":
                directory = stack.enter_context(tempfile.TemporaryDirectory())
                url = f"sqlite:///{directory}/app.db"
            else:
                d = stack.enter_context(pg_database(args.pg_url))
                url = f"postgresql://{d['user']}@{d['host']}:{d['port']}/{d['dbname']}"
            app = application(url)
            timed(app, [None] * BLOCK + [f"warm-{i}" for i in range(BLOCK)])
            plain: list[float] = []
            keyed: list[float] = []
            for block in range(blocks):
                plain += timed(app, [None] * BLOCK)
                keyed += timed(app, [f"k-{block}-{i}" for i in range(BLOCK)])
            for what, values in (("without key", plain), ("with key", keyed)):
                print(
                    f"{name:9} {what:12} {len(values) / sum(values):8,.0f}/s  "
                    f"p50 {median(values) * 1000:6.2f} ms"
                )
            ratio = (len(keyed) / sum(keyed)) / (len(plain) / sum(plain))
            print(f"{name:9} with key over without, commands/s: {ratio:.2f}", flush=True)
            app.close()


if __name__ == "__main__":
    main()
