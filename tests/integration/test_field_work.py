"""Notices, couriers and crews through the services, on SQLite and PostgreSQL: generation by the rules,
assignment and address order, deliveries, the 20-day clock, and what paying off the debt undoes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.debtor_list import status_counts
from db.models import CrewJob, Debtor, Notice, NoticeDelivery, StatusChange
from debtors.couriers import add_courier, courier_by_token, disable_courier, new_link
from debtors.crew_jobs import (
    add_crew,
    debtor_measures,
    jobs_board,
    plan_install,
    plug_counts,
    report_job,
    restriction_candidates,
)
from debtors.field_reports import Conflict, DeliveryReport, Forbidden, NotFound, Position
from debtors.field_rules import DeliveryMethod, JobKind, JobStatus, NoticeRules, RestrictionRules
from debtors.notices import (
    assign_notices,
    courier_day,
    courier_stops,
    delivered_counts,
    delivery_figures,
    generate_notices,
    printable,
    record_delivery,
    record_positions,
)
from debtors.registry_import import import_debtors
from debtors.status_column import status_text
from debtors.status_service import refresh_statuses
from debtors.statuses import StatusRules
from dialer.bootstrap import Storage
from dialer.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
TZ = "Europe/Moscow"
T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
NOTICES = NoticeRules(primary_min_months=3, primary_min_debt=Decimal("5000"), secondary_after_days=14)
LIMITS = RestrictionRules(min_debt=Decimal("5000"), min_notices_delivered=2, days_after_delivery=20)


@pytest.fixture
def registry(storage: Storage) -> Storage:
    import_debtors(storage.sessions, storage.organisation_id, SAMPLE, now=T0, as_of=date(2026, 11, 1))
    return storage


def ids_by_account(storage: Storage) -> dict[str, int]:
    with storage.sessions() as session:
        return {a: i for a, i in session.execute(select(Debtor.account, Debtor.id))}


def deliver(
    storage: Storage,
    courier_id: int,
    notice_id: int,
    at: datetime,
    *,
    method: str = "personal",
    client: str = "",
) -> None:
    with storage.sessions.begin() as session:
        record_delivery(
            session,
            storage.organisation_id,
            courier_id,
            notice_id,
            DeliveryReport(client or f"c-{notice_id}-{at:%j%H%M}", DeliveryMethod(method), 1, at),
            now=at,
            rules=NOTICES,
        )


def plan(session: Session, account: str, day: date, *, crew: str | None = None) -> CrewJob:
    return plan_install(
        session, 1, account, crew=crew, planned_on=day, timezone=TZ, rules=LIMITS, actor="t", now=T0
    )


def report(session: Session, job_id: int, status: JobStatus, day: date, *, note: str = "") -> CrewJob:
    return report_job(
        session, 1, job_id, status, on=day, note=note, timezone=TZ, rules=LIMITS, actor="t", now=T0
    )


def test_notices_follow_the_rules_and_are_not_made_twice(registry: Storage) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        made = generate_notices(session, org, now=T0, timezone=TZ, rules=NOTICES)
    # months >= 3 and debt >= 5000: 100001, 100002, 100004, 100005, 100007, 100008, 100009, 100010
    assert (made.primary, made.secondary) == (8, 0)
    with registry.sessions.begin() as session:
        again = generate_notices(session, org, now=T0 + timedelta(days=1), timezone=TZ, rules=NOTICES)
        accounts = set(session.scalars(select(Debtor.account).join(Notice, Notice.debtor_id == Debtor.id)))
    assert again.total == 0
    assert accounts == {"100001", "100002", "100004", "100005", "100007", "100008", "100009", "100010"}
    with registry.sessions() as session:
        notice = session.scalars(select(Notice).order_by(Notice.id)).first()
        assert (
            notice is not None and notice.state == "pending" and notice.debt > 0 and "мес." in notice.reason
        )


def test_assignment_order_delivery_and_secondary(registry: Storage) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        generate_notices(session, org, now=T0, timezone=TZ, rules=NOTICES)
        anna, _ = add_courier(session, org, "Анна", now=T0)
        boris, _ = add_courier(session, org, "Борис", now=T0)
        assert assign_notices(session, org, anna.id, districts=["Ленинский"], now=T0) == 4
        assert assign_notices(session, org, boris.id, districts=["Кировский", "Октябрьский"], now=T0) == 4
        assert assign_notices(session, org, boris.id, districts=["Ленинский"], now=T0) == 0, "taken"
        stops = courier_stops(session, org, anna.id, now=T0, timezone=TZ)
    # ул. Ленина 12 кв. 45, 46; ул. Ленина 14; ул. Пушкина 21 — houses and flats as numbers
    assert [s.account for s in stops] == ["100001", "100002", "100009", "100007"]
    first = stops[0].notice_id
    with pytest.raises(Forbidden):
        deliver(registry, boris.id, first, T0 + timedelta(hours=2))
    with pytest.raises(NotFound):
        deliver(registry, anna.id, 99_999, T0 + timedelta(hours=2))
    deliver(registry, anna.id, first, T0 + timedelta(hours=2), method="nobody_home")
    with registry.sessions() as session:
        notice = session.get(Notice, first)
        assert notice is not None and (notice.state, notice.method, notice.tries) == (
            "assigned",
            "nobody_home",
            1,
        )
    delivered_at = T0 + timedelta(days=1, hours=3)
    deliver(registry, anna.id, first, delivered_at, method="mailbox")
    with registry.sessions() as session:
        notice = session.get(Notice, first)
        assert notice is not None and notice.state == "delivered" and notice.delivered_at == delivered_at
        figures = delivery_figures(session, org)
        assert figures.by_method == {"mailbox": 1}
        assert ("Анна", 3, 1, 2) in figures.by_courier
        assert delivered_counts(session, [notice.debtor_id]) == {notice.debtor_id: {"mailbox": 1}}
        column = status_text("active", status_counts(session, [notice.debtor_id])[notice.debtor_id])
        assert "уведомлений 1 (в ящик 1)" in column
        track, reports = courier_day(session, org, anna.id, delivered_at.date(), TZ)
        assert [r.method for r in reports] == ["mailbox"] and track == []
    # 13 days after delivery: no secondary yet; 14: one, for that debtor only
    with registry.sessions.begin() as session:
        assert (
            generate_notices(
                session, org, now=delivered_at + timedelta(days=13), timezone=TZ, rules=NOTICES
            ).total
            == 0
        )
        made = generate_notices(
            session, org, now=delivered_at + timedelta(days=14), timezone=TZ, rules=NOTICES
        )
    assert (made.primary, made.secondary) == (0, 1)


def test_a_retried_report_is_stored_once_and_positions_go_to_the_track(registry: Storage) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        generate_notices(session, org, now=T0, timezone=TZ, rules=NOTICES)
        anna, _ = add_courier(session, org, "Анна", now=T0)
        assign_notices(session, org, anna.id, districts=["Ленинский"], now=T0)
        notice_id = courier_stops(session, org, anna.id, now=T0, timezone=TZ)[0].notice_id
    at = T0 + timedelta(hours=1)
    report = DeliveryReport("phone-1", DeliveryMethod.PERSONAL, 2, at, Position(at, 56.84, 60.61, 8.0))
    outcomes = []
    for _ in range(2):
        with registry.sessions.begin() as session:
            outcomes.append(record_delivery(session, org, anna.id, notice_id, report, now=at, rules=NOTICES))
    assert [o.duplicate for o in outcomes] == [False, True] and outcomes[0].delivery_id == outcomes[
        1
    ].delivery_id
    with registry.sessions() as session:
        assert session.scalar(select(func.count()).select_from(NoticeDelivery)) == 1
        track, reports = courier_day(session, org, anna.id, date(2026, 11, 2), TZ)
    assert [(p.latitude, p.longitude) for p in track] == [(56.84, 60.61)]
    later = at + timedelta(minutes=5)
    with registry.sessions.begin() as session:
        twice = [Position(later, 56.85, 60.62), Position(later, 1.0, 1.0), Position(at, 56.84, 60.61)]
        assert record_positions(session, org, anna.id, twice, now=later) == (1, 2)
        track, _ = courier_day(session, org, anna.id, date(2026, 11, 2), TZ)
    assert [(p.latitude, p.longitude) for p in track] == [(56.84, 60.61), (56.85, 60.62)], "the first kept"
    assert reports[0].latitude == 56.84 and reports[0].tries == 2


def test_courier_links(storage: Storage) -> None:
    org = storage.organisation_id
    with storage.sessions.begin() as session:
        anna, token = add_courier(session, org, "  Анна   Петрова ", phone="+79120000000", now=T0)
        assert anna.name == "Анна Петрова"
        assert courier_by_token(session, token) is not None
        with pytest.raises(Conflict, match="already exists"):
            add_courier(session, org, "Анна Петрова", now=T0)
        fresh = new_link(session, org, "Анна Петрова")
        assert courier_by_token(session, token) is None and courier_by_token(session, fresh) is not None
        disable_courier(session, org, "Анна Петрова", now=T0)
        assert courier_by_token(session, fresh) is None


def _two_deliveries(storage: Storage, account: str, second_on: datetime) -> int:
    """Primary and secondary notices delivered to one debtor; returns the debtor's id."""
    org = storage.organisation_id
    debtor_id = ids_by_account(storage)[account]
    with storage.sessions.begin() as session:
        generate_notices(session, org, now=T0, timezone=TZ, rules=NOTICES)
        courier, _ = add_courier(session, org, "Анна", now=T0)
        assign_notices(session, org, courier.id, districts=["Ленинский", "Кировский", "Октябрьский"], now=T0)
        primary = session.scalar(select(Notice.id).where(Notice.debtor_id == debtor_id))
    assert primary is not None
    deliver(storage, courier.id, primary, T0 + timedelta(hours=3))
    with storage.sessions.begin() as session:
        generate_notices(session, org, now=T0 + timedelta(days=15), timezone=TZ, rules=NOTICES)
        assign_notices(session, org, courier.id, districts=["Ленинский"], now=T0 + timedelta(days=15))
        secondary = session.scalar(
            select(Notice.id).where(Notice.debtor_id == debtor_id, Notice.kind == "secondary")
        )
    assert secondary is not None
    deliver(storage, courier.id, secondary, second_on)
    return debtor_id


