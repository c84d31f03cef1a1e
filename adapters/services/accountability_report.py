"""The accountability report: figures per controller and period, each linked to the ledger
entries it rests on, proven by receipts under the report's own signed checkpoint.

JSON for machines; HTML in Dutch (English on request) for people, printable, with charts
drawn as inline SVG so that the page needs nothing from the network.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from adapters.persistence.personal_data import opened
from adapters.persistence.sqldb import Cursor
from adapters.persistence.stores import ledger_of
from adapters.services.projection_runner import ReadModelRunner
from adapters.services.receipts import Proven, checkpoint_for, checkpoint_size, prove
from adapters.services.reconstruction import events_upto, replayed
from domain.application import Bewijslast, ReportDigest
from domain.labels import Language, label
from domain.reporting import SECTIONS, ReportKind
from ledger.note import split_note
from projections.base import to_json
from projections.catalogue import all_projections
from projections.report import Figure, Period, report_figures

LABELS: dict[str, tuple[str, str]] = {
    "register": ("Register van verwerkingsactiviteiten", "Register of processing activities"),
    "breaches": ("Datalekken", "Personal-data breaches"),
    "requests": ("Verzoeken van betrokkenen", "Data-subject requests"),
    "fg_advice": ("Adviezen van de FG", "FG advice"),
    "erasures": ("Gewiste persoonsgegevens", "Erasures"),
    "register.active": ("Actieve verwerkingen", "Active processing activities"),
    "register.dpia_required": ("DPIA verplicht", "DPIA required"),
    "register.dpia_required_done": ("DPIA verplicht en uitgevoerd", "DPIA required and done"),
    "register.sensitive_without_dpia": (
        "Bijzondere gegevens, strafrechtelijke gegevens of BSN zonder DPIA",
        "Special categories, criminal data or BSN without a DPIA",
    ),
    "register.without_selectielijst": (
        "Zonder verwijzing naar de Selectielijst",
        "Without a Selectielijst reference",
    ),
    "breaches.total": ("Vastgestelde datalekken", "Breaches established"),
    "breaches.by_impact": ("Naar impact", "By impact"),
    "breaches.by_nature": ("Naar aard (categorie)", "By category"),
    "breaches.notified": ("Gemeld bij de AP", "Notified to the AP"),
    "breaches.notified_within_72h": ("Gemeld binnen 72 uur", "Notified within 72 hours"),
    "breaches.notified_late": ("Te laat gemeld, met reden", "Notified late, with reasons"),
    "breaches.not_notified": ("Niet gemeld, met reden", "Not notified, with reasons"),
    "breaches.subjects_informed": ("Betrokkenen geïnformeerd", "Data subjects informed"),
    "breaches.reclassified": ("Achteraf geen datalek", "Reclassified as no breach"),
    "requests.total": ("Ontvangen verzoeken", "Requests received"),
    "requests.by_right": ("Naar recht", "By right"),
    "requests.by_outcome": ("Naar uitkomst", "By outcome"),
    "requests.decided_on_time": ("Op tijd beslist", "Decided on time"),
    "requests.extended": ("Verlengd", "Extended"),
    # issue 14: on time judged at sending; objections under the Awb
    "requests.sent_on_time": (
        "Op tijd verzonden (art. 12(3) AVG)",
        "Sent on time (art. 12(3) GDPR)",
    ),
    "requests.decided_not_sent": ("Besloten, nog niet verzonden", "Decided, not yet sent"),
    "requests.notices_of_default": (
        "Ingebrekestellingen (Awb 4:17)",
        "Notices of default (Awb 4:17)",
    ),
    "requests.penalties_euros": ("Verbeurde dwangsommen (euro)", "Penalties owed (euros)"),
    "objections.total": ("Bezwaren", "Objections"),
    "objections.late": ("Te laat ingediende bezwaren", "Objections lodged late"),
    "objections.by_outcome": ("Bezwaren naar uitkomst", "Objections by outcome"),
    "objections.decided_on_time": (
        "Op bezwaar beslist binnen de termijn (Awb 7:10)",
        "Objections decided within the term (Awb 7:10)",
    ),
    "fg_advice.total": ("Gevraagde adviezen", "Advice requested"),
    "fg_advice.followed": ("Opgevolgd", "Followed"),
    "fg_advice.not_followed": ("Niet opgevolgd, met reden", "Not followed, with reasons"),
    "fg_advice.unanswered": ("Nog niet beantwoord", "Not yet answered"),
    "erasures.by_ground": ("Gewist, naar grond", "Erased, by ground"),
    # processors (art. 28, 33(2)) and the Cyberbeveiligingswet's early warning
    "processors": ("Verwerkers en verwerkersovereenkomsten", "Processors and their agreements"),
    "processors.total": ("Verwerkers", "Processors"),
    "processors.without_agreement": (
        "Verwerkingen met een verwerker zonder geldende verwerkersovereenkomst",
        "Processing with a processor but no agreement in force",
    ),
    "processors.agreements_expired": (
        "Verlopen verwerkersovereenkomsten",
        "Expired processor agreements",
    ),
    "processors.special_outside_eea": (
        "Bijzondere persoonsgegevens buiten de EER zonder doorgiftewaarborg",
        "Special categories processed outside the EEA without a transfer safeguard",
    ),
    "processors.breach_notices": (
        "Datalekken gemeld door een verwerker (art. 33(2))",
        "Breaches a processor reported to us (art. 33(2))",
    ),
    "early_warnings": (
        "Vroegtijdige waarschuwingen (Cyberbeveiligingswet)",
        "Early warnings (Cybersecurity Act)",
    ),
    "early_warnings.significant": ("Significante incidenten", "Significant incidents"),
    "early_warnings.owed": (
        "Waarschuwing verplicht volgens de geldende regel",
        "Warning owed under the rule in force",
    ),
    "early_warnings.sent_within_24h": ("Gewaarschuwd binnen 24 uur", "Warned within 24 hours"),
    "early_warnings.late": ("Te laat of (nog) niet gewaarschuwd", "Warned late or not (yet)"),
    # the FG's involvement
    "fg_involvement": ("Betrokkenheid van de FG", "The FG's involvement"),
    "fg_involvement.advice_followed": (
        "Besluiten na advies van de FG, opgevolgd",
        "Decisions after FG advice, followed",
    ),
    "fg_involvement.advice_departed": (
        "Besluiten na advies van de FG, afgeweken",
        "Decisions after FG advice, departed from",
    ),
    "fg_involvement.without_advice": (
        "Besluiten zonder advies van de FG, met reden",
        "Decisions without FG advice, with reasons",
    ),
    "fg_involvement.fg_informed": ("Incidenten gemeld aan de FG", "Incidents the FG was told of"),
    "fg_involvement.volunteered": (
        "Adviezen van de FG uit eigen beweging",
        "FG advice given unasked",
    ),
    # the incident response team (seed 002 bijlage 3)
    "incidents": ("Incidentafhandeling", "Incident response"),
    "incidents.total": ("Gemelde incidenten", "Incidents reported"),
    "incidents.irt_convened": ("Incident Response Team bijeengeroepen", "Response team convened"),
    "incidents.criminal": ("Criminele activiteit vastgesteld", "Criminal activity found"),
    "incidents.aangifte": (
        "Aangifte gedaan (na overleg met de burgemeester)",
        "Police report filed (after consulting the mayor)",
    ),
    "incidents.parties_informed": ("Geïnformeerd, naar partij", "Informed, by party"),
    "incidents.evidence_items": ("Vastgelegd bewijsmateriaal", "Evidence items secured"),
    "incidents.hours": ("Bestede uren", "Hours spent"),
    "incidents.costs_eur": ("Kosten (euro)", "Costs (euros)"),
    "incidents.subjects_not_informed": (
        "Betrokkenen niet geïnformeerd, naar grond",
        "Data subjects not informed, by ground",
    ),
    "incidents.addresses_destroyed": (
        "Verzamelde adressen vernietigd",
        "Collected addresses destroyed",
    ),
    "incidents.evaluated_on_time": (
        "Binnen twee tot zes weken geëvalueerd",
        "Evaluated within two to six weeks",
    ),
    "incidents.evaluations_overdue": ("Te laat geëvalueerd", "Evaluated late"),
    # The DPIA procedure (seed 002 bijlage 4).
    "dpia": (
        "Gegevensbeschermingseffectbeoordelingen (DPIA)",
        "Data protection impact assessments",
    ),
    "dpia.signalled": ("Gesignaleerd", "Signalled"),
    "dpia.required": ("DPIA vereist na QuickScan", "DPIA required by the pre-scan"),
    "dpia.assessed": ("Uitgevoerd", "Carried out"),
    "dpia.by_residual_risk": ("Naar restrisico", "By residual risk"),
    "dpia.prior_consultations": (
        "Voorafgaande raadpleging van de AP (art. 36)",
        "Prior consultations of the AP (art. 36)",
    ),
    "dpia.ap_answered_late": ("AP antwoordde na de termijn", "The AP answered after its period"),
    "dpia.by_decision": ("Naar besluit", "By decision"),
    "dpia.measures_open": ("Maatregelen nog niet uitgevoerd", "Measures not yet done"),
    "retention": ("Bewaartermijnen en vernietiging", "Retention and destruction"),
    "retention.destroyed": (
        "Vernietigd na de bewaartermijn (Selectielijst), naar soort",
        "Destroyed after the retention period (Selectielijst), by type",
    ),
    "retention.held": ("Nu onder een bewaarplicht (legal hold)", "Now under a legal hold"),
    "reporting": ("Rapportageverplichtingen", "Reporting duties"),
    "reporting.sent": ("Verzonden rapportages, naar soort", "Reports sent, by kind"),
}
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Verantwoordingsrapportage", "Accountability report"),
    "controller": ("Verwerkingsverantwoordelijke", "Controller"),
    "period": ("Periode", "Period"),
    "checkpoint": ("Ondertekend controlepunt", "Signed checkpoint"),
    "evidence": ("Bewijs", "Evidence"),
    "entry": ("Regel", "Entry"),  # singular; COUNTED has the plurals
    "receipt": ("Ontvangstbewijs", "Receipt"),
    "none": ("geen", "none"),
    "timeline": ("Tijd tot melding bij de AP (uren)", "Time to the AP notification (hours)"),
    "handling": (
        "Behandelduur tegen de termijn (dagen)",
        "Handling time against the deadline (days)",
    ),
    "not_notified": ("niet gemeld", "not notified"),
    "how": (
        "Elk cijfer verwijst naar de ledgerregels waarop het rust. Elke regel is bewezen met een "
        "ontvangstbewijs onder het ondertekende controlepunt hierboven: controleer ze met "
        "'python -m ledger verify BESTAND --vkey SLEUTEL', zonder de server te vertrouwen.",
        "Every figure links to the ledger entries it rests on. Each entry is proven by a receipt "
        "under the signed checkpoint above: check them with 'python -m ledger verify FILE --vkey "
        "KEY', without trusting the server.",
    ),
}


# What the page counts: (one, more) per language.
COUNTED: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "entry": (("regel", "regels"), ("entry", "entries")),
}


def counted(count: int, noun: str, lang: int) -> str:
    """``1 entry``, ``308 entries``; ``1 regel``, ``308 regels``."""
    one, more = COUNTED[noun][lang]
    return f"{count} {one if count == 1 else more}"


@dataclass
class Report:
    municipality: str
    controller: str
    period: Period
    generated_at: datetime
    sections: dict[str, list[Figure]]
    checkpoint: str
    evidence: dict[int, Proven]

    def to_json(self) -> dict[str, Any]:
        return {
            "municipality": self.municipality,
            "controller": self.controller,
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "generated_at": self.generated_at.isoformat(),
            "checkpoint": self.checkpoint,
            "sections": {
                name: [asdict(f) for f in figures] for name, figures in self.sections.items()
            },
            "evidence": {
                str(i): {"entry": p.record.entry.to_object(), "receipt": p.receipt.format()}
                for i, p in sorted(self.evidence.items())
            },
        }


def build_report(
    app: Bewijslast,
    municipality: str,
    controller: str,
    period: Period,
    *,
    sign: Callable[[], str] | None = None,
) -> Report:
    """Catch the read models up, compute the figures and prove every entry they cite under
    one checkpoint (the newest, or a fresh one when ``sign`` can make it)."""
    runner = ReadModelRunner(app, all_projections())
    runner.catch_up_all()
    with runner.db.transaction() as cursor:
        sections = report_figures(cursor, municipality, controller, period)
    for figures in sections.values():
        for figure in figures:
            figure.detail = opened(app, figure.detail)
    cited = sorted({i for figures in sections.values() for f in figures for i in f.evidence})
    ledger = ledger_of(app)
    note = checkpoint_for(ledger, max(ledger.ledger_size() - 1, 0), sign)
    return Report(
        municipality,
        controller,
        period,
        app.clock(),
        sections,
        note,
        prove(ledger, cited, note),
    )


def _timeline_svg(rows: list[dict[str, Any]], lang: int) -> str:
    """Each breach's hours to its AP notification against the 72-hour line."""
    width, left, bar, gap, top = 700, 230, 18, 8, 24
    most = max([96.0, *[r["hours"] or 0 for r in rows]])
    scale = (width - left - 70) / most
    height = top + len(rows) * (bar + gap) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="chart">'
    ]
    for n, r in enumerate(rows):
        y = top + n * (bar + gap)
        caption = _escape(_quoted(_short(r["summary"]), lang))
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{caption}</text>')
        if r["hours"] is None:
            muted = WORDS["not_notified"][lang]
            parts.append(f'<text x="{left + 4}" y="{y + 13}" class="muted">{muted}</text>')
            continue
        colour = "#b3261e" if r["hours"] > 72 else "#1b6e3a"
        parts.append(
            f'<rect x="{left}" y="{y}" width="{max(r["hours"] * scale, 2):.1f}" height="{bar}" '
            f'fill="{colour}"><title>{r["hours"]} h</title></rect>'
        )
        parts.append(
            f'<text x="{left + r["hours"] * scale + 4:.1f}" y="{y + 13}">{r["hours"]:g} h</text>'
        )
    x72 = left + 72 * scale
    parts.append(
        f'<line x1="{x72:.1f}" y1="{top - 8}" x2="{x72:.1f}" y2="{height - 16}" '
        'stroke="#b3261e" stroke-dasharray="5 3" stroke-width="2"/>'
    )
    parts.append(f'<text x="{x72 + 4:.1f}" y="{top - 10}" class="line">72 h</text>')
    parts.append("</svg>")
    return "".join(parts)


