"""The application for a court order (заявление о вынесении судебного приказа) with the debt and penalty
calculation attached, as PDF (fpdf2, DejaVu) and DOCX (python-docx), from a template the lawyer edits.

:func:`build_claim_data` gathers everything from the database (the case, the debtor, snapshots, payments)
and the penalty rules; the renderers are pure: ``ClaimData`` + template text in, document bytes out.

The template (``debtors/templates/court_order_claim.txt``, docs/legal.md «Claim documents»):

* an optional header before a line ``---``: ``key: value`` lines; every key becomes a placeholder
  (``creditor_details: ИНН …``); ``creditor`` there replaces the organisation's name from the database;
* the body: ``# text`` a centred bold heading, ``>> text`` a line of the block on the right (the court
  and the parties), a blank line ends a paragraph, other lines are paragraph text (joined with spaces);
  ``//`` starts a comment line;
* ``{placeholder}`` fields (:data:`PLACEHOLDERS`); an unknown one, a malformed brace or a missing
  required one (:data:`REQUIRED`) is a :class:`ClaimTemplateError` naming the line.
"""

from __future__ import annotations

import calendar
import io
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm, Pt
from fpdf import FPDF, Align, FontFace, XPos, YPos
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Debtor, DebtSnapshot, Organisation
from db.models import Payment as PaymentRow
from debtors.claim_charges import ChargeSet, Snapshot, reconstruct_charges
from debtors.legal_cases import case_of
from debtors.pdf_fonts import FONT, add_dejavu
from debtors.penalties import Payment as PenaltyPayment
from debtors.penalties import (
    PenaltyCalculation,
    PenaltyRules,
    PenaltySegment,
    RatePolicy,
    calculate_penalties,
    load_key_rates,
    load_moratoriums,
)
from dialer.core.russian_numbers import money_prompts, say
from dialer.errors import UpravDolgError

TEMPLATE_PATH = Path(__file__).resolve().parent / "templates" / "court_order_claim.txt"

# ГПК РФ ст. 121 ч. 1 (as amended by ФЗ № 451-ФЗ от 28.11.2018): a court order is issued for money claims
# not above 500 000 rubles; a larger claim is a lawsuit (иск).
COURT_ORDER_LIMIT = Decimal("500000")

# НК РФ ст. 333.19 п. 1 пп. 1 as amended by ФЗ № 259-ФЗ от 08.08.2024 (in force from 09.09.2024): the fee
# for a property claim, by the price of the claim. Rows: (up to and including, base fee, percent, over).
# Only the brackets up to 1 000 000 ₽ are implemented; a larger price is refused.
_CLAIM_FEE_SCALE: tuple[tuple[Decimal, Decimal, Decimal, Decimal], ...] = (
    (Decimal("100000"), Decimal("4000"), Decimal("0"), Decimal("0")),  # до 100 000 ₽ — 4 000 ₽
    (Decimal("300000"), Decimal("4000"), Decimal("3"), Decimal("100000")),  # 4 000 ₽ + 3 % свыше 100 000
    (
        Decimal("500000"),
        Decimal("10000"),
        Decimal("2.5"),
        Decimal("300000"),
    ),  # 10 000 ₽ + 2,5 % свыше 300 000
    (Decimal("1000000"), Decimal("15000"), Decimal("2"), Decimal("500000")),  # 15 000 ₽ + 2 % свыше 500 000
)
# НК РФ ст. 333.19 п. 1 пп. 2: an application for a court order pays 50 % of the property-claim fee.
_COURT_ORDER_SHARE = Decimal("0.5")

_KOPECK = Decimal("0.01")
_ZERO = Decimal("0.00")
NBSP = "\u00a0"