def test_the_twenty_day_clock_guards_crew_jobs(registry: Storage) -> None:
    org = registry.organisation_id
    second_on = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    debtor_id = _two_deliveries(registry, "100009", second_on)
    with registry.sessions.begin() as session:
        add_crew(session, org, "Бригада 1", now=T0)
        candidates = restriction_candidates(session, org, timezone=TZ, rules=LIMITS)
    assert [(c.account, c.clock.allowed_from) for c in candidates] == [("100009", date(2026, 12, 10))]
    with registry.sessions.begin() as session, pytest.raises(Conflict, match=r"10\.12\.2026"):
        plan(session, "100009", date(2026, 12, 9), crew="Бригада 1")
    with registry.sessions.begin() as session:
        job = plan(session, "100009", date(2026, 12, 10), crew="Бригада 1")
        job_id = job.id
        with pytest.raises(Conflict, match="already planned"):
            plan(session, "100009", date(2026, 12, 11), crew=None)
        assert restriction_candidates(session, org, timezone=TZ, rules=LIMITS) == []
    with registry.sessions.begin() as session:
        report(session, job_id, JobStatus.NO_ACCESS, date(2026, 12, 10))
        with pytest.raises(Conflict, match=r"not on 09\.12\.2026"):
            report(session, job_id, JobStatus.PLANNED, date(2026, 12, 9))
        report(session, job_id, JobStatus.PLANNED, date(2026, 12, 12))
        report(session, job_id, JobStatus.INSTALLED, date(2026, 12, 12), note="опломбировано")
        with pytest.raises(Conflict, match="not planned"):
            report(session, job_id, JobStatus.CANCELLED, date(2026, 12, 13))
        counts = plug_counts(session, org, date(2026, 12, 1), date(2026, 12, 31))
        assert (counts.installed, counts.removed, counts.in_place, counts.planned) == (1, 0, 1, 0)
        assert debtor_measures(session, [debtor_id]) == {debtor_id: ["заглушка установлена 12.12.2026"]}
        column = status_text("active", status_counts(session, [debtor_id])[debtor_id])
        assert "уведомлений 2 (лично 2)" in column and "меры: заглушка установлена 12.12.2026" in column
        board = jobs_board(session, org)
        assert [(j.status, j.crew, j.account) for j in board] == [("installed", "Бригада 1", "100009")]
        assert "опломбировано" in board[0].note


