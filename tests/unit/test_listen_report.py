"""The IVR's request (AGI arguments) and report (UserEvent) wire forms: round trips and clear refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dialer.core.ivr_request import IvrOptions, IvrRequest, IvrRequestError, decode_facts, encode_facts
from dialer.core.listen_report import (
    Ending,
    ListenReport,
    ReportFormatError,
    SegmentListen,
    parse_user_event,
    user_event_argument,
)
from dialer.core.message_plan import DebtorFacts

REPORT = ListenReport(
    heard_ms=4120,
    message_ms=41230,
    completed=False,
    digits="12",
    repeats=1,
    ended=Ending.HUNG_UP,
    promised=False,
    segments=(SegmentListen("greeting", 2300, 2300), SegmentListen("account", 1820, 5120)),
)


def headers_of(argument: str) -> dict[str, str]:
    """How Asterisk's UserEvent turns its argument into AMI headers."""
    name, *items = argument.split(",")
    return {"UserEvent": name, **dict(item.split(": ", 1) for item in items)}


def test_report_round_trip_through_the_user_event() -> None:
    argument = user_event_argument("20261128-0001", REPORT)
    assert "," not in argument.split(",", 1)[0] and argument.startswith("UpravDolgListen,")
    assert parse_user_event(headers_of(argument)) == ("20261128-0001", REPORT)


def test_empty_digits_are_left_out_and_read_back_as_empty() -> None:
    report = ListenReport(heard_ms=0, message_ms=10, completed=False, ended=Ending.FAILED)
    argument = user_event_argument("a1", report)
    assert "Digits" not in argument
    assert parse_user_event(headers_of(argument)) == ("a1", report)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Attempt": ""}, "Attempt"),
        ({"HeardMs": "12.5"}, "HeardMs must be a whole number"),
        ({"Completed": "yes"}, "Completed must be 0 or 1"),
        ({"Ended": "exploded"}, "Ended must be one of hung_up, finished"),
        ({"Digits": "12a"}, "Digits may hold only"),
        ({"Segments": "greeting=1/2 account"}, "name=played/length, got 'account'"),
    ],
)
def test_damaged_reports_are_refused_with_the_field(change: dict[str, str], message: str) -> None:
    headers = headers_of(user_event_argument("a1", REPORT)) | change
    with pytest.raises(ReportFormatError, match=message):
        parse_user_event(headers)


def test_an_attempt_id_that_cannot_travel_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot travel"):
        user_event_argument("a,b", REPORT)


def test_request_round_trip_through_agi_arguments() -> None:
    request = IvrRequest(
        "att-7",
        DebtorFacts("1002345", Decimal("12345.6"), 3),
        IvrOptions("menu", 0, 8000, False, "upravdolg-short"),
    )
    arguments = request.arguments()
    assert arguments == (
        "att-7",
        "1002345:12345.60:3",
        "completion=menu&repeats=0&menu=8000&operator=0&folder=upravdolg-short",
    )
    assert all("," not in a for a in arguments)
    assert IvrRequest.from_arguments(arguments) == request


def test_the_account_travels_as_its_digits() -> None:
    assert encode_facts(DebtorFacts("ЛС-10/02", Decimal("5"), 0)) == "1002:5.00:0"
    with pytest.raises(IvrRequestError, match="no digits"):
        encode_facts(DebtorFacts("ЛС", Decimal("5"), 0))


def test_options_default_when_absent_and_defaults_match_the_settings_defaults() -> None:
    request = IvrRequest.from_arguments(["att-1", "12:0.50:1"])
    assert request.options == IvrOptions()
    assert IvrOptions.decode("repeats=3") == IvrOptions(max_repeats=3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["att-1"], "attempt, facts"),
        (["att 1", "12:1:1"], "attempt id"),
        (["att-1", "12:1,5:1"], "expected <account digits>:<debt>:<months>"),
        (["att-1", "12:1.5:1", "colour=red"], "IVR option 'colour=red'"),
        (["att-1", "12:1.5:1", "repeats=x"], "repeats must be a whole number"),
        (["att-1", "12:1.5:1", "operator=2"], "operator must be 0 or 1"),
        (["att-1", "12:1.5:1", "completion=song"], "completion must be one of"),
        (["att-1", "12:1.5:1", "menu=10"], "menu timeout"),
        (["att-1", "12:1.5:1", "folder=../etc"], "sound folder"),
    ],
)
def test_bad_requests_are_refused_with_what_was_expected(args: list[str], message: str) -> None:
    with pytest.raises(IvrRequestError, match=message):
        IvrRequest.from_arguments(args)


def test_facts_decode() -> None:
    assert decode_facts("1002345:12345.67:3") == DebtorFacts("1002345", Decimal("12345.67"), 3)
