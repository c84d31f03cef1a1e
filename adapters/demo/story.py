"""The demo's story as data: ``story.toml`` read into typed, bounded, frozen records.

Everything the file says is checked when it is read, before anything is recorded: each step
names a command of ``domain.commands`` and fields that command has, a person of the cast,
records and moments named by an earlier step of its scene, and facts its municipality states.
The commands themselves are validated as they are given, by their own models.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib import resources
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    model_validator,
)

from domain import commands
from domain.authorization import Role
from domain.commands import CommandModel, StepCommand
from domain.values import ShortText

# The commands a story may give, by name.
COMMANDS: Mapping[str, type[CommandModel]] = {
    command.__name__: command
    for command in (
        commands.AmendProcessingActivity,
        commands.AnswerFGAdvice,
        commands.ClassifyNotABreach,
        commands.CloseIncident,
        commands.CloseRequest,
        commands.DecideNotification,
        commands.DecideOnObjection,
        commands.DecideRequest,
        commands.ErasePersonalData,
        commands.PlaceLegalHold,
        commands.LiftLegalHold,
        commands.EstablishBreach,
        commands.EvaluateIncident,
        commands.ExtendRequest,
        commands.GiveFGAdvice,
        commands.InformSubjects,
        commands.LodgeObjection,
        commands.ReceiveRequest,
        commands.ReclassifyNotABreach,
        commands.RecordMeasure,
        commands.RegisterProcessingActivity,
        commands.ReportIncident,
        commands.RequestFGAdvice,
        commands.ResumeRequest,
        commands.RetireProcessingActivity,
        commands.SendDecision,
        commands.SubmitAPNotification,
        commands.SupplementAPNotification,
        commands.SuspendRequest,
        commands.TriageIncident,
        commands.VerifyIdentity,
        commands.WithdrawAPNotification,
        commands.WithdrawRequest,
        # processors (art. 28, 33(2)) and the Cyberbeveiligingswet's early warning
        commands.RegisterProcessor,
        commands.ConcludeAgreement,
        commands.RenewAgreement,
        commands.EndAgreement,
        commands.RecordProcessorNotice,
        commands.FindSignificantIncident,
        commands.SendEarlyWarning,
        # the FG's involvement
        commands.InformFG,
        commands.VolunteerFGAdvice,
        # the incident response team (seed 002 bijlage 3)
        commands.ConveneIRT,
        commands.AssessIncident,
        commands.AssessCriminalActivity,
        commands.ConsultMayor,
        commands.FileAangifte,
        commands.RecordEvidence,
        commands.HandOverEvidence,
        commands.InformParty,
        commands.InformGovernment,
        commands.RecordTimeAndCosts,
        commands.RecordSubjectsNotInformed,
        commands.CollectAddresses,
        commands.DestroyAddresses,
        # The DPIA procedure (seed 002 bijlage 4).
        commands.SignalDPIA,
        commands.TakeFGAdviceOnDPIA,
        commands.AssignDPIA,
        commands.PreScanDPIA,
        commands.AssessDPIA,
        commands.CompleteDPIAMeasure,
        commands.ConsultAP,
        commands.ExtendAPConsultation,
        commands.RecordAPAnswer,
        commands.AssessDPIAAsFG,
        commands.DecideOnDPIA,
        # issue 14: rights requests as bijlage 5 runs them, objections under the Awb
        commands.AcknowledgeRequest,
        commands.NotifyRecipients,
        commands.ExcuseLateness,
        commands.DeclareInadmissible,
        commands.HearObjector,
        commands.WaiveHearing,
        commands.ExtendObjectionTerm,
        commands.RecordNoticeOfDefault,
    )
}
FG = "fg"  # the one person who acts for every municipality
MAX_STEPS = 1000  # of one scene
MAX_ITEMS = 100  # municipalities, scenes of one, facts, list items

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
CommandName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Za-z]{0,59}$")]
Words = Annotated[str, StringConstraints(max_length=2000)]
Scalar = StrictBool | StrictInt | Words
Scalars = Annotated[list[Scalar], Field(max_length=MAX_ITEMS)]
Table = dict[Name, Scalar | Scalars]
# A list of tables of plain values (a DPIA's risks, a register entry's transfers).
Tables = Annotated[list[Table], Field(max_length=MAX_ITEMS)]
Fact = Scalar


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Duration(Record):
    days: int = Field(0, ge=0, le=366)
    hours: int = Field(0, ge=0, le=24 * 366)

    def delta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours)


class Since(Duration):
    """A moment after one an earlier step of the scene marked."""

    since: Name


class RecordId(Record):
    """The id of a record an earlier step of the scene created (as text after ``prefix``)."""

    record: Name
    prefix: Words | None = None


class RequesterOf(Record):
    """The data subject who made a rights request an earlier step created."""

    requester_of: Name


# A field of a command: a plain value, a table of them (a register entry, the AP's form), or a
# reference to what the scene did before. Tried in this order, so a reference is never a table.
# A table may hold a table of plain values (an agreement's location) and references to
# records (a register entry's processors).
RecordIds = Annotated[list[RecordId], Field(max_length=MAX_ITEMS)]
# What a table holds; tried in order, so a list of references is never a list of tables.
InTable = Annotated[
    Scalar | Scalars | RecordIds | Tables | dict[Name, Scalar], Field(union_mode="left_to_right")
]
Value = Annotated[
    RecordId | RequesterOf | Scalar | Scalars | dict[Name, InTable] | Tables,
    Field(union_mode="left_to_right"),
]


def record_ids(value: object) -> list[RecordId]:
    """The references to records in a field's value, at any depth."""
    if isinstance(value, RecordId):
        return [value]
    if isinstance(value, dict):
        return [r for item in value.values() for r in record_ids(item)]
    if isinstance(value, list):
        return [r for item in value for r in record_ids(item)]
    return []