PLACEHOLDERS = {
    "court": "the court (from the case; blank lines to fill in by hand if the case has none)",
    "creditor": "the creditor (the organisation's name; the template header may replace it)",
    "debtor_name": "the debtor's full name",
    "debtor_address": "the debtor's address",
    "account": "the personal account (лицевой счёт)",
    "period_from": "the first day of the debt period, dd.mm.yyyy",
    "period_to": "the last day of the debt period, dd.mm.yyyy",
    "principal": "the principal debt claimed, «12 345,67 руб.»",
    "principal_words": "the principal in words",
    "penalty": "the penalty (пени) calculated",
    "total": "principal + penalty",
    "total_words": "the total in words",
    "state_fee": "the state fee (госпошлина) for the application",
    "date": "the calculation date (the application's date), dd.mm.yyyy",
    "attachments": "the numbered list of attachments, one per line",
}
REQUIRED = frozenset(
    {"court", "creditor", "debtor_name", "debtor_address", "account", "principal", "penalty", "total"}
    | {"state_fee", "attachments"}
)
_HEADER_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class ClaimError(UpravDolgError):
    """The claim cannot be prepared."""


class StateFeeError(UpravDolgError):
    """The state fee cannot be calculated for this price of claim."""


class ClaimTemplateError(UpravDolgError):
    """The claim template is invalid."""


# --- the state fee -----------------------------------------------------------------------------------


def claim_state_fee(price: Decimal) -> Decimal:
    """The fee for a property claim of ``price`` rubles (НК РФ ст. 333.19 п. 1 пп. 1, from 09.09.2024)."""
    if price <= 0:
        raise StateFeeError(f"the price of the claim must be positive, got {price}")
    for up_to, base, percent, over in _CLAIM_FEE_SCALE:
        if price <= up_to:
            return base + (price - over) * percent / 100
    raise StateFeeError(
        f"the price of the claim {_amount(price)} руб. is above 1 000 000 руб.: "
        "this scale is not implemented",
        hint="calculate the state fee by НК РФ ст. 333.19 п. 1 пп. 1 by hand",
    )


def court_order_state_fee(price: Decimal) -> Decimal:
    """The fee for an application for a court order: 50 % of the claim fee (НК РФ ст. 333.19 п. 1 пп. 2),
    rounded to kopecks (ROUND_HALF_UP)."""
    return (claim_state_fee(price) * _COURT_ORDER_SHARE).quantize(_KOPECK, rounding=ROUND_HALF_UP)


