"""Deadlines at their edges: month ends, leap years, Dutch holidays, weekends, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.deadlines import (
    AMSTERDAM,
    ap_notification_deadline,
    easter_sunday,
    end_of_day,
    extension_notice_deadline,
    kings_day,
    nis2_early_warning_deadline,
    objection_deadline,
    public_holidays,
    request_deadline,
)


def amsterdam(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM)


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter(year, easter):
    assert easter_sunday(year) == easter


def test_the_public_holidays_of_the_algemene_termijnenwet_in_2026():
    assert sorted(public_holidays(2026)) == [
        date(2026, 1, 1),  # Nieuwjaarsdag
        date(2026, 4, 3),  # Goede Vrijdag
        date(2026, 4, 6),  # tweede Paasdag
        date(2026, 4, 27),  # Koningsdag
        date(2026, 5, 5),  # 5 mei
        date(2026, 5, 14),  # Hemelvaartsdag
        date(2026, 5, 25),  # tweede Pinksterdag
        date(2026, 12, 25),
        date(2026, 12, 26),
    ]


def test_kings_day_moves_to_saturday_when_27_april_is_a_sunday():
    assert kings_day(2025) == date(2025, 4, 26)
    assert kings_day(2026) == date(2026, 4, 27)


class TestRequestDeadline:
    def test_one_month_is_the_same_date_next_month(self):
        assert request_deadline(amsterdam(2026, 3, 10, 14, 0)) == date(2026, 4, 10)

    def test_received_31_january_ends_on_the_last_day_of_february_then_the_next_working_day(self):
        # 28 February 2026 is a Saturday.
        assert request_deadline(amsterdam(2026, 1, 31, 9, 0)) == date(2026, 3, 2)

    def test_in_a_leap_year_31_january_ends_on_29_february(self):
        assert request_deadline(amsterdam(2028, 1, 31, 9, 0)) == date(2028, 2, 29)

    def test_29_february_2024_ends_after_good_friday_and_easter(self):
        # 29 March 2024 is Goede Vrijdag, then Saturday, Easter Sunday, tweede Paasdag.
        assert request_deadline(amsterdam(2024, 2, 29, 9, 0)) == date(2024, 4, 2)

    def test_a_deadline_on_kings_day_moves_to_the_next_working_day(self):
        assert request_deadline(amsterdam(2026, 3, 27, 9, 0)) == date(2026, 4, 28)

    def test_a_deadline_on_a_sunday_moves_to_monday(self):
        # 1 March 2026 is a Sunday.
        assert request_deadline(amsterdam(2026, 2, 1, 9, 0)) == date(2026, 3, 2)

    def test_a_deadline_on_5_may_moves_to_6_may(self):
        assert request_deadline(amsterdam(2026, 4, 5, 9, 0)) == date(2026, 5, 6)

    def test_receipt_is_dated_in_amsterdam_not_in_utc(self):
        # 23:30 UTC on 30 January is 00:30 on 31 January in Amsterdam.
        received = datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
        assert request_deadline(received) == date(2026, 3, 2)

    def test_suspension_stops_the_clock(self):
        # 2 April + 10 days = Sunday 12 April 2026.
        received = amsterdam(2026, 3, 2, 9, 0)
        assert request_deadline(received, suspended_days=10) == date(2026, 4, 13)

    def test_an_extension_adds_at_most_two_months(self):
        received = amsterdam(2026, 1, 31, 9, 0)
        # One month and two more: 30 April, the last day of a shorter month.
        assert request_deadline(received, extension_months=2) == date(2026, 4, 30)
        with pytest.raises(ValueError):
            request_deadline(received, extension_months=3)

    def test_an_extension_must_be_told_within_the_first_month(self):
        assert extension_notice_deadline(amsterdam(2026, 1, 31, 9, 0)) == date(2026, 3, 2)

    def test_days_equated_by_royal_decree_count_as_holidays(self):
        friday_after_ascension = date(2026, 5, 15)
        received = amsterdam(2026, 4, 15, 9, 0)
        assert request_deadline(received) == friday_after_ascension
        assert request_deadline(received, equated_days={friday_after_ascension}) == date(
            2026, 5, 18
        )

    def test_a_negative_suspension_is_refused(self):
        with pytest.raises(ValueError):
            request_deadline(amsterdam(2026, 1, 5, 9, 0), suspended_days=-1)


class TestBreachDeadlines:
    def test_72_hours_across_the_spring_daylight_saving_change(self):
        awareness = amsterdam(2026, 3, 27, 10, 0)  # CET
        deadline = ap_notification_deadline(awareness)
        assert deadline == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
        # Still exactly 72 hours, so the Amsterdam clock shows 11:00 CEST.
        assert deadline.astimezone(AMSTERDAM).hour == 11

    def test_72_hours_across_the_autumn_daylight_saving_change(self):
        awareness = amsterdam(2026, 10, 24, 10, 0)  # CEST
        deadline = ap_notification_deadline(awareness)
        assert deadline == datetime(2026, 10, 27, 8, 0, tzinfo=UTC)
        assert deadline.astimezone(AMSTERDAM).hour == 9

    def test_the_nis2_early_warning_runs_24_hours_from_the_same_moment(self):
        awareness = amsterdam(2026, 11, 23, 8, 15)
        assert nis2_early_warning_deadline(awareness) == datetime(2026, 11, 24, 7, 15, tzinfo=UTC)

    def test_a_naive_moment_is_refused(self):
        with pytest.raises(ValueError):
            ap_notification_deadline(datetime(2026, 11, 23, 8, 15))


class TestObjectionDeadline:
    def test_six_weeks_after_sending(self):
        assert objection_deadline(amsterdam(2026, 11, 23, 16, 0)) == date(2027, 1, 4)

    def test_ending_at_christmas_moves_past_it_and_the_weekend(self):
        assert objection_deadline(amsterdam(2026, 11, 13, 16, 0)) == date(2026, 12, 28)


def test_a_calendar_deadline_ends_at_midnight_in_amsterdam():
    assert end_of_day(date(2026, 3, 2)) == datetime(2026, 3, 2, 22, 59, 59, 999999, tzinfo=UTC)
    assert end_of_day(date(2026, 7, 1)) == datetime(2026, 7, 1, 21, 59, 59, 999999, tzinfo=UTC)
