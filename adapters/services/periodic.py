"""A background thread that does one thing every so often until it is stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Periodic:
    """Calls ``tick`` after each ``wait()`` seconds, in a daemon thread, until ``stop``."""

    def __init__(self, name: str, tick: Callable[[], None], wait: Callable[[], float]) -> None:
        self.name, self.tick, self.wait = name, tick, wait
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.wait()):
            self.tick()