# --- the data ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimData:
    """Everything the application and its calculation show."""

    case_id: int
    creditor: str
    court: str
    debtor_name: str
    debtor_address: str
    account: str
    period_from: date
    period_to: date
    principal: Decimal
    principal_source: str
    charges: ChargeSet
    calculation: PenaltyCalculation
    state_fee: Decimal
    attachments: tuple[str, ...]
    key_rate: Decimal | None = None  # the rate on the calculation date, for the calculation's heading
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def calculated_on(self) -> date:
        return self.calculation.calculated_on

    @property
    def penalty(self) -> Decimal:
        return self.calculation.total_penalty

    @property
    def total(self) -> Decimal:
        return self.principal + self.penalty


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def build_claim_data(
    session: Session,
    organisation_id: int,
    case_id: int,
    *,
    calculated_on: date,
    charges: ChargeSet | None = None,
    rules: PenaltyRules | None = None,
) -> ClaimData:
    """The claim for a case: charges reconstructed from the registry unless ``charges`` are given.

    Payments passed to the penalty calculation: with reconstructed charges, those after the first
    snapshot (the opening debt is already net of earlier ones); with the lawyer's charges, those made on
    or after the first charged month's first day. The price of the claim (principal + penalty, ГПК РФ
    ст. 91 ч. 1 п. 1) must not exceed :data:`COURT_ORDER_LIMIT`.
    """
    case = case_of(session, organisation_id, case_id)
    debtor = session.get(Debtor, case.debtor_id)
    organisation = session.get(Organisation, organisation_id)
    if debtor is None or organisation is None:  # pragma: no cover - foreign keys guarantee both
        raise ClaimError(f"legal case #{case_id} has no debtor")
    paid = [
        (row.paid_on, row.amount)
        for row in session.scalars(
            select(PaymentRow).where(PaymentRow.debtor_id == debtor.id).order_by(PaymentRow.paid_on)
        )
    ]
    if charges is None:
        snapshots = [
            Snapshot(row.as_of, row.amount)
            for row in session.scalars(
                select(DebtSnapshot).where(DebtSnapshot.debtor_id == debtor.id).order_by(DebtSnapshot.as_of)
            )
        ]
        charges = reconstruct_charges(snapshots, paid)
        start = min(snapshot.as_of for snapshot in snapshots)
        payments = [PenaltyPayment(day, amount) for day, amount in paid if day > start]
    else:
        if not charges.charges:
            raise ClaimError(f"case #{case_id}: the charges given are empty")
        start = charges.charges[0].period
        payments = [PenaltyPayment(day, amount) for day, amount in paid if day >= start]
    rules = rules or PenaltyRules(key_rates=tuple(load_key_rates()), moratoriums=tuple(load_moratoriums()))
    calculation = calculate_penalties(charges.charges, payments, rules, calculated_on)

    if case.amount_claimed is not None:
        principal, principal_source = case.amount_claimed, f"сумма, указанная в деле № {case.id}"
    else:
        as_of = f" на {debtor.debt_as_of:%d.%m.%Y}" if debtor.debt_as_of else ""
        principal, principal_source = debtor.debt, f"задолженность по реестру{as_of}"
    if principal <= 0:
        raise ClaimError(f"case #{case_id}: the principal debt is {principal}: there is nothing to claim")
    total = principal + calculation.total_penalty
    if total > COURT_ORDER_LIMIT:
        raise ClaimError(
            f"case #{case_id}: the claim is {_amount(total)} руб., "
            f"above the {_amount(COURT_ORDER_LIMIT)} руб. a court order may be issued for "
            "(ГПК РФ ст. 121 ч. 1)",
            hint="file a lawsuit (иск) instead",
        )
    unpaid = [c.charge.period for c in calculation.charges if c.outstanding > 0]
    months = unpaid or [charge.period for charge in charges.charges]
    key_rate = None if rules.policy is RatePolicy.PER_PERIOD else rules.rate_for(calculated_on, calculated_on)
    return ClaimData(
        case_id=case.id,
        creditor=organisation.name,
        court=case.court,
        debtor_name=debtor.full_name,
        debtor_address=debtor.address,
        account=debtor.account,
        period_from=min(months),
        period_to=_month_end(max(months)),
        principal=principal,
        principal_source=principal_source,
        charges=charges,
        calculation=calculation,
        state_fee=court_order_state_fee(total),
        attachments=(
            f"Расчёт задолженности и пеней на {calculated_on:%d.%m.%Y}.",
            "Документ, подтверждающий уплату государственной пошлины.",
            f"Выписка из лицевого счёта № {debtor.account}.",
            "Документ, подтверждающий полномочия представителя (если заявление подписано представителем).",
        ),
        key_rate=key_rate,
    )


# --- the template ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One block of the application: ``heading`` (centred, bold), ``right`` (the parties), ``paragraph``."""

    kind: str
    text: str
    line: int


@dataclass(frozen=True, slots=True)
class ClaimTemplate:
    header: dict[str, str]
    blocks: tuple[Block, ...]