def test_paying_off_cancels_field_work_and_removes_the_plug(registry: Storage) -> None:
    org = registry.organisation_id
    second_on = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    debtor_id = _two_deliveries(registry, "100009", second_on)
    other = ids_by_account(registry)["100007"]
    with registry.sessions.begin() as session:
        job = plan(session, "100009", date(2026, 12, 10), crew=None)
        report(session, job.id, JobStatus.INSTALLED, date(2026, 12, 10))
        open_other = session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.debtor_id == other, Notice.state.in_(["pending", "assigned"]))
        )
        assert open_other == 1
    paid_at = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    with registry.sessions.begin() as session:
        session.execute(update(Debtor).where(Debtor.id.in_([debtor_id, other])).values(debt=Decimal("0.00")))
        changes = refresh_statuses(
            session,
            org,
            [debtor_id, other],
            today=paid_at.date(),
            now=paid_at,
            rules=StatusRules(),
            actor="t",
            trigger="тест",
        )
    assert {c.status.value for c in changes} == {"paid"}
    with registry.sessions() as session:
        cancelled = session.scalars(select(Notice).where(Notice.debtor_id == other)).all()
        assert [(n.state, n.cancel_reason) for n in cancelled] == [("cancelled", "долг погашен (тест)")]
        jobs = session.scalars(
            select(CrewJob).where(CrewJob.debtor_id == debtor_id).order_by(CrewJob.id)
        ).all()
        assert [(j.kind, j.status) for j in jobs] == [("install", "installed"), ("removal", "planned")]
        removal = jobs[1]
        assert removal.install_job_id == jobs[0].id and removal.planned_on == date(2026, 12, 15)
        assert (
            session.scalar(
                select(func.count()).select_from(StatusChange).where(StatusChange.status == "paid")
            )
            == 2
        )
    with registry.sessions.begin() as session:
        report(session, removal.id, JobStatus.REMOVED, date(2026, 12, 16))
        counts = plug_counts(session, org, date(2026, 12, 1), date(2026, 12, 31))
        assert (counts.installed, counts.removed, counts.in_place) == (1, 1, 0)
        assert debtor_measures(session, [debtor_id]) == {debtor_id: ["заглушка снята 16.12.2026"]}
        assert [j.kind for j in jobs_board(session, org, kinds=[JobKind.REMOVAL])] == ["removal"]


