"""One signer for the API's worker processes: ``serve`` signs, its workers ask it over a pipe.

A decision waits for a checkpoint that holds it. One process's decisions share a signing (the
checkpointer's lock, as commits share a flush); when each API worker signed for itself, a
decision in one worker waited for the other worker's signing under the signer lock and then
proved that checkpoint consistent again before taking it. Now the workers ask ``serve``'s own
checkpointer (``SigningClient``, ``answer_worker``): decisions from every worker share one
signing, done in a process that serves no requests. ``serve`` answers each ask in a thread of
its own, so that asks arriving together wait together.

The pipe joins processes that ``serve`` spawned itself; what crosses it is its own pickled
objects, never a client's input.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Literal

from adapters.persistence.appending import Clock, utc_now
from adapters.services.checkpointer import Checkpointer, Failure
from ledger.checkpoint import Checkpoint

log = logging.getLogger(__name__)
# A decision waits at most this long for serve's answer (then it is answered without a
# checkpoint, as when signing fails: the periodic signer signs it later).
ANSWER_SECONDS = 60.0
HEALTH_SECONDS = 5.0  # /health says the signer does not answer after this long


class SignerGone(Exception):
    """The process that signs for this one no longer answers."""


class SigningFailed(Exception):
    """``serve``'s checkpointer failed to sign; the reason is its own."""


@dataclass(frozen=True)
class Ask:
    number: int
    what: Literal["checkpoint", "failure"]
    covering: int | None = None  # a checkpoint holding this many entries; None: all of them


@dataclass(frozen=True)
class Answer:
    number: int
    signed: tuple[Checkpoint, str] | None = None
    failure: Failure | None = None  # the checkpointer's last failure, for /health
    error: str | None = None  # why this ask was not answered with a checkpoint


class SigningClient:
    """A worker's signer: the checkpointer of the process that spawned it, asked over a pipe.
    Thread-safe: each request thread waits for the answer to its own ask."""

    def __init__(self, connection: Connection, clock: Clock = utc_now) -> None:
        self._connection = connection
        self._clock = clock
        self._sending = threading.Lock()  # one ask at a time on the pipe
        # The asks waiting for an answer, and whether serve is gone. A lock of their own: the
        # thread that takes answers never waits for one that sends.
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._waiting: dict[int, Future[Answer]] = {}
        self._gone = False
        threading.Thread(target=self._receive, name="signer-answers", daemon=True).start()

    def checkpoint(self, covering: int | None = None) -> tuple[Checkpoint, str]:
        """As ``Checkpointer.checkpoint``, signed by ``serve``."""
        answer = self._ask(Ask(next(self._numbers), "checkpoint", covering), ANSWER_SECONDS)
        if answer.signed is None:
            raise SigningFailed(answer.error)
        return answer.signed

    def signed_size(self, covering: int) -> int:
        return self.checkpoint(covering)[0].size

    @property
    def failure(self) -> Failure | None:
        """``serve``'s checkpointer's failure: the one signer of every worker."""
        try:
            return self._ask(Ask(next(self._numbers), "failure"), HEALTH_SECONDS).failure
        except (SignerGone, TimeoutError) as e:
            reason = f"the process that signs checkpoints does not answer: {e}"
            return Failure(reason, self._clock())

    def _ask(self, ask: Ask, timeout: float) -> Answer:
        answered: Future[Answer] = Future()
        try:
            with self._lock:
                if self._gone:
                    raise SignerGone("serve closed the pipe")
                self._waiting[ask.number] = answered
            try:
                with self._sending:
                    self._connection.send(ask)
            except OSError as e:
                raise SignerGone(f"serve closed the pipe: {e}") from None
            return answered.result(timeout)
        except TimeoutError:
            raise TimeoutError(f"no answer within {timeout:g} s") from None
        finally:
            with self._lock:
                self._waiting.pop(ask.number, None)

    def _receive(self) -> None:
        while True:
            try:
                answer: Answer = self._connection.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                waiting = self._waiting.pop(answer.number, None)
            if waiting is not None:  # else the asker stopped waiting
                waiting.set_result(answer)
        with self._lock:
            self._gone = True
            for waiting in self._waiting.values():
                waiting.set_exception(SignerGone("serve closed the pipe"))
            self._waiting.clear()


def answer_worker(
    connection: Connection, checkpointer: Checkpointer, answering: ThreadPoolExecutor
) -> threading.Thread:
    """A thread that answers one worker's asks until the worker closes its end of the pipe;
    each ask for a checkpoint in a thread of ``answering``."""
    sending = threading.Lock()

    def reply(answer: Answer) -> None:
        # A worker that is gone reads no answer; serve notices it and stops.
        with sending, contextlib.suppress(OSError):
            connection.send(answer)

    def sign(ask: Ask) -> None:
        try:
            answer = Answer(ask.number, signed=checkpointer.checkpoint(ask.covering))
        except Exception as e:  # also kept by the checkpointer, for /health
            log.exception("signing a checkpoint for an API worker failed")
            answer = Answer(ask.number, error=f"{type(e).__name__}: {e}")
        reply(answer)

    def receive() -> None:
        while True:
            try:
                ask: Ask = connection.recv()
            except (EOFError, OSError):
                return
            if ask.what == "failure":
                # At once: not behind signings that wait for the signer lock.
                reply(Answer(ask.number, failure=checkpointer.failure))
            else:
                answering.submit(sign, ask)

    thread = threading.Thread(target=receive, name="signer-for-worker", daemon=True)
    thread.start()
    return thread
