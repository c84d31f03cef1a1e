"""Every domain value as people read it: its Dutch and its English text, in this one table.

Values are stored as the municipalities say them (Dutch); reports, the command line and the
API show them through this table in the language of the page, so an English page carries no
Dutch label. Roles also have a code (``Role.FG.name``), the same wherever a role is named.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

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
from domain.fg_advice import NoAdviceReason
from domain.incidents import (
    Authority,
    Impact,
    IRTMember,
    Nature,
    Recipient,
    Stage,
    SubjectsNotInformedGround,
)
from domain.personal_data import ErasureGround
from domain.processing import CriminalDataGround, LegalBasis, SpecialCategoryGround
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
    # the register: the exceptions of art. 9(2) and the grounds of art. 10
    SpecialCategoryGround.EXPLICIT_CONSENT: (
        "art. 9(2)(a) uitdrukkelijke toestemming",
        "art. 9(2)(a) explicit consent",
    ),
    SpecialCategoryGround.EMPLOYMENT_AND_SOCIAL_SECURITY: (
        "art. 9(2)(b) arbeidsrecht, sociale zekerheid",
        "art. 9(2)(b) employment and social security law",
    ),
    SpecialCategoryGround.VITAL_INTERESTS: (
        "art. 9(2)(c) vitaal belang",
        "art. 9(2)(c) vital interests",
    ),
    SpecialCategoryGround.NOT_FOR_PROFIT_BODY: (
        "art. 9(2)(d) stichting of vereniging zonder winstoogmerk",
        "art. 9(2)(d) not-for-profit body",
    ),
    SpecialCategoryGround.MADE_PUBLIC: (
        "art. 9(2)(e) kennelijk openbaar gemaakt",
        "art. 9(2)(e) manifestly made public",
    ),
    SpecialCategoryGround.LEGAL_CLAIMS: (
        "art. 9(2)(f) rechtsvordering",
        "art. 9(2)(f) legal claims",
    ),
    SpecialCategoryGround.SUBSTANTIAL_PUBLIC_INTEREST: (
        "art. 9(2)(g) zwaarwegend algemeen belang",
        "art. 9(2)(g) substantial public interest",
    ),
    SpecialCategoryGround.HEALTH_AND_SOCIAL_CARE: (
        "art. 9(2)(h) gezondheidszorg, sociale diensten",
        "art. 9(2)(h) health and social care",
    ),
    SpecialCategoryGround.PUBLIC_HEALTH: (
        "art. 9(2)(i) volksgezondheid",
        "art. 9(2)(i) public health",
    ),
    SpecialCategoryGround.ARCHIVING_RESEARCH_STATISTICS: (
        "art. 9(2)(j) archivering, onderzoek, statistiek",
        "art. 9(2)(j) archiving, research, statistics",
    ),
    CriminalDataGround.OFFICIAL_AUTHORITY: (
        "art. 10 onder toezicht van de overheid",
        "art. 10 under the control of official authority",
    ),
    CriminalDataGround.AUTHORISED_BY_LAW: (
        "art. 10 bij wet toegestaan (UAVG art. 32-33)",
        "art. 10 authorised by law (UAVG art. 32-33)",
    ),
    # processors: the transfer safeguards of AVG chapter V
    TransferSafeguard.ADEQUACY: ("art. 45 adequaatheidsbesluit", "art. 45 adequacy decision"),
    TransferSafeguard.SCC: (
        "art. 46(2)(c) standaardcontractbepalingen",
        "art. 46(2)(c) standard contractual clauses",
    ),
    TransferSafeguard.BCR: (
        "art. 47 bindende bedrijfsvoorschriften",
        "art. 47 binding corporate rules",
    ),
    TransferSafeguard.DEROGATION: ("art. 49 afwijking", "art. 49 derogation"),
    # FG involvement
    NoAdviceReason.URGENCY: ("spoed", "urgency"),
    # --- the incident response team (seed 002 bijlage 3) ---
    IRTMember.CISO: ("CISO (voorzitter)", "CISO (chair)"),
    IRTMember.REGIONAL_CISO: ("regionale CISO", "regional CISO"),
    IRTMember.FG: ("FG (bij een inbreuk op persoonsgegevens)", "FG (in a personal-data breach)"),
    IRTMember.SECRETARY: ("gemeentesecretaris (besluitvormer)", "municipal secretary (decides)"),
    IRTMember.PRIVACY_OFFICER: ("privacybeheerder (adviseur)", "privacy officer (advises)"),
    IRTMember.SECURITY_ADMINISTRATOR: ("beveiligingsbeheerder ICT", "ICT security administrator"),
    IRTMember.SECURITY_CONTROLLER: (
        "controller informatiebeveiliging",
        "information security controller",
    ),
    IRTMember.COMMUNICATION: ("beleidsmedewerker communicatie", "communications adviser"),
    IRTMember.LEGAL: ("juridisch controller", "legal controller"),
    IRTMember.DEPARTMENT_MANAGER: ("afdelingsmanager", "department manager"),
    IRTMember.EXTERNAL_EXPERT: ("externe deskundige", "external expert"),
    Recipient.POLICE: ("politie", "police"),
    Recipient.IBD: ("IBD", "IBD (municipal information security service)"),
    Recipient.CSIRT: ("CSIRT / NCSC", "CSIRT / NCSC"),
    Recipient.THIRD_PARTY: ("derde partij", "third party"),
    Recipient.BANK: ("bank of creditcardmaatschappij", "bank or credit-card company"),
    Recipient.WETHOUDER: ("vakwethouder", "responsible alderman"),
    Recipient.COLLEGE: ("college van B en W", "mayor and aldermen (college)"),
    Recipient.RAAD: ("gemeenteraad", "municipal council"),
    SubjectsNotInformedGround.NO_HIGH_RISK: (
        "art. 34(1): geen hoog risico",
        "art. 34(1): no high risk",
    ),
    SubjectsNotInformedGround.UNINTELLIGIBLE: (
        "art. 34(3)(a): gegevens onbegrijpelijk (versleuteld)",
        "art. 34(3)(a): data unintelligible (encrypted)",
    ),
    SubjectsNotInformedGround.SUBSEQUENT_MEASURES: (
        "art. 34(3)(b): hoog risico weggenomen door maatregelen",
        "art. 34(3)(b): high risk removed by subsequent measures",
    ),
    SubjectsNotInformedGround.DISPROPORTIONATE_EFFORT: (
        "art. 34(3)(c): onevenredige inspanning, openbare mededeling",
        "art. 34(3)(c): disproportionate effort, public communication",
    ),
    # --- the DPIA procedure (seed 002 bijlage 4) ---
    Trigger.NEW_PROCESSING: ("nieuwe verwerking", "new processing"),
    Trigger.CHANGED_PROCESSING: ("aangepaste verwerking", "changed processing"),
    Trigger.NEW_TECHNOLOGY: ("nieuwe technologie", "new technology"),
    Trigger.NEW_SYSTEM: ("nieuw systeem", "new system"),
    Trigger.REASSESSMENT: ("herbeoordeling", "re-assessment"),
    APListItem.COVERT_INVESTIGATION: (
        "AP-lijst: heimelijk onderzoek",
        "AP list: covert investigation",
    ),
    APListItem.BLACKLISTS: ("AP-lijst: zwarte lijsten", "AP list: blacklists"),
    APListItem.FRAUD: ("AP-lijst: fraudebestrijding", "AP list: fraud prevention"),
    APListItem.CREDIT_SCORES: ("AP-lijst: creditscores", "AP list: credit scores"),
    APListItem.FINANCIAL_SITUATION: (
        "AP-lijst: financiële situatie",
        "AP list: financial situation",
    ),
    APListItem.GENETIC_DATA: ("AP-lijst: genetische persoonsgegevens", "AP list: genetic data"),
    APListItem.BIOMETRIC_DATA: ("AP-lijst: biometrische gegevens", "AP list: biometric data"),
    APListItem.COOPERATION: (
        "AP-lijst: samenwerkingsverbanden",
        "AP list: partnerships sharing data",
    ),
    APListItem.CAMERA_SURVEILLANCE: ("AP-lijst: cameratoezicht", "AP list: camera surveillance"),
    APListItem.FLEXIBLE_CAMERAS: (
        "AP-lijst: flexibel cameratoezicht",
        "AP list: mobile camera surveillance",
    ),
    APListItem.EMPLOYEE_MONITORING: (
        "AP-lijst: controle werknemers",
        "AP list: monitoring employees",
    ),
    APListItem.LOCATION_DATA: ("AP-lijst: locatiegegevens", "AP list: location data"),
    APListItem.COMMUNICATION_DATA: (
        "AP-lijst: communicatiegegevens",
        "AP list: communication data",
    ),
    APListItem.INTERNET_OF_THINGS: ("AP-lijst: internet of things", "AP list: internet of things"),
    APListItem.PROFILING: ("AP-lijst: profilering", "AP list: profiling"),
    APListItem.BEHAVIOUR: (
        "AP-lijst: observatie en beïnvloeding van gedrag",
        "AP list: observing and influencing behaviour",
    ),
    APListItem.HEALTH_DATA: ("AP-lijst: gezondheidsgegevens", "AP list: health data"),
    Art35Case.AUTOMATED_EVALUATION: (
        "art. 35(3)(a) stelselmatige en uitgebreide geautomatiseerde beoordeling",
        "art. 35(3)(a) systematic and extensive automated evaluation",
    ),
    Art35Case.LARGE_SCALE_SPECIAL: (
        "art. 35(3)(b) grootschalig bijzondere of strafrechtelijke gegevens",
        "art. 35(3)(b) special categories or criminal data on a large scale",
    ),
    Art35Case.PUBLIC_MONITORING: (
        "art. 35(3)(c) grootschalige monitoring van openbare ruimte",
        "art. 35(3)(c) large-scale monitoring of a publicly accessible area",
    ),
    EDPBCriterion.SCORING: ("WP248: evaluatie of scoretoekenning", "WP248: evaluation or scoring"),
    EDPBCriterion.AUTOMATED_DECISIONS: (
        "WP248: geautomatiseerde besluitvorming met rechtsgevolg",
        "WP248: automated decisions with legal effect",
    ),
    EDPBCriterion.SYSTEMATIC_MONITORING: (
        "WP248: stelselmatige monitoring",
        "WP248: systematic monitoring",
    ),
    EDPBCriterion.SENSITIVE_DATA: (
        "WP248: gevoelige of zeer persoonlijke gegevens",
        "WP248: sensitive or highly personal data",
    ),
    EDPBCriterion.LARGE_SCALE: ("WP248: grootschalige verwerking", "WP248: large scale"),
    EDPBCriterion.COMBINED_DATASETS: (
        "WP248: koppelen of combineren van gegevensverzamelingen",
        "WP248: matching or combining datasets",
    ),
    EDPBCriterion.VULNERABLE_SUBJECTS: (
        "WP248: kwetsbare betrokkenen",
        "WP248: vulnerable data subjects",
    ),
    EDPBCriterion.INNOVATIVE_USE: (
        "WP248: innovatief gebruik of nieuwe technologie",
        "WP248: innovative use or new technology",
    ),
    EDPBCriterion.BLOCKS_RIGHTS: (
        "WP248: verhindert uitoefening van een recht of dienst",
        "WP248: prevents exercising a right or using a service",
    ),
    RiskLevel.LOW: ("laag risico", "low risk"),
    RiskLevel.MEDIUM: ("gemiddeld risico", "medium risk"),
    RiskLevel.HIGH: ("hoog risico", "high risk"),
    TeamRole.PRIVACY_OFFICER: ("DPIA-team: privacybeheerder", "DPIA team: privacy officer"),
    TeamRole.CISO: ("DPIA-team: CISO", "DPIA team: CISO"),
    TeamRole.PROCESS_OWNER: ("DPIA-team: proceseigenaar", "DPIA team: process owner"),
    TeamRole.PROJECT_LEADER: ("DPIA-team: projectleider", "DPIA team: project leader"),
    TeamRole.EMPLOYEE: ("DPIA-team: uitvoerend medewerker", "DPIA team: employee"),
    TeamRole.FG: ("DPIA-team: FG als adviseur", "DPIA team: the FG as adviser"),
    APAnswer.NO_OBJECTION: ("AP: geen bezwaar", "AP: no objection"),
    APAnswer.WRITTEN_ADVICE: ("AP: schriftelijk advies", "AP: written advice"),
    APAnswer.BAN: (
        "AP: verwerking beperkt of verboden (art. 58(2)(f))",
        "AP: processing limited or banned (art. 58(2)(f))",
    ),
    FGOpinion.SUFFICIENT: ("FG: DPIA volstaat", "FG: the DPIA is sufficient"),
    FGOpinion.INSUFFICIENT: ("FG: DPIA schiet tekort", "FG: the DPIA falls short"),
    Decision.PROCEED: ("verwerking gaat door", "processing goes ahead"),
    Decision.ABANDON: ("verwerking gaat niet door", "processing abandoned"),
    Status.SIGNALLED: ("DPIA gesignaleerd", "DPIA signalled"),
    Status.ADVISED: ("FG-advies aan proceseigenaar", "FG advised the process owner"),
    Status.ASSIGNED: ("DPIA opgedragen", "DPIA assigned"),
    Status.NOT_REQUIRED: ("geen DPIA vereist", "no DPIA required"),
    Status.REQUIRED: ("DPIA vereist", "DPIA required"),
    Status.ASSESSED: ("DPIA uitgevoerd", "DPIA carried out"),
    Status.CONSULTING: ("voorafgaande raadpleging AP", "prior consultation of the AP"),
    Status.AP_ANSWERED: ("AP heeft geantwoord", "the AP answered"),
    Status.FG_ASSESSED: ("FG-beoordeling gegeven", "assessed by the FG"),
    Status.DECIDED: ("besluit over DPIA genomen", "decided on the DPIA"),
    # Retention and reporting duties (issue 14).
    RecordType.INCIDENT: ("incident", "incident"),
    RecordType.RIGHTS_REQUEST: ("verzoek van betrokkene", "data-subject request"),
    RecordType.FG_ADVICE: ("advies van de FG", "FG advice"),
    RecordType.PROCESSING_ACTIVITY: ("verwerkingsactiviteit", "processing activity"),
    RecordType.DPIA: ("DPIA", "DPIA"),
    RecordType.PROCESSOR: ("verwerker", "processor"),
    ReportKind.FG_ANNUAL_REPORT: ("jaarverslag FG", "FG annual report"),
    ReportKind.BREACH_REGISTER_EVALUATION: (
        "jaarlijkse evaluatie register beveiligingsincidenten",
        "annual evaluation of the security incident register",
    ),
    ReportKind.CISO_QUARTERLY_REPORT: ("kwartaalrapportage CISO", "CISO quarterly report"),
    ReportRecipient.RAAD: ("raad", "municipal council"),
    ReportRecipient.COLLEGE: ("college", "municipal executive (college van B&W)"),
    ReportRecipient.BURGEMEESTER: ("burgemeester", "mayor"),
    ReportRecipient.SECRETARY: ("secretaris", "municipal secretary"),
    ReportRecipient.FG: ("FG", "data protection officer (FG)"),
    ReportRecipient.MANAGEMENT: ("managementteam", "management team"),
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
