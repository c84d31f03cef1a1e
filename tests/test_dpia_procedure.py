"""The DPIA procedure of seed 002 (bijlage 4), step by step, each by the role the seed names,
through the application on both databases; then the register, the FG's oversight and the
accountability report as they show it."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from adapters.persistence.personal_data import opened
from adapters.services.projection_runner import ReadModelRunner
from domain.authorization import Actor, Grant, NotAuthorised, Role
from domain.commands import (
    AssessDPIA,
    AssessDPIAAsFG,
    AssignDPIA,
    CompleteDPIAMeasure,
    ConsultAP,
    DecideOnDPIA,
    ExtendAPConsultation,
    GiveFGAdvice,
    PreScanDPIA,
    RecordAPAnswer,
    RegisterProcessingActivity,
    RequestFGAdvice,
    SignalDPIA,
    TakeFGAdviceOnDPIA,
)
from domain.deadlines import AMSTERDAM
from domain.dpia import (
    APAnswer,
    APListItem,
    Decision,
    EDPBCriterion,
    FGOpinion,
    Risk,
    RiskLevel,
    Status,
    TeamRole,
    Trigger,
)
from domain.errors import ProcedureError
from domain.fg_advice import NoAdviceReason, WithoutFGAdvice
from domain.processing import LegalBasis, RegisterEntry, version_uri
from projections import oversight
from projections.catalogue import all_projections
from projections.register import current_register
from projections.report import Period, dpia_figures
from tests.conftest import fresh_pg_database
from tests.projections.history import COLLEGE, T0, TOWN, Clock, History, open_history


def by(role: Role) -> Actor:
    return Actor.with_grants(f"{role.name.lower()}@leusden.nl", [Grant(role, TOWN)])


PO, PB, CISO, FG, GS = (
    by(Role.PROCESS_OWNER),
    by(Role.PRIVACY_OFFICER),
    by(Role.CISO),
    by(Role.FG),
    by(Role.SECRETARY),
)


def on(month: int, day: int, year: int = 2026, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=AMSTERDAM)


def entry(name: str, **changes: object) -> RegisterEntry:
    return RegisterEntry(
        name=name,
        purposes=[name],
        legal_basis=LegalBasis.PUBLIC_TASK,
        legal_basis_law="Gemeentewet art. 151c",
        data_subject_categories=["inwoners", "bezoekers"],
        personal_data_categories=["camerabeelden", "kentekens"],
        retention="28 dagen",
        security_measures=["BIO"],
        process_owner="afdelingshoofd Openbare Orde",
        **changes,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def history(request, tmp_path):
    clock = Clock(T0)
    if request.param == "sqlite":
        yield open_history(f"sqlite:///{tmp_path / 'b.db'}", tmp_path / "keys", clock)
    else:
        with fresh_pg_database(request.getfixturevalue("pg_url")) as database:
            yield open_history(database.url, tmp_path / "keys", clock)


class Municipality:
    """Leusden's privacy team, each by its own role, at moments the test sets."""

    def __init__(self, history: History) -> None:
        self.h = history
        self.runner = ReadModelRunner(history.app, all_projections())

    def do(self, command, actor: Actor, at: datetime):
        self.h.clock.now = max([at, *command.stated_moments().values()])
        return self.h.app.execute(command, actor)

    def oversight(self, question, *args):
        self.runner.catch_up_all()
        with self.runner.db.transaction() as cursor:
            return question(cursor, [TOWN], *args)

    def register(self) -> dict[str, dict]:
        self.runner.catch_up_all()
        with self.runner.db.transaction() as cursor:
            return {row["entry"]["name"]: row for row in current_register(cursor, TOWN)}


