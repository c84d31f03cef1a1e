"""What ``/health`` reports: how far signing, the read models and the relay are behind the
ledger, whether entries are held at a future time, and whether the database answers; each
past a threshold (settable, ``BEWIJSLAST_HEALTH_*``) makes the status ``degraded`` with a
reason, an unreachable database makes it ``failing``. A read model's lag counts the entries
of the kinds it applies; the relay's, every entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from adapters.entrypoints.api.problems import outage
from adapters.persistence.positions import relay_positions
from adapters.persistence.sqldb import Database
from adapters.persistence.stores import ledger_of
from adapters.services.checkpointer import Signing
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.receipts import checkpoint_size
from adapters.services.reconstruction import index_at
from domain.application import Bewijslast
from ledger.entry import format_recorded_at

ENVIRONMENT_PREFIX = "BEWIJSLAST_HEALTH_"


@dataclass(frozen=True)
class Thresholds:
    """Beyond these, the status is ``degraded``."""

    checkpoint_lag: int = 1000  # entries not yet under a signed checkpoint
    checkpoint_age: float = 300.0  # seconds since the last checkpoint, while entries wait
    read_model_lag: int = 1000  # entries a read model has not applied
    relay_lag: int = 10_000  # entries not yet published
    held_entries: int = 0  # entries dated after now (the clock stepped back)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Thresholds:
        """``BEWIJSLAST_HEALTH_CHECKPOINT_LAG=5000`` and so on, one per field."""
        given: dict[str, Any] = {}
        for field in fields(cls):
            value = environ.get(ENVIRONMENT_PREFIX + field.name.upper())
            if value is not None:
                given[field.name] = float(value) if field.type == "float" else int(value)
        return cls(**given)


class Health:
    def __init__(
        self,
        app: Bewijslast,
        runner: ReadModelRunner,
        relays: Database,
        thresholds: Thresholds,
        checkpointer: Signing | None = None,
    ) -> None:
        self.app, self.runner, self.relays = app, runner, relays
        self.ledger = ledger_of(app)
        self.thresholds = thresholds
        self.checkpointer = checkpointer

    def report(self) -> dict[str, Any]:
        try:
            report = self._measure()
        except Exception as e:
            problem = outage(e)
            if problem is None:
                raise
            return {"status": "failing", "reasons": [f"{problem.title}: {e}"]}
        reasons = self._judge(report)
        return {"status": "degraded" if reasons else "ok", "reasons": reasons, **report}

    def _measure(self) -> dict[str, Any]:
        size = self.ledger.ledger_size()
        now = self.ledger.clock()  # the clock that dates entries
        latest = self.ledger.latest_checkpoint()
        signed, age = 0, None
        if latest is not None:
            signed, age = checkpoint_size(latest[0]), (now - latest[1]).total_seconds()
        failure = None if self.checkpointer is None else self.checkpointer.failure
        return {
            "ledger_size": size,
            "checkpoint_size": signed if latest is not None else None,
            "checkpoint": {
                "size": signed,
                "age_seconds": age,
                "lag": size - signed,
                "failing": None if failure is None else failure.reason,
            },
            "read_models": self._read_model_lags(),
            "relays": {
                name: {"position": position, "lag": size - position}
                for name, position in relay_positions(self.relays).items()
            },
            "key_store": "configured" if self.app.shred is not None else "not configured",
            "clock": {"entries_held_at_a_future_time": self._held(size, now)},
        }

    def _read_model_lags(self) -> dict[str, dict[str, int]]:
        """Each read model's position, and how many entries of the kinds it applies come after
        it (counted up to one past the threshold: enough to judge, cheap when far behind)."""
        limit = self.thresholds.read_model_lag + 1
        lags = {}
        for projection in self.runner.projections:
            position = self.runner.position(projection)
            waiting = self.app.recorder.select_notifications(
                position, limit, topics=projection.topics, inclusive_of_start=False
            )
            lags[projection.name] = {"position": position, "lag": len(waiting)}
        return lags

    def _held(self, size: int, now: datetime) -> int:
        """Entries dated after now: recorded_at never decreases, so after the clock steps
        back the next entries keep the last time until the clock passes it."""
        if size == 0 or next(self.ledger.records(size - 1, size - 1)).entry.recorded_at <= (
            format_recorded_at(now)
        ):
            return 0
        return size - 1 - index_at(self.ledger, now)

    def _judge(self, report: dict[str, Any]) -> list[str]:
        limits = self.thresholds
        checkpoint = report["checkpoint"]
        reasons = []
        if checkpoint["failing"] is not None:
            reasons.append(f"checkpoints are not being signed: {checkpoint['failing']}")
        if checkpoint["lag"] > limits.checkpoint_lag:
            reasons.append(f"{checkpoint['lag']} entries are not under a signed checkpoint")
        age = checkpoint["age_seconds"]
        if checkpoint["lag"] > 0 and age is not None and age > limits.checkpoint_age:
            reasons.append(f"the last checkpoint was signed {age:.0f} s ago, entries wait")
        for kind, limit in (("read_models", limits.read_model_lag), ("relays", limits.relay_lag)):
            for name, position in report[kind].items():
                if position["lag"] > limit:
                    reasons.append(f"{name} is {position['lag']} entries behind the ledger")
        held = report["clock"]["entries_held_at_a_future_time"]
        if held > limits.held_entries:
            reasons.append(f"entries held at a future time: {held} (the clock stepped back)")
        return reasons
