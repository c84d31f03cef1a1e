"""A lock for tests that wait until callers have come to it."""

from __future__ import annotations

import threading


class CountedLock:
    """A lock that says how many wait for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = 0
        self.counting = threading.Lock()

    def __enter__(self) -> None:
        with self.counting:
            self.waiting += 1
        self.lock.acquire()
        with self.counting:
            self.waiting -= 1

    def __exit__(self, *exc: object) -> None:
        self.lock.release()