def _handling_svg(rows: list[dict[str, Any]], lang: int) -> str:
    """Each decided request's days taken, with its deadline marked."""
    width, left, bar, gap, top = 700, 300, 14, 8, 10  # room for a right and its date
    most = max([35, *[max(r["days"], r["allowed"]) for r in rows]])
    scale = (width - left - 80) / most
    height = top + len(rows) * (bar + gap) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="chart">'
    ]
    for n, (r, text) in enumerate(zip(rows, _request_labels(rows, lang), strict=True)):
        y = top + n * (bar + gap)
        colour = "#1b6e3a" if r["on_time"] else "#b3261e"
        parts.append(
            f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{_escape(text)}</text>'
            f'<rect x="{left}" y="{y}" width="{max(r["days"] * scale, 2):.1f}" height="{bar}" '
            f'fill="{colour}"/>'
            f'<line x1="{left + r["allowed"] * scale:.1f}" y1="{y - 2}" '
            f'x2="{left + r["allowed"] * scale:.1f}" y2="{y + bar + 2}" stroke="#222" '
            'stroke-width="2"/>'
            f'<text x="{left + max(r["days"], r["allowed"]) * scale + 6:.1f}" y="{y + 11}">'
            f"{r['days']} / {r['allowed']}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _request_labels(rows: list[dict[str, Any]], lang: int) -> list[str]:
    """Each request by its right and the day it came in; two alike also by their record id."""
    texts = [f"{_short(label(r['right'], LANGUAGES[lang]))}, {r['received']}" for r in rows]
    return [
        f"{text} {r['id'][:4]}" if texts.count(text) > 1 else text
        for text, r in zip(texts, rows, strict=True)
    ]


def _quoted(text: str, lang: int) -> str:
    """User text on the page, set apart as quoted: it stays in the language it was written in."""
    return f"‘{text}’" if lang == 0 else f"“{text}”"


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


LANGUAGES: tuple[Language, Language] = ("nl", "en")


def render_html(report: Report, lang: str = "nl") -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"the report is written in nl or en, not {lang!r}")
    n = LANGUAGES.index(lang)
    figures = {f.key: f for section in report.sections.values() for f in section}
    charts = {
        "breaches": _timeline_svg(figures["breaches.total"].detail, n)
        if figures["breaches.total"].detail
        else "",
        "requests": _handling_svg(figures["requests.decided_on_time"].detail, n)
        if figures["requests.decided_on_time"].detail
        else "",
    }
    return _TEMPLATES.get_template("report.html").render(
        lang=lang,
        report=report,
        size=checkpoint_size(report.checkpoint),
        label=lambda key: LABELS[key][n],
        word=lambda key: WORDS[key][n],
        value=lambda stored: label(stored, LANGUAGES[n]),
        count=lambda number, noun: counted(number, noun, n),
        charts=charts,
    )


