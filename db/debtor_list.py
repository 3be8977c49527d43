"""The debtor list as supervisors browse it: filtered, sorted and paginated in the database.

Nothing here loads the whole table: a page is ``LIMIT``/``OFFSET`` over an index in the chosen order,
the totals of a filtered view are read from the covering index ``ix_debtors_org_filter`` (migration 0006),
and the export streams rows in chunks. The status column's counts (calls made / heard to the end,
measures) are read for the rows of one page or one chunk only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, tuple_
from sqlalchemy.orm import Session

from db.models import Agreement, CallAttempt, CrewJob, Debtor, LegalCase, Notice, Promise

HEARD_FULL = "heard_full"
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Building:
    """A building as the registry names it: street, house number and корпус, within a district."""

    district: str
    street: str
    house: str
    building: str = ""

    @property
    def label(self) -> str:
        text = f"{self.street}, д. {self.house}" if self.house else self.street
        return text + (f", корп. {self.building}" if self.building else "")


@dataclass(frozen=True, slots=True)
class DebtorFilter:
    """Every filter of the «Должники» page; an empty value does not filter."""

    as_of_from: date | None = None  # the date of the debt figure (the billing centre's snapshot)
    as_of_to: date | None = None
    debt_min: Decimal | None = None
    debt_max: Decimal | None = None
    months_min: int | None = None
    months_max: int | None = None
    area_min: Decimal | None = None
    area_max: Decimal | None = None
    ownership: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    buildings: tuple[Building, ...] = ()
    statuses: tuple[str, ...] = ()
    text: str = ""  # account (prefix) or name (prefix, as written)

    def conditions(self, organisation_id: int, *, dialect: str = "") -> list[ColumnElement[bool]]:
        """The WHERE terms; ``dialect`` (the session's, e.g. "sqlite") lets the text search use an index."""
        where: list[ColumnElement[bool]] = [Debtor.organisation_id == organisation_id]
        for column, low, high in (
            (Debtor.debt_as_of, self.as_of_from, self.as_of_to),
            (Debtor.debt, self.debt_min, self.debt_max),
            (Debtor.months_overdue, self.months_min, self.months_max),
            (Debtor.area_m2, self.area_min, self.area_max),
        ):
            if low is not None:
                where.append(column >= low)
            if high is not None:
                where.append(column <= high)
        if self.ownership:
            where.append(Debtor.ownership.in_(self.ownership))
        if self.districts:
            where.append(Debtor.district.in_(self.districts))
        if self.buildings:
            where.append(
                tuple_(Debtor.district, Debtor.street, Debtor.house, Debtor.building).in_(
                    [(b.district, b.street, b.house, b.building) for b in self.buildings]
                )
            )
        if self.statuses:
            where.append(Debtor.status.in_(self.statuses))
        text = self.text.strip()
        if text:
            where.append(
                or_(_prefix(Debtor.account, text, dialect), _prefix(Debtor.full_name, text, dialect))
            )
        return where


_LIKE_WILDCARDS = frozenset("%_")


def _prefix(column: Any, text: str, dialect: str) -> ColumnElement[bool]:
    """``column LIKE text || '%'``, with the same prefix as a range beside it where that is exact.

    Neither backend walks an index for this LIKE: SQLite's LIKE folds ASCII case while our indexes are
    BINARY, and the pattern is an expression (sqlite.org/optoverview.html#the_like_optimization);
    PostgreSQL uses an index for LIKE only under "C" collation (or pattern_ops). So a search scanned the
    table: seconds at a million debtors. ``text <= column < text'`` (the last character incremented) holds
    exactly the strings starting with ``text`` when compared by codepoint: SQLite's BINARY collation, and
    ``COLLATE "C"`` on PostgreSQL (an index on ``column COLLATE "C"`` serves it). It is added only when the
    LIKE compares ``text`` literally: no wildcard, and on SQLite no ASCII letter (its LIKE folds their
    case). The LIKE stays, so the rows are the same either way.
    """
    like: ColumnElement[bool] = column.startswith(text)
    last = ord(text[-1])
    if (
        dialect not in {"sqlite", "postgresql"}
        or _LIKE_WILDCARDS.intersection(text)
        or (dialect == "sqlite" and any(c.isascii() and c.isalpha() for c in text))
        or 0xD7FF <= last < 0xE000  # the next codepoint would be a surrogate
        or last >= 0x10FFFF
    ):
        return like
    bound = column.collate("C") if dialect == "postgresql" else column
    return and_(bound >= text, bound < text[:-1] + chr(last + 1), like)


# sort key -> the indexed column it walks (migration 0006: debt, name, the filter index for months, the
# unique (organisation, account) for the account)
SORT_COLUMNS: dict[str, Any] = {
    "debt": Debtor.debt,
    "months_overdue": Debtor.months_overdue,
    "account": Debtor.account,
    "full_name": Debtor.full_name,
}


@dataclass(frozen=True, slots=True)
class DebtorSort:
    key: str = "debt"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.key not in SORT_COLUMNS:
            raise ValueError(f"unknown sort {self.key!r}: expected one of {', '.join(SORT_COLUMNS)}")

    def order_by(self) -> list[Any]:
        column = SORT_COLUMNS[self.key]
        if self.descending:
            return [column.desc(), Debtor.id.desc()]
        return [column.asc(), Debtor.id.asc()]


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """The status column's counts: calls made / heard to the end, notices delivered, measures taken."""

    calls_made: int = 0
    heard_to_end: int = 0
    notices_delivered: int = 0
    notices_by_method: tuple[tuple[str, int], ...] = ()  # (delivery method, notices), most first
    measures: tuple[str, ...] = ()
    legal: tuple[tuple[str, str, date], ...] = ()  # legal cases: (stage, case number, since)


@dataclass(frozen=True, slots=True)
class DebtorRow:
    id: int
    account: str
    full_name: str
    address: str
    district: str
    area_m2: Decimal | None
    ownership: str
    months_overdue: int
    debt: Decimal
    debt_as_of: date | None
    status: str
    counts: StatusCounts = field(default_factory=StatusCounts)


@dataclass(frozen=True, slots=True)
class ViewTotals:
    debtors: int
    debt: Decimal


@dataclass(frozen=True, slots=True)
class FilterChoices:
    """What the filters offer: the values present in the registry."""

    districts: tuple[str, ...]
    ownership: tuple[str, ...]
    statuses: tuple[str, ...]


_ROW_COLUMNS = (
    Debtor.id,
    Debtor.account,
    Debtor.full_name,
    Debtor.address,
    Debtor.district,
    Debtor.area_m2,
    Debtor.ownership,
    Debtor.months_overdue,
    Debtor.debt,
    Debtor.debt_as_of,
    Debtor.status,
)


def _rows_query(
    organisation_id: int, flt: DebtorFilter, sort: DebtorSort, dialect: str
) -> Select[*tuple[Any, ...]]:
    return (
        select(*_ROW_COLUMNS)
        .where(and_(*flt.conditions(organisation_id, dialect=dialect)))
        .order_by(*sort.order_by())
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def view_totals(session: Session, organisation_id: int, flt: DebtorFilter) -> ViewTotals:
    """How many debtors the view holds and their total debt (read from the covering filter index)."""
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Debtor.debt), 0)).where(
            and_(*flt.conditions(organisation_id, dialect=_dialect(session)))
        )
    ).one()
    return ViewTotals(int(count), Decimal(str(total)).quantize(Decimal("0.01")))


