"""What a read model is: its tables, and how each event changes them.

Projections write SQL with ``?`` marks through a cursor they are handed; they never open
connections. The runner (``adapters/projection_runner.py``) commits each batch of changes
together with the projection's tracking position, so every event counts exactly once.

Most read models keep one row per record (``RecordProjection``): the columns queries filter
on, the whole record as JSON, and the ledger indices of every entry it was built from, so
any figure can point to its evidence. Each such read model types its records (a ``TypedDict``
per read model: the JSON document as stored, its parts present once their event is) and
applies each event by its class, as the ``eventsourcing`` library's projections do
(``@singledispatchmethod``).

A read model never holds personal data in the clear: a text sealed in its event stays sealed
in the read model (``SEALED_UNDER`` and the stored ciphertext), and is opened by the adapters
as it is shown, with the key store, so an erasure or the end of a retention period empties
every read model at once, without a rebuild.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, ClassVar, Generic, Protocol, TypedDict, TypeVar, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.personal_data import Erased, PersonalData, Sealed

SEALED_UNDER = "sealed_under"  # a sealed text in a read model: {SEALED_UNDER: key, "ciphertext"}


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SealedDoc(TypedDict):
    """A sealed text as a stored read model holds it (``SEALED_UNDER``)."""

    sealed_under: str
    ciphertext: str


# A sealed text in a record: as its event holds it until the record is stored, then stored.
SealedText = Sealed | SealedDoc


class Record(TypedDict):
    """What every record of a ``RecordProjection`` holds: its id (the stream's) and the
    ledger indices of the entries it was built from, by event name."""

    id: str
    evidence: dict[str, list[int]]


R = TypeVar("R", bound=Record)


class NoHandler(TypeError):
    """A read model was handed an event of its aggregate that it has no method for."""

    def __init__(self, read_model: ReadModel, event: object) -> None:
        super().__init__(f"{read_model.name} does not apply {type(event).__qualname__}")


class ReadModel(ABC):
    """Named apart from the ``eventsourcing`` library's ``Projection``, whose contract (a view
    and tracking records of its own) differs: a read model is handed a cursor and its events."""

    name: str
    topics: tuple[str, ...] = ()  # the event topics it reads; () for all
    tables: tuple[str, ...] = ()
    version = 1  # raise it when the tables change shape: the runner then rebuilds from index 0

    @abstractmethod
    def create_tables(self, cursor: Cursor) -> None: ...

    def drop_tables(self, cursor: Cursor) -> None:
        for table in self.tables:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")

    @abstractmethod
    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        """Change the read model for one event; ``position`` is its ledger index + 1."""

    def apply_batch(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        """Change the read model for events in ledger order, all in one transaction."""
        for event, position in events:
            self.apply(cursor, event, position)

    @abstractmethod
    def entries_of(self, cursor: Cursor, record: str) -> list[int]:
        """The ledger indices of the entries the record was built from, in order."""

    @abstractmethod
    def snapshot(self, cursor: Cursor, record: str | None = None) -> list[dict[str, Any]]:
        """The read model's records (or the one named) as they stand in its tables."""

    def key(self, row: dict[str, Any]) -> str:
        """The record (the stream's id) a row of ``snapshot`` is."""
        return str(row["id"])