# --- reports as sent (reporting duties): regenerated at the checkpoint they were built under ---


def report_at(
    app: Bewijslast,
    kind: ReportKind,
    municipality: str,
    controller: str,
    period: Period,
    size: int,
) -> tuple[Report, str] | None:
    """The report of ``kind`` as the ledger stood at the signed checkpoint of ``size`` entries,
    and its digest; None when no signed checkpoint has that size.

    The read models are replayed afresh from the entries under the checkpoint, so the report
    does not depend on what was recorded after it. The digest is taken over the report's
    content with every text still sealed: an erasure or a destruction after sending changes
    what can be shown, not what was sent."""
    ledger = ledger_of(app)
    note = ledger.signed_checkpoint_at(size)
    if note is None:
        return None
    replay = Cursor(sqlite3.connect(":memory:").cursor(), postgres=False)
    for projection in all_projections():
        replayed(projection, events_upto(app, projection, size - 1, limit=None), replay)
    sections = report_figures(replay, municipality, controller, period)
    wanted = SECTIONS[kind]
    if wanted is not None:
        sections = {name: figures for name, figures in sections.items() if name in wanted}
    content = {
        "kind": kind.value,
        "municipality": municipality,
        "controller": controller,
        "period": [period.start.isoformat(), period.end.isoformat()],
        "checkpoint": split_note(note)[0],
        "sections": {name: [asdict(f) for f in figures] for name, figures in sections.items()},
    }
    digest = hashlib.sha256(to_json(content).encode()).hexdigest()
    for figures in sections.values():
        for figure in figures:
            figure.detail = opened(app, figure.detail)
    cited = sorted({i for figures in sections.values() for f in figures for i in f.evidence})
    report = Report(
        municipality, controller, period, app.clock(), sections, note, prove(ledger, cited, note)
    )
    return report, digest


def report_digests(app: Bewijslast) -> ReportDigest:
    """What the application checks a recorded report against."""

    def digest(
        kind: ReportKind, municipality: str, controller: str, start: date, end: date, size: int
    ) -> str | None:
        found = report_at(app, kind, municipality, controller, Period(start, end), size)
        return None if found is None else found[1]

    return digest
