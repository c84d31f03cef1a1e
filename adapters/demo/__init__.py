"""A realistic sample history, recorded through the application service as people would.

Four municipalities share one FG (seed 002: Bunschoten, Leusden, Nijkerk, Putten); the
organisation is declared first. Each keeps its register of processing activities, handles
incidents of every impact level (breaches notified and not, FG advice followed and not, a
late notification, a notification withdrawn) and rights requests of every right and outcome,
and carries out an erasure. The story itself is data (``story.toml``); this module plays it.

The story is a *late entry* of the past: its moments are stated (2024 and 2025, from the
demo's own clock), the ledger records them now. So every entry has two times, as any entry
made after the fact has: when it happened (stated) and when the ledger learnt it (recorded).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from uuid import UUID

from adapters.demo.story import FG, Municipality, RecordId, RequesterOf, Step, Story, load_story
from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from domain.deadlines import AMSTERDAM
from domain.organisation import DeclaredFG, DeclaredMunicipality, DeclareOrganisation
from domain.requests import RightsRequest


def organisation_of(story: Story) -> DeclareOrganisation:
    """The organisation the story's municipalities and their FG make up."""
    towns = list(story.municipalities)
    return DeclareOrganisation(
        municipalities=[
            DeclaredMunicipality(
                name=town.name, controllers=story.controllers, contact=town.contact
            )
            for town in story.municipality
        ],
        fg=DeclaredFG(name=story.fg.name, contact=story.fg.contact, municipalities=towns),
    )


STORY = load_story()
MUNICIPALITIES = STORY.municipalities
B_AND_W = STORY.controller
ORGANISATION = organisation_of(STORY)
# What to try after the demo, in the same folder; the story's moments lie in 2024 and 2025.
NEXT_COMMANDS = (
    f"bewijslast report --municipality Putten --controller '{B_AND_W}' "
    "--from 2024-01-01 --to 2025-12-31 --lang en --out report.html",
    "bewijslast register --municipality Bunschoten --as-of 2024-02-01T00:00+01:00",
    "bewijslast reconstruct incident_register --as-of 2024-07-01T00:00+02:00 --out incidents.json",
    "bewijslast retention held --municipality Leusden",
)


class StoryInTheFuture(RuntimeError):
    """A late entry states the past: the story must have ended before it is recorded."""


class DemoClock:
    """The demo's own time, moved forward as the story goes."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now

    def reach(self, moment: datetime) -> datetime:
        """A moment the story states: the clock has got there by then (never in the future)."""
        self.now = max(self.now, moment)
        return moment


class Scene:
    """One scene as one municipality plays it: the records and moments its steps name."""

    def __init__(self, app: Bewijslast, clock: DemoClock, cast: dict[str, Actor]) -> None:
        self.app, self.clock, self.cast = app, clock, cast
        self.records: dict[str, UUID] = {}
        self.moments: dict[str, datetime] = {}

    def play(self, step: Step, town: Municipality, controller: str) -> None:
        moment = self._moment(step)
        command = step.command
        given: dict[str, object] = {name: self._value(v) for name, v in step.fields.items()}
        owner = {"municipality": town.name, "controller": controller}
        given |= {name: value for name, value in owner.items() if name in command.model_fields}
        if step.on is not None:
            given["aggregate_id"] = self.records[step.on]
        if step.dated is not None:
            given[step.dated] = moment
        record = self.app.execute(command.model_validate(given), self.cast[step.by])
        if step.creates is not None:
            self.records[step.creates] = record
        if step.marks is not None:
            self.moments[step.marks] = moment

    def _moment(self, step: Step) -> datetime:
        if step.wait is not None:
            return self.clock.advance(step.wait.delta())
        if step.at is not None:
            return self.clock.reach(self.moments[step.at.since] + step.at.delta())
        return self.clock.now

    def _value(self, value: object) -> object:
        if isinstance(value, RecordId):
            record = self.records[value.record]
            return record if value.prefix is None else f"{value.prefix}{record}"
        if isinstance(value, dict):  # a table: a register entry naming its processors
            return {name: self._value(item) for name, item in value.items()}
        if isinstance(value, list):
            return [self._value(item) for item in value]
        if isinstance(value, RequesterOf):
            request: object = self.app.repository.get(self.records[value.requester_of])
            if not isinstance(request, RightsRequest):
                raise TypeError(f"{value.requester_of} is not a rights request")
            return request.requester.subject
        return value


def cast_of(story: Story, town: Municipality, fg: Actor) -> dict[str, Actor]:
    """Who acts in ``town``: each role of the cast at the town's domain, and the FG."""
    cast = {
        role: Actor.with_grants(f"{login}@{town.domain}", [Grant(Role[role.upper()], town.name)])
        for role, login in story.cast.items()
    }
    return cast | {FG: fg}


def record_demo(app: Bewijslast, story: Story = STORY) -> Counter[str]:
    """Record the sample history; return how many events of each kind were recorded."""
    recording = app.clock
    clock = DemoClock(story.start.replace(tzinfo=AMSTERDAM))
    before = app.recorder.max_notification_id() or 0
    app.declare_organisation(organisation_of(story), operator=story.operator)
    fg = Actor.with_grants(story.fg.login, [Grant(Role.FG, m) for m in story.municipalities])
    app.clock = clock
    latest = clock.now
    try:
        for town in story.municipality:
            # Each municipality's story starts on the same day: they run side by side, as the
            # four municipalities of one FG do, and the whole story stays in the past.
            clock.now = story.start.replace(tzinfo=AMSTERDAM)
            cast = cast_of(story, town, fg)
            for name in town.scenes:
                scene = Scene(app, clock, cast)
                for step in story.steps(town, name):
                    scene.play(step, town, story.controller)
            latest = max(latest, clock.now)
    finally:
        app.clock = recording
    if latest > recording():
        raise StoryInTheFuture(f"the demo's story runs until {latest}, after now")
    recorded: Counter[str] = Counter()
    for notification in app.recorder.select_notifications(before + 1, limit=1_000_000):
        recorded[notification.topic.rsplit(":", 1)[-1]] += 1
    return recorded
