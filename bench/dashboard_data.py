"""A realistic generated registry with two years of calling, deterministic for a seed: the data of the
dashboard benchmark (bench/dashboard_queries.py).

For ``debtors`` debtors (1,000,000 at full size): 20 districts, ``debtors // 200`` buildings (street, house,
корпус) of skewed sizes, 1–2 phones each, 3 monthly debt snapshots each, ``1.5 × debtors`` payments over the
last year, agreements for the «СТОП!» debtors, open promises for the «promise» ones, and 24 monthly campaigns
(the newest running and the biggest) holding ``5 × debtors`` call attempts and their campaign_debtors rows.

:func:`tables` yields ``(table, columns, rows)`` in foreign-key order; each ``rows`` iterator must be read to
the end before the next table is asked for (they share the generator's state). Values are what both
backends load as they are: integers, booleans, None and text — money as ``"1234.56"``, dates as ISO text,
timestamps as naive UTC text in SQLAlchemy's SQLite form (db.types.UtcDateTime), with ``ts_suffix="+00"`` for
PostgreSQL's COPY.
"""

from __future__ import annotations

import bisect
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bench.registry_data import FEMALE, MALE, PATRONYMIC_ROOTS, STREETS, SURNAMES
from dialer.campaign_spec import CampaignSpec

DATA_VERSION = 3  # bump when the generated data changes: cached databases are keyed by it
SEED = 2026
NOW = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)  # the benchmark's "now": 13:30 in Moscow, a Friday
NOW_TS = int(NOW.timestamp())
SNAPSHOT_DATES = (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1))
FIRST_MONTH = date(2024, 12, 1)  # of the 24 monthly campaigns; the newest (2026-11) is running
CAMPAIGNS = 24
TRUNK = "megafon"
WORKER = "bench-host:4242"
CALLING_START_S = 6 * 3600  # 09:00 in Moscow (UTC+3)
CALLING_SECONDS = 11 * 3600  # until 20:00 in Moscow

DISTRICTS = (
    "Ленинский",
    "Кировский",
    "Октябрьский",
    "Железнодорожный",
    "Верх-Исетский",
    "Орджоникидзевский",
    "Чкаловский",
    "Академический",
    "Центральный",
    "Советский",
    "Заводской",
    "Северный",
    "Южный",
    "Пролетарский",
    "Первомайский",
    "Фрунзенский",
    "Калининский",
    "Московский",
    "Свердловский",
    "Индустриальный",
)
MORE_STREETS = (
    "ул. Чкалова",
    "ул. Куйбышева",
    "ул. Малышева",
    "ул. Декабристов",
    "ул. Белинского",
    "ул. Луначарского",
    "ул. Шевченко",
    "ул. Фрунзе",
    "ул. Щорса",
    "ул. Восточная",
    "ул. Заводская",
    "ул. Комсомольская",
    "ул. Школьная",
    "ул. Набережная",
    "пер. Банковский",
    "пр. Ленина",
    "бул. Культуры",
    "ул. Мичурина",
)
OWNERSHIP = (("частная", 80), ("муниципальная", 15), ("государственная", 5))
# (outcome, share, state): the outcomes of ended attempts as a working campaign sees them
OUTCOMES = (
    ("heard_full", 0.15, "ended"),
    ("partial", 0.10, "ended"),
    ("no_answer", 0.40, "ended"),
    ("busy", 0.20, "ended"),
    ("congestion", 0.055, "ended"),
    ("failed", 0.035, "ended"),
    ("invalid_number", 0.01, "ended"),
    ("machine", 0.015, "ended"),
    ("lost", 0.005, "lost"),
    (None, 0.03, "not_placed"),  # Asterisk never took the call
)
OUTCOME_CUM = [sum(share for _, share, _ in OUTCOMES[: i + 1]) for i in range(len(OUTCOMES))]
ANSWERED = {"heard_full", "partial", "machine"}
# Asterisk's figures per outcome (dialer/core/outcomes.py): OriginateResponse Reason, DialStatus, Q.850 cause
NETWORK = {
    "heard_full": (4, "ANSWER", 16),
    "partial": (4, "ANSWER", 16),
    "machine": (4, "ANSWER", 16),
    "no_answer": (3, "NOANSWER", 19),
    "busy": (5, "BUSY", 17),
    "congestion": (8, "CONGESTION", 34),
    "failed": (0, "CHANUNAVAIL", 38),
    "invalid_number": (8, "CONGESTION", 1),
    "lost": (None, None, None),
    None: (None, None, None),
}
SEGMENTS = (("greeting", 2300), ("account", 5100), ("debt", 6400), ("months", 3900), ("request", 21800))
MESSAGE_MS = sum(length for _, length in SEGMENTS)