def debtor_page(
    session: Session,
    organisation_id: int,
    flt: DebtorFilter,
    sort: DebtorSort,
    *,
    page: int,
    page_size: int,
) -> list[DebtorRow]:
    """One page (numbered from 1) of the filtered view, with the status column's counts."""
    if page < 1:
        raise ValueError("pages are numbered from 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"a page holds 1 to {MAX_PAGE_SIZE} rows")
    query = (
        _rows_query(organisation_id, flt, sort, _dialect(session))
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    return _with_counts(session, [tuple(r) for r in session.execute(query)])


def iter_debtors(
    session: Session,
    organisation_id: int,
    flt: DebtorFilter,
    sort: DebtorSort,
    *,
    chunk: int = 2000,
) -> Iterator[list[DebtorRow]]:
    """The whole filtered view in the page's order, ``chunk`` rows at a time (streamed from the server:
    memory stays flat whatever the view's size)."""
    result = session.execute(
        _rows_query(organisation_id, flt, sort, _dialect(session)).execution_options(
            stream_results=True, yield_per=chunk
        )
    )
    for part in result.partitions(chunk):
        yield _with_counts(session, [tuple(r) for r in part])


def _with_counts(session: Session, raw: Sequence[tuple[Any, ...]]) -> list[DebtorRow]:
    ids = [r[0] for r in raw]
    counts = status_counts(session, ids)
    return [
        DebtorRow(
            id=r[0],
            account=r[1],
            full_name=r[2],
            address=r[3],
            district=r[4],
            area_m2=r[5],
            ownership=r[6],
            months_overdue=r[7],
            debt=r[8],
            debt_as_of=r[9],
            status=r[10],
            counts=counts.get(r[0], StatusCounts()),
        )
        for r in raw
    ]


def status_counts(session: Session, debtor_ids: Sequence[int]) -> dict[int, StatusCounts]:
    """Calls made / heard to the end, notices delivered (by method) and measures (agreements, open promises,
    restriction plugs) of these debtors."""
    if not debtor_ids:
        return {}
    calls: dict[int, tuple[int, int]] = {
        debtor_id: (int(made or 0), int(heard or 0))
        for debtor_id, made, heard in session.execute(
            select(
                CallAttempt.debtor_id,
                func.count(CallAttempt.outcome),
                func.sum(case((CallAttempt.outcome == HEARD_FULL, 1), else_=0)),
            )
            .where(CallAttempt.debtor_id.in_(debtor_ids))
            .group_by(CallAttempt.debtor_id)
        )
    }
    measures: dict[int, list[str]] = {}
    for debtor_id, kind, number, status in session.execute(
        select(Agreement.debtor_id, Agreement.kind, Agreement.number, Agreement.status)
        .where(Agreement.debtor_id.in_(debtor_ids))
        .order_by(Agreement.registered_on.desc(), Agreement.id.desc())
    ):
        measures.setdefault(debtor_id, []).append(f"{MEASURE_LABELS.get(kind, kind)} №{number}: {status}")
    for debtor_id, pay_by in session.execute(
        select(Promise.debtor_id, Promise.pay_by).where(
            Promise.debtor_id.in_(debtor_ids), Promise.status == "open"
        )
    ):
        measures.setdefault(debtor_id, []).append(f"обещание до {pay_by:%d.%m.%Y}")
    for debtor_id, status, planned_on, installed_on, removed_on in session.execute(
        select(
            CrewJob.debtor_id, CrewJob.status, CrewJob.planned_on, CrewJob.installed_on, CrewJob.removed_on
        )
        .where(CrewJob.debtor_id.in_(debtor_ids), CrewJob.kind == "install")
        .order_by(CrewJob.id)
    ):
        if status == "installed" and installed_on is not None:
            measures.setdefault(debtor_id, []).append(f"заглушка установлена {installed_on:%d.%m.%Y}")
        elif status == "removed" and removed_on is not None:
            measures.setdefault(debtor_id, []).append(f"заглушка снята {removed_on:%d.%m.%Y}")
        elif status == "planned":
            measures.setdefault(debtor_id, []).append(f"заглушка запланирована на {planned_on:%d.%m.%Y}")
    notices: dict[int, list[tuple[str, int]]] = {}
    for debtor_id, method, count in session.execute(
        select(Notice.debtor_id, Notice.method, func.count())
        .where(Notice.debtor_id.in_(debtor_ids), Notice.state == "delivered")
        .group_by(Notice.debtor_id, Notice.method)
    ):
        notices.setdefault(debtor_id, []).append((method or "", int(count)))
    legal: dict[int, list[tuple[str, str, date]]] = {}
    for debtor_id, stage, number, stage_on in session.execute(
        select(LegalCase.debtor_id, LegalCase.stage, LegalCase.case_number, LegalCase.stage_on)
        .where(LegalCase.debtor_id.in_(debtor_ids))
        .order_by(LegalCase.id)
    ):
        legal.setdefault(debtor_id, []).append((stage, number, stage_on))
    return {
        debtor_id: StatusCounts(
            legal=tuple(legal.get(debtor_id, ())),
            calls_made=calls.get(debtor_id, (0, 0))[0],
            heard_to_end=calls.get(debtor_id, (0, 0))[1],
            notices_delivered=sum(n for _, n in notices.get(debtor_id, ())),
            notices_by_method=tuple(sorted(notices.get(debtor_id, ()), key=lambda m: (-m[1], m[0]))),
            measures=tuple(measures.get(debtor_id, ())),
        )
        for debtor_id in debtor_ids
    }


MEASURE_LABELS = {"restructuring": "реструктуризация", "instalment": "рассрочка"}


def filter_choices(session: Session, organisation_id: int) -> FilterChoices:
    """Districts, ownership types and statuses present: each a loose index scan of (organisation, district
    | ownership | status), one index probe per distinct value, where ``SELECT DISTINCT`` read every debtor's
    entry on PostgreSQL (~90 ms each at a million debtors; SQLite skips ahead by itself)."""
    return FilterChoices(
        _index_values(session, organisation_id, Debtor.district),
        _index_values(session, organisation_id, Debtor.ownership),
        _index_values(session, organisation_id, Debtor.status),
    )


def _index_values(session: Session, organisation_id: int, column: Any) -> tuple[str, ...]:
    """The distinct values of a NOT NULL column leading an index after organisation_id, in the column's
    order: each is the MIN above the previous one (a recursive CTE, the same on SQLite and PostgreSQL)."""
    in_org = Debtor.organisation_id == organisation_id
    values = select(func.min(column).label("value")).where(in_org).cte("index_values", recursive=True)
    above = select(func.min(column)).where(in_org, column > values.c.value).scalar_subquery()
    values = values.union_all(select(above.label("value")).where(values.c.value.is_not(None)))
    return tuple(
        session.scalars(select(values.c.value).where(values.c.value.is_not(None)).order_by(values.c.value))
    )


def buildings(session: Session, organisation_id: int, districts: Sequence[str]) -> list[Building]:
    """The buildings of these districts (read from ix_debtors_org_district_debt alone), for the filter."""
    if not districts:
        return []
    return [
        Building(d, s, h, b)
        for d, s, h, b in session.execute(
            select(Debtor.district, Debtor.street, Debtor.house, Debtor.building)
            .where(Debtor.organisation_id == organisation_id, Debtor.district.in_(districts))
            .distinct()
            .order_by(Debtor.district, Debtor.street, Debtor.house, Debtor.building)
        )
    ]