def test_bijlage_4_from_the_signal_to_the_re_assessment(history):
    town = Municipality(history)
    cameras = town.do(
        RegisterProcessingActivity(
            municipality=TOWN, controller=COLLEGE, entry=entry("Slimme camera's"), valid_from=T0
        ),
        PB,
        T0,
    )
    # Marked as needing a DPIA, without special categories, criminal data or the BSN: the
    # FG's oversight lists it all the same.
    signals = town.do(
        RegisterProcessingActivity(
            municipality=TOWN,
            controller=COLLEGE,
            entry=entry("Signalen jeugd", dpia_required=True, dpia_reason="profilering"),
            valid_from=T0,
        ),
        PB,
        T0,
    )
    not_started = town.oversight(oversight.dpias_not_started)
    assert [(r["activity"], r["required_by"]) for r in not_started] == [(str(signals), "register")]

    # 1. Signaal nieuwe gegevensverwerking: about the register version as it stands.
    dpia = town.do(
        SignalDPIA(
            activity=cameras,
            trigger=Trigger.NEW_TECHNOLOGY,
            description="Camera's met kentekenherkenning in het centrum",
        ),
        PO,
        on(3, 3),
    )
    assert history.app.repository.get(dpia).activity == cameras
    assert town.register()["Slimme camera's"]["dpia"]["status"] == Status.SIGNALLED.value

    # 2. Advies FG aan proceseigenaar.
    advice = town.do(
        RequestFGAdvice(municipality=TOWN, about=dpia, question="Is een DPIA nodig?"), PO, on(3, 4)
    )
    town.do(
        GiveFGAdvice(aggregate_id=advice, advice="Voer een DPIA uit", recommendation="DPIA"),
        FG,
        on(3, 5),
    )
    town.do(TakeFGAdviceOnDPIA(aggregate_id=dpia, fg_advice=advice), PO, on(3, 6))

    # 3. Opdracht DPIA aan privacy beheerder.
    town.do(AssignDPIA(aggregate_id=dpia, assignee="P. de Beheerder"), PO, on(3, 6, hour=11))

    # 4-5. DPIA QuickScan: on the AP's list, and two of the EDPB's criteria.
    town.do(
        PreScanDPIA(
            aggregate_id=dpia,
            ap_list=[APListItem.CAMERA_SURVEILLANCE],
            edpb_criteria=[EDPBCriterion.SYSTEMATIC_MONITORING, EDPBCriterion.LARGE_SCALE],
        ),
        PB,
        on(3, 9),
    )
    not_started = town.oversight(oversight.dpias_not_started)
    assert {(r["activity"], r["required_by"]) for r in not_started} == {
        (str(signals), "register"),
        (str(cameras), "quickscan"),
    }

    # 6-8. The DPIA with the DPIA team, and its report with the art. 35(7) content.
    town.do(
        AssessDPIA(
            aggregate_id=dpia,
            team=[TeamRole.PRIVACY_OFFICER, TeamRole.CISO, TeamRole.PROCESS_OWNER],
            systematic_description="Kentekens van passanten worden 28 dagen bewaard",
            necessity_and_proportionality="Noodzakelijk voor handhaving; lichter kan niet",
            risks=[
                Risk(
                    description="Bewegingspatronen van inwoners worden zichtbaar",
                    likelihood=RiskLevel.HIGH,
                    impact=RiskLevel.HIGH,
                    measures=["Beelden na 28 dagen automatisch wissen", "Toegang op need-to-know"],
                ),
                Risk(
                    description="Onbevoegde inzage door de leverancier",
                    likelihood=RiskLevel.MEDIUM,
                    impact=RiskLevel.HIGH,
                    measures=["Verwerkersovereenkomst met auditrecht"],
                ),
            ],
            residual_risk=RiskLevel.HIGH,
            conclusion="Hoog restrisico: voorafgaande raadpleging van de AP",
        ),
        PB,
        on(3, 27),
    )
    assert [r["activity"] for r in town.oversight(oversight.dpias_not_started)] == [str(signals)]
    open_measures = town.oversight(oversight.dpia_measures_not_done)
    assert [m["measure"] for m in open_measures] == ["R1-M1", "R1-M2", "R2-M1"]
    assert "wissen" not in str(open_measures)  # sealed in the read model
    assert opened(history.app, open_measures[0])["description"].startswith("Beelden na 28")

    # 7. A high residual risk: the AP is consulted before the processing starts (art. 36).
    town.do(
        ConsultAP(aggregate_id=dpia, ap_reference="AP-z2026-0401", submitted_at=on(4, 1)),
        PB,
        on(4, 1),
    )
    # Deciding waits for the FG's assessment (and, tested with the clock, the AP's answer).
    with pytest.raises(ProcedureError, match="allowed now: assess-dpia-as-fg"):
        town.do(
            DecideOnDPIA(
                aggregate_id=dpia,
                decision=Decision.PROCEED,
                reasons="te vroeg",
                fg_advice=advice,
                reassess_on=date(2027, 7, 1),
            ),
            GS,
            on(4, 2),
        )
    town.do(
        ExtendAPConsultation(
            aggregate_id=dpia, reasons="complexe verwerking", announced_at=on(4, 20)
        ),
        PB,
        on(4, 20),
    )
    # Eight weeks have passed, fourteen have not.
    assert town.oversight(oversight.ap_consultations_past_deadline, on(5, 28)) == []
    (past,) = town.oversight(oversight.ap_consultations_past_deadline, on(7, 9))
    assert past["consultation"]["deadline"] == "2026-07-08"
    town.do(
        RecordAPAnswer(
            aggregate_id=dpia,
            answer=APAnswer.WRITTEN_ADVICE,
            summary="Beperk de bewaartermijn",
            received_at=on(7, 10),
        ),
        PB,
        on(7, 10),
    )
    assert town.oversight(oversight.ap_consultations_past_deadline, on(7, 11)) == []

    # 9. Check uitvoering verbetermaatregelen: each measure tracked to done.
    for measure, actor in (("R1-M1", CISO), ("R1-M2", PB), ("R2-M1", PO)):
        town.do(
            CompleteDPIAMeasure(aggregate_id=dpia, measure=measure, evidence="wijziging 12"),
            actor,
            on(7, 13),
        )
    assert town.oversight(oversight.dpia_measures_not_done) == []

    # 10. FG-beoordeling, with its advice to the college on the high residual risk.
    town.do(
        AssessDPIAAsFG(
            aggregate_id=dpia,
            opinion=FGOpinion.SUFFICIENT,
            measures_checked=True,
            remarks="Maatregelen gecontroleerd",
        ),
        FG,
        on(7, 14),
    )
    to_college = town.do(
        RequestFGAdvice(municipality=TOWN, about=dpia, question="Advies aan B&W?"), GS, on(7, 14)
    )
    town.do(
        GiveFGAdvice(
            aggregate_id=to_college, advice="Akkoord onder voorwaarden", recommendation="door"
        ),
        FG,
        on(7, 15),
    )
    # The controller's decision, by the secretary, citing the FG's advice; not the FG's.
    decide = DecideOnDPIA(
        aggregate_id=dpia,
        decision=Decision.PROCEED,
        reasons="Maatregelen genomen, advies AP verwerkt",
        fg_advice=to_college,
        reassess_on=date(2027, 7, 1),
    )
    with pytest.raises(NotAuthorised):
        town.do(decide, FG, on(7, 16))
    town.do(decide, GS, on(7, 16))

    # 11. Actualiseren verwerkingsregister: the register shows the DPIA and its date.
    row = town.register()["Slimme camera's"]
    assert row["dpia"]["status"] == Status.DECIDED.value
    assert row["dpia"]["decision"] == Decision.PROCEED.value
    assert row["dpia_at"].startswith("2026-03-27")
    assert history.app.repository.get(dpia).pending_events == []
    record = history.app.repository.get(dpia)
    assert record.activity == cameras
    town.runner.catch_up_all()
    with town.runner.db.transaction() as cursor:
        cursor.execute("SELECT doc FROM dpias WHERE record = ?", (str(dpia),))
        assert version_uri(cameras, 1) in cursor.fetchone()[0]

    # The re-assessment falls due on its date.
    assert town.oversight(oversight.dpia_reassessments_due, on(6, 30, 2027)) == []
    (due,) = town.oversight(oversight.dpia_reassessments_due, on(7, 1, 2027))
    assert due["id"] == str(dpia)

    # The accountability report's DPIA figures for the year.
    town.runner.catch_up_all()
    with town.runner.db.transaction() as cursor:
        figures = {
            f.key: f.value
            for f in dpia_figures(
                cursor, TOWN, COLLEGE, Period(date(2026, 1, 1), date(2026, 12, 31))
            )
        }
    assert figures == {
        "dpia.signalled": 1,
        "dpia.required": 1,
        "dpia.assessed": 1,
        "dpia.by_residual_risk": {RiskLevel.HIGH.value: 1},
        "dpia.prior_consultations": 1,
        "dpia.ap_answered_late": 1,
        "dpia.by_decision": {Decision.PROCEED.value: 1},
        "dpia.measures_open": 0,
    }


