"""The one error a procedure step raises when it is not allowed, and the one the application
raises when a part the adapters inject is missing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class ProcedureError(ValueError):
    """A step that the procedure does not allow now: says what is wrong and what is allowed."""

    def __init__(self, problem: str, allowed: Iterable[str] = ()) -> None:
        self.problem = problem
        self.allowed = sorted(allowed)
        text = problem
        if self.allowed:
            text += f" (allowed now: {', '.join(self.allowed)})"
        super().__init__(text)

    def named(self, names: Mapping[str, str]) -> ProcedureError:
        """The same refusal, with each allowed step ``names`` knows by its name there."""
        return ProcedureError(self.problem, [names.get(step, step) for step in self.allowed])


class NotConfigured(Exception):
    """The application lacks a part the adapters inject (a key store, a master key): nothing
    was recorded; the message says what to configure."""


class UnknownRecord(LookupError):
    """No such record, or none the actor can see: the two are not told apart, so that an id
    from another municipality reveals nothing about it."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} does not exist")


class IdempotencyKeyReused(ValueError):
    """An idempotency key sent again with another request: nothing was recorded."""