def utc_text(moment: datetime) -> str:
    """One fixed-width UTC form, so that text order is time order on both databases."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_utc_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, PersonalData) and value.sealed is not None:
        return {SEALED_UNDER: str(value.subject), "ciphertext": value.sealed}
    if isinstance(value, Erased):
        return {SEALED_UNDER: str(value.subject), "ciphertext": value.sealed}
    raise TypeError(f"{type(value).__name__} does not belong in a read model")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_plain, sort_keys=True, ensure_ascii=False)


def stated_at(event: Any) -> datetime:
    """When what ``event`` records happened, as stated (DESIGN.md "Two times"): a version's
    ``valid_from``, else the one moment the event carries (``received_at``, ``aware_at``...);
    an event that states none (the organisation's) happened when it was recorded."""
    valid_from = getattr(event, "valid_from", None)
    if isinstance(valid_from, datetime):
        return valid_from
    for name, value in vars(event).items():
        if name.endswith("_at") and isinstance(value, datetime):
            return value
    moment: datetime = event.timestamp
    return moment


def event_topics(aggregate: type[Aggregate]) -> tuple[str, ...]:
    """The topics of every event an aggregate records (its nested event classes)."""
    return tuple(
        get_topic(cls)
        for name, cls in vars(aggregate).items()
        if isinstance(cls, type)
        and issubclass(cls, Aggregate.Event)
        and name not in ("Event", "Created")  # the library's base classes, never recorded
    )


class RecordProjection(ReadModel, Generic[R]):
    """One row per record of ``aggregate``; ``apply_event(event, record)`` keeps the JSON
    form up to date and ``columns(record)`` derives what queries filter on."""

    aggregate: ClassVar[type[Aggregate]]
    table: ClassVar[str]
    column_types: ClassVar[dict[str, str]]
    indexes: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if hasattr(cls, "aggregate"):
            cls.topics = event_topics(cls.aggregate)
            cls.tables = (cls.table,)

    @abstractmethod
    def columns(self, record: R) -> dict[str, Any]: ...

    @abstractmethod
    def apply_event(self, event: Any, record: R) -> None:
        """Change ``record`` for ``event``: each read model dispatches by the event's class."""

    def create_tables(self, cursor: Cursor) -> None:
        columns = "".join(f"{name} {kind}, " for name, kind in self.column_types.items())
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (record TEXT PRIMARY KEY, {columns}"
            "doc TEXT NOT NULL, position BIGINT NOT NULL)"
        )
        for i, index in enumerate(self.indexes):
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_{i} ON {self.table} ({index})")

    def load(self, cursor: Cursor, record: str) -> R | None:
        cursor.execute(f"SELECT doc FROM {self.table} WHERE record = ?", (record,))
        row = cursor.fetchone()
        return None if row is None else cast(R, json.loads(row[0]))

    def apply(self, cursor: Cursor, event: Any, position: int) -> None:
        self.apply_batch(cursor, [(event, position)])

    def apply_batch(self, cursor: Cursor, events: Sequence[tuple[Any, int]]) -> None:
        # Each record is read at most once and written once per batch: catching up on a
        # long ledger costs round trips per record, not per event.
        changed: dict[str, tuple[R, int]] = {}
        for event, position in events:
            key = str(event.originator_id)
            if key in changed:
                record = changed[key][0]
            elif event.originator_version == 1:  # a new record: nothing to read
                record = self._new(key)
            else:
                record = self.load(cursor, key) or self._new(key)
            self.apply_event(event, record)
            record["evidence"].setdefault(type(event).__name__, []).append(position - 1)
            changed[key] = (record, position)
        for key, (record, position) in changed.items():
            self.store(cursor, key, record, position)

    @staticmethod
    def _new(key: str) -> R:
        """A record before its first event: the event fills in the rest."""
        return cast(R, Record(id=key, evidence={}))

    def store(self, cursor: Cursor, key: str, record: R, position: int) -> None:
        values = {**self.columns(record), "doc": to_json(record), "position": position}
        names = ", ".join(values)
        updates = ", ".join(f"{n} = excluded.{n}" for n in values)
        cursor.execute(
            f"INSERT INTO {self.table} (record, {names}) VALUES (?{', ?' * len(values)}) "
            f"ON CONFLICT (record) DO UPDATE SET {updates}",
            (key, *values.values()),
        )

    def snapshot(self, cursor: Cursor, record: str | None = None) -> list[dict[str, Any]]:
        if record is None:
            cursor.execute(f"SELECT doc FROM {self.table} ORDER BY record")
        else:
            cursor.execute(f"SELECT doc FROM {self.table} WHERE record = ?", (record,))
        return rows(cursor)

    def entries_of(self, cursor: Cursor, record: str) -> list[int]:
        found = self.load(cursor, record)
        if found is None:
            return []
        return sorted(i for indices in found["evidence"].values() for i in indices)


def rows(cursor: Cursor) -> list[dict[str, Any]]:
    """The records a ``SELECT doc ...`` found."""
    return [dict(json.loads(row[0])) for row in cursor.fetchall()]


def documents(cursor: Cursor, kind: type[R]) -> list[R]:
    """The records of one read model (``kind``) a ``SELECT doc ...`` found."""
    return [cast(R, json.loads(row[0])) for row in cursor.fetchall()]