_STEP_KEYS = frozenset(("do", "by", "on", "creates", "wait", "at", "dated", "marks"))


class Step(Record):
    """One command given by one person; see story.toml for what each key means."""

    do: CommandName
    by: Name
    on: Name | None = None
    creates: Name | None = None
    wait: Duration | None = None
    at: Since | None = None
    dated: Name | None = None
    marks: Name | None = None
    fields: dict[Name, Value] = Field(default_factory=dict, max_length=MAX_ITEMS)

    @model_validator(mode="before")
    @classmethod
    def _command_fields(cls, data: object) -> object:
        """The keys that are not the step's own are the command's fields."""
        if not isinstance(data, dict):
            return data
        fields = {k: v for k, v in data.items() if k not in _STEP_KEYS}
        return {k: v for k, v in data.items() if k in _STEP_KEYS} | {"fields": fields}

    @model_validator(mode="after")
    def _fits_its_command(self) -> Self:
        command = self.command
        given = set(self.fields) | {self.dated} - {None}
        unknown = given - set(command.model_fields)
        if unknown:
            raise ValueError(f"{self.do} has no field {', '.join(sorted(map(str, unknown)))}")
        if (self.on is not None) != issubclass(command, StepCommand):
            raise ValueError(f"{self.do}: 'on' names the record of a step command, and only that")
        if self.wait is not None and self.at is not None:
            raise ValueError("a step either waits or happens at a moment, not both")
        return self

    @property
    def command(self) -> type[CommandModel]:
        command = COMMANDS.get(self.do)
        if command is None:
            raise ValueError(f"no command {self.do}")
        return command


class Municipality(Record):
    name: ShortText
    domain: ShortText
    contact: ShortText | None = None  # its controllers' contact details (art. 30(1)(a))
    scenes: list[Name] = Field(min_length=1, max_length=MAX_ITEMS)
    facts: dict[Name, Fact] = Field(default_factory=dict, max_length=MAX_ITEMS)


class Person(Record):
    login: ShortText
    name: ShortText
    contact: ShortText


class Story(Record):
    """The story as written: the municipalities, who acts, and the scenes they play."""

    start: datetime  # local time in Europe/Amsterdam, as written
    operator: ShortText
    controller: ShortText
    controllers: list[ShortText] = Field(min_length=1, max_length=MAX_ITEMS)
    fg: Person
    cast: dict[Name, ShortText] = Field(max_length=MAX_ITEMS)
    municipality: list[Municipality] = Field(min_length=1, max_length=MAX_ITEMS)
    # Steps as written, before a municipality's facts are put in (they are read per
    # municipality, by ``steps``).
    scene: dict[Name, list[dict[str, object]]] = Field(max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.start.tzinfo is not None:
            raise ValueError("start is a local time (Europe/Amsterdam), without an offset")
        for role in self.cast:
            if role.upper() not in Role.__members__:
                raise ValueError(f"the cast names no role {role!r}")
        for steps in self.scene.values():
            if len(steps) > MAX_STEPS:
                raise ValueError(f"a scene has at most {MAX_STEPS} steps")
        for town in self.municipality:
            for name in town.scenes:
                _check_scene(self.steps(town, name), set(self.cast) | {FG})
        return self

    @property
    def municipalities(self) -> tuple[str, ...]:
        return tuple(town.name for town in self.municipality)

    def steps(self, town: Municipality, scene: str) -> list[Step]:
        """The scene as ``town`` plays it: its facts put in, the steps they rule out left out."""
        if scene not in self.scene:
            raise ValueError(f"{town.name} plays the scene {scene!r}, which there is not")
        played = []
        for raw in self.scene[scene]:
            written = dict(raw)
            when = written.pop("when", None)
            if when is not None and _fact(town, when) is not True:
                continue
            try:
                played.append(Step.model_validate(_with_facts(written, town)))
            except ValidationError as e:
                raise ValueError(f"scene {scene!r}, step {written.get('do')!r}: {e}") from None
        return played


def _fact(town: Municipality, name: object) -> Fact:
    if not isinstance(name, str) or name not in town.facts:
        raise ValueError(f"{town.name} states no fact {name!r}")
    return town.facts[name]


def _with_facts(value: object, town: Municipality) -> object:
    """``value`` with every ``{ fact = name }`` replaced by the municipality's fact."""
    if isinstance(value, dict):
        if set(value) == {"fact"}:
            return _fact(town, value["fact"])
        return {key: _with_facts(item, town) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_facts(item, town) for item in value]
    return value


def _check_scene(steps: list[Step], people: set[str]) -> None:
    """Every name a step uses was given by an earlier step of the scene."""
    records: set[str] = set()
    moments: set[str] = set()
    for step in steps:
        used = {step.on} if step.on else set()
        for value in step.fields.values():
            used |= {r.record for r in record_ids(value)}
            if isinstance(value, RequesterOf):
                used.add(value.requester_of)
        if step.by not in people:
            raise ValueError(f"{step.do}: no one in the cast is {step.by!r}")
        if not used <= records:
            raise ValueError(f"{step.do} uses {sorted(used - records)} before a step creates it")
        if step.at is not None and step.at.since not in moments:
            raise ValueError(f"{step.do} happens after {step.at.since!r}, which no step marks")
        if step.creates:
            records.add(step.creates)
        if step.marks:
            moments.add(step.marks)


def load_story(text: str | None = None) -> Story:
    """The story of ``story.toml`` (or of ``text``, written the same way), checked."""
    if text is None:
        text = resources.files(__package__).joinpath("story.toml").read_text(encoding="utf-8")
    return Story.model_validate(tomllib.loads(text))
