"""Clients that report incidents, each with its own idempotency keys, and remember what they
were told: the ids acknowledged, the problem documents, the requests left unanswered."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

REPORT = {"municipality": "Leusden", "controller": "college van B&W", "summary": "laptop kwijt"}


@dataclass
class Answer:
    key: str
    status: int
    retry_after: str | None
    seconds: float


@dataclass
class Load:
    url: str
    headers: dict[str, str]
    acknowledged: dict[str, str] = field(default_factory=dict)  # key: id
    refused: list[Answer] = field(default_factory=list)  # every answer but 201
    unanswered: set[str] = field(default_factory=set)  # no answer, or not 201 (yet)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, clients: int) -> None:
        for number in range(clients):
            thread = threading.Thread(target=self._client, args=(number,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def wait_for(self, acknowledged: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while len(self.acknowledged) < acknowledged and time.monotonic() < deadline:
            time.sleep(0.05)

    def send(self, client: httpx.Client, key: str) -> Any:
        began = time.monotonic()
        try:
            response = client.post(
                f"{self.url}/commands/report-incident",
                headers={**self.headers, "Idempotency-Key": key},
                json=REPORT,
            )
        except httpx.TransportError:
            with self._lock:
                self.unanswered.add(key)
            return None
        with self._lock:
            if response.status_code == 201:
                self.unanswered.discard(key)
                self.acknowledged[key] = response.json()["id"]
            else:
                self.unanswered.add(key)
                self.refused.append(
                    Answer(
                        key,
                        response.status_code,
                        response.headers.get("Retry-After"),
                        time.monotonic() - began,
                    )
                )
        return response

    def _client(self, number: int) -> None:
        with httpx.Client(timeout=30) as client:
            sent = 0
            while not self._stop.is_set():
                self.send(client, f"client-{number}-{sent}")
                sent += 1

    def retry_all(self, seconds: float = 60) -> dict[str, str]:
        """Every key not acknowledged, and every acknowledged one, once more: what the server
        answers now (all must be 201)."""
        answers: dict[str, str] = {}
        deadline = time.monotonic() + seconds
        with httpx.Client(timeout=30) as client:
            for key in sorted(set(self.acknowledged) | self.unanswered):
                while True:
                    response = self.send(client, key)
                    if response is not None and response.status_code == 201:
                        answers[key] = response.json()["id"]
                        break
                    assert time.monotonic() < deadline, f"{key} never recorded"
                    time.sleep(0.2)
        return answers
