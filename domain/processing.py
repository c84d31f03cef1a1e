"""The register of processing activities (AVG art. 30(1)): one aggregate per activity.

Each amendment is a new version of the register entry; log lines and decisions point to the
exact version that applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event


class ProcessingActivity(Aggregate):
    @event("Registered")
    def __init__(
        self,
        *,
        municipality: str,
        controller: str,
        name: str,
        purposes: list[str],
        legal_basis: str,
        valid_from: datetime,
        actor: str,
    ) -> None:
        self.municipality = municipality
        self.controller = controller
        self.name = name
        self.purposes = purposes
        self.legal_basis = legal_basis
        self.valid_from = valid_from
        self.registered_by = actor
        self.retired = False

    @event("Amended")
    def amend(self, *, changes: dict[str, Any], valid_from: datetime, actor: str) -> None:
        if self.retired:
            raise ValueError("a retired processing activity cannot be amended")
        for field, value in changes.items():
            if field not in ("name", "purposes", "legal_basis"):
                raise ValueError(
                    f"{field!r} cannot be amended; allowed: name, purposes, legal_basis"
                )
            setattr(self, field, value)
        self.valid_from = valid_from

    @event("Retired")
    def retire(self, *, reason: str, valid_from: datetime, actor: str) -> None:
        if self.retired:
            raise ValueError("the processing activity is already retired")
        self.retired = True
        self.valid_from = valid_from