DEBTOR_COLUMNS = (
    "id",
    "organisation_id",
    "account",
    "full_name",
    "address",
    "district",
    "street",
    "house",
    "building",
    "apartment",
    "timezone",
    "area_m2",
    "ownership",
    "debt",
    "debt_as_of",
    "months_overdue",
    "status",
    "status_reason",
    "status_since",
    "fingerprint",
    "last_import_id",
    "created_at",
    "updated_at",
)
ATTEMPT_COLUMNS = (
    "id",
    "organisation_id",
    "debtor_id",
    "phone_id",
    "number",
    "dial_string",
    "state",
    "outcome",
    "started_at",
    "answered_at",
    "ended_at",
    "originate_reason",
    "dial_status",
    "hangup_cause",
    "digits",
    "detail",
    "campaign_id",
    "campaign_debtor_id",
    "worker",
    "heard_ms",
    "message_ms",
    "completed",
    "repeats",
    "ended_by",
    "segments",
    "counts_as_contact",
)
QUEUE_COLUMNS = (
    "id",
    "organisation_id",
    "campaign_id",
    "debtor_id",
    "state",
    "next_attempt_at",
    "attempts",
    "streak_outcome",
    "streak",
    "last_outcome",
    "last_attempt_at",
    "note",
    "added_at",
)
TABLES = (
    "debtors",
    "phones",
    "debt_snapshots",
    "payments",
    "agreements",
    "agreement_instalments",
    "promises",
    "status_history",
    "do_not_call",
    "campaigns",
    "campaign_debtors",
    "call_attempts",
)

Row = tuple[object, ...]
Table = tuple[str, tuple[str, ...], Iterator[Row]]

ACTIVE, PAID, STOPPED, PROMISE = 0, 1, 2, 3
STATUS_NAMES = ("active", "paid", "stopped", "promise")
STATUS_REASONS = ("", "долг погашен по реестру", "соглашение о рассрочке", "обещание оплаты (IVR)")