def test_printable_notices_are_in_route_order_and_marked(registry: Storage) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        generate_notices(session, org, now=T0, timezone=TZ, rules=NOTICES)
        anna, _ = add_courier(session, org, "Анна", now=T0)
        assign_notices(session, org, anna.id, districts=["Ленинский"], now=T0)
        batch = printable(session, org, courier_id=anna.id, now=T0, timezone=TZ)
        assert [n.account for n in batch] == ["100001", "100002", "100009", "100007"]
        assert printable(session, org, courier_id=anna.id, unprinted_only=True, now=T0, timezone=TZ) == []
    assert batch[0].debt == Decimal("12345.67") and batch[0].created_on == date(2026, 11, 2)


def test_the_cli_field_commands(
    registry: Storage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = registry.engine.url.render_as_string(hide_password=False)
    base = ["--database-url", url, "--set", "log.level=ERROR", "--set", "notices.primary_min_months=3"]
    assert main([*base, "notices", "generate"]) == 0
    assert "8 primary, 0 secondary" in capsys.readouterr().out
    assert main([*base, "--set", "api.public_url=https://dolg.example.ru", "couriers", "add", "Анна"]) == 0
    assert "https://dolg.example.ru/courier/" in capsys.readouterr().out
    assert (
        main([*base, "notices", "assign", "--courier", "Анна", "--building", "Ленинский:ул. Ленина:12"]) == 0
    )
    assert "2 notice(s) assigned to Анна" in capsys.readouterr().out
    assert main([*base, "notices", "assign", "--courier", "Анна", "--building", "Ленинский"]) == 1
    assert "expected DISTRICT:STREET:HOUSE" in capsys.readouterr().err
    assert main([*base, "notices", "assign", "--courier", "Никто", "--district", "Ленинский"]) == 1
    assert "no courier named" in capsys.readouterr().err
    assert main([*base, "restrictions", "plan", "100009", "--date", "2026-12-01"]) == 1
    assert "вручено уведомлений: 0 из 2" in capsys.readouterr().err
    assert main([*base, "crews", "add", "Бригада 1"]) == 0
    assert main([*base, "crews", "list"]) == 0
    assert "Бригада 1" in capsys.readouterr().out
    assert main([*base, "notices", "status", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"on_hand": 2' in out and '"state": "pending", "count": 6' in out


def test_a_job_without_access_stays_open_until_replanned_or_given_up(registry: Storage) -> None:
    org = registry.organisation_id
    second_on = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    _two_deliveries(registry, "100009", second_on)
    day = date(2026, 12, 10)
    with registry.sessions.begin() as session:
        job = plan(session, "100009", day, crew=None)
        report(session, job.id, JobStatus.NO_ACCESS, day)
        assert restriction_candidates(session, org, timezone=TZ, rules=LIMITS) == [], (
            "waits to be planned again"
        )
        with pytest.raises(Conflict, match="already planned"):
            plan(session, "100009", day, crew=None)
        report(session, job.id, JobStatus.CANCELLED, day)
        assert [c.account for c in restriction_candidates(session, org, timezone=TZ, rules=LIMITS)] == [
            "100009"
        ]


def test_disabling_a_courier_returns_their_notices(registry: Storage) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        generate_notices(session, org, now=T0, timezone=TZ, rules=NOTICES)
        anna, _ = add_courier(session, org, "Анна", now=T0)
        assign_notices(session, org, anna.id, districts=["Ленинский"], now=T0)
        first = courier_stops(session, org, anna.id, now=T0, timezone=TZ)[0].notice_id
    deliver(registry, anna.id, first, T0 + timedelta(hours=1))
    with registry.sessions.begin() as session:
        disable_courier(session, org, "Анна", now=T0)
        states = dict(session.execute(select(Notice.state, func.count()).group_by(Notice.state)).all())
        assert states == {"delivered": 1, "pending": 7}
        assert (
            session.scalar(select(func.count()).select_from(Notice).where(Notice.courier_id.is_(None))) == 7
        )
        with pytest.raises(Conflict, match="disabled"):
            assign_notices(session, org, anna.id, districts=["Ленинский"], now=T0)