def parse_template(text: str, source: str = "template") -> ClaimTemplate:
    """Split the template into its header values and body blocks; check every placeholder."""
    lines = text.lstrip("\ufeff").splitlines()
    header, body_start = _parse_header(lines, source)
    known = set(PLACEHOLDERS) | set(header)
    used: set[str] = set()
    blocks: list[Block] = []
    kind, first_line = "", 0
    parts: list[str] = []

    def flush() -> None:
        nonlocal kind, parts
        if parts:
            blocks.append(Block(kind, ("\n" if kind == "right" else " ").join(parts), first_line))
        kind, parts = "", []

    for number, raw in enumerate(lines[body_start:], start=body_start + 1):
        line = raw.strip()
        if line.startswith("//"):
            continue
        used |= _placeholders(line, known, source, number)
        if not line:
            flush()
        elif line == "#" or line.startswith("# "):
            flush()
            blocks.append(Block("heading", line.lstrip("#").strip(), number))
        elif line.startswith(">>"):
            if kind != "right":
                flush()
                kind, first_line = "right", number
            parts.append(line[2:].strip())
        else:
            if kind != "paragraph":
                flush()
                kind, first_line = "paragraph", number
            parts.append(line)
    flush()
    missing = sorted(REQUIRED - used)
    if missing:
        raise ClaimTemplateError(
            f"{source}: the template has no {{{missing[0]}}} placeholder, which the application must show",
            hint=f"required: {', '.join('{' + name + '}' for name in sorted(REQUIRED))}",
        )
    if not blocks:
        raise ClaimTemplateError(f"{source}: the template has no text")
    return ClaimTemplate(header, tuple(blocks))


def _parse_header(lines: Sequence[str], source: str) -> tuple[dict[str, str], int]:
    """The ``key: value`` lines before the first ``---`` line, and the index of the body's first line."""
    header: dict[str, str] = {}
    body_start = 0
    if any(line.strip() == "---" for line in lines):
        body_start = next(i for i, line in enumerate(lines) if line.strip() == "---") + 1
        for number, line in enumerate(lines[: body_start - 1], start=1):
            if not line.strip() or line.lstrip().startswith("//"):
                continue
            key, colon, value = line.partition(":")
            key = key.strip()
            if not colon or not _HEADER_KEY.match(key):
                raise ClaimTemplateError(
                    f"{source}, line {number}: expected a header line «key: value» "
                    "(key in latin lower case), "
                    f"got {line.strip()!r}"
                )
            if key in PLACEHOLDERS and key != "creditor":
                raise ClaimTemplateError(
                    f"{source}, line {number}: the header cannot set {key!r}: it comes from the case"
                )
            header[key] = value.strip()
    return header, body_start


def _placeholders(line: str, known: set[str], source: str, number: int) -> set[str]:
    try:
        fields = list(string.Formatter().parse(line))
    except ValueError:
        raise ClaimTemplateError(
            f"{source}, line {number}: an unmatched «{{» or «}}» (write «{{{{» or «}}}}» for a literal brace)"
        ) from None
    found: set[str] = set()
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in known:
            raise ClaimTemplateError(
                f"{source}, line {number}: unknown placeholder {{{name}}}",
                hint=f"known: {', '.join('{' + key + '}' for key in sorted(known))}",
            )
        if spec or conversion:
            raise ClaimTemplateError(f"{source}, line {number}: {{{name}}} takes no format or conversion")
        found.add(name)
    return found


def _amount(value: Decimal) -> str:
    """``12 345,67`` with no-break spaces between thousands."""
    whole, _, kopecks = f"{value.quantize(_KOPECK, rounding=ROUND_HALF_UP):,.2f}".partition(".")
    return whole.replace(",", NBSP) + "," + kopecks


def _rubles(value: Decimal) -> str:
    return f"{_amount(value)}{NBSP}руб."


def _words(value: Decimal) -> str:
    text = say(money_prompts(value))
    return text[:1].upper() + text[1:]


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",") + NBSP + "%"


def template_values(data: ClaimData, header: Mapping[str, str]) -> dict[str, str]:
    """Every placeholder's text (the template header's own keys included)."""
    values = {
        "court": data.court or "________________________________\n(наименование суда)",
        "creditor": data.creditor,
        "debtor_name": data.debtor_name or "—",
        "debtor_address": data.debtor_address or "—",
        "account": data.account,
        "period_from": f"{data.period_from:%d.%m.%Y}",
        "period_to": f"{data.period_to:%d.%m.%Y}",
        "principal": _rubles(data.principal),
        "principal_words": _words(data.principal),
        "penalty": _rubles(data.penalty),
        "total": _rubles(data.total),
        "total_words": _words(data.total),
        "state_fee": _rubles(data.state_fee),
        "date": f"{data.calculated_on:%d.%m.%Y}",
        "attachments": "\n".join(f"{n}. {text}" for n, text in enumerate(data.attachments, start=1)),
    }
    return {**values, **data.extra, **header}


