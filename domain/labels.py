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
from domain.reporting import Recipient, ReportKind
from domain.requests import ExtensionReason, Outcome, RefusalGround, RequestStage, Right
from domain.retention import RecordType

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
    # Retention and reporting duties (issue 14).
    RecordType.INCIDENT: ("incident", "incident"),
    RecordType.RIGHTS_REQUEST: ("verzoek van betrokkene", "data-subject request"),
    RecordType.FG_ADVICE: ("advies van de FG", "FG advice"),
    RecordType.PROCESSING_ACTIVITY: ("verwerkingsactiviteit", "processing activity"),
    ReportKind.FG_ANNUAL_REPORT: ("jaarverslag FG", "FG annual report"),
    ReportKind.BREACH_REGISTER_EVALUATION: (
        "jaarlijkse evaluatie register beveiligingsincidenten",
        "annual evaluation of the security incident register",
    ),
    ReportKind.CISO_QUARTERLY_REPORT: ("kwartaalrapportage CISO", "CISO quarterly report"),
    Recipient.RAAD: ("raad", "municipal council"),
    Recipient.COLLEGE: ("college", "municipal executive (college van B&W)"),
    Recipient.BURGEMEESTER: ("burgemeester", "mayor"),
    Recipient.SECRETARY: ("secretaris", "municipal secretary"),
    Recipient.FG: ("FG", "data protection officer (FG)"),
    Recipient.MANAGEMENT: ("managementteam", "management team"),
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