@dataclass(frozen=True, slots=True)
class Scale:
    debtors: int

    @property
    def buildings(self) -> int:
        return max(len(DISTRICTS), self.debtors // 200)

    @property
    def payments(self) -> int:
        return self.debtors * 3 // 2

    @property
    def attempts(self) -> int:
        return self.debtors * 5


def account_of(debtor_id: int) -> str:
    """Accounts are 8 digits from 10000001: a prefix of 7 digits names ten of them."""
    return str(10_000_000 + debtor_id)


def phone_ids(debtor_id: int, phones: int) -> tuple[int, ...]:
    return tuple(2 * debtor_id - 1 + i for i in range(phones))


def e164_of(phone_id: int) -> str:
    return f"+79{(phone_id * 2_654_435_761) % 1_000_000_000:09d}"


def campaign_name(k: int) -> str:
    month = _add_months(FIRST_MONTH, k)
    return f"Обзвон {month:%Y-%m}"


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def _utc_ts(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


class _Clock:
    """Epoch seconds as stored timestamp text, the hour's prefix cached (millions of timestamps)."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self._hours: dict[int, str] = {}

    def text(self, ts: int) -> str:
        hour, rest = divmod(ts, 3600)
        prefix = self._hours.get(hour)
        if prefix is None:
            prefix = self._hours[hour] = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%d %H:")
        minute, second = divmod(rest, 60)
        return f"{prefix}{minute:02d}:{second:02d}.000000{self.suffix}"


@dataclass(slots=True)
class _Registry:
    """What later tables need to know of each debtor (compact arrays: a million of each)."""

    status: bytearray
    phones: bytearray
    debt_kopecks: array[int]
    as_of_index: bytearray  # index into SNAPSHOT_DATES of the debt's date


@dataclass(slots=True)
class _Context:
    rng: random.Random
    scale: Scale
    organisation_id: int
    clock: _Clock
    registry: _Registry


@dataclass(slots=True)
class _Campaign:
    """One campaign's attempts as planned: attempt j calls ``selected[plan[j]]`` at ``times[j]`` with
    outcome ``OUTCOMES[outcomes[j]]``; its queue rows are ids ``base + 1 ...``."""

    k: int
    start: int
    selected: list[int]
    plan: array[int]
    times: list[int]
    outcomes: bytearray
    in_flight: int  # attempts started at or after this are still on the line
    base: int
    counts: array[int]  # per selected debtor: dialled attempts
    last: array[int]  # per selected debtor: its last attempt (-1: none yet)


def tables(debtors: int, organisation_id: int, *, ts_suffix: str = "", seed: int = SEED) -> Iterator[Table]:
    n = debtors + 1
    ctx = _Context(
        random.Random(seed),
        Scale(debtors),
        organisation_id,
        _Clock(ts_suffix),
        _Registry(bytearray(n), bytearray(n), array("q", [0]) * n, bytearray(n)),
    )
    yield "debtors", DEBTOR_COLUMNS, _debtors(ctx)
    yield (
        "phones",
        ("id", "organisation_id", "debtor_id", "e164", "raw", "callable", "source", "removed_at"),
        _phones(ctx),
    )
    yield (
        "debt_snapshots",
        ("id", "organisation_id", "debtor_id", "import_id", "as_of", "amount", "months_overdue"),
        _snapshots(ctx),
    )
    yield (
        "payments",
        ("id", "organisation_id", "debtor_id", "import_id", "paid_on", "amount", "reference", "created_at"),
        _payments(ctx),
    )
    agreements: list[tuple[int, int, date]] = []  # (agreement id, debtor id, registered on)
    yield (
        "agreements",
        (
            "id",
            "organisation_id",
            "debtor_id",
            "kind",
            "number",
            "registered_on",
            "status",
            "status_reason",
            "created_at",
        ),
        _agreements(ctx, agreements),
    )
    yield (
        "agreement_instalments",
        ("id", "agreement_id", "due_on", "amount"),
        _instalments(ctx.rng, agreements),
    )
    yield (
        "promises",
        (
            "id",
            "organisation_id",
            "debtor_id",
            "made_on",
            "pay_by",
            "amount",
            "source",
            "status",
            "created_at",
        ),
        _promises(ctx),
    )
    yield (
        "status_history",
        ("id", "organisation_id", "debtor_id", "previous_status", "status", "reason", "actor", "at"),
        _status_history(ctx),
    )
    yield (
        "do_not_call",
        ("id", "organisation_id", "debtor_id", "e164", "reason", "actor", "created_at"),
        _do_not_call(ctx),
    )
    yield (
        "campaigns",
        (
            "id",
            "organisation_id",
            "name",
            "spec",
            "state",
            "state_reason",
            "revision",
            "created_at",
            "updated_at",
            "started_at",
            "selected_at",
            "heartbeat_at",
        ),
        _campaigns(ctx.organisation_id, ctx.clock),
    )
    yield from _calling(ctx)


# ------------------------------------------------------------------------------------------ the registry


def _buildings(rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    streets = [*STREETS, *MORE_STREETS]
    seen: set[tuple[str, str, str, str]] = set()
    found: list[tuple[str, str, str, str]] = []
    while len(found) < count:
        district = DISTRICTS[len(found) % len(DISTRICTS)]
        street = streets[(DISTRICTS.index(district) * 7 + rng.randrange(9)) % len(streets)]
        house = str(rng.randint(1, 180)) + ("" if rng.random() < 0.9 else rng.choice("АБВ"))
        korpus = "" if rng.random() < 0.7 else str(rng.randint(1, 4))
        key = (district, street, house, korpus)
        if key not in seen:
            seen.add(key)
            found.append(key)
    return found


def _debtors(ctx: _Context) -> Iterator[Row]:
    rng, scale, clock, registry = ctx.rng, ctx.scale, ctx.clock, ctx.registry
    buildings = _buildings(rng, scale.buildings)
    # building sizes are skewed: many small houses, a few tower blocks (at most 8 times the smallest)
    weights = [min(8.0, rng.paretovariate(1.5)) for _ in buildings]
    cumulative = [0.0] * len(weights)
    running = 0.0
    for i, weight in enumerate(weights):
        running += weight
        cumulative[i] = running
    ownership = [name for name, share in OWNERSHIP for _ in range(share)]
    created = _utc_ts(date(2025, 2, 3)) + 7 * 3600
    for debtor_id in range(1, scale.debtors + 1):
        district, street, house, korpus = buildings[bisect.bisect_left(cumulative, rng.random() * running)]
        apartment = str(rng.randint(1, 300))
        address = f"{street}, д. {house}" + (f", корп. {korpus}" if korpus else "") + f", кв. {apartment}"
        female = rng.random() < 0.55
        surname = rng.choice(SURNAMES) + ("а" if female else "")
        name = f"{surname} {rng.choice(FEMALE if female else MALE)} {rng.choice(PATRONYMIC_ROOTS)}" + (
            "на" if female else "ич"
        )
        if rng.random() < 0.07:
            kopecks, months, status = 0, 0, PAID
        else:
            kopecks = min(30_000_000, round(rng.lognormvariate(9.3, 1.15) * 100))
            months = max(1, min(60, round(kopecks / 100 / rng.uniform(2500, 6000))))
            draw = rng.random()
            status = STOPPED if draw < 0.05 else PROMISE if draw < 0.10 else ACTIVE
        draw = rng.random()
        as_of_index = 4 if draw < 0.75 else 3 if draw < 0.93 else 2
        registry.status[debtor_id] = status
        registry.phones[debtor_id] = 1 if rng.random() < 0.55 else 2
        registry.debt_kopecks[debtor_id] = kopecks
        registry.as_of_index[debtor_id] = as_of_index
        since = NOW_TS - rng.randrange(90 * 86400) if status != ACTIVE else created + debtor_id % 86400
        yield (
            debtor_id,
            ctx.organisation_id,
            account_of(debtor_id),
            name,
            address,
            district,
            street,
            house,
            korpus,
            apartment,
            None,
            f"{rng.uniform(18, 140):.2f}",
            rng.choice(ownership),
            f"{kopecks // 100}.{kopecks % 100:02d}",
            SNAPSHOT_DATES[as_of_index].isoformat(),
            months,
            STATUS_NAMES[status],
            STATUS_REASONS[status],
            clock.text(since),
            f"{rng.getrandbits(128):032x}",
            None,
            clock.text(created + debtor_id % 86400),
            clock.text(_utc_ts(SNAPSHOT_DATES[as_of_index]) + 9 * 3600),
        )


def _phones(ctx: _Context) -> Iterator[Row]:
    rng, scale, organisation_id, registry = ctx.rng, ctx.scale, ctx.organisation_id, ctx.registry
    for debtor_id in range(1, scale.debtors + 1):
        for phone_id in phone_ids(debtor_id, registry.phones[debtor_id]):
            e164 = e164_of(phone_id)
            raw = f"8 ({e164[2:5]}) {e164[5:8]}-{e164[8:10]}-{e164[10:]}"
            yield (phone_id, organisation_id, debtor_id, e164, raw, rng.random() > 0.01, "реестр", None)


def _snapshots(ctx: _Context) -> Iterator[Row]:
    """Three monthly lists per debtor, the newest at the debtor's ``debt_as_of``."""
    rng, scale, organisation_id, registry = ctx.rng, ctx.scale, ctx.organisation_id, ctx.registry
    snapshot_id = 0
    for debtor_id in range(1, scale.debtors + 1):
        newest = registry.as_of_index[debtor_id]
        kopecks = registry.debt_kopecks[debtor_id]
        for back in (2, 1, 0):
            snapshot_id += 1
            amount = kopecks if back == 0 else max(0, round(kopecks * rng.uniform(0.85, 1.05)))
            months = max(0, round(amount / 450_000)) if amount else 0
            yield (
                snapshot_id,
                organisation_id,
                debtor_id,
                None,
                SNAPSHOT_DATES[newest - back].isoformat(),
                f"{amount // 100}.{amount % 100:02d}",
                min(60, months),
            )


def _payments(ctx: _Context) -> Iterator[Row]:
    """About a quarter of the debtors pay, some monthly, over the last year."""
    rng, scale, clock, registry = ctx.rng, ctx.scale, ctx.clock, ctx.registry
    first = NOW.date() - timedelta(days=364)
    payment_id = 0
    remaining = scale.payments
    debtors_left = scale.debtors
    for debtor_id in range(1, scale.debtors + 1):
        # spread what is left over the debtors left, whatever the draws were so far
        mean = remaining / debtors_left if debtors_left else 0
        debtors_left -= 1
        payer = rng.random() < 0.25 or registry.status[debtor_id] == PAID
        count = min(remaining, round(rng.uniform(0.5, 1.5) * mean * 3.1)) if payer else 0
        for _ in range(count):
            payment_id += 1
            paid_on = first + timedelta(days=rng.randrange(365))
            kopecks = rng.randrange(50_000, 1_500_000)
            yield (
                payment_id,
                ctx.organisation_id,
                debtor_id,
                None,
                paid_on.isoformat(),
                f"{kopecks // 100}.{kopecks % 100:02d}",
                f"ПП-{payment_id:08d}",
                clock.text(_utc_ts(paid_on) + 86400 + 8 * 3600),
            )
        remaining -= count


def _agreements(ctx: _Context, out: list[tuple[int, int, date]]) -> Iterator[Row]:
    """Every «СТОП!» debtor has a kept agreement; one in a hundred others a broken or completed one."""
    rng, scale, clock, registry = ctx.rng, ctx.scale, ctx.clock, ctx.registry
    agreement_id = 0
    for debtor_id in range(1, scale.debtors + 1):
        stopped = registry.status[debtor_id] == STOPPED
        if not stopped and rng.random() >= 0.01:
            continue
        agreement_id += 1
        registered = NOW.date() - timedelta(days=rng.randrange(20, 400))
        kind = rng.choice(("restructuring", "instalment"))
        status = "active" if stopped else rng.choice(("broken", "completed"))
        out.append((agreement_id, debtor_id, registered))
        yield (
            agreement_id,
            ctx.organisation_id,
            debtor_id,
            kind,
            f"{registered:%y}-{agreement_id:06d}",
            registered.isoformat(),
            status,
            "" if status == "active" else "по графику платежей",
            clock.text(_utc_ts(registered) + 10 * 3600),
        )


def _instalments(rng: random.Random, agreements: list[tuple[int, int, date]]) -> Iterator[Row]:
    instalment_id = 0
    for agreement_id, _debtor_id, registered in agreements:
        amount = rng.randrange(100_000, 1_000_000)
        for month in range(1, rng.choice((6, 12)) + 1):
            instalment_id += 1
            due = _add_months(registered.replace(day=1), month) + timedelta(days=registered.day - 1)
            yield instalment_id, agreement_id, due.isoformat(), f"{amount // 100}.{amount % 100:02d}"


def _promises(ctx: _Context) -> Iterator[Row]:
    """An open promise for each «promise» debtor; one in fifty others kept or broke one."""
    rng, scale, clock, registry = ctx.rng, ctx.scale, ctx.clock, ctx.registry
    promise_id = 0
    today = NOW.date()
    for debtor_id in range(1, scale.debtors + 1):
        open_one = registry.status[debtor_id] == PROMISE
        if not open_one and rng.random() >= 0.02:
            continue
        promise_id += 1
        made = today - timedelta(days=rng.randrange(1, 14) if open_one else rng.randrange(30, 300))
        yield (
            promise_id,
            ctx.organisation_id,
            debtor_id,
            made.isoformat(),
            (made + timedelta(days=14)).isoformat(),
            None,
            rng.choice(("ivr", "ivr", "operator")),
            "open" if open_one else rng.choice(("kept", "broken")),
            clock.text(_utc_ts(made) + 11 * 3600),
        )


def _status_history(ctx: _Context) -> Iterator[Row]:
    rng, scale, clock, registry = ctx.rng, ctx.scale, ctx.clock, ctx.registry
    change_id = 0
    for debtor_id in range(1, scale.debtors + 1):
        status = registry.status[debtor_id]
        if status == ACTIVE:
            continue
        change_id += 1
        yield (
            change_id,
            ctx.organisation_id,
            debtor_id,
            "active",
            STATUS_NAMES[status],
            STATUS_REASONS[status],
            "ivr" if status == PROMISE else "import",
            clock.text(NOW_TS - rng.randrange(90 * 86400)),
        )


def _do_not_call(ctx: _Context) -> Iterator[Row]:
    rng, scale, organisation_id, clock = ctx.rng, ctx.scale, ctx.organisation_id, ctx.clock
    mark_id = 0
    for debtor_id in range(1, scale.debtors + 1):
        if rng.random() >= 0.002:
            continue
        mark_id += 1
        whole = rng.random() < 0.5
        yield (
            mark_id,
            organisation_id,
            debtor_id if whole else None,
            None if whole else e164_of(phone_ids(debtor_id, 1)[0]),
            "просил не звонить" if whole else "чужой номер",
            "supervisor",
            clock.text(NOW_TS - rng.randrange(300 * 86400)),
        )


# ------------------------------------------------------------------------------------------- calling


def _campaign_window(k: int) -> tuple[int, int]:
    start = _utc_ts(_add_months(FIRST_MONTH, k))
    end = NOW_TS if k == CAMPAIGNS - 1 else _utc_ts(_add_months(FIRST_MONTH, k + 1))
    return start, end


def _campaigns(organisation_id: int, clock: _Clock) -> Iterator[Row]:
    for k in range(CAMPAIGNS):
        name = campaign_name(k)
        spec = CampaignSpec(name=name, trunk=TRUNK, max_channels=30, calls_per_second=3.0).to_json()
        start, end = _campaign_window(k)
        running = k == CAMPAIGNS - 1
        yield (
            k + 1,
            organisation_id,
            name,
            spec,
            "running" if running else "stopped",
            "",
            3 if running else 5,
            clock.text(start - 86400),
            clock.text(NOW_TS - 5 if running else end),
            clock.text(start + CALLING_START_S),
            clock.text(start + CALLING_START_S - 60),
            clock.text(NOW_TS - 2) if running else clock.text(end - 3600),
        )


def _calling_times(rng: random.Random, start: int, end: int, count: int) -> list[int]:
    """``count`` sorted start times inside the calling hours (09:00–20:00 Moscow) of [start, end)."""
    days: list[tuple[int, int]] = []  # (first second of the day's window, seconds of it before ``end``)
    day = start - start % 86400
    while day < end:
        first = max(day + CALLING_START_S, start)
        last = min(day + CALLING_START_S + CALLING_SECONDS, end)
        if last > first:
            days.append((first, last - first))
        day += 86400
    offsets = [0]
    for _, seconds in days:
        offsets.append(offsets[-1] + seconds)
    total = offsets[-1]
    moments = sorted(rng.random() * total for _ in range(count))
    times = []
    index = 0
    for moment in moments:
        while moment >= offsets[index + 1]:
            index += 1
        times.append(days[index][0] + int(moment - offsets[index]))
    return times


def _calling(ctx: _Context) -> Iterator[Table]:
    """Per campaign, oldest first: its queue (campaign_debtors) and then its attempts.

    The newest campaign holds a quarter of the attempts over 65 % of the debtors; the 23 older ones share
    the rest. Each campaign first calls every selected debtor once (the newest has reached 92 % of them so
    far), then retries random ones; attempt times are sorted, so the first pass comes first.
    """
    rng, scale = ctx.rng, ctx.scale
    eligible = [d for d in range(1, scale.debtors + 1) if ctx.registry.status[d] != PAID]
    newest_attempts = scale.attempts // 4
    shares = [rng.uniform(0.7, 1.3) for _ in range(CAMPAIGNS - 1)]
    older = [round((scale.attempts - newest_attempts) * share / sum(shares)) for share in shares]
    older[-1] = scale.attempts - newest_attempts - sum(older[:-1])
    queue_id = 0
    for k, attempts in enumerate([*older, newest_attempts]):
        running = k == CAMPAIGNS - 1
        start, end = _campaign_window(k)
        selected_count = min(len(eligible), round(scale.debtors * 0.65) if running else round(attempts / 2.2))
        selected = rng.sample(eligible, selected_count)
        called = round(selected_count * 0.92) if running else selected_count
        plan = array("l", range(called))
        plan.extend(rng.randrange(called) for _ in range(attempts - called))
        outcomes = bytearray(attempts)
        for j in range(attempts):
            outcomes[j] = bisect.bisect_left(OUTCOME_CUM, rng.random() * OUTCOME_CUM[-1])
        campaign = _Campaign(
            k=k,
            start=start,
            selected=selected,
            plan=plan,
            times=_calling_times(rng, start, end, attempts),
            outcomes=outcomes,
            in_flight=NOW_TS - 30 if running else end,
            base=queue_id,
            counts=array("l", [0]) * selected_count,
            last=array("l", [-1]) * selected_count,
        )
        for j in range(attempts):
            position = plan[j]
            if OUTCOMES[outcomes[j]][2] != "not_placed":
                campaign.counts[position] += 1
            campaign.last[position] = j
        queue_id += selected_count
        yield "campaign_debtors", QUEUE_COLUMNS, _queue(ctx, campaign)
        yield "call_attempts", ATTEMPT_COLUMNS, _attempts(ctx, campaign)


def _queue(ctx: _Context, campaign: _Campaign) -> Iterator[Row]:
    rng, clock = ctx.rng, ctx.clock
    running = campaign.k == CAMPAIGNS - 1
    for position, debtor_id in enumerate(campaign.selected):
        j = campaign.last[position]
        outcome = OUTCOMES[campaign.outcomes[j]][0] if j >= 0 else None
        when = campaign.times[j] if j >= 0 else None
        if when is None:
            state, next_at = "due", campaign.start + CALLING_START_S
        elif when >= campaign.in_flight:
            state, next_at, outcome = "calling", None, None
        elif not running or outcome in {"heard_full", "invalid_number"} or campaign.counts[position] >= 5:
            state, next_at = "done", None
        else:
            state, next_at = "due", when + rng.choice((2, 4, 24, 48)) * 3600
        yield (
            campaign.base + position + 1,
            ctx.organisation_id,
            campaign.k + 1,
            debtor_id,
            state,
            clock.text(next_at) if next_at is not None else None,
            campaign.counts[position],
            outcome,
            1 if outcome else 0,
            outcome,
            clock.text(when) if when is not None else None,
            "",
            clock.text(campaign.start + CALLING_START_S - 60),
        )


def _attempts(ctx: _Context, campaign: _Campaign) -> Iterator[Row]:
    rng, clock, registry = ctx.rng, ctx.clock, ctx.registry
    full_segments = " ".join(f"{name}={length}/{length}" for name, length in SEGMENTS)
    for j, started in enumerate(campaign.times):
        position = campaign.plan[j]
        debtor_id = campaign.selected[position]
        phones = phone_ids(debtor_id, registry.phones[debtor_id])
        phone_id = phones[0] if len(phones) == 1 or rng.random() < 0.7 else phones[1]
        number = e164_of(phone_id)
        outcome, _share, state = OUTCOMES[campaign.outcomes[j]]
        answered = ended = None
        heard = message = completed = ended_by = None
        repeats, digits, segments = 0, "", ""
        reason, dial_status, cause = NETWORK[outcome]
        if started >= campaign.in_flight:  # still on the line
            state, outcome = rng.choice(("dialling", "up")), None
            reason = dial_status = cause = None
            if state == "up":
                answered = started + 8
        elif outcome in ANSWERED:
            answered = started + rng.randrange(4, 25)
            message = MESSAGE_MS
            if outcome == "heard_full":
                repeats = 1 if rng.random() < 0.1 else 0
                heard, completed, segments = MESSAGE_MS * (1 + repeats), True, full_segments
                ended_by = "transferred" if rng.random() < 0.05 else "finished"
                digits = "1" * repeats + ("2" if rng.random() < 0.1 else "")
            elif outcome == "partial":
                heard, completed, ended_by = rng.randrange(500, MESSAGE_MS - 1000), False, "hung_up"
                segments = _partial_segments(heard)
            ended = answered + (heard or 3000) // 1000 + 2
        elif outcome == "no_answer":
            ended = started + 30
        else:  # busy, congestion, failed, invalid number, lost (ended when the engine noticed), not placed
            ended = started + rng.randrange(1, 8)
            if state == "lost" and rng.random() < 0.5:
                answered = started + 6
        yield (
            f"ud-{rng.getrandbits(128):032x}",
            ctx.organisation_id,
            debtor_id,
            phone_id,
            number,
            f"PJSIP/{number[1:]}@{TRUNK}",
            state,
            outcome,
            clock.text(started),
            clock.text(answered) if answered is not None else None,
            clock.text(ended) if ended is not None else None,
            reason,
            dial_status,
            cause,
            digits,
            "Originate refused: trunk unreachable" if state == "not_placed" else "",
            campaign.k + 1,
            campaign.base + position + 1,
            WORKER,
            heard,
            message,
            completed,
            repeats,
            ended_by,
            segments,
            outcome in {"heard_full", "partial"},
        )


def _partial_segments(heard_ms: int) -> str:
    parts = []
    left = heard_ms
    for name, length in SEGMENTS:
        played = min(length, left)
        parts.append(f"{name}={played}/{length}")
        left -= played
        if left <= 0:
            break
    return " ".join(parts)