def _filled(data: ClaimData, template_text: str, source: str) -> list[Block]:
    template = parse_template(template_text, source)
    values = template_values(data, template.header)
    # «№ 100001» never breaks between the sign and the number.
    return [
        Block(b.kind, b.text.format_map(values).replace("№ ", "№" + NBSP), b.line) for b in template.blocks
    ]


# --- the calculation (shared by both renderers) ------------------------------------------------------


def _segment_row(segment: PenaltySegment) -> list[str]:
    if segment.moratorium is not None:
        fraction, rate = "мораторий", "—"
    else:
        fraction, rate = segment.fraction_label, _percent(segment.rate_percent)
    return [
        f"{segment.period:%m.%Y}",
        _amount(segment.outstanding),
        f"{segment.start:%d.%m.%Y}",
        f"{segment.end:%d.%m.%Y}",
        str(segment.days),
        fraction,
        rate,
        _amount(segment.penalty),
    ]


_PRINCIPAL_HEAD = ("Период", "Начислено, руб.", "Оплачено, руб.", "Остаток долга, руб.")
_PENALTY_HEAD = ("Период", "Долг, руб.", "С", "По", "Дней", "Доля ставки", "Ставка", "Пени, руб.")


def _principal_rows(data: ClaimData) -> tuple[list[list[str]], list[str]]:
    rows = [
        [f"{c.charge.period:%m.%Y}", _amount(c.charge.amount), _amount(c.paid), _amount(c.outstanding)]
        for c in data.calculation.charges
    ]
    charged = sum((c.charge.amount for c in data.calculation.charges), _ZERO)
    paid = sum((c.paid for c in data.calculation.charges), _ZERO)
    return rows, ["Итого", _amount(charged), _amount(paid), _amount(data.calculation.total_outstanding)]


def _calculation_intro(data: ClaimData) -> list[str]:
    if data.calculation.policy is RatePolicy.ON_CALCULATION_DATE and data.key_rate is not None:
        rate = f"ключевая ставка Банка России на дату расчёта — {_percent(data.key_rate)} годовых"
    elif data.calculation.policy is RatePolicy.ON_CALCULATION_DATE:
        rate = "ключевая ставка Банка России на дату расчёта"
    else:
        rate = "ключевая ставка Банка России, действовавшая в каждый период"
    source = (
        "восстановлены по остаткам задолженности в реестре и поступившим оплатам (расчётная оценка)"
        if data.charges.reconstructed
        else f"по данным выписки начислений ({Path(data.charges.source).name})"
    )
    return [
        f"Должник: {data.debtor_name or '—'}, лицевой счёт № {data.account}, "
        f"адрес: {data.debtor_address or '—'}.",
        f"Взыскатель: {data.creditor}. Дата расчёта: {data.calculated_on:%d.%m.%Y}.",
        f"Начисления {source}.",
        "Пени рассчитаны по ч. 14 ст. 155 ЖК РФ: с 31-го по 90-й день просрочки — 1/300, с 91-го дня — "
        f"1/130 ставки; {rate}. Оплаты зачтены в погашение более ранних начислений.",
    ]


def _summary(data: ClaimData) -> list[tuple[str, str]]:
    return [
        (f"Основной долг ({data.principal_source})", _rubles(data.principal)),
        ("Пени", _rubles(data.penalty)),
        ("Итого к взысканию", _rubles(data.total)),
        ("Государственная пошлина (50 % по пп. 2 п. 1 ст. 333.19 НК РФ)", _rubles(data.state_fee)),
    ]