def test_a_quickscan_that_finds_no_dpia_required_ends_the_procedure(history):
    town = Municipality(history)
    parking = town.do(
        RegisterProcessingActivity(
            municipality=TOWN, controller=COLLEGE, entry=entry("Parkeervergunningen"), valid_from=T0
        ),
        PB,
        T0,
    )
    dpia = town.do(
        SignalDPIA(activity=parking, trigger=Trigger.NEW_SYSTEM, description="Nieuw pakket"),
        PB,
        on(3, 3),
    )
    advice = town.do(RequestFGAdvice(municipality=TOWN, about=dpia, question="DPIA?"), PO, on(3, 4))
    town.do(
        GiveFGAdvice(aggregate_id=advice, advice="QuickScan", recommendation="scan"), FG, on(3, 5)
    )
    # Steps in the wrong order are refused, naming the command allowed now.
    with pytest.raises(ProcedureError, match="allowed now: take-fg-advice-on-dpia"):
        town.do(AssignDPIA(aggregate_id=dpia, assignee="P. de Beheerder"), PO, on(3, 5))
    town.do(TakeFGAdviceOnDPIA(aggregate_id=dpia, fg_advice=advice), PO, on(3, 6))
    town.do(AssignDPIA(aggregate_id=dpia, assignee="P. de Beheerder"), PO, on(3, 6))
    # One EDPB criterion alone does not make a DPIA required.
    town.do(PreScanDPIA(aggregate_id=dpia, edpb_criteria=[EDPBCriterion.LARGE_SCALE]), PB, on(3, 9))
    with pytest.raises(ProcedureError, match="no DPIA required"):
        town.do(
            AssessDPIA(
                aggregate_id=dpia,
                team=[TeamRole.PRIVACY_OFFICER],
                systematic_description="x",
                necessity_and_proportionality="x",
                risks=[Risk(description="x", likelihood=RiskLevel.LOW, impact=RiskLevel.LOW)],
                residual_risk=RiskLevel.LOW,
                conclusion="x",
            ),
            PB,
            on(3, 10),
        )
    assert town.register()["Parkeervergunningen"]["dpia"]["status"] == Status.NOT_REQUIRED.value
    assert town.oversight(oversight.dpias_not_started) == []


