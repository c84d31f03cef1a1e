"""Every deadline of the procedures, as pure functions of recorded facts.

Moments are aware datetimes (stored in UTC); calendar deadlines are computed on the
Europe/Amsterdam calendar, because that is where the municipality's days begin and end.

- AP notification: 72 hours after awareness (AVG art. 33(1)); real hours, so a daylight-saving
  change moves the local clock time of the deadline, not its length.
- NIS2 early warning (Cyberbeveiligingswet): 24 hours after awareness of a significant incident.
- Rights request: one month after receipt (AVG art. 12(3)), counted per Regulation 1182/71
  art. 3: the same date in the next month, or that month's last day; a period ending on a
  Saturday, Sunday or public holiday ends on the next working day. The clock stops while the
  request is suspended, and an allowed extension adds at most two months.
- Objection (bezwaar): six weeks after the decision was sent (Awb art. 6:7 and 6:8).
- Incident evaluation (seed 002 step 38): "ongeveer twee tot zes weken na het incident", the
  days counted on the calendar from the day the incident was reported; an incident handled
  without an incident response team, within six weeks of closing.
- Prior consultation of the AP (AVG art. 36(2)): the AP's written advice within eight weeks of
  receiving the request, extendable by six weeks; the AP announces an extension within one
  month of that receipt. Counted as the request (Regulation 1182/71 art. 3), on the AP's
  Dutch working days.
- Decision on objection: six weeks, twelve with an advisory committee, counted from the end
  of the objection period (Awb 7:10(1)); a late objection's from its receipt. Once extendable
  by six weeks (7:10(2)-(3)).
- Penalty for not deciding in time (Awb 4:17): owed from two weeks after the notice of
  default was received, for at most 42 days, EUR 23 a day for the first fourteen, 35 for the
  next fourteen and 45 for the rest (lid 2).
- Public holidays are those of the Algemene termijnenwet art. 3, including Goede Vrijdag
  (lid 2). Days a royal decree equates with a public holiday (lid 3) are the deployment's
  ``TermCalendar``, read from a table (``adapters/data/equated_days.toml`` and configuration).
  They count for terms under Dutch law (the Awb's) because the decree equates them "for the
  application of this Act". They do not count for the GDPR month: Regulation 1182/71 is EU law
  and does not refer to the Atw. That is also the stricter reading, since the deadline can only
  come earlier.
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The version of the rules below, recorded in every event that carries a result computed by
# them: raise it whenever a period, the holiday table or the counting changes.
# 3: the decree days, the response team's evaluation window, the AP's prior consultation;
# 4: the Awb 7:10 and 4:17 terms, on time judged at sending.
RULES = "deadlines/4"
# Events recorded before results were stored get theirs when loaded (an upcast), by the rules
# of that time, and say so.
LEGACY_RULES = "deadlines/1 (computed when loaded)"

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
AP_NOTIFICATION_PERIOD = timedelta(hours=72)
NIS2_EARLY_WARNING_PERIOD = timedelta(hours=24)
REQUEST_PERIOD_MONTHS = 1
MAX_EXTENSION_MONTHS = 2
OBJECTION_PERIOD = timedelta(weeks=6)
EVALUATION_PERIOD = timedelta(weeks=6)  # without an IRT: within six weeks of closing
EVALUATION_EARLIEST = timedelta(weeks=2)  # with an IRT: two to six weeks after the incident
EVALUATION_LATEST = timedelta(weeks=6)
PRIOR_CONSULTATION_PERIOD = timedelta(weeks=8)  # art. 36(2)
PRIOR_CONSULTATION_EXTENSION = timedelta(weeks=6)  # art. 36(2), for a complex processing
EXTENSION_ANNOUNCEMENT_MONTHS = 1  # art. 36(2): the AP says so within one month of receipt
OBJECTION_DECISION_PERIOD = timedelta(weeks=6)
COMMITTEE_DECISION_PERIOD = timedelta(weeks=12)
OBJECTION_DECISION_EXTENSION = timedelta(weeks=6)
NOTICE_OF_DEFAULT_PERIOD = timedelta(weeks=2)
MAX_PENALTY_DAYS = 42
PENALTY_RATES = ((14, 23), (14, 35), (14, 45))  # (days, euros a day), Awb 4:17(2)


@dataclass(frozen=True)
class EquatedDay:
    """A day a royal decree equates with a public holiday (Atw art. 3(3)), and where it says so."""

    day: date
    decree: str  # the decree's title, as published
    publication: str  # where it was published


@dataclass(frozen=True)
class TermCalendar:
    """The decree days a deployment knows. Their version goes into every event whose term was
    computed with them, so a later table never changes what was recorded."""

    equated: tuple[EquatedDay, ...] = ()

    @property
    def days(self) -> frozenset[date]:
        return frozenset(row.day for row in self.equated)

    @property
    def version(self) -> str:
        listed = ",".join(sorted(day.isoformat() for day in self.days))
        return f"equated-days/{hashlib.sha256(listed.encode()).hexdigest()[:12]}"

    def rules(self) -> str:
        """The rules an Awb term is computed by: this module's, with these decree days."""
        return f"{RULES}; {self.version}"


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("deadlines are computed from aware datetimes only")
    return moment