# --- PDF ---------------------------------------------------------------------------------------------

_PT = 25.4 / 72
_SIZE = 11.5
_LINE = _SIZE * _PT * 1.45
_MARGINS = (25.0, 20.0, 15.0)  # left, top, right (mm)


class _ClaimPdf(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer = footer
        add_dejavu(self)
        self.set_lang("ru")
        self.set_creator("UpravDolg")
        self.alias_nb_pages("{nb}")
        self.set_margins(*_MARGINS)
        self.set_auto_page_break(auto=True, margin=20)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, "", 8)
        self.set_text_color(100)
        self.cell(self.epw, 4, f"{self._footer} · стр. {self.page_no()} из {{nb}}", align=Align.L)
        self.set_text_color(0)


def render_claim_pdf(data: ClaimData, template_text: str, *, source: str = "template") -> bytes:
    """The application (from the template), then «Расчёт задолженности и пеней» on a new page."""
    blocks = _filled(data, template_text, source)
    pdf = _ClaimPdf(f"Заявление о вынесении судебного приказа · л/с {data.account}")
    pdf.set_title(f"Заявление о вынесении судебного приказа — {data.debtor_name}")
    pdf.set_author(data.creditor)
    pdf.add_page()
    previous = ""
    for block in blocks:
        if block.kind == "right":
            pdf.set_font(FONT, "", _SIZE)
            if previous == "right":
                pdf.ln(_LINE * 0.5)
            left = pdf.l_margin + pdf.epw * 0.45
            pdf.set_x(left)
            pdf.multi_cell(
                pdf.epw * 0.55, _LINE, block.text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        elif block.kind == "heading":
            if pdf.will_page_break(_LINE * 6):  # a heading never ends a page
                pdf.add_page()
            pdf.ln(_LINE * (1.2 if previous != "heading" else 0.1))
            pdf.set_font(FONT, "B", _SIZE + 1)
            pdf.multi_cell(0, _LINE, block.text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(_LINE * 0.3)
        else:
            pdf.set_font(FONT, "", _SIZE)
            pdf.ln(_LINE * 0.4)
            pdf.multi_cell(0, _LINE, block.text, align=Align.J, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        previous = block.kind

    _pdf_calculation(pdf, data)
    return bytes(pdf.output())


def _pdf_calculation(pdf: FPDF, data: ClaimData) -> None:
    pdf.add_page()
    pdf.set_font(FONT, "B", _SIZE + 1)
    pdf.cell(0, _LINE, "Расчёт задолженности и пеней", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", _SIZE - 1)
    pdf.cell(
        0, _LINE, "(приложение к заявлению о вынесении судебного приказа)", align=Align.C,
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.ln(2)
    small = (_SIZE - 1.5) * _PT * 1.4
    pdf.set_font(FONT, "", _SIZE - 1.5)
    for line in _calculation_intro(data):
        pdf.multi_cell(0, small, line, align=Align.J, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for note in data.charges.notes:
        pdf.set_text_color(60)
        pdf.multi_cell(0, small, f"Примечание. {note}", align=Align.J, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0)

    bold = FontFace(emphasis="BOLD")
    head = FontFace(emphasis="BOLD", fill_color=(232, 232, 232))
    pdf.ln(3)
    pdf.set_font(FONT, "B", _SIZE - 0.5)
    pdf.cell(0, _LINE, "1. Основной долг по месяцам", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    rows, total = _principal_rows(data)
    with pdf.table(
        col_widths=(25, 35, 35, 40), width=135, align="LEFT",
        text_align=("CENTER", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=head, line_height=4.6, padding=(0.8, 1.5),
    ) as table:  # fmt: skip
        table.row(list(_PRINCIPAL_HEAD))
        for row in rows:
            table.row(row)
        table.row(total, style=bold)

    pdf.ln(4)
    pdf.set_font(FONT, "B", _SIZE - 0.5)
    pdf.cell(0, _LINE, "2. Пени (ч. 14 ст. 155 ЖК РФ)", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 8.5)
    segments = data.calculation.segments
    if segments:
        with pdf.table(
            col_widths=(17, 24, 21, 21, 13, 21, 17, 22), width=pdf.epw,
            text_align=("CENTER", "RIGHT", "CENTER", "CENTER", "RIGHT", "CENTER", "RIGHT", "RIGHT"),
            headings_style=head, line_height=4.4, padding=(0.8, 1.2), repeat_headings=1,
        ) as table:  # fmt: skip
            table.row(list(_PENALTY_HEAD))
            for segment in segments:
                table.row(_segment_row(segment))
            table.row(["Итого", "", "", "", "", "", "", _amount(data.penalty)], style=bold)
    else:
        pdf.set_font(FONT, "", _SIZE - 1.5)
        pdf.multi_cell(0, small, "Пени на дату расчёта не начислены.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(4)
    pdf.set_font(FONT, "B", _SIZE - 0.5)
    pdf.cell(0, _LINE, "3. Итого", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for label, value in _summary(data):
        pdf.set_font(FONT, "", _SIZE - 1)
        pdf.cell(pdf.epw - 40, _LINE, label, new_x=XPos.RIGHT)
        pdf.set_font(FONT, "B", _SIZE - 1)
        pdf.cell(40, _LINE, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.set_font(FONT, "", _SIZE - 1)
    pdf.cell(0, _LINE, "Расчёт составил: ____________________ / ____________________ /", new_x=XPos.LMARGIN)


# --- DOCX --------------------------------------------------------------------------------------------


def render_claim_docx(data: ClaimData, template_text: str, *, source: str = "template") -> bytes:
    """The same content as a Word document the lawyer may still edit."""
    blocks = _filled(data, template_text, source)
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(12)
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin, section.right_margin = Cm(2.5), Cm(1.5)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    document.core_properties.title = f"Заявление о вынесении судебного приказа — {data.debtor_name}"
    document.core_properties.author = data.creditor

    for block in blocks:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(block.text)
        fmt = paragraph.paragraph_format
        if block.kind == "right":
            fmt.left_indent = Cm(8.5)
            fmt.space_after = Pt(6)
        elif block.kind == "heading":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
            fmt.space_before = Pt(12)
            fmt.space_after = Pt(6)
        else:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            fmt.first_line_indent = Cm(1.25)
            fmt.space_after = Pt(6)

    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run("Расчёт задолженности и пеней").bold = True
    sub = document.add_paragraph("(приложение к заявлению о вынесении судебного приказа)")
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in _calculation_intro(data):
        document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    for note in data.charges.notes:
        document.add_paragraph(f"Примечание. {note}").alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    document.add_paragraph().add_run("1. Основной долг по месяцам").bold = True
    rows, total = _principal_rows(data)
    _docx_table(document, _PRINCIPAL_HEAD, rows, total)
    document.add_paragraph().add_run("2. Пени (ч. 14 ст. 155 ЖК РФ)").bold = True
    segments = data.calculation.segments
    if segments:
        _docx_table(
            document,
            _PENALTY_HEAD,
            [_segment_row(segment) for segment in segments],
            ["Итого", "", "", "", "", "", "", _amount(data.penalty)],
        )
    else:
        document.add_paragraph("Пени на дату расчёта не начислены.")
    document.add_paragraph().add_run("3. Итого").bold = True
    for label, value in _summary(data):
        paragraph = document.add_paragraph(f"{label}: ")
        paragraph.add_run(value).bold = True
    document.add_paragraph("Расчёт составил: ____________________ / ____________________ /")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_table(
    document: DocxDocument, head: Sequence[str], rows: Sequence[Sequence[str]], total: Sequence[str]
) -> None:
    table = document.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for values in (*rows, total):
        cells = table.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, values, strict=True)):
            cell.text = text
            if index > 0:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for cell in table.rows[-1].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9.5)
