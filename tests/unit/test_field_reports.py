"""A courier phone's reports checked with a fixed clock: every problem named, all at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from debtors.field_reports import InvalidReport, ReportClock, parse_delivery, parse_position
from debtors.field_rules import DeliveryMethod

NOW = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
CLOCK = ReportClock(NOW, skew=timedelta(minutes=5), late=timedelta(days=30))


def report(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "client_id": "a1b2-c3",
        "method": "personal",
        "tries": 2,
        "at": "2026-12-10T11:55:00+03:00",
        "position": {"latitude": 56.84, "longitude": 60.61, "accuracy_m": 12, "at": 1796892900000},
    }
    body.update(changes)
    return body


def test_a_valid_report_with_a_browser_timestamp() -> None:
    parsed = parse_delivery(report(), CLOCK)
    assert parsed.method is DeliveryMethod.PERSONAL and parsed.tries == 2
    assert parsed.at == datetime(2026, 12, 10, 8, 55, tzinfo=UTC)
    assert parsed.position is not None
    assert parsed.position.at == datetime(2026, 12, 10, 8, 55, tzinfo=UTC)
    assert (parsed.position.latitude, parsed.position.accuracy_m) == (56.84, 12.0)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"method": "thrown"}, "method", "expected one of"),
        ({"tries": 0}, "tries", "1 to 20"),
        ({"tries": True}, "tries", "1 to 20"),
        ({"client_id": ""}, "client_id", "1-64"),
        ({"client_id": "x" * 65}, "client_id", "1-64"),
        ({"at": "2026-12-10T09:06:00+00:00"}, "at", "in the future"),
        ({"at": "2026-11-09T09:00:00+00:00"}, "at", "older than 30 days"),
        ({"at": "2026-12-10T09:00:00"}, "at", "UTC offset"),
        (
            {"position": {"latitude": 91, "longitude": 0, "at": 1796892900000}},
            "position.latitude",
            "out of range",
        ),
        (
            {"position": {"latitude": 0, "longitude": -181, "at": 1796892900000}},
            "position.longitude",
            "out of range",
        ),
        (
            {"position": {"latitude": "56", "longitude": 0, "at": 1796892900000}},
            "position.latitude",
            "number",
        ),
        (
            {"position": {"latitude": 1, "longitude": 1, "at": 1796892900000, "accuracy_m": -1}},
            "position.accuracy_m",
            "out of range",
        ),
        ({"position": {"latitude": 1, "longitude": 1, "at": 9_999_999_999_999}}, "position.at", "future"),
        ({"note": "x" * 501}, "note", "500"),
    ],
)
def test_each_problem_is_named(changes: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(InvalidReport) as caught:
        parse_delivery(report(**changes), CLOCK)
    assert [(f, m) for f, m in caught.value.problems if f == field and words in m], caught.value.problems
    assert caught.value.http_status == 422


def test_all_problems_at_once() -> None:
    with pytest.raises(InvalidReport) as caught:
        parse_delivery(report(method="x", tries=99, at="yesterday"), CLOCK)
    assert {f for f, _ in caught.value.problems} == {"method", "tries", "at"}


def test_late_reports_within_the_window_are_accepted() -> None:
    queued = parse_delivery(report(at=(NOW - timedelta(days=3)).isoformat(), position=None), CLOCK)
    assert queued.at == NOW - timedelta(days=3) and queued.position is None
    ahead = parse_position(
        {"latitude": 0, "longitude": 0, "at": (NOW + timedelta(minutes=4)).isoformat()}, CLOCK
    )
    assert ahead.at == NOW + timedelta(minutes=4), "a phone clock a little ahead is tolerated"


def test_not_an_object() -> None:
    with pytest.raises(InvalidReport, match="JSON object"):
        parse_delivery([1, 2], CLOCK)
    with pytest.raises(InvalidReport, match="position"):
        parse_position("56,60", CLOCK)


def test_numbers_beyond_a_float_are_refused_not_crashed() -> None:
    huge = 10**400
    with pytest.raises(InvalidReport) as caught:
        parse_delivery(report(at=huge, position={"latitude": huge, "longitude": 0, "at": huge}), CLOCK)
    assert {f for f, _ in caught.value.problems} == {"at", "position.latitude", "position.at"}
