"""A realistic sample history, recorded through the application service as people would.

Four municipalities share one FG (seed 002: Bunschoten, Leusden, Nijkerk, Putten); the
organisation is declared first. Each keeps its register of processing activities, handles
incidents of every impact level (breaches notified and not, FG advice followed and not, a
late notification, a notification withdrawn) and rights requests of every right and outcome,
and carries out an erasure.

The story is a *late entry* of the past: its moments are stated (2024 and 2025, from the
demo's own clock), the ledger records them now. So every entry has two times, as any entry
made after the fact has: when it happened (stated) and when the ledger learnt it (recorded).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from uuid import UUID

from domain.application import Bewijslast
from domain.authorization import Actor, Grant, Role
from domain.commands import (
    AmendProcessingActivity,
    AnswerFGAdvice,
    ClassifyNotABreach,
    CloseIncident,
    CloseRequest,
    CommandModel,
    DecideNotification,
    DecideOnObjection,
    DecideRequest,
    ErasePersonalData,
    EstablishBreach,
    EvaluateIncident,
    ExtendRequest,
    GiveFGAdvice,
    InformSubjects,
    LodgeObjection,
    ReceiveRequest,
    ReclassifyNotABreach,
    RecordDPIA,
    RecordMeasure,
    RegisterProcessingActivity,
    ReportIncident,
    ReportToAuthority,
    RequestFGAdvice,
    ResumeRequest,
    RetireProcessingActivity,
    SendDecision,
    SubmitAPNotification,
    SupplementAPNotification,
    SuspendRequest,
    TriageIncident,
    VerifyIdentity,
    WithdrawAPNotification,
    WithdrawRequest,
)
from domain.deadlines import AMSTERDAM
from domain.incidents import APForm, Authority, Impact, Nature
from domain.organisation import DeclaredFG, DeclaredMunicipality, DeclareOrganisation
from domain.personal_data import ErasureGround
from domain.processing import LegalBasis, RegisterChanges, RegisterEntry
from domain.requests import (
    ExtensionReason,
    Outcome,
    RefusalGround,
    Right,
    RightsRequest,
)

MUNICIPALITIES = ("Bunschoten", "Leusden", "Nijkerk", "Putten")
B_AND_W = "college van burgemeester en wethouders"
FG_ID = "fg@blnp.nl"
ORGANISATION = DeclareOrganisation(
    municipalities=[
        DeclaredMunicipality(name=name, controllers=[B_AND_W, "burgemeester", "gemeenteraad"])
        for name in MUNICIPALITIES
    ],
    # The FG's published address (art. 37(7) AVG), not the FG's own login.
    fg=DeclaredFG(
        name="F. van Gelder", contact="privacy@blnp.nl", municipalities=list(MUNICIPALITIES)
    ),
)
# What to try after the demo, in the same folder; the story's moments lie in 2024 and 2025.
NEXT_COMMANDS = (
    f"bewijslast report --municipality Putten --controller '{B_AND_W}' "
    "--from 2024-01-01 --to 2025-12-31 --lang en --out report.html",
    "bewijslast register --municipality Bunschoten --as-of 2024-02-01T00:00+01:00",
    "bewijslast reconstruct incident_register --as-of 2024-07-01T00:00+02:00 --out incidents.json",
)
ACTIVITIES: tuple[tuple[str, LegalBasis, str, bool, list[str], str], ...] = (
    (
        "Basisregistratie Personen bijhouden",
        LegalBasis.LEGAL_OBLIGATION,
        "Wet BRP",
        True,
        [],
        "Selectielijst gemeenten 2020, 7.1.1",
    ),
    (
        "Verstrekken van bijstand",
        LegalBasis.LEGAL_OBLIGATION,
        "Participatiewet",
        True,
        ["gezondheid"],
        "Selectielijst gemeenten 2020, 5.4.2",
    ),
    (
        "Heffen en innen van belastingen",
        LegalBasis.LEGAL_OBLIGATION,
        "Gemeentewet art. 219",
        True,
        [],
        "Selectielijst gemeenten 2020, 2.3.1",
    ),
    (
        "Behandelen van bezwaarschriften",
        LegalBasis.PUBLIC_TASK,
        "Awb hoofdstuk 6 en 7",
        False,
        [],
        "Selectielijst gemeenten 2020, 1.1.9",
    ),
    (
        "Cameratoezicht openbare ruimte",
        LegalBasis.PUBLIC_TASK,
        "Gemeentewet art. 151c",
        False,
        [],
        "",
    ),
)


def register_entry(
    name: str, basis: LegalBasis, law: str, bsn: bool, special: list[str], selectielijst: str
) -> RegisterEntry:
    return RegisterEntry(
        name=name,
        purposes=[name],
        legal_basis=basis,
        legal_basis_law=law,
        data_subject_categories=["inwoners"],
        personal_data_categories=["NAW-gegevens", "geboortedatum"],
        special_categories=special,
        bsn_used=bsn,
        bsn_legal_basis="art. 10 Wet algemene bepalingen burgerservicenummer" if bsn else "",
        recipients=["Belastingdienst"] if "belasting" in name else [],
        retention="bewaren volgens de Selectielijst" if selectielijst else "28 dagen",
        selectielijst_reference=selectielijst,
        security_measures=["BIO-baseline", "autorisatiebeheer", "logging"],
        processors=["leverancier zaaksysteem (verwerkersovereenkomst 2024-11)"],
        process_owner="afdelingshoofd Publiekszaken",
        dpia_required=bool(special) or "Camera" in name,
        dpia_reason="bijzondere persoonsgegevens of stelselmatige monitoring"
        if special or "Camera" in name
        else "",
    )


# A Monday in the past: the whole story (about two years) is stated before it is recorded.
START = datetime(2024, 1, 8, 9, 0, tzinfo=AMSTERDAM)


class DemoClock:
    """The demo's own time, moved forward as the story goes."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def reach(self, moment: datetime) -> datetime:
        """A moment the story states: the clock has got there by then (never in the future)."""
        self.now = max(self.now, moment)
        return moment