def ap_notification_deadline(awareness: datetime) -> datetime:
    return _aware(awareness).astimezone(UTC) + AP_NOTIFICATION_PERIOD


def nis2_early_warning_deadline(awareness: datetime) -> datetime:
    return _aware(awareness).astimezone(UTC) + NIS2_EARLY_WARNING_PERIOD


def easter_sunday(year: int) -> date:
    """The Gregorian computus (anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def kings_day(year: int) -> date:
    """The day the King's birthday is celebrated: 27 April, or the 26th when that is a Sunday
    (Koninginnedag, 30 April or the 29th, before 2014)."""
    celebrated = date(year, 4, 27) if year >= 2014 else date(year, 4, 30)
    if celebrated.weekday() == calendar.SUNDAY:
        celebrated -= timedelta(days=1)
    return celebrated


def public_holidays(year: int) -> frozenset[date]:
    """Algemene termijnenwet art. 3(1) and (2)."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),  # Nieuwjaarsdag
            easter - timedelta(days=2),  # Goede Vrijdag (lid 2)
            easter + timedelta(days=1),  # tweede Paasdag
            kings_day(year),
            date(year, 5, 5),  # de vijfde mei
            easter + timedelta(days=39),  # Hemelvaartsdag
            easter + timedelta(days=50),  # tweede Pinksterdag
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_working_day(day: date, equated_days: Collection[date] = ()) -> bool:
    return (
        day.weekday() < calendar.SATURDAY
        and day not in public_holidays(day.year)
        and day not in equated_days
    )


def next_working_day(day: date, equated_days: Collection[date] = ()) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day, equated_days):
        day += timedelta(days=1)
    return day


