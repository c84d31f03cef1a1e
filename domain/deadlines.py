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
- Prior consultation of the AP (AVG art. 36(2)): the AP's written advice within eight weeks of
  receiving the request, extendable by six weeks; the AP announces an extension within one
  month of that receipt. Counted as the request (Regulation 1182/71 art. 3), on the AP's
  Dutch working days.
- Public holidays are those of the Algemene termijnenwet art. 3, including Goede Vrijdag
  (lid 2); days equated by royal decree (lid 3, published per period in the Staatscourant)
  are passed in as ``equated_days``.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The version of the rules below, recorded in every event that carries a result computed by
# them: raise it whenever a period, the holiday table or the counting changes.
RULES = "deadlines/2"
# Events recorded before results were stored get theirs when loaded (an upcast), by the rules
# of that time, and say so.
LEGACY_RULES = "deadlines/1 (computed when loaded)"

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
AP_NOTIFICATION_PERIOD = timedelta(hours=72)
NIS2_EARLY_WARNING_PERIOD = timedelta(hours=24)
REQUEST_PERIOD_MONTHS = 1
MAX_EXTENSION_MONTHS = 2
OBJECTION_PERIOD = timedelta(weeks=6)
EVALUATION_PERIOD = timedelta(weeks=6)  # seed 002: evaluate two to six weeks after closing
PRIOR_CONSULTATION_PERIOD = timedelta(weeks=8)  # art. 36(2)
PRIOR_CONSULTATION_EXTENSION = timedelta(weeks=6)  # art. 36(2), for a complex processing
EXTENSION_ANNOUNCEMENT_MONTHS = 1  # art. 36(2): the AP says so within one month of receipt


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


def end_of_day(day: date) -> datetime:
    """The last moment of a calendar deadline, in UTC: the end of that day in Amsterdam."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=AMSTERDAM)
    return (next_midnight - timedelta(microseconds=1)).astimezone(UTC)
