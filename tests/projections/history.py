"""A small, fully known history for the read-model tests: what a privacy team records in a
quarter, each step at a moment the test sets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from adapters.bootstrap import open_application, signer_of
from adapters.config import Settings
from adapters.persistence.subject_keys import MasterKey
from adapters.services.accountability_report import report_at
from adapters.services.receipts import checkpoint_size
from adapters.signing_keys import generate_key_files
from domain.application import Bewijslast
from domain.authorization import PERMISSIONS, Actor, Grant, Role
from domain.commands import (
    ClassifyNotABreach,
    CloseIncident,
    ConcludeAgreement,
    DecideNotification,
    DecideRequest,
    ErasePersonalData,
    EstablishBreach,
    EvaluateIncident,
    ExtendRequest,
    GiveFGAdvice,
    ReceiveRequest,
    RecordFGAnnualReport,
    RecordMeasure,
    RegisterProcessingActivity,
    RegisterProcessor,
    ReportIncident,
    RequestFGAdvice,
    ResumeRequest,
    SignalDPIA,
    SubmitAPNotification,
    SuspendRequest,
    TriageIncident,
    VerifyIdentity,
)
from domain.deadlines import AMSTERDAM
from domain.dpia import Trigger
from domain.fg_advice import NoAdviceReason, WithoutFGAdvice
from domain.incidents import Impact, Nature
from domain.personal_data import ErasureGround
from domain.processing import LegalBasis, RegisterEntry, SpecialCategoryGround
from domain.processors import Agreement, Location
from domain.reporting import ReportKind, ReportRecipient
from domain.requests import ExtensionReason, Outcome, Right
from ledger.note import NoteVerifier
from projections.report import Period
from tests.forms import AP_FORM

ORIGIN = "ledger.test.example/bewijslast"
TOWN, OTHER = "Leusden", "Putten"
COLLEGE = "college van burgemeester en wethouders"
T0 = datetime(2026, 3, 2, 9, tzinfo=AMSTERDAM)  # Monday


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def everyone(town: str) -> Actor:
    """One actor holding every role but the FG's, which never decides where it advises
    (art. 38(6)), so the tests read as the procedure, not the role table."""
    return Actor.with_grants(
        f"team@{town.lower()}.nl", [Grant(role, town) for role in Role if role is not Role.FG]
    )


def the_fg(town: str) -> Actor:
    return Actor.with_grants("fg@blnp.nl", [Grant(Role.FG, town)])


FG_ONLY = {command for command, roles in PERMISSIONS.items() if roles == {Role.FG}}


@dataclass
class History:
    app: Bewijslast
    clock: Clock
    sign: Callable[[], str]  # signs a checkpoint now
    verifiers: list[NoteVerifier]
    ids: dict[str, UUID] = field(default_factory=dict)

    def do(self, command, at: datetime, town: str = TOWN) -> UUID:
        # Recorded at ``at``, or when what it states had happened: never before.
        self.clock.now = max([at, *command.stated_moments().values()])
        fg = command.permission in FG_ONLY
        return self.app.execute(command, the_fg(town) if fg else everyone(town))


def open_history(url: str, keys: Path, clock: Clock) -> History:
    if not (keys / "ledger.key").exists():
        generate_key_files(ORIGIN, keys)
        MasterKey.generate_file(keys / "master.key")
    settings = Settings(url, ORIGIN, keys / "ledger.key", keys / "master.key")
    app = open_application(settings)
    app.clock = clock
    sign = signer_of(settings, app)
    assert sign is not None
    return History(
        app, clock, sign, [NoteVerifier.from_vkey((keys / "ledger.vkey").read_text().strip())]
    )


def breach(h: History, name: str, at: datetime, town: str = TOWN) -> UUID:
    incident = h.do(ReportIncident(municipality=town, controller=COLLEGE, summary=name), at, town)
    h.do(TriageIncident(aggregate_id=incident, impact=Impact.HIGH), at, town)
    h.do(
        EstablishBreach(
            aggregate_id=incident,
            aware_at=at + timedelta(hours=1),
            natures=[Nature.CONFIDENTIALITY],
            data_categories=["NAW"],
            approx_subjects=12,
            approx_records=12,
            likely_consequences="ongewenste kennisname",
        ),
        at,
        town,
    )
    h.ids[name] = incident
    return incident


def recorded_before_the_procedure(h: History, activity: UUID, at: datetime) -> None:
    """A DPIA as a ledger recorded it before the DPIA procedure (domain/dpia.py) retired the
    command: the event only, as it was stored."""
    h.clock.now = at
    recorded = h.app.repository.get(activity)
    recorded._dpia_recorded(
        outcome="aanvaardbaar", residual_risk="laag", fg_advice=None, recorded_at=at, actor="pb"
    )
    h.app.save(recorded)


def record_history(h: History) -> None:
    """A: breach still to be notified. B: notified late, with the reason. C: not notified,
    against the FG's advice. F: not a breach, closed, never evaluated. G: closed, evaluated.
    P: a breach in another municipality. Requests R1 (plain), R2 (suspended 5 days), R3
    (extended 2 months, decided); R1's subject erased. An FG advice never answered; an
    activity with the BSN and no DPIA (one signalled only), and one with special categories and
    a DPIA."""
    breach(h, "A", T0)
    b = breach(h, "B", T0)
    decide = DecideNotification(
        aggregate_id=b,
        notify_ap=True,
        ap_reasons="risico voor betrokkenen",
        inform_subjects=False,
        subjects_reasons="geen hoog risico",
        without_fg_advice=WithoutFGAdvice(reason=NoAdviceReason.URGENCY, explanation="weekend"),
    )
    h.do(decide, T0 + timedelta(hours=5))
    h.do(RecordMeasure(aggregate_id=b, measure="wachtwoord gewijzigd", taken_at=T0), T0)
    h.do(
        SubmitAPNotification(
            aggregate_id=b,
            meldingsnummer="M-1",
            preliminary=False,
            form=AP_FORM,
            late_reason="melding kwam na het weekend binnen",
            submitted_at=T0 + timedelta(hours=80),
        ),
        T0 + timedelta(hours=80),
    )
    c = breach(h, "C", T0)
    advice = h.do(
        RequestFGAdvice(municipality=TOWN, about=c, question="melden?"), T0 + timedelta(hours=2)
    )
    h.do(
        GiveFGAdvice(aggregate_id=advice, advice="wel melden", recommendation="melden"),
        T0 + timedelta(hours=3),
    )
    h.do(
        DecideNotification(
            aggregate_id=c,
            notify_ap=False,
            ap_reasons="versleutelde gegevens",
            inform_subjects=False,
            subjects_reasons="geen risico",
            fg_advice=advice,
            fg_advice_followed=False,
            departure_reasons="de sleutel is niet gelekt",
        ),
        T0 + timedelta(hours=4),
    )
    h.ids["C-advice"] = advice
    unanswered = h.do(
        RequestFGAdvice(municipality=TOWN, about=c, question="evaluatie?"), T0 + timedelta(days=1)
    )
    h.do(
        GiveFGAdvice(aggregate_id=unanswered, advice="evalueer", recommendation="evalueren"),
        T0 + timedelta(days=2),
    )
    h.ids["unanswered"] = unanswered
    for name, evaluated in (("F", False), ("G", True)):
        incident = h.do(ReportIncident(municipality=TOWN, controller=COLLEGE, summary=name), T0)
        h.do(TriageIncident(aggregate_id=incident, impact=Impact.LOW), T0)
        h.do(ClassifyNotABreach(aggregate_id=incident, reasons="geen persoonsgegevens"), T0)
        h.do(CloseIncident(aggregate_id=incident), T0 + timedelta(days=1))
        if evaluated:
            h.do(EvaluateIncident(aggregate_id=incident, findings="ok"), T0 + timedelta(days=20))
        h.ids[name] = incident
    breach(h, "P", T0, OTHER)

    for name in ("R1", "R2", "R3"):
        request = h.do(
            ReceiveRequest(
                municipality=TOWN,
                controller=COLLEGE,
                right=Right.ACCESS,
                channel="e-mail",
                requester_name=f"Requester {name}",
                requester_contact=f"{name.lower()}@example.org",
                received_at=T0,
            ),
            T0,
        )
        h.do(VerifyIdentity(aggregate_id=request, method="DigiD"), T0 + timedelta(days=1))
        h.ids[name] = request
    h.do(SuspendRequest(aggregate_id=h.ids["R2"], missing="machtiging"), T0 + timedelta(days=2))
    h.do(ResumeRequest(aggregate_id=h.ids["R2"]), T0 + timedelta(days=7))
    h.do(
        ExtendRequest(
            aggregate_id=h.ids["R3"],
            months=2,
            reason=ExtensionReason.COMPLEXITY,
            explanation="veel dossiers",
            requester_told_at=T0 + timedelta(days=10),
        ),
        T0 + timedelta(days=10),
    )
    h.do(
        DecideRequest(aggregate_id=h.ids["R3"], outcome=Outcome.GRANTED, reasons="inzage gegeven"),
        T0 + timedelta(days=40),
    )
    subject = h.app.repository.get(h.ids["R1"]).requester.subject
    h.do(
        ErasePersonalData(
            municipality=TOWN,
            subject=subject,
            ground=ErasureGround.ERASURE_REQUEST,
            reference="verzoek R1",
        ),
        T0 + timedelta(days=41),
    )
    h.ids["R1-subject"] = subject

    # The parking app's supplier, a processor with its agreement (art. 28).
    supplier = h.do(RegisterProcessor(municipality=TOWN, controller=COLLEGE, name="ParkeerApp"), T0)
    h.do(
        ConcludeAgreement(
            aggregate_id=supplier,
            agreement=Agreement(
                reference="VO-2026-01",
                concluded_on=T0.date(),
                expires_on=T0.date().replace(year=T0.year + 3),
                location=Location(country="NL"),
            ),
        ),
        T0,
    )
    h.ids["ParkeerApp"] = supplier

    for name, special, dpia in (("Parkeren", [], False), ("Jeugdzorg", ["gezondheid"], True)):
        activity = h.do(
            RegisterProcessingActivity(
                municipality=TOWN,
                controller=COLLEGE,
                entry=RegisterEntry(
                    name=name,
                    purposes=[name],
                    legal_basis=LegalBasis.PUBLIC_TASK,
                    legal_basis_law="Gemeentewet",
                    data_subject_categories=["inwoners"],
                    personal_data_categories=["NAW"],
                    special_categories=special,
                    special_category_grounds=(
                        [SpecialCategoryGround.HEALTH_AND_SOCIAL_CARE] if special else []
                    ),
                    bsn_used=True,
                    bsn_legal_basis="Wet BRP",
                    retention="7 jaar",
                    security_measures=["BIO"],
                    process_owner="afdelingshoofd",
                ),
                valid_from=T0,
            ),
            T0,
        )
        if not dpia:  # a DPIA signalled for it (bijlage 4 step 1), no further
            h.ids["Parkeren-DPIA"] = h.do(
                SignalDPIA(
                    activity=activity, trigger=Trigger.NEW_SYSTEM, description="nieuw pakket"
                ),
                T0 + timedelta(days=1),
            )
        if dpia:
            recorded_before_the_procedure(h, activity, T0 + timedelta(days=3))
        h.ids[name] = activity

    # Last, so that nothing above moves: the FG sends its report over the quarter, built at a
    # signed checkpoint (reporting duties, recorded when sent with the report's digest).
    quarter = Period(T0.date() - timedelta(days=60), T0.date() + timedelta(days=30))
    size = checkpoint_size(h.sign())
    built = report_at(h.app, ReportKind.FG_ANNUAL_REPORT, TOWN, COLLEGE, quarter, size)
    assert built is not None
    h.ids["report"] = h.do(
        RecordFGAnnualReport(
            municipality=TOWN,
            controller=COLLEGE,
            period_from=quarter.start,
            period_to=quarter.end,
            recipients=[
                ReportRecipient.RAAD,
                ReportRecipient.COLLEGE,
                ReportRecipient.BURGEMEESTER,
            ],
            sent_at=T0 + timedelta(days=42),
            checkpoint_size=size,
            report_digest=built[1],
        ),
        T0 + timedelta(days=42),
    )