def add_months(day: date, months: int) -> date:
    """Regulation 1182/71 art. 3(2)(c): the same date, or the last day of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_date(moment: datetime) -> date:
    return _aware(moment).astimezone(AMSTERDAM).date()


def request_deadline(
    received: datetime,
    *,
    suspended_days: int = 0,
    extension_months: int = 0,
    equated_days: Collection[date] = (),
) -> date:
    """The last day on which the decision on a rights request is on time."""
    if suspended_days < 0:
        raise ValueError("a suspension cannot be negative")
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is at most {MAX_EXTENSION_MONTHS} months")
    end = add_months(local_date(received), REQUEST_PERIOD_MONTHS + extension_months)
    return next_working_day(end + timedelta(days=suspended_days), equated_days)


def extension_notice_deadline(
    received: datetime, *, suspended_days: int = 0, equated_days: Collection[date] = ()
) -> date:
    """An extension is allowed only when the requester is told within the first month."""
    return request_deadline(received, suspended_days=suspended_days, equated_days=equated_days)


def objection_deadline(sent: datetime, equated_days: Collection[date] = ()) -> date:
    """The last day on which a bezwaar against a decision is on time."""
    return next_working_day(local_date(sent) + OBJECTION_PERIOD, equated_days)


def prior_consultation_deadline(
    received: datetime, *, extended: bool = False, equated_days: Collection[date] = ()
) -> date:
    """The last day of the AP's period for its written advice on a prior consultation: the
    same weekday eight (extended: fourteen) weeks after receipt, or the next working day."""
    weeks = PRIOR_CONSULTATION_PERIOD + (PRIOR_CONSULTATION_EXTENSION if extended else timedelta())
    return next_working_day(local_date(received) + weeks, equated_days)


def extension_announcement_deadline(
    received: datetime, equated_days: Collection[date] = ()
) -> date:
    """The last day on which the AP may announce that it extends a prior consultation."""
    end = add_months(local_date(received), EXTENSION_ANNOUNCEMENT_MONTHS)
    return next_working_day(end, equated_days)


def objection_decision_deadline(
    objection_period_end: date,
    lodged: datetime,
    *,
    advisory_committee: bool,
    equated_days: Collection[date] = (),
) -> date:
    """The last day for the decision on objection (Awb 7:10(1))."""
    start = max(objection_period_end, local_date(lodged))
    period = COMMITTEE_DECISION_PERIOD if advisory_committee else OBJECTION_DECISION_PERIOD
    return next_working_day(start + period, equated_days)


def extended_objection_deadline(deadline: date, equated_days: Collection[date] = ()) -> date:
    """Awb 7:10(3): the term once postponed by six weeks."""
    return next_working_day(deadline + OBJECTION_DECISION_EXTENSION, equated_days)


def first_penalty_day(notice_received: datetime, equated_days: Collection[date] = ()) -> date:
    """Awb 4:17(1): the first day in default, the day after the two weeks that follow the
    notice of default (a term under Dutch law, so the decree days count)."""
    term_end = next_working_day(
        local_date(notice_received) + NOTICE_OF_DEFAULT_PERIOD, equated_days
    )
    return term_end + timedelta(days=1)


def penalty_owed(first_day: date, decided: date) -> tuple[int, int]:
    """The days in default (at most 42) before ``decided`` and the euros they cost (4:17(2))."""
    days = max(0, min(MAX_PENALTY_DAYS, (decided - first_day).days))
    euros, left = 0, days
    for block, rate in PENALTY_RATES:
        counted = min(left, block)
        euros, left = euros + counted * rate, left - counted
    return days, euros


def end_of_day(day: date) -> datetime:
    """The last moment of a calendar deadline, in UTC: the end of that day in Amsterdam."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=AMSTERDAM)
    return (next_midnight - timedelta(microseconds=1)).astimezone(UTC)


# --- the Cyberbeveiligingswet's early warning, a dated rule ---------------------------------

EARLY_WARNING_RULES = "cbw-early-warning/1"


@dataclass(frozen=True)
class EarlyWarningRule:
    """When the Cyberbeveiligingswet (NIS2) obliges a municipality, an essential entity, to
    send the CSIRT an early warning within 24 hours of becoming aware of a significant
    incident. Whether and from when the law is in force could not be verified offline
    (Kamerstuk 36 764, notes/avg-domain.md §1.5): the date is the deployment's configuration
    (setting CYBERBEVEILIGINGSWET_IN_FORCE_FROM), and without one the obligation is not
    applied. Each finding stores ``version``, so what was judged stays readable as judged."""

    in_force_from: date | None = None

    @property
    def version(self) -> str:
        if self.in_force_from is None:
            return f"{EARLY_WARNING_RULES} (no in-force date configured)"
        return f"{EARLY_WARNING_RULES} (in force from {self.in_force_from.isoformat()})"

    def applies(self, awareness: datetime) -> bool:
        """Whether the early warning is owed for a significant incident known at ``awareness``
        (the day counted in Amsterdam, where the law takes effect)."""
        return self.in_force_from is not None and local_date(awareness) >= self.in_force_from

    def deadline(self, awareness: datetime) -> datetime | None:
        return nis2_early_warning_deadline(awareness) if self.applies(awareness) else None


def evaluation_window(incident: datetime) -> tuple[date, date]:
    """The first and last day of the evaluation of an incident reported at ``incident``."""
    day = local_date(incident)
    return day + EVALUATION_EARLIEST, day + EVALUATION_LATEST


def evaluation_deadline_after_closing(closed: datetime) -> date:
    """The last day of the evaluation of an incident closed without an IRT convened."""
    return local_date(closed) + EVALUATION_PERIOD
