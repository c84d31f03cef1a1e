"""No valid command poisons the ledger. Hypothesis writes whole procedures (every command type)
with extreme but valid values (the longest texts, characters from every Unicode plane, the
first and last moments the domain allows, the largest counts) and runs them through
``Bewijslast.execute`` on both databases; after each, every read model catches up, every
register, oversight query, report (JSON and HTML) and reconstruction answers, and the ledger
verifies under its signed checkpoints."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import open_application, signer_of
from adapters.config import Settings
from adapters.entrypoints.api.app import OVERSIGHT
from adapters.persistence.personal_data import opened
from adapters.persistence.subject_keys import MasterKey
from adapters.services.accountability_report import build_report, render_html
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.reconstruction import reconstruct
from adapters.signing_keys import generate_key_files
from domain import commands as c
from domain.application import DEFAULT_SKEW
from domain.authorization import Actor, Grant, Role
from domain.dpia import (
    APAnswer,
    APListItem,
    Decision,
    FGOpinion,
    Risk,
    RiskLevel,
    TeamRole,
    Trigger,
)
from domain.fg_advice import NoAdviceReason, WithoutFGAdvice
from domain.incidents import (
    IRT_RECIPIENTS,
    Impact,
    IRTMember,
    Nature,
    Recipient,
    SubjectsNotInformedGround,
)
from domain.processing import LegalBasis
from domain.requests import Deliberation, ExtensionReason, Outcome, RefusalGround, Right
from domain.values import EARLIEST, LATEST, MAX_TEXT
from ledger.note import NoteVerifier
from ledger.verify import verify_ledger
from projections.catalogue import all_projections
from projections.incidents import breach_register, incident_register
from projections.register import current_register, public_register, vng_csv
from projections.report import Period
from projections.requests import request_register
from tests.projections.history import FG_ONLY, the_fg

pytestmark = pytest.mark.long

ORIGIN = "ledger.test.example/bewijslast"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

# Every plane that holds characters, NUL and lone surrogates aside (refused by the domain).
characters = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
astral = st.characters(min_codepoint=0x10000, exclude_categories=("Cs",))


def texts(longest: int) -> st.SearchStrategy[str]:
    # Framed by letters, so that no whitespace (whose definition differs between Python and
    # pydantic's core) is stripped: the text is recorded exactly as drawn.
    return st.one_of(
        st.text(characters, max_size=40),
        st.text(astral, max_size=10),
        st.just("ÿ" * (longest - 2)),
        st.just("𝔅" * (longest - 2)),  # the longest text, in four-byte characters
    ).map(lambda t: f"a{t}z")


text, short = texts(MAX_TEXT), texts(200)
some = st.lists(short, max_size=3) | st.just(["x"] * 100)
counts = st.sampled_from([0, 1, 10_000_000_000]) | st.integers(0, 10_000_000_000)
# A moment that happened: from the domain's first to the clock plus what it allows ahead.
happened = st.sampled_from([EARLIEST, NOW - timedelta(days=1), NOW, NOW + DEFAULT_SKEW])
planned = st.sampled_from([EARLIEST, NOW, LATEST])


@st.composite
def stories(draw: st.DrawFn) -> dict:
    return {
        name: draw(strategy)
        for name, strategy in {
            "town": short,
            "controller": short,
            "text": text,
            "short": short,
            "some": some,
            "count": counts,
            "happened": happened,
            "later": happened,
            "planned": planned,
            "flag": st.booleans(),
            "impact": st.sampled_from(Impact),
            "right": st.sampled_from(Right),
        }.items()
    }


def the_story(app, s: dict) -> dict[str, object]:
    """Every command type once, in an order the procedures allow, with the drawn values."""
    town = s["town"]
    # The FG is never one of the deciders (art. 38(6)): a team of every other role, and the FG.
    team = Actor.with_grants("team@example.nl", [Grant(r, town) for r in Role if r is not Role.FG])
    fg = the_fg(town)
    t, short, some, count = s["text"], s["short"], s["some"], s["count"]
    first, second = sorted([s["happened"], s["later"]])
    aware = min(first, NOW)  # awareness never after the moment that records it

    def do(command):
        return app.execute(command, fg if command.permission in FG_ONLY else team)

    where = {"municipality": town, "controller": s["controller"]}
    entry = {
        "name": short,
        "purposes": [t],
        "legal_basis": LegalBasis.PUBLIC_TASK,
        "legal_basis_law": t,
        "data_subject_categories": some or [short],
        "personal_data_categories": [short],
        "special_categories": some,
        "special_category_grounds": ["art. 9(2)(g) zwaarwegend algemeen belang"] if some else [],
        "bsn_used": True,
        "bsn_legal_basis": t,
        "retention": t,
        "security_measures": [short],
        "process_owner": short,
        "dpia_required": s["flag"],
        "dpia_reason": t,
    }
    activity = do(c.RegisterProcessingActivity(**where, entry=entry, valid_from=s["planned"]))
    do(
        c.AmendProcessingActivity(
            aggregate_id=activity,
            changes={
                "criminal_data": s["flag"],
                "criminal_data_ground": "art. 10 onder toezicht van de overheid"
                if s["flag"]
                else None,
                "recipients": some,
            },
            valid_from=s["planned"],
        )
    )
    # The DPIA procedure (bijlage 4), every step, every text drawn.
    dpia = do(c.SignalDPIA(activity=activity, trigger=Trigger.NEW_SYSTEM, description=t))
    dpia_advice = do(c.RequestFGAdvice(municipality=town, about=dpia, question=t))
    do(c.GiveFGAdvice(aggregate_id=dpia_advice, advice=t, recommendation=t))
    do(c.TakeFGAdviceOnDPIA(aggregate_id=dpia, fg_advice=dpia_advice))
    do(c.AssignDPIA(aggregate_id=dpia, assignee=short))
    do(c.PreScanDPIA(aggregate_id=dpia, ap_list=list(APListItem), notes=t))
    do(
        c.AssessDPIA(
            aggregate_id=dpia,
            team=list(TeamRole),
            systematic_description=t,
            legitimate_interests=t,
            necessity_and_proportionality=t,
            risks=[
                Risk(description=t, likelihood=RiskLevel.HIGH, impact=RiskLevel.HIGH, measures=[t])
            ],
            residual_risk=RiskLevel.HIGH,
            conclusion=t,
        )
    )
    do(c.CompleteDPIAMeasure(aggregate_id=dpia, measure="R1-M1", evidence=t))
    do(c.ConsultAP(aggregate_id=dpia, ap_reference=short, submitted_at=NOW))
    do(c.ExtendAPConsultation(aggregate_id=dpia, reasons=t, announced_at=NOW))
    do(c.RecordAPAnswer(aggregate_id=dpia, answer=APAnswer.BAN, summary=t, received_at=NOW))
    do(
        c.AssessDPIAAsFG(
            aggregate_id=dpia, opinion=FGOpinion.INSUFFICIENT, measures_checked=s["flag"], remarks=t
        )
    )
    do(
        c.DecideOnDPIA(
            aggregate_id=dpia,
            decision=Decision.ABANDON,
            reasons=t,
            without_fg_advice=WithoutFGAdvice(reason=NoAdviceReason.URGENCY, explanation=t),
            reassess_on=date(2029, 6, 1),
        )
    )
    do(c.RetireProcessingActivity(aggregate_id=activity, reason=t, valid_from=LATEST))

    form = {
        "natures": list(Nature),
        "nature": t,
        "subject_categories": some or [short],
        "approx_subjects": count,
        "record_categories": [short],
        "approx_records": count,
        "fg_contact": short,
        "likely_consequences": t,
        "measures": t,
        "phased": t,
    }

    def breach(significant: bool) -> object:
        incident = do(c.ReportIncident(**where, summary=t))
        do(c.TriageIncident(aggregate_id=incident, impact=s["impact"], significant=significant))
        do(
            c.EstablishBreach(
                aggregate_id=incident,
                aware_at=aware,
                natures=[Nature.CONFIDENTIALITY],
                data_categories=some,
                approx_subjects=count,
                approx_records=count,
                likely_consequences=t,
            )
        )
        return incident

    notified = breach(s["flag"])
    advice = do(c.RequestFGAdvice(municipality=town, about=notified, question=t))
    do(c.GiveFGAdvice(aggregate_id=advice, advice=t, recommendation=t))
    do(c.AnswerFGAdvice(aggregate_id=advice, followed=False, reasons=t))
    do(c.EscalateFGAdvice(aggregate_id=advice, to=short, reasons=t))
    do(c.InformFG(aggregate_id=notified, informed_at=second))
    do(c.VolunteerFGAdvice(municipality=town, about=notified, advice=t, recommendation=t))
    do(
        c.DecideNotification(
            aggregate_id=notified,
            notify_ap=True,
            ap_reasons=t,
            inform_subjects=True,
            subjects_reasons=t,
            fg_advice=advice,
            fg_advice_followed=False,
            departure_reasons=t,
        )
    )
    number = f"M-{short[:100]}"
    do(
        c.SubmitAPNotification(
            aggregate_id=notified,
            meldingsnummer=number,
            preliminary=True,
            form=form,
            late_reason=t,
            submitted_at=second,
        )
    )
    do(
        c.SupplementAPNotification(
            aggregate_id=notified,
            meldingsnummer=number,
            changes=form,
            final=True,
            supplemented_at=NOW,
        )
    )
    do(c.InformSubjects(aggregate_id=notified, channel=short, informed_at=second))
    do(c.ConveneIRT(aggregate_id=notified, members=list(IRTMember), notes=t))
    do(
        c.AssessIncident(
            aggregate_id=notified, likely_breach=True, ap_pre_notification=True, investigation=t
        )
    )
    do(c.AssessCriminalActivity(aggregate_id=notified, criminal=True, reasons=t))
    do(c.ConsultMayor(aggregate_id=notified, file_aangifte=True, reasons=t, consulted_at=first))
    do(c.FileAangifte(aggregate_id=notified, reference=short, filed_at=second))
    do(
        c.RecordEvidence(
            aggregate_id=notified,
            description=t,
            custodian=short,
            kept_at=short,
            sha256="f" * 64,
            collected_at=first,
        )
    )
    do(
        c.HandOverEvidence(
            aggregate_id=notified,
            item=1,
            custodian=short,
            kept_at=short,
            reason=t,
            receipt_signed=True,
            handed_over_at=second,
        )
    )
    for recipient in Recipient:
        informs = c.InformParty if recipient in IRT_RECIPIENTS else c.InformGovernment
        do(
            informs(
                aggregate_id=notified,
                recipient=recipient,
                party=t,
                reference=short,
                informed_at=first,
            )
        )
    do(c.RecordTimeAndCosts(aggregate_id=notified, hours=10**6, costs_eur=10**9, description=t))
    do(
        c.CollectAddresses(
            aggregate_id=notified, approx_subjects=count, kept_at=short, collected_at=second
        )
    )
    do(c.RecordMeasure(aggregate_id=notified, measure=t, taken_at=second))
    do(c.CloseIncident(aggregate_id=notified))
    do(c.EvaluateIncident(aggregate_id=notified, findings=t))
    do(c.DestroyAddresses(aggregate_id=notified, method=short, destroyed_at=second))

    withdrawn = breach(not s["flag"])
    do(
        c.DecideNotification(
            aggregate_id=withdrawn,
            notify_ap=True,
            ap_reasons=t,
            inform_subjects=False,
            subjects_reasons=t,
            without_fg_advice=WithoutFGAdvice(reason=NoAdviceReason.URGENCY, explanation=t),
        )
    )
    do(
        c.SubmitAPNotification(
            aggregate_id=withdrawn,
            meldingsnummer=number,
            preliminary=False,
            form=form,
            late_reason=t,
            submitted_at=second,
        )
    )
    do(
        c.RecordSubjectsNotInformed(
            aggregate_id=withdrawn,
            ground=SubjectsNotInformedGround.DISPROPORTIONATE_EFFORT,
            reasons=t,
            public_communication=t,
            communicated_at=second,
        )
    )
    do(
        c.WithdrawAPNotification(
            aggregate_id=withdrawn, meldingsnummer=number, reason=t, withdrawn_at=NOW
        )
    )
    do(c.ReclassifyNotABreach(aggregate_id=withdrawn, reasons=t))
    do(c.CloseIncident(aggregate_id=withdrawn))

    phishing = do(c.ReportIncident(**where, summary=t))
    do(c.TriageIncident(aggregate_id=phishing, impact=Impact.LOW))
    do(c.ClassifyNotABreach(aggregate_id=phishing, reasons=t))

    def request(received_at: datetime) -> object:
        made = do(
            c.ReceiveRequest(
                **where,
                right=s["right"],
                channel=short,
                requester_name=short,
                requester_contact=short,
                received_at=received_at,
            )
        )
        do(c.VerifyIdentity(aggregate_id=made, method=t))
        return made

    objected = request(first)
    do(c.AcknowledgeRequest(aggregate_id=objected, channel=short))
    do(c.SuspendRequest(aggregate_id=objected, missing=t))
    do(c.ResumeRequest(aggregate_id=objected))
    do(
        c.ExtendRequest(
            aggregate_id=objected,
            months=2,
            reason=ExtensionReason.COMPLEXITY,
            explanation=t,
            requester_told_at=first,
        )
    )
    do(
        c.DecideRequest(
            aggregate_id=objected,
            outcome=Outcome.PARTLY_GRANTED,
            # every ground but identity: it was verified (art. 12(6))
            grounds=[g for g in RefusalGround if g is not RefusalGround.IDENTITY_NOT_ESTABLISHED],
            reasons=t,
        )
    )
    do(c.SendDecision(aggregate_id=objected, channel=short, sent_at=NOW))
    do(c.LodgeObjection(aggregate_id=objected, grounds=t, lodged_at=NOW))
    do(c.HearObjector(aggregate_id=objected, by_committee=s["flag"], report=t))
    do(c.ExtendObjectionTerm(aggregate_id=objected, reasons=t))
    do(
        c.DecideOnObjection(
            aggregate_id=objected,
            well_founded=s["flag"],
            reasons=t,
            deliberation=Deliberation.WITH_OTHERS,  # the same team decided the request
        )
    )

    erased = request(second)
    do(c.DecideRequest(aggregate_id=erased, outcome=Outcome.GRANTED, reasons=t))
    do(c.SendDecision(aggregate_id=erased, channel=short, sent_at=NOW + DEFAULT_SKEW))
    do(c.CloseRequest(aggregate_id=erased))
    do(
        c.ErasePersonalData(
            municipality=town,
            subject=app.repository.get(erased).subject,
            ground="art. 17 AVG: toegewezen verzoek om wissing",
            reference=short,
        )
    )
    do(c.WithdrawRequest(aggregate_id=request(NOW)))
    return {"town": town, "controller": s["controller"], "incident": notified}


def answers(app, sign, verifiers, story: dict) -> None:
    town, controller = story["town"], story["controller"]
    runner = ReadModelRunner(app, all_projections())
    runner.catch_up_all()
    assert set(runner.catch_up_all().values()) == {0}  # caught up: nothing left to apply
    with runner.db.transaction() as cursor:
        shown = [
            incident_register(cursor, town),
            breach_register(cursor, town),
            request_register(cursor, town, NOW.date()),
            current_register(cursor, town),
            public_register(cursor, town),
            *(question(cursor, [town], NOW) for question in OVERSIGHT.values()),
        ]
        vng_csv(current_register(cursor, town))
    json.dumps(opened(app, shown), allow_nan=False)
    everything = Period(date(1900, 1, 1), date(2999, 12, 31))
    report = build_report(app, town, controller, everything, sign=sign)
    json.dumps(report.to_json(), allow_nan=False)
    for lang in ("nl", "en"):
        render_html(report, lang)
    last = app.recorder.ledger_size() - 1
    for projection in all_projections():
        json.dumps(reconstruct(app, projection, upto=last, sign=sign).to_json())
    (incidents,) = [p for p in all_projections() if p.name == "incident_register"]
    json.dumps(reconstruct(app, incidents, upto=last, record=str(story["incident"])).to_json())
    verified = verify_ledger(
        app.recorder.records(0, last),
        app.recorder.signed_checkpoints(),
        verifiers,
        origin=ORIGIN,
        reaches_end=True,
    )
    assert verified.ok, [str(f) for f in verified.failures]


@pytest.fixture(params=["sqlite", "postgres"])
def ledger(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'b.db'}"
    else:
        url = request.getfixturevalue("pg_database").url
    key_file, vkey_file = generate_key_files(ORIGIN, tmp_path / "keys")
    MasterKey.generate_file(tmp_path / "keys" / "master.key")
    configured = Settings(url, ORIGIN, key_file, tmp_path / "keys" / "master.key")
    app = open_application(configured)
    app.clock = lambda: NOW
    return app, signer_of(configured, app), [NoteVerifier.from_vkey(vkey_file.read_text().strip())]


# One ledger per database for all examples: each story adds to it, as a deployment's would.
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found: shrinking
    # a whole procedure of long texts would take minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=stories())
@example(  # the extremes at once, whatever is drawn besides
    story={
        "town": "a" + "𝔅" * 198 + "z",
        "controller": "a\U0010fffd\u200b\ufeffz",
        "text": "a" + "𝔅" * (MAX_TEXT - 2) + "z",
        "short": "a" + "ÿ" * 198 + "z",
        "some": ["x"] * 100,
        "count": 10_000_000_000,
        "happened": EARLIEST,
        "later": NOW + DEFAULT_SKEW,
        "planned": LATEST,
        "flag": True,
        "impact": Impact.HIGH,
        "right": Right.AUTOMATED_DECISION,
    }
)
def test_no_valid_story_poisons_a_read_model_a_report_or_the_ledger(ledger, story):
    app, sign, verifiers = ledger
    answers(app, sign, verifiers, the_story(app, story))
