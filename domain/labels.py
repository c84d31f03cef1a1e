"""Every domain value as people read it: its Dutch and its English text, in this one table.

Values are stored as the municipalities say them (Dutch); reports, the command line and the
API show them through this table in the language of the page, so an English page carries no
Dutch label. Roles also have a code (``Role.FG.name``), the same wherever a role is named.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from domain.authorization import Role
from domain.incidents import Authority, Impact, Nature, Stage
from domain.personal_data import ErasureGround
from domain.processing import LegalBasis
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

Language = Literal["nl", "en"]

LABELS: dict[StrEnum, tuple[str, str]] = {
    Role.EMPLOYEE: ("medewerker", "employee"),
    Role.CISO: ("CISO", "CISO"),
    Role.PRIVACY_OFFICER: ("privacybeheerder", "privacy officer"),
    Role.FG: ("functionaris gegevensbescherming", "data protection officer (FG)"),
    Role.SECRETARY: ("gemeentesecretaris", "municipal secretary"),
    Role.PROCESS_OWNER: ("proceseigenaar", "process owner"),
    Role.AUDITOR: ("auditor", "auditor"),
    Role.SYSTEM: ("koppeling", "system link"),
    Role.DEPLOYMENT_AUDITOR: ("installatie-auditor", "deployment auditor"),
    Impact.LOW: ("laag", "low"),
    Impact.MEDIUM: ("midden", "medium"),
    Impact.HIGH: ("hoog", "high"),
    Nature.CONFIDENTIALITY: ("vertrouwelijkheid", "confidentiality"),
    Nature.INTEGRITY: ("integriteit", "integrity"),
    Nature.AVAILABILITY: ("beschikbaarheid", "availability"),
    Authority.POLICE: ("politie (aangifte)", "police (criminal complaint)"),
    Authority.IBD: ("Informatiebeveiligingsdienst (IBD)", "Information Security Service (IBD)"),
    Authority.CSIRT: ("CSIRT / NCSC (Cyberbeveiligingswet)", "CSIRT / NCSC (Cybersecurity Act)"),
    Stage.REPORTED: ("gemeld", "reported"),
    Stage.TRIAGED: ("beoordeeld", "triaged"),
    Stage.NOT_A_BREACH: ("geen datalek", "not a breach"),
    Stage.BREACH: ("datalek", "breach"),
    Stage.CLOSED: ("afgesloten", "closed"),
    ErasureGround.ERASURE_REQUEST: (
        "art. 17 AVG: toegewezen verzoek om wissing",
        "art. 17 GDPR: erasure request granted",
    ),
    ErasureGround.RETENTION_ENDED: (
        "Archiefwet: bewaartermijn verstreken (Selectielijst)",
        "Archives Act: retention period ended (Selectielijst)",
    ),
    LegalBasis.CONSENT: ("art. 6(1)(a) toestemming", "art. 6(1)(a) consent"),
    LegalBasis.CONTRACT: ("art. 6(1)(b) overeenkomst", "art. 6(1)(b) contract"),
    LegalBasis.LEGAL_OBLIGATION: (
        "art. 6(1)(c) wettelijke verplichting",
        "art. 6(1)(c) legal obligation",
    ),
    LegalBasis.VITAL_INTERESTS: ("art. 6(1)(d) vitaal belang", "art. 6(1)(d) vital interests"),
    LegalBasis.PUBLIC_TASK: ("art. 6(1)(e) publieke taak", "art. 6(1)(e) public task"),
    LegalBasis.LEGITIMATE_INTERESTS: (
        "art. 6(1)(f) gerechtvaardigd belang",
        "art. 6(1)(f) legitimate interests",
    ),
    Right.ACCESS: ("art. 15 inzage", "art. 15 access"),
    Right.RECTIFICATION: ("art. 16 rectificatie", "art. 16 rectification"),
    Right.ERASURE: ("art. 17 vergetelheid", "art. 17 erasure"),
    Right.RESTRICTION: ("art. 18 beperking", "art. 18 restriction"),
    Right.PORTABILITY: ("art. 20 overdraagbaarheid", "art. 20 portability"),
    Right.OBJECTION: ("art. 21 bezwaar tegen verwerking", "art. 21 objection to processing"),
    Right.AUTOMATED_DECISION: (
        "art. 22 geautomatiseerde besluitvorming",
        "art. 22 automated decision-making",
    ),
    Outcome.GRANTED: ("toegewezen", "granted"),
    Outcome.PARTLY_GRANTED: ("deels toegewezen", "partly granted"),
    Outcome.REFUSED: ("afgewezen", "refused"),
    RefusalGround.MANIFESTLY_UNFOUNDED: (
        "art. 12(5) AVG: kennelijk ongegrond of buitensporig",
        "art. 12(5) GDPR: manifestly unfounded or excessive",
    ),
    RefusalGround.ERASURE_EXCEPTION: (
        "art. 17(3) AVG: uitzondering op het recht op vergetelheid",
        "art. 17(3) GDPR: exception to the right to erasure",
    ),
    RefusalGround.RESTRICTION_BY_LAW: (
        "art. 23 AVG / art. 41 UAVG: beperking bij wet",
        "art. 23 GDPR / art. 41 UAVG: restriction by law",
    ),
    RefusalGround.ARCHIEFWET: (
        "Archiefwet: bewaarplicht (Selectielijst)",
        "Archives Act: duty to retain (Selectielijst)",
    ),
    RefusalGround.IDENTITY_NOT_ESTABLISHED: (
        "art. 12(6) AVG: identiteit niet vastgesteld",
        "art. 12(6) GDPR: identity not established",
    ),
    ExtensionReason.COMPLEXITY: ("complexiteit", "complexity"),
    ExtensionReason.NUMBER_OF_REQUESTS: ("aantal verzoeken", "number of requests"),
    RequestStage.RECEIVED: ("ontvangen", "received"),
    RequestStage.IN_PROGRESS: ("in behandeling", "in progress"),
    RequestStage.SUSPENDED: ("opgeschort", "suspended"),
    RequestStage.DECIDED: ("besloten", "decided"),
    RequestStage.SENT: ("verzonden", "sent"),
    RequestStage.OBJECTED: ("bezwaar", "objection lodged"),
    RequestStage.CLOSED: ("afgerond", "closed"),
    RequestStage.WITHDRAWN: ("ingetrokken", "withdrawn"),
    # rights requests as bijlage 5 runs them, objections under the Awb (issue 14)
    SuspensionReason.IDENTITY_PROOF: (
        "art. 12(6) AVG: bewijs van identiteit gevraagd",
        "art. 12(6) GDPR: proof of identity requested",
    ),
    SuspensionReason.MISSING_INFORMATION: (
        "Awb 4:5: ontbrekende gegevens gevraagd",
        "Awb 4:5: missing information requested",
    ),
    Mandate.SECRETARY: (
        "mandaat: gemeentesecretaris",
        "mandate: municipal secretary",
    ),
    Mandate.DEPARTMENT: (
        "ondermandaat: proceseigenaar van de vakafdeling",
        "sub-mandate: process owner of the department",
    ),
    NotificationExemption.IMPOSSIBLE: ("art. 19 AVG: onmogelijk", "art. 19 GDPR: impossible"),
    NotificationExemption.DISPROPORTIONATE: (
        "art. 19 AVG: onevenredige inspanning",
        "art. 19 GDPR: disproportionate effort",
    ),
    HearingWaiver.MANIFESTLY_INADMISSIBLE: (
        "Awb 7:3 a: kennelijk niet-ontvankelijk",
        "Awb 7:3 a: manifestly inadmissible",
    ),
    HearingWaiver.MANIFESTLY_UNFOUNDED: (
        "Awb 7:3 b: kennelijk ongegrond",
        "Awb 7:3 b: manifestly unfounded",
    ),
    HearingWaiver.OBJECTOR_WAIVED: (
        "Awb 7:3 c: belanghebbende heeft afgezien van horen",
        "Awb 7:3 c: the objector waived the hearing",
    ),
    HearingWaiver.FULLY_GRANTED: (
        "Awb 7:3 d: volledig tegemoetgekomen",
        "Awb 7:3 d: objection fully met",
    ),
    Deliberation.ALONE: ("alleen", "alone"),
    Deliberation.WITH_OTHERS: ("mede met anderen", "together with others"),
    Deliberation.ON_COMMITTEE_ADVICE: (
        "op advies van de bezwaarcommissie (Awb 7:13)",
        "on the advice of the objections committee (Awb 7:13)",
    ),
    ObjectionOutcome.WELL_FOUNDED: ("gegrond", "well-founded"),
    ObjectionOutcome.UNFOUNDED: ("ongegrond", "unfounded"),
    ObjectionOutcome.INADMISSIBLE: ("niet-ontvankelijk", "inadmissible"),
}
# Stored as values, looked up by them: one text may name one value only.
_BY_VALUE = {str(value): texts for value, texts in LABELS.items()}


def label(value: str, lang: Language) -> str:
    """The text of a stored domain value in ``lang``; an unknown one as it is (a value the
    table does not know is user text, e.g. a controller's name)."""
    texts = _BY_VALUE.get(value)
    if texts is None:
        return value
    return texts[0] if lang == "nl" else texts[1]


def role_code(role: Role) -> str:
    """How a role is named to people and in grants: ``FG``, ``PRIVACY_OFFICER``."""
    return role.name


def parse_role(text: str) -> Role:
    """A role by its code or its Dutch label (any case): ``FG``, ``fg`` or ``functionaris
    gegevensbescherming``."""
    names = {role.name.lower(): role for role in Role}
    found = (names | {role.value.lower(): role for role in Role}).get(text.strip().lower())
    if found is None:
        codes = ", ".join(role_code(r) for r in Role)
        raise ValueError(f"no role {text!r}; the roles are {codes}")
    return found
