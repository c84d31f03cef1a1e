"""Shared bits of the benchmark scripts: databases to run on, timing, medians, profiles."""

from __future__ import annotations

import argparse
import binascii
import cProfile
import hashlib
import io
import os
import platform
import pstats
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit

import psycopg

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:55432/postgres"


def parser(description: str) -> argparse.ArgumentParser:
    """The options every script takes; a script may add its own before parsing."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes, a smoke test")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("BEWIJSLAST_BENCH_PG_URL")
        or os.environ.get("BEWIJSLAST_TEST_PG_URL")
        or DEFAULT_PG_URL,
        help="a PostgreSQL superuser URL; the scripts make and drop their own databases",
    )
    return p


def arguments(description: str) -> argparse.Namespace:
    return parser(description).parse_args()


@contextmanager
def pg_database(admin_url: str) -> Iterator[dict[str, str]]:
    """A fresh database on the server of ``admin_url``, dropped afterwards; yields
    the keyword arguments of ``PostgresDatastore``."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(admin_url)
    try:
        yield {
            "dbname": name,
            "host": parts.hostname or "127.0.0.1",
            "port": str(parts.port or 5432),
            "user": parts.username or "postgres",
            "password": parts.password or "",
        }
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def pg_version(admin_url: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        assert row is not None
        return str(row[0])


def machine(admin_url: str | None = None) -> str:
    """One line naming what the figures were measured on."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    text = f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"
    if admin_url:
        try:
            text += f", PostgreSQL {pg_version(admin_url)}"
        except psycopg.Error:
            text += ", PostgreSQL unreachable"
    with suppress(OSError):
        text += f", load average {os.getloadavg()[0]:.2f}"
    return f"{text}, {host_speed()}"


PROBE_STATE = binascii.b2a_base64(bytes(range(256)) * 2, newline=False)


def host_speed() -> str:
    """How fast this host's CPU is right now, in µs per unit of the ledger's kind of work (a
    state decoded from base64 and hashed, kept in a dict): these 2-core VMs run the same
    code up to 1.5x slower from one quarter hour to the next, which ratios against a baseline
    cancel but absolute targets (seconds per million entries) do not. Latency between
    processes (a database's round trip) varies apart from it: the baselines show that."""
    decode, sha256 = binascii.a2b_base64, hashlib.sha256
    units, samples = 2000, []
    for _ in range(7):
        seen: dict[int, tuple[bytes, int]] = {}
        started = time.perf_counter()
        for i in range(units):
            digest = sha256(decode(PROBE_STATE)).digest()
            seen[i & 255] = (digest, i)
        samples.append((time.perf_counter() - started) / units * 1e6)
    return f"host probe {statistics.median(samples):.2f} µs"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(p / 100 * len(ordered) + 0.5) - 1))]


def profile(
    action: Callable[[], object], *, top: int = 20, sorts: tuple[str, ...] = ("tottime",)
) -> str:
    """Run ``action`` once under cProfile; the ``top`` costliest functions for each ordering."""
    prof = cProfile.Profile()
    prof.enable()
    try:
        action()
    finally:
        prof.disable()
    parts = []
    for sort in sorts:
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.strip_dirs().sort_stats(sort).print_stats(top)
        lines = out.getvalue().splitlines()
        # Keep the totals line and the table, not the pstats preamble.
        start = next((i for i, line in enumerate(lines) if "function calls" in line), 0)
        parts.append("\n".join(line for line in lines[start:] if line.strip()))
    return "\n\n".join(parts)