def test_only_the_roles_the_seed_names_take_the_steps(history):
    town = Municipality(history)
    activity = town.do(
        RegisterProcessingActivity(
            municipality=TOWN, controller=COLLEGE, entry=entry("Camera's"), valid_from=T0
        ),
        PB,
        T0,
    )
    signal = SignalDPIA(activity=activity, trigger=Trigger.NEW_PROCESSING, description="x")
    with pytest.raises(NotAuthorised):
        town.do(signal, by(Role.EMPLOYEE), on(3, 3))
    dpia = town.do(signal, FG, on(3, 3))  # the FG signals from its own monitoring
    with pytest.raises(NotAuthorised):
        town.do(AssignDPIA(aggregate_id=dpia, assignee="x"), PB, on(3, 4))
    # Another municipality's privacy officer does not see the record at all.
    elsewhere = Actor.with_grants("pb@putten.nl", [Grant(Role.PRIVACY_OFFICER, "Putten")])
    with pytest.raises(LookupError):
        town.do(PreScanDPIA(aggregate_id=dpia), elsewhere, on(3, 4))
    with pytest.raises(LookupError):
        town.do(
            SignalDPIA(activity=activity, trigger=Trigger.NEW_SYSTEM, description="x"),
            elsewhere,
            on(3, 4),
        )


