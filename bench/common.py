"""Shared bits of the benchmark scripts: databases to run on, timing, medians."""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:55432/postgres"


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke test")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BEWIJSLAST_BENCH_PG_URL")
        or os.environ.get("BEWIJSLAST_TEST_PG_URL")
        or DEFAULT_PG_URL,
        help="a PostgreSQL superuser URL; the scripts make and drop their own databases",
    )
    return parser.parse_args()


@contextmanager
def pg_database(admin_url: str) -> Iterator[dict[str, str]]:
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


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
