"""Eligibility at the moment of dialling, a campaign's progress after each attempt, the campaign file."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dialer.campaign_spec import CampaignError, load_spec, parse_spec
from dialer.core.call_window import CallWindow
from dialer.core.campaign_progress import after_attempt, attempt_outcome
from dialer.core.contact_caps import CapRules
from dialer.core.eligibility import Candidate, Dial, DialRules, Later, Never, Selection, decide
from dialer.core.listen_report import Ending, ListenReport
from dialer.core.outcomes import NetworkOutcome
from dialer.core.retry_policy import AttemptOutcome, RetryPolicy

MSK = ZoneInfo("Europe/Moscow")
# Wednesday 2026-11-25 12:00 in Moscow.
NOON = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
RULES = DialRules(window=CallWindow(), caps=CapRules(), heard_full_pause=timedelta(days=7))
BASE = Candidate(
    status="active",
    debt=Decimal("5000.00"),
    months_overdue=3,
    district="Ленинский",
    ownership="частная",
    zone=MSK,
    do_not_call=False,
    numbers=("+79120000001", "+73432000002"),
    contacts=(),
    last_heard_full_at=None,
    live_call=False,
    attempts=0,
)


@pytest.mark.parametrize(
    ("change", "rules", "expected"),
    [
        ({}, RULES, Dial("+79120000001")),
        ({"attempts": 3}, RULES, Dial("+73432000002")),
        ({"do_not_call": True}, RULES, Never("в списке «не звонить»")),
        ({"numbers": ()}, RULES, Never("нет телефона, по которому можно звонить")),
        ({"status": "paid"}, RULES, Later(NOON + timedelta(hours=6), "статус «paid»: звонки не нужны")),
        ({"live_call": True}, RULES, Later(NOON + timedelta(minutes=1), "с должником уже идёт разговор")),
        (
            {"legal_case": True},
            RULES,
            Later(NOON + timedelta(hours=6), "открыто судебное дело: звонки приостановлены"),
        ),
        ({"legal_case": True}, replace(RULES, pause_on_legal_case=False), Dial("+79120000001")),
        (
            {"last_heard_full_at": NOON - timedelta(days=2)},
            RULES,
            Later(NOON + timedelta(days=5), "прослушал сообщение полностью: пауза"),
        ),
        ({"last_heard_full_at": NOON - timedelta(days=8)}, RULES, Dial("+79120000001")),
        (
            {"contacts": (NOON - timedelta(hours=2),)},
            RULES,
            Later(datetime(2026, 11, 25, 21, 0, tzinfo=UTC), "исчерпан лимит контактов"),
        ),
        (
            {"zone": ZoneInfo("Asia/Vladivostok")},  # 19:00 there: inside; 22:00 is the end
            RULES,
            Dial("+79120000001"),
        ),
        (
            {"zone": ZoneInfo("Asia/Kamchatka")},  # 21:00 there on a weekday: inside
            RULES,
            Dial("+79120000001"),
        ),
        (
            {"zone": ZoneInfo("Pacific/Auckland")},  # foreign zone, 22:00 local: outside → next 08:00
            RULES,
            Later(datetime(2026, 11, 25, 19, 0, tzinfo=UTC), "вне разрешённого времени звонков"),
        ),
        (
            {"debt": Decimal("999.99")},
            replace(RULES, selection=Selection(min_debt=Decimal(1000))),
            Later(NOON + timedelta(hours=6), "долг 999.99 меньше порога кампании 1000"),
        ),
        (
            {},
            replace(RULES, selection=Selection(districts=frozenset({"Октябрьский"}))),
            Later(NOON + timedelta(hours=6), "район «Ленинский» не выбран в кампании"),
        ),
    ],
)
def test_decide(change: dict[str, object], rules: DialRules, expected: object) -> None:
    assert decide(replace(BASE, **change), NOON, rules) == expected  # type: ignore[arg-type]


def test_decide_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        decide(BASE, datetime(2026, 11, 25, 12, 0), RULES)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("network", "report", "outcome"),
    [
        (NetworkOutcome.ANSWERED, ListenReport(30000, 30000, completed=True), AttemptOutcome.HEARD_FULL),
        (NetworkOutcome.ANSWERED, ListenReport(3000, 30000, completed=False), AttemptOutcome.PARTIAL),
        (
            NetworkOutcome.ANSWERED,
            ListenReport(0, 0, completed=False, ended=Ending.FAILED),
            AttemptOutcome.FAILED,
        ),
        (NetworkOutcome.ANSWERED, None, AttemptOutcome.PARTIAL),
        (NetworkOutcome.BUSY, None, AttemptOutcome.BUSY),
        (NetworkOutcome.NO_ANSWER, None, AttemptOutcome.NO_ANSWER),
        (NetworkOutcome.CONGESTION, None, AttemptOutcome.CONGESTION),
        (NetworkOutcome.INVALID_NUMBER, None, AttemptOutcome.INVALID_NUMBER),
        (NetworkOutcome.FAILED, None, AttemptOutcome.FAILED),
    ],
)
def test_attempt_outcome(
    network: NetworkOutcome, report: ListenReport | None, outcome: AttemptOutcome
) -> None:
    assert attempt_outcome(network, report) is outcome


def test_progress_counts_streaks_and_ends_after_the_last_retry() -> None:
    policy = RetryPolicy.of({"busy": ["10m", "30m"], "no_answer": ["1h"]}, "7d")
    first = after_attempt(policy, AttemptOutcome.BUSY, NOON, streak_outcome=None, streak=0)
    assert (first.state, first.next_attempt_at, first.streak, first.counts_as_contact) == (
        "due",
        NOON + timedelta(minutes=10),
        1,
        False,
    )
    second = after_attempt(policy, AttemptOutcome.BUSY, NOON, streak_outcome="busy", streak=1)
    assert (second.next_attempt_at, second.streak) == (NOON + timedelta(minutes=30), 2)
    third = after_attempt(policy, AttemptOutcome.BUSY, NOON, streak_outcome="busy", streak=2)
    assert (third.state, third.next_attempt_at) == ("done", None)
    other = after_attempt(policy, AttemptOutcome.NO_ANSWER, NOON, streak_outcome="busy", streak=2)
    assert (other.streak, other.next_attempt_at) == (1, NOON + timedelta(hours=1))
    heard = after_attempt(policy, AttemptOutcome.HEARD_FULL, NOON, streak_outcome="busy", streak=2)
    assert (heard.state, heard.next_attempt_at, heard.counts_as_contact) == (
        "due",
        NOON + timedelta(days=7),
        True,
    )
    lost = after_attempt(policy, AttemptOutcome.LOST, NOON, streak_outcome="busy", streak=2)
    assert (lost.next_attempt_at, lost.streak_outcome, lost.streak, lost.counts_as_contact) == (
        NOON,
        "busy",
        2,
        False,
    )
    invalid = after_attempt(policy, AttemptOutcome.INVALID_NUMBER, NOON, streak_outcome=None, streak=0)
    assert invalid.state == "done"


EXAMPLE = """
name = "Ноябрь 2026"
trunk = "sim"
max_channels = 10
calls_per_second = 2.5
dial_timeout = "30s"
[select]
min_debt = 1000.0
min_months = 2
districts = ["Ленинский"]
ownership = ["частная"]
[window]
weekdays = "08:00-22:00"
weekends = "09:00-20:00"
[retry]
busy = ["10m", "30m", "2h"]
no_answer = ["1h", "4h"]
congestion = ["5m", "30m"]
partial = ["4h", "1d"]
[backoff]
heard_full = "7d"
"""


def test_the_issue_example_is_a_valid_campaign(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    spec = load_spec(path)
    assert (spec.name, spec.max_channels, spec.calls_per_second, spec.dial_timeout_seconds) == (
        "Ноябрь 2026",
        10,
        2.5,
        30.0,
    )
    assert spec.select.min_debt == Decimal("1000.0") and spec.select.districts == ("Ленинский",)
    assert spec.retry_policy().delays["busy"][2] == timedelta(hours=2)
    assert spec.heard_full_pause == timedelta(days=7)
    assert type(spec).from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "name: required"),
        (
            {"name": "x", "max_channels": 0},
            "max_channels: Input should be greater than or equal to 1 (got 0)",
        ),
        ({"name": "x", "calls_per_second": -1}, "calls_per_second: Input should be greater than 0 (got -1)"),
        ({"name": "x", "dial_timeout": "2s"}, "dial_timeout: the dial timeout must be between 5s and 5m"),
        ({"name": "x", "retry": {"busy": ["10 minutes"]}}, "retry.busy: expected a duration like 30s"),
        (
            {"name": "x", "window": {"weekdays": "22:00-08:00"}},
            "window.weekdays: the span '22:00-08:00' must end",
        ),
        ({"name": "x", "maxchannels": 3}, "maxchannels: unknown key"),
        ({"name": "x", "trunk": "PJSIP/a b"}, "trunk: String should match pattern"),
    ],
)
def test_bad_campaigns_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(CampaignError, match=r"^c\.toml: ") as caught:
        parse_spec(data, source="c.toml")
    assert message in str(caught.value)


def test_unreadable_campaign_files(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="cannot read"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ", encoding="utf-8")
    with pytest.raises(CampaignError, match="not valid TOML"):
        load_spec(bad)
