"""What a read model is: its tables, and how each event changes them.

Projections write SQL with ``?`` marks through a cursor they are handed; they never open
connections. The runner (``adapters/projection_runner.py``) commits each batch of changes
together with the projection's tracking position, so every event counts exactly once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Projection(ABC):
    name: str
    topics: tuple[str, ...] = ()  # the event topics it reads; () for all
    tables: tuple[str, ...] = ()

    @abstractmethod
    def create_tables(self, cursor: Cursor) -> None: ...

    def drop_tables(self, cursor: Cursor) -> None:
        for table in self.tables:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")

    @abstractmethod
    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        """Change the read model for one event; ``position`` is its ledger position + 1."""
