"""One table gives every domain value its Dutch and its English text."""

from __future__ import annotations

import pytest

from domain.authorization import Role
from domain.dpia import (
    APAnswer,
    APListItem,
    Art35Case,
    Decision,
    EDPBCriterion,
    FGOpinion,
    RiskLevel,
    Status,
    TeamRole,
    Trigger,
)
from domain.incidents import (
    Authority,
    Impact,
    IRTMember,
    Nature,
    Recipient,
    Stage,
    SubjectsNotInformedGround,
)
from domain.labels import LABELS, label, parse_role, role_code
from domain.personal_data import ErasureGround
from domain.processing import LegalBasis
from domain.processors import TransferSafeguard
from domain.reporting import ReportKind, ReportRecipient
from domain.requests import (
    Deliberation,
    ExtensionReason,
    HearingWaiver,
    Mandate,
    NotificationExemption,
    ObjectionOutcome,
    Outcome,
    RefusalGround,
    RequestStage,
    Right,
    SuspensionReason,
)
from domain.retention import RecordType

SHOWN = (
    Role,
    Impact,
    Nature,
    Authority,
    Stage,
    ErasureGround,
    LegalBasis,
    Right,
    Outcome,
    RefusalGround,
    ExtensionReason,
    RequestStage,
    TransferSafeguard,
    IRTMember,
    Recipient,
    SubjectsNotInformedGround,
    # the DPIA procedure
    Trigger,
    APListItem,
    Art35Case,
    EDPBCriterion,
    RiskLevel,
    TeamRole,
    APAnswer,
    FGOpinion,
    Decision,
    Status,
    RecordType,
    ReportKind,
    ReportRecipient,
    # issue 14: rights requests and objections
    SuspensionReason,
    Mandate,
    NotificationExemption,
    HearingWaiver,
    Deliberation,
    ObjectionOutcome,
)


def test_every_value_shown_has_a_dutch_and_an_english_text():
    missing = [f"{kind.__name__}.{v.name}" for kind in SHOWN for v in kind if v not in LABELS]
    assert missing == []
    for value, (dutch, english) in LABELS.items():
        assert dutch == value.value  # the Dutch text is the stored value
        assert english.strip()


def test_a_stored_value_names_one_thing():
    values = [str(v) for kind in SHOWN for v in kind]
    assert len(values) == len(set(values))


def test_labels_by_language_and_user_text_as_it_is():
    assert label("art. 17 vergetelheid", "en") == "art. 17 erasure"
    assert label("art. 17 vergetelheid", "nl") == "art. 17 vergetelheid"
    assert label("hoog", "en") == "high"
    assert label("college van burgemeester en wethouders", "en") == (
        "college van burgemeester en wethouders"
    )


@pytest.mark.parametrize("text", ["FG", "fg", "functionaris gegevensbescherming", " Fg "])
def test_a_role_is_known_by_its_code_and_its_dutch_label(text):
    assert parse_role(text) is Role.FG
    assert role_code(Role.FG) == "FG"


def test_an_unknown_role_is_refused_with_the_codes():
    with pytest.raises(ValueError, match="PRIVACY_OFFICER"):
        parse_role("baas")
