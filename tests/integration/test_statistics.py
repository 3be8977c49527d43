"""The «Статистика» figures on a hand-made data set, their JSON round trip and their cache (both backends).

Organisation zone: Asia/Yekaterinburg (UTC+5, no summer time since 2014), today 2026-11-27 (a Friday),
contact window 14 days, so a window is complete when its reference date is on or before 2026-11-13.

Debtors of the organisation (district / street, house, корпус / current debt):
    A 001  Северный / Ленина 1       1000.00
    B 002  Северный / Ленина 1        500.00
    C 003  Северный / Ленина 3 к.2      0.00
    D 004  (none)   / Мира 5         3000.00
    E 005  Южный    / Мира 7          250.50
    G 006  Южный    / Мира 7            0.00
    H 007  Южный    / Мира 9            0.00
    K 008  Южный    / Мира 9            0.00
    L 009  Южный    / Мира 9          -30.00  (overpaid: does not lower anyone's debt)
Another organisation has debtor X 001 (debt 99 999.00, a snapshot, a payment and a heard call): none of it
may appear in the first organisation's figures.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import CallAttempt, Debtor, DebtSnapshot, Organisation, Payment, StatisticsSnapshot
from debtors import statistics
from debtors.statistics import (
    KEEP_SNAPSHOTS,
    NO_DISTRICT,
    BuildingDebt,
    ContactGroup,
    DistrictDebt,
    SnapshotPoint,
    Statistics,
    WeekPayments,
    compute_statistics,
    latest_statistics,
    offset_periods,
    refresh_statistics,
)
from dialer.bootstrap import Storage

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 14:00 in Yekaterinburg
TODAY = date(2026, 11, 27)
ZONE = ZoneInfo("Asia/Yekaterinburg")

DEBTORS = [
    # account, district, street, house, building, debt
    ("001", "Северный", "Ленина", "1", "", "1000.00"),
    ("002", "Северный", "Ленина", "1", "", "500.00"),
    ("003", "Северный", "Ленина", "3", "2", "0.00"),
    ("004", "", "Мира", "5", "", "3000.00"),
    ("005", "Южный", "Мира", "7", "", "250.50"),
    ("006", "Южный", "Мира", "7", "", "0.00"),
    ("007", "Южный", "Мира", "9", "", "0.00"),
    ("008", "Южный", "Мира", "9", "", "0.00"),
    ("009", "Южный", "Мира", "9", "", "-30.00"),
]
SNAPSHOTS = [
    # as_of 2026-10-01: 1200 + 500 + 300 + 3000 = 5000.00, 4 debtors owing
    ("001", date(2026, 10, 1), "1200.00"),
    ("002", date(2026, 10, 1), "500.00"),
    ("003", date(2026, 10, 1), "300.00"),
    ("004", date(2026, 10, 1), "3000.00"),
    # as_of 2026-11-01: 1000 + 500 + 0 + 3000 + 250.50 + 0 = 4750.50, 4 owing (003 and 006 owe 0)
    ("001", date(2026, 11, 1), "1000.00"),
    ("002", date(2026, 11, 1), "500.00"),
    ("003", date(2026, 11, 1), "0.00"),
    ("004", date(2026, 11, 1), "3000.00"),
    ("005", date(2026, 11, 1), "250.50"),
    ("006", date(2026, 11, 1), "0.00"),
]
PAYMENTS = [
    # account, paid_on (weekday -> ISO week's Monday), amount
    ("001", date(2026, 10, 16), "100.00"),  # Fri -> 10-12; A's contact window [10-02, 10-16]: paid
    ("001", date(2026, 11, 16), "200.00"),  # Mon -> 11-16
    ("001", date(2026, 11, 22), "50.00"),  # Sun -> 11-16
    ("001", date(2026, 11, 28), "999.00"),  # tomorrow: not in the weeks
    ("002", date(2026, 10, 4), "100.00"),  # Sun -> 09-28; before B's reference 10-05
    ("002", date(2026, 10, 20), "100.00"),  # Tue -> 10-19; B's window ends 10-19: outside
    ("003", date(2026, 10, 20), "300.00"),  # Tue -> 10-19; C's window [10-10, 10-24]: paid
    ("004", date(2026, 11, 21), "400.00"),  # Sat -> 11-16; D is still inside its window
    ("004", date(2025, 11, 30), "10.00"),  # Sun -> 2025-11-24: before the first of the 52 weeks
    ("005", date(2025, 12, 1), "5.00"),  # Mon: the first of the 52 weeks
    ("005", date(2026, 10, 18), "250.00"),  # Sun -> 10-12; E's window [10-04, 10-18]: paid
    ("006", date(2026, 11, 27), "20.00"),  # today (Fri) -> 11-23; G's window ended 10-15
    ("008", date(2026, 10, 5), "70.00"),  # Mon -> 10-05 (K was answered: in neither group)
    ("009", date(2026, 10, 5), "30.00"),  # Mon -> 10-05 (L was never called)
]
ATTEMPTS = [
    # account, state, outcome, started_at (UTC), answered
    # A: first heard_full 2026-10-01 20:30 UTC = 10-02 01:30 local -> reference 10-02 (UTC would say 10-01
    # and end the window on 10-15, missing the payment of 10-16)
    ("001", "ended", "no_answer", datetime(2026, 9, 20, 10, 0, tzinfo=UTC), False),
    ("001", "ended", "heard_full", datetime(2026, 10, 1, 20, 30, tzinfo=UTC), True),
    ("001", "ended", "heard_full", datetime(2026, 10, 20, 10, 0, tzinfo=UTC), True),
    # B: reference 10-05, window [10-05, 10-19]; pays 10-04 and 10-20: not paid
    ("002", "ended", "heard_full", datetime(2026, 10, 5, 8, 0, tzinfo=UTC), True),
    # C: reference 10-10; pays 10-20: paid
    ("003", "ended", "heard_full", datetime(2026, 10, 10, 10, 0, tzinfo=UTC), True),
    # D: reference 11-20 > 11-13: still inside its window (pending)
    ("004", "ended", "heard_full", datetime(2026, 11, 20, 6, 0, tzinfo=UTC), True),
    # E: never answered. The not-placed attempt does not count; the first placed one is 10-03 23:00 UTC =
    # 10-04 04:00 local -> reference 10-04, window [10-04, 10-18]; pays 10-18: paid
    ("005", "not_placed", None, datetime(2026, 9, 1, 10, 0, tzinfo=UTC), False),
    ("005", "ended", "no_answer", datetime(2026, 10, 3, 23, 0, tzinfo=UTC), False),
    ("005", "ended", "busy", datetime(2026, 10, 6, 12, 0, tzinfo=UTC), False),
    # G: never answered, reference 10-01, window [10-01, 10-15]; pays only today: not paid
    ("006", "ended", "busy", datetime(2026, 10, 1, 12, 0, tzinfo=UTC), False),
    ("006", "ended", "congestion", datetime(2026, 10, 2, 12, 0, tzinfo=UTC), False),
    # H: never answered, reference 11-25 > 11-13: pending
    ("007", "ended", "no_answer", datetime(2026, 11, 25, 10, 0, tzinfo=UTC), False),
    # K: answered once (partial), so neither "heard" nor "not reached"
    ("008", "ended", "no_answer", datetime(2026, 10, 1, 10, 0, tzinfo=UTC), False),
    ("008", "ended", "partial", datetime(2026, 10, 2, 10, 0, tzinfo=UTC), True),
    # L: a call that never went out and one still live: not a placed attempt
    ("009", "not_placed", None, datetime(2026, 10, 1, 10, 0, tzinfo=UTC), False),
    ("009", "ringing", None, datetime(2026, 10, 1, 11, 0, tzinfo=UTC), False),
]
# heard: A, B, C complete (A and C paid), D pending     -> debtors 3, paid 2, pending 1
# not reached: E, G complete (E paid), H pending        -> debtors 2, paid 1, pending 1


def _organisation(session: Session, name: str) -> int:
    org = Organisation(name=name, timezone="Asia/Yekaterinburg", created_at=NOW)
    session.add(org)
    session.flush()
    return org.id


def _debtor(
    session: Session,
    org: int,
    account: str,
    *,
    address: tuple[str, str, str, str] = ("", "", "", ""),
    debt: str,
) -> int:
    district, street, house, building = address
    debtor = Debtor(
        organisation_id=org,
        account=account,
        district=district,
        street=street,
        house=house,
        building=building,
        debt=Decimal(debt),
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(debtor)
    session.flush()
    return debtor.id


def _attempt(
    session: Session,
    org: int,
    debtor_id: int,
    outcome: str | None,
    *,
    started: datetime,
    answered: bool,
    state: str = "ended",
) -> None:
    session.add(
        CallAttempt(
            id=uuid.uuid4().hex,
            organisation_id=org,
            debtor_id=debtor_id,
            number="+79120000001",
            dial_string="Local/x",
            state=state,
            outcome=outcome,
            started_at=started,
            answered_at=started + timedelta(seconds=5) if answered else None,
        )
    )


def _payment(session: Session, org: int, debtor_id: int, paid_on: date, amount: str) -> None:
    session.add(
        Payment(
            organisation_id=org, debtor_id=debtor_id, paid_on=paid_on, amount=Decimal(amount), created_at=NOW
        )
    )


@pytest.fixture
def data_set(storage: Storage) -> Storage:
    with storage.sessions.begin() as session:
        org = storage.organisation_id
        ids = {
            account: _debtor(session, org, account, address=(district, street, house, building), debt=debt)
            for account, district, street, house, building, debt in DEBTORS
        }
        for account, as_of, amount in SNAPSHOTS:
            session.add(
                DebtSnapshot(organisation_id=org, debtor_id=ids[account], as_of=as_of, amount=Decimal(amount))
            )
        for account, paid_on, amount in PAYMENTS:
            _payment(session, org, ids[account], paid_on, amount)
        for account, state, outcome, started, answered in ATTEMPTS:
            _attempt(session, org, ids[account], outcome, started=started, answered=answered, state=state)

        other = _organisation(session, "Другая УК")
        x = _debtor(session, other, "001", address=("Северный", "Ленина", "1", ""), debt="99999.00")
        november = date(2026, 11, 1)
        session.add(
            DebtSnapshot(organisation_id=other, debtor_id=x, as_of=november, amount=Decimal("99999.00"))
        )
        _payment(session, other, x, date(2026, 10, 2), "99999.00")
        _attempt(
            session, other, x, "heard_full", started=datetime(2026, 10, 1, 10, 0, tzinfo=UTC), answered=True
        )
    return storage


def _compute(storage: Storage, zone: ZoneInfo = ZONE) -> Statistics:
    with storage.sessions() as session:
        return compute_statistics(session, storage.organisation_id, today=TODAY, zone=zone)


def test_debt_by_snapshot_date_and_payments_per_week(data_set: Storage) -> None:
    stats = _compute(data_set)
    assert stats.snapshots == (
        SnapshotPoint(date(2026, 10, 1), Decimal("5000.00"), 4),
        SnapshotPoint(date(2026, 11, 1), Decimal("4750.50"), 4),
    )

    weeks = stats.payments_per_week
    assert len(weeks) == 52
    assert weeks[0].week == date(2025, 12, 1) and weeks[-1].week == date(2026, 11, 23)
    assert all(b.week - a.week == timedelta(weeks=1) for a, b in pairwise(weeks))
    assert [w for w in weeks if w.payments] == [
        WeekPayments(date(2025, 12, 1), 1, Decimal("5.00")),  # E 5.00
        WeekPayments(date(2026, 9, 28), 1, Decimal("100.00")),  # B 100.00
        WeekPayments(date(2026, 10, 5), 2, Decimal("100.00")),  # K 70.00 + L 30.00
        WeekPayments(date(2026, 10, 12), 2, Decimal("350.00")),  # A 100.00 + E 250.00
        WeekPayments(date(2026, 10, 19), 2, Decimal("400.00")),  # B 100.00 + C 300.00
        WeekPayments(date(2026, 11, 16), 3, Decimal("650.00")),  # A 200.00 + A 50.00 + D 400.00
        WeekPayments(date(2026, 11, 23), 1, Decimal("20.00")),  # G 20.00 today; A's 999.00 tomorrow is not
    ]
    assert weeks[1] == WeekPayments(date(2025, 12, 8), 0, Decimal(0)), "weeks without payments are zero rows"


def test_debt_by_district_and_by_building(data_set: Storage) -> None:
    stats = _compute(data_set)
    # every account: 9; owing: A, B, D, E = 4; their debt 1000 + 500 + 3000 + 250.50 = 4750.50
    assert (stats.accounts, stats.debtors, stats.total_debt) == (9, 4, Decimal("4750.50"))
    total = Decimal("4750.50")
    assert stats.by_district == (
        DistrictDebt("", 1, 1, Decimal("3000.00"), float(Decimal(3000) / total)),  # D
        DistrictDebt("Северный", 3, 2, Decimal("1500.00"), float(Decimal(1500) / total)),  # A, B (C owes 0)
        # E of E G H K L (L's -30.00 overpayment is not subtracted)
        DistrictDebt("Южный", 5, 1, Decimal("250.50"), float(Decimal("250.50") / total)),
    )
    assert [d.label for d in stats.by_district] == [NO_DISTRICT, "Северный", "Южный"]
    assert stats.by_district[0].share == pytest.approx(0.6315124)

    top = stats.by_building
    assert (top.buildings, top.buildings_with_debt) == (5, 3)
    assert top.rows == (
        BuildingDebt("", "Мира", "5", "", 1, 1, Decimal("3000.00"), float(Decimal(3000) / total)),
        BuildingDebt("Северный", "Ленина", "1", "", 2, 2, Decimal("1500.00"), float(Decimal(1500) / total)),
        BuildingDebt("Южный", "Мира", "7", "", 2, 1, Decimal("250.50"), float(Decimal("250.50") / total)),
        BuildingDebt("Северный", "Ленина", "3", "2", 1, 0, Decimal("0.00"), 0.0),  # ties: by address
        BuildingDebt("Южный", "Мира", "9", "", 3, 0, Decimal("0.00"), 0.0),
    )
    assert (top.rows[0].district_label, top.rows[3].label) == (NO_DISTRICT, "Ленина, д. 3, корп. 2")


def test_only_the_top_buildings_are_listed_but_all_are_counted(
    data_set: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statistics, "TOP_BUILDINGS", 2)
    top = _compute(data_set).by_building
    assert [(r.street, r.house) for r in top.rows] == [("Мира", "5"), ("Ленина", "1")]
    assert (top.buildings, top.buildings_with_debt) == (5, 3)


def test_contact_effect_counts_complete_windows_in_local_dates(data_set: Storage) -> None:
    effect = _compute(data_set).contact_effect
    assert effect.window_days == 14
    assert effect.heard == ContactGroup(debtors=3, paid=2, pending=1)  # A, C paid; B did not; D pending
    assert effect.not_reached == ContactGroup(debtors=2, paid=1, pending=1)  # E paid; G did not; H pending
    assert effect.heard.share == pytest.approx(2 / 3)
    assert effect.not_reached.share == pytest.approx(0.5)

    # In UTC, A's reference is 10-01 and E's 10-03: the window misses their payments of 10-16 and 10-18.
    in_utc = _compute(data_set, ZoneInfo("UTC")).contact_effect
    assert (in_utc.heard.paid, in_utc.not_reached.paid) == (1, 0)

    # A shorter window: a complete window now ends on or before 11-20, so D (reference 11-20) counts too;
    # with 7 days A's window [10-02, 10-09] misses 10-16, C's [10-10, 10-17] misses 10-20,
    # E's [10-04, 10-11] misses 10-18.
    with data_set.sessions() as session:
        week = compute_statistics(session, data_set.organisation_id, today=TODAY, zone=ZONE, window_days=7)
    assert week.contact_effect.heard == ContactGroup(debtors=4, paid=1, pending=0)  # D paid 11-21
    assert week.contact_effect.not_reached == ContactGroup(debtors=2, paid=0, pending=1)


def test_local_dates_follow_each_dates_offset_in_a_zone_with_summer_time(storage: Storage) -> None:
    # Europe/Berlin: UTC+1 in winter, UTC+2 in summer. Both calls are at 22:30 UTC:
    # P on 01-10 -> 23:30 local, reference 01-10, pays 01-10 (a reference of 01-11 would miss it);
    # Q on 07-10 -> 00:30 local on 07-11, reference 07-11, pays 07-25 (a reference of 07-10 would miss it).
    berlin = ZoneInfo("Europe/Berlin")
    with storage.sessions.begin() as session:
        org = storage.organisation_id
        p = _debtor(session, org, "P", debt="10.00")
        q = _debtor(session, org, "Q", debt="10.00")
        _attempt(
            session, org, p, "heard_full", started=datetime(2026, 1, 10, 22, 30, tzinfo=UTC), answered=True
        )
        _attempt(
            session, org, q, "heard_full", started=datetime(2026, 7, 10, 22, 30, tzinfo=UTC), answered=True
        )
        _payment(session, org, p, date(2026, 1, 10), "10.00")
        _payment(session, org, q, date(2026, 7, 25), "10.00")
    assert _compute(storage, berlin).contact_effect.heard == ContactGroup(debtors=2, paid=2, pending=0)

    periods = offset_periods(berlin, until=datetime(2026, 12, 1, tzinfo=UTC))
    assert periods[-2:] == [
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7200),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3600),
    ]


def test_an_empty_organisation_has_zero_figures(storage: Storage) -> None:
    stats = _compute(storage)
    assert (stats.accounts, stats.debtors, stats.total_debt) == (0, 0, Decimal(0))
    assert (stats.snapshots, stats.by_district, stats.by_building.rows) == ((), (), ())
    assert [w.payments for w in stats.payments_per_week] == [0] * 52
    assert stats.contact_effect.heard == ContactGroup(0, 0, 0)
    assert stats.contact_effect.heard.share is None


def test_json_round_trip_keeps_every_figure_and_amounts_are_strings(data_set: Storage) -> None:
    stats = _compute(data_set)
    text = stats.to_json()
    assert Statistics.from_json(text) == stats
    raw = json.loads(text)
    assert raw["total_debt"] == "4750.50"
    assert raw["snapshots"][1] == {"as_of": "2026-11-01", "debt": "4750.50", "debtors": 4}
    assert raw["by_district"][0]["district"] == ""
    assert raw["contact_effect"]["heard"] == {"debtors": 3, "paid": 2, "pending": 1}
    assert "Северный" in text, "Russian text is stored as it is"


def test_refresh_stores_latest_reads_and_only_the_newest_ten_are_kept(data_set: Storage) -> None:
    with data_set.sessions() as session:
        assert latest_statistics(session, data_set.organisation_id) is None

    with data_set.sessions.begin() as session:
        other = session.scalars(select(Organisation.id).where(Organisation.name == "Другая УК")).one()
    other_run = refresh_statistics(data_set.sessions, other, now=NOW - timedelta(days=1), zone=ZONE)
    assert other_run.statistics.total_debt == Decimal("99999.00")

    runs = [
        refresh_statistics(
            data_set.sessions, data_set.organisation_id, now=NOW + timedelta(minutes=i), zone=ZONE
        )
        for i in range(12)
    ]
    assert runs[-1].statistics == _compute(data_set)
    assert runs[-1].duration_ms >= 0

    with data_set.sessions() as session:
        latest = latest_statistics(session, data_set.organisation_id)
        assert latest is not None
        computed_at, stats = latest
        assert computed_at == NOW + timedelta(minutes=11)
        assert stats == runs[-1].statistics and stats.today == TODAY
        kept = session.scalars(
            select(StatisticsSnapshot.computed_at)
            .where(StatisticsSnapshot.organisation_id == data_set.organisation_id)
            .order_by(StatisticsSnapshot.computed_at)
        ).all()
        assert kept == [NOW + timedelta(minutes=i) for i in range(12 - KEEP_SNAPSHOTS, 12)]
        assert session.scalar(select(func.count()).where(StatisticsSnapshot.organisation_id == other)) == 1
        other_latest = latest_statistics(session, other)
        assert other_latest is not None and other_latest[0] == NOW - timedelta(days=1)


def test_a_newest_row_of_another_format_reads_as_none(storage: Storage) -> None:
    run = refresh_statistics(storage.sessions, storage.organisation_id, now=NOW, zone=ZONE)
    with storage.sessions() as session:
        assert latest_statistics(session, storage.organisation_id) == (NOW, run.statistics)
    with storage.sessions.begin() as session:
        newer = NOW + timedelta(days=1)
        session.add(
            StatisticsSnapshot(
                organisation_id=storage.organisation_id,
                computed_at=newer,
                duration_ms=1,
                payload='{"format": 0}',
            )
        )
    with storage.sessions() as session:
        assert latest_statistics(session, storage.organisation_id) is None