def test_a_dpia_decided_without_fg_advice_is_listed_with_its_reason(history):
    """Step 10 without the FG's advice: the controller says why none was asked, and the FG's
    oversight lists the decision beside the breach decisions taken so."""
    town = Municipality(history)
    cameras = town.do(
        RegisterProcessingActivity(
            municipality=TOWN, controller=COLLEGE, entry=entry("Slimme camera's"), valid_from=T0
        ),
        PB,
        T0,
    )
    dpia = town.do(
        SignalDPIA(activity=cameras, trigger=Trigger.NEW_SYSTEM, description="Nieuw systeem"),
        PO,
        on(3, 3),
    )
    advice = town.do(
        RequestFGAdvice(municipality=TOWN, about=dpia, question="Is een DPIA nodig?"), PO, on(3, 4)
    )
    town.do(GiveFGAdvice(aggregate_id=advice, advice="Ja", recommendation="DPIA"), FG, on(3, 5))
    town.do(TakeFGAdviceOnDPIA(aggregate_id=dpia, fg_advice=advice), PO, on(3, 6))
    town.do(AssignDPIA(aggregate_id=dpia, assignee="P. de Beheerder"), PO, on(3, 6, hour=11))
    town.do(PreScanDPIA(aggregate_id=dpia, ap_list=[APListItem.CAMERA_SURVEILLANCE]), PB, on(3, 9))
    town.do(
        AssessDPIA(
            aggregate_id=dpia,
            team=[TeamRole.PRIVACY_OFFICER],
            systematic_description="Camera's in het centrum",
            necessity_and_proportionality="Lichter kan niet",
            risks=[
                Risk(
                    description="Inwoners worden gevolgd",
                    likelihood=RiskLevel.LOW,
                    impact=RiskLevel.MEDIUM,
                    measures=["Beelden na 28 dagen wissen"],
                )
            ],
            residual_risk=RiskLevel.LOW,
            conclusion="Aanvaardbaar restrisico",
        ),
        PB,
        on(3, 20),
    )
    town.do(
        AssessDPIAAsFG(
            aggregate_id=dpia,
            opinion=FGOpinion.INSUFFICIENT,
            measures_checked=False,
            remarks="te summier",
        ),
        FG,
        on(3, 23),
    )
    decided = town.do(
        DecideOnDPIA(
            aggregate_id=dpia,
            decision=Decision.ABANDON,
            reasons="De verwerking gaat niet door",
            without_fg_advice=WithoutFGAdvice(
                reason=NoAdviceReason.URGENCY, explanation="besluit nodig voor de raad"
            ),
            reassess_on=date(2027, 3, 24),
        ),
        GS,
        on(3, 24),
    )
    assert decided == dpia
    (listed,) = town.oversight(oversight.decisions_without_fg_advice)
    assert (listed["kind"], listed["about"], listed["reason"]) == (
        "dpia-decision",
        str(dpia),
        NoAdviceReason.URGENCY.value,
    )
    assert opened(history.app, listed)["explanation"] == "besluit nodig voor de raad"
    assert listed["evidence"]