class Municipality:
    def __init__(self, app: Bewijslast, clock: DemoClock, name: str, fg: Actor) -> None:
        self.app, self.clock, self.name, self.fg = app, clock, name, fg
        domain = name.lower() + ".nl"

        def actor(role: Role, who: str, controller: str | None = None) -> Actor:
            return Actor.with_grants(f"{who}@{domain}", [Grant(role, name, controller)])

        self.employee = actor(Role.EMPLOYEE, "medewerker.burgerzaken")
        self.ciso = actor(Role.CISO, "ciso")
        self.privacy = actor(Role.PRIVACY_OFFICER, "privacybeheerder")
        self.secretary = actor(Role.SECRETARY, "gemeentesecretaris")
        self.owner = actor(Role.PROCESS_OWNER, "proceseigenaar.sociaal-domein")

    def do(self, command: CommandModel, actor: Actor) -> UUID:
        return self.app.execute(command, actor)

    # --- the register --------------------------------------------------------------------------

    def keep_register(self, index: int) -> None:
        ids = [
            self.do(
                RegisterProcessingActivity(
                    municipality=self.name,
                    controller=B_AND_W,
                    entry=register_entry(*activity),
                    valid_from=self.clock.advance(hours=1),
                ),
                self.privacy,
            )
            for activity in ACTIVITIES
        ]
        self.do(
            AmendProcessingActivity(
                aggregate_id=ids[1],
                changes=RegisterChanges(purposes=["Participatiewet", "Terugvordering"]),
                valid_from=self.clock.advance(days=2),
            ),
            self.owner,
        )
        self.do(
            RecordDPIA(
                aggregate_id=ids[4], outcome="aanvaardbaar na maatregelen", residual_risk="laag"
            ),
            self.privacy,
        )
        if index % 2:
            self.do(
                RetireProcessingActivity(
                    aggregate_id=ids[4],
                    reason="Cameratoezicht beëindigd na evaluatie",
                    valid_from=self.clock.advance(days=1),
                ),
                self.privacy,
            )

    # --- incidents -----------------------------------------------------------------------------

    def report(self, summary: str, impact: Impact) -> UUID:
        incident = self.do(
            ReportIncident(municipality=self.name, controller=B_AND_W, summary=summary),
            self.employee,
        )
        self.clock.advance(hours=1)
        self.do(TriageIncident(aggregate_id=incident, impact=impact), self.ciso)
        return incident

    def breach(self, incident: UUID, subjects: int, categories: list[str]) -> datetime:
        aware = self.clock.advance(hours=2)
        self.do(
            EstablishBreach(
                aggregate_id=incident,
                aware_at=aware,
                natures=[Nature.CONFIDENTIALITY],
                data_categories=categories,
                approx_subjects=subjects,
                approx_records=subjects,
                likely_consequences="inbreuk op de persoonlijke levenssfeer",
            ),
            self.ciso,
        )
        return aware

    def fg_advice(self, incident: UUID, advice: str) -> UUID:
        request = self.do(
            RequestFGAdvice(
                municipality=self.name, about=incident, question="Moet dit datalek gemeld worden?"
            ),
            self.privacy,
        )
        self.clock.advance(hours=3)
        self.do(GiveFGAdvice(aggregate_id=request, advice=advice, recommendation=advice), self.fg)
        return request

    def ap_form(self, nature: str, subjects: int, phased: str) -> APForm:
        return APForm(
            natures=[Nature.CONFIDENTIALITY],
            nature=nature,
            subject_categories=["inwoners"],
            approx_subjects=subjects,
            record_categories=["naam", "adres", "BSN"],
            approx_records=subjects,
            fg_contact="functionaris gegevensbescherming, fg@blnp.nl, 033 000 0000",
            likely_consequences="risico op identiteitsfraude voor de betrokkenen",
            measures="betrokkenen gewaarschuwd; media voortaan versleuteld",
            phased=phased,
        )

    def phishing_not_a_breach(self) -> None:
        incident = self.report("Phishingmail ontvangen, niet op de link geklikt", Impact.LOW)
        self.do(
            ClassifyNotABreach(aggregate_id=incident, reasons="geen persoonsgegevens betrokken"),
            self.ciso,
        )
        self.do(CloseIncident(aggregate_id=incident), self.ciso)

    def misdirected_mail_not_notified(self, follow_fg: bool) -> None:
        incident = self.report("Brief met schuldhulpgegevens naar verkeerd adres", Impact.MEDIUM)
        self.breach(incident, 1, ["naam", "financiële gegevens"])
        advice = self.fg_advice(incident, "niet melden bij de AP, wel de betrokkene informeren")
        departure = "" if follow_fg else "betrokkene is al telefonisch ingelicht door het team"
        self.do(
            DecideNotification(
                aggregate_id=incident,
                notify_ap=False,
                ap_reasons="één betrokkene, brief ongeopend teruggekregen: geen risico",
                inform_subjects=follow_fg,
                subjects_reasons="betrokkene informeren uit zorgvuldigheid",
                fg_advice=advice,
                fg_advice_followed=follow_fg,
                departure_reasons=departure,
            ),
            self.secretary,
        )
        self.do(
            AnswerFGAdvice(aggregate_id=advice, followed=follow_fg, reasons=departure),
            self.secretary,
        )
        if follow_fg:
            self.do(
                InformSubjects(
                    aggregate_id=incident,
                    channel="telefoon",
                    informed_at=self.clock.advance(hours=4),
                ),
                self.privacy,
            )
        self.do(CloseIncident(aggregate_id=incident), self.ciso)

    def lost_usb_stick_notified(self, late: bool) -> None:
        incident = self.report("USB-stick met BRP-export (met BSN's) verloren", Impact.HIGH)
        aware = self.breach(incident, 1200, ["naam", "adres", "BSN"])
        advice = self.fg_advice(incident, "melden bij de AP en de betrokkenen informeren")
        self.do(
            DecideNotification(
                aggregate_id=incident,
                notify_ap=True,
                ap_reasons="BSN's: risico op identiteitsfraude",
                inform_subjects=True,
                subjects_reasons="hoog risico voor de betrokkenen",
                fg_advice=advice,
                fg_advice_followed=True,
            ),
            self.secretary,
        )
        self.do(AnswerFGAdvice(aggregate_id=advice, followed=True), self.secretary)
        submitted = self.clock.reach(aware + timedelta(hours=80 if late else 20))
        self.do(
            SubmitAPNotification(
                aggregate_id=incident,
                meldingsnummer=f"M-{self.name[:3].upper()}-0042",
                preliminary=True,
                form=self.ap_form("USB-stick met BRP-export verloren", 1200, "nog onbekend"),
                late_reason="melding pas na het weekend bij de CISO" if late else "",
                submitted_at=submitted,
            ),
            self.privacy,
        )
        self.do(
            InformSubjects(
                aggregate_id=incident,
                channel="brief",
                informed_at=self.clock.reach(submitted + timedelta(days=2)),
            ),
            self.privacy,
        )
        self.do(
            SupplementAPNotification(
                aggregate_id=incident,
                meldingsnummer=f"M-{self.name[:3].upper()}-0042",
                form=self.ap_form("USB-stick met BRP-export verloren", 1187, ""),
                final=True,
                supplemented_at=self.clock.reach(submitted + timedelta(days=5)),
            ),
            self.privacy,
        )
        self.do(
            ReportToAuthority(
                aggregate_id=incident,
                authority=Authority.POLICE,
                reference="aangifte verlies",
                reported_at=aware,
            ),
            self.secretary,
        )
        self.do(
            ReportToAuthority(
                aggregate_id=incident,
                authority=Authority.IBD,
                reference="IBD-melding",
                reported_at=aware,
            ),
            self.ciso,
        )
        self.do(
            RecordMeasure(
                aggregate_id=incident,
                measure="USB-poorten geblokkeerd",
                taken_at=self.clock.reach(submitted + timedelta(days=3)),
            ),
            self.ciso,
        )
        self.clock.advance(days=10)
        self.do(CloseIncident(aggregate_id=incident), self.ciso)
        self.clock.advance(days=21)
        self.do(
            EvaluateIncident(aggregate_id=incident, findings="alleen versleutelde media toestaan"),
            self.ciso,
        )

    def notified_then_withdrawn(self) -> None:
        incident = self.report("Laptop uit auto gestolen", Impact.HIGH)
        aware = self.breach(incident, 40, ["naam", "zorggegevens"])
        self.do(
            DecideNotification(
                aggregate_id=incident,
                notify_ap=True,
                ap_reasons="zorggegevens mogelijk ingezien",
                inform_subjects=False,
                subjects_reasons="eerst onderzoek naar versleuteling",
            ),
            self.secretary,
        )
        number = f"M-{self.name[:3].upper()}-0077"
        self.do(
            SubmitAPNotification(
                aggregate_id=incident,
                meldingsnummer=number,
                preliminary=True,
                form=self.ap_form("Laptop uit auto gestolen", 40, "versleuteling wordt onderzocht"),
                submitted_at=self.clock.reach(aware + timedelta(hours=10)),
            ),
            self.privacy,
        )
        self.do(
            WithdrawAPNotification(
                aggregate_id=incident,
                meldingsnummer=number,
                reason="schijf bleek volledig versleuteld",
                withdrawn_at=self.clock.reach(aware + timedelta(days=2)),
            ),
            self.privacy,
        )
        self.do(
            ReclassifyNotABreach(aggregate_id=incident, reasons="versleuteld: geen inbreuk"),
            self.ciso,
        )
        self.do(CloseIncident(aggregate_id=incident), self.ciso)

    # --- rights requests -----------------------------------------------------------------------

    def receive(self, right: Right, who: str) -> UUID:
        request = self.do(
            ReceiveRequest(
                municipality=self.name,
                controller=B_AND_W,
                right=right,
                channel="webformulier",
                requester_name=who,
                requester_contact=f"{who.split()[-1].lower()}@example.nl",
                received_at=self.clock.advance(days=1),
            ),
            self.privacy,
        )
        self.do(VerifyIdentity(aggregate_id=request, method="DigiD"), self.privacy)
        return request

    def decide(
        self, request: UUID, outcome: Outcome, grounds: list[RefusalGround], reasons: str
    ) -> None:
        self.clock.advance(days=10)
        self.do(
            DecideRequest(aggregate_id=request, outcome=outcome, grounds=grounds, reasons=reasons),
            self.owner,
        )
        self.do(
            SendDecision(
                aggregate_id=request, channel="Berichtenbox", sent_at=self.clock.advance(days=1)
            ),
            self.privacy,
        )

    def handle_requests(self) -> UUID:
        access = self.receive(Right.ACCESS, "Anna de Vries")
        self.do(
            ExtendRequest(
                aggregate_id=access,
                months=2,
                reason=ExtensionReason.NUMBER_OF_REQUESTS,
                explanation="veel verzoeken na publicatie",
                requester_told_at=self.clock.advance(days=5),
            ),
            self.privacy,
        )
        self.decide(
            access,
            Outcome.PARTLY_GRANTED,
            [RefusalGround.RESTRICTION_BY_LAW],
            "gegevens van derden afgeschermd",
        )
        self.do(
            LodgeObjection(
                aggregate_id=access,
                grounds="te veel afgeschermd",
                lodged_at=self.clock.advance(days=14),
            ),
            self.privacy,
        )
        self.clock.advance(days=40)
        self.do(
            DecideOnObjection(
                aggregate_id=access, well_founded=False, reasons="advies bezwaarcommissie"
            ),
            self.secretary,
        )

        rectification = self.receive(Right.RECTIFICATION, "Bram Jansen")
        self.do(
            SuspendRequest(aggregate_id=rectification, missing="welke gegevens onjuist zijn"),
            self.privacy,
        )
        self.clock.advance(days=6)
        self.do(ResumeRequest(aggregate_id=rectification), self.privacy)
        self.decide(rectification, Outcome.GRANTED, [], "adres gecorrigeerd")
        self.do(CloseRequest(aggregate_id=rectification), self.privacy)

        archived = self.receive(Right.ERASURE, "Cor Smit")
        self.decide(
            archived,
            Outcome.REFUSED,
            [RefusalGround.ARCHIEFWET],
            "bouwdossier: blijvend te bewaren",
        )

        erasure = self.receive(Right.ERASURE, "Dina Bakker")
        self.decide(erasure, Outcome.GRANTED, [], "geen bewaarplicht meer")
        for right, who, outcome, grounds in (
            (Right.RESTRICTION, "Eva Visser", Outcome.GRANTED, []),
            (
                Right.PORTABILITY,
                "Frank Mulder",
                Outcome.REFUSED,
                [RefusalGround.MANIFESTLY_UNFOUNDED],
            ),
            (
                Right.OBJECTION,
                "Gert Bos",
                Outcome.REFUSED,
                [RefusalGround.RESTRICTION_BY_LAW],
            ),
        ):
            self.decide(self.receive(right, who), outcome, grounds, "beoordeeld per art. 12 AVG")
        self.do(
            WithdrawRequest(aggregate_id=self.receive(Right.AUTOMATED_DECISION, "Hanna Kok")),
            self.privacy,
        )
        return erasure

    def erase(self, request_id: UUID) -> None:
        request: RightsRequest = self.app.repository.get(request_id)
        assert isinstance(request, RightsRequest)
        self.do(
            ErasePersonalData(
                municipality=self.name,
                subject=request.requester.subject,
                ground=ErasureGround.ERASURE_REQUEST,
                reference=f"verzoek {request_id}",
            ),
            self.privacy,
        )


def record_demo(app: Bewijslast) -> Counter[str]:
    """Record the sample history; return how many events of each kind were recorded."""
    recording = app.clock
    clock = DemoClock()
    before = app.recorder.max_notification_id() or 0
    app.declare_organisation(ORGANISATION, operator="bewijslast demo")
    app.clock = clock
    fg = Actor.with_grants(FG_ID, [Grant(Role.FG, m) for m in MUNICIPALITIES])
    for index, name in enumerate(MUNICIPALITIES):
        town = Municipality(app, clock, name, fg)
        town.keep_register(index)
        town.phishing_not_a_breach()
        town.misdirected_mail_not_notified(follow_fg=index % 2 == 0)
        town.lost_usb_stick_notified(late=index == 3)
        if index in (1, 2):
            town.notified_then_withdrawn()
        town.erase(town.handle_requests())
    # A late entry states the past: the story must have ended before it is recorded.
    assert clock.now <= recording(), f"the demo's story runs until {clock.now}, after now"
    app.clock = recording
    recorded: Counter[str] = Counter()
    for notification in app.recorder.select_notifications(before + 1, limit=1_000_000):
        recorded[notification.topic.rsplit(":", 1)[-1]] += 1
    return recorded
