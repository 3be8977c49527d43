"""Printable paper notices (уведомления о задолженности) and a courier's route sheet (маршрутный лист) as PDF.

Pure rendering: the caller (debtors/notices.py ``printable``) picks the notices, orders them by address and
marks them printed; this module only turns them into pages. One A4 page per notice with a receipt strip
(корешок) at the bottom that the courier brings back signed; the route sheet is a landscape table the
courier fills by hand. Text is set in DejaVu Sans (Debian ``fonts-dejavu-core``), embedded as a subset,
so Cyrillic prints the same on any machine.

The warning follows ПП РФ № 354 («Правила предоставления коммунальных услуг…», 06.05.2011), clauses
117-119: a service may be restricted or suspended for a debt when the debtor was warned in writing and has
not paid within 20 days of the warning's delivery (clause 119 «а»); here the days come from the
letterhead (the restriction settings, never below 20).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF, Align, FontFace, XPos, YPos
from fpdf.enums import MethodReturnValue

from debtors.field_rules import METHOD_LABELS, NOTICE_KIND_LABELS, DeliveryMethod, NoticeKind
from dialer.core.russian_numbers import WORDS, money_prompts, noun_prompt, say
from dialer.errors import UpravDolgError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}  # fpdf style -> file in FONT_DIR
FONT_PACKAGE = "fonts-dejavu-core"
FONT = "DejaVu"

NBSP = "\u00a0"
_KOPECK = Decimal("0.01")
_PT = 25.4 / 72  # millimetres per point
_LEADING = 1.35  # line height as a multiple of the font size

TITLES = {
    NoticeKind.PRIMARY: "УВЕДОМЛЕНИЕ О ЗАДОЛЖЕННОСТИ",
    NoticeKind.SECONDARY: "ПОВТОРНОЕ УВЕДОМЛЕНИЕ О ЗАДОЛЖЕННОСТИ",
}
# Methods a courier may tick on the receipt strip: those that hand the notice over («никого нет дома» is a
# visit, not a delivery, so it is not on a signed strip).
RECEIPT_METHODS = (DeliveryMethod.PERSONAL, DeliveryMethod.MAILBOX, DeliveryMethod.REFUSED)

# Notice page geometry (A4 portrait, mm).
_NOTICE_MARGINS = (20.0, 15.0, 15.0)  # left, top, right
_STRIP_TOP = 236.0  # the dashed cut line of the receipt strip; the body must end above it
_BODY_BOTTOM = _STRIP_TOP - 5.0
_BODY_SIZES = (11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5)  # pt, tried in turn until the body fits
_FOOTER_Y = -11.0
_BOX_PAD = 2.0  # between the warning and its frame

# Route sheet (A4 landscape): column headings, widths (mm, sum = the usable width) and alignment.
_ROUTE_COLUMNS = (
    ("№", 9.0, "C"),
    ("Адрес", 60.0, "L"),
    ("ФИО", 45.0, "L"),
    ("Лицевой счёт", 26.0, "L"),
    ("Вид", 20.0, "C"),
    ("Сумма, руб.", 24.0, "R"),
    ("Способ вручения", 33.0, "L"),
    ("Попыток", 20.0, "C"),
    ("Подпись", 30.0, "L"),
)
_ROUTE_MARGIN = 15.0
_ROUTE_SIZE = 8.5
_ROUTE_ROW_HEIGHT = 9.0  # room to write by hand


class NoticeFontError(UpravDolgError):
    """The font for printing notices is missing."""


@dataclass(frozen=True, slots=True)
class PrintedNotice:
    notice_id: int
    kind: str  # "primary" | "secondary" (debtors.field_rules.NoticeKind)
    account: str  # лицевой счёт
    full_name: str
    address: str  # full address line as stored
    debt: Decimal  # the amount printed
    months_overdue: int
    debt_as_of: date | None
    created_on: date


@dataclass(frozen=True, slots=True)
class NoticeLetterhead:
    organisation: str  # e.g. УК «Пример»
    how_to_pay: str  # where and how to pay (settings: notices.how_to_pay)
    restriction_days: int  # days after delivery after which the service may be restricted (20)
    printed_at: datetime  # aware; shown in the footer in the organisation's local time
    timezone: str  # e.g. "Europe/Moscow"


def render_notices(notices: Sequence[PrintedNotice], letterhead: NoticeLetterhead) -> bytes:
    """One A4 page per notice, in the order given."""
    if not notices:
        raise ValueError("no notices to print: the batch is empty")
    kinds = [_checked_kind(n) for n in notices]
    printed = _local_time(letterhead)
    pdf = _Document("P", footer=f"{letterhead.organisation} · напечатано {printed}", letterhead=letterhead)
    pdf.set_title("Уведомления о задолженности")
    pdf.set_margins(*_NOTICE_MARGINS)
    pdf.set_auto_page_break(auto=False)
    for notice, kind in zip(notices, kinds, strict=True):
        pdf.add_page()
        body = _notice_body(notice, kind, letterhead)
        size = next((s for s in _BODY_SIZES if _height(pdf, body, s) <= _BODY_BOTTOM - pdf.t_margin), None)
        _draw(pdf, body, size or _BODY_SIZES[-1])
        _receipt_strip(pdf, notice)
    return bytes(pdf.output())


def render_route_sheet(
    courier: str, day: date, stops: Sequence[PrintedNotice], letterhead: NoticeLetterhead
) -> bytes:
    """The courier's list of the day's notices, in the order given (the caller orders them by address)."""
    if not stops:
        raise ValueError("no notices for the route sheet: the list of stops is empty")
    kinds = [_checked_kind(n) for n in stops]
    printed = _local_time(letterhead)
    courier = " ".join(courier.split()) or "—"
    pdf = _Document(
        "L",
        footer=f"Маршрутный лист · {courier} · {day:%d.%m.%Y} · напечатано {printed}",
        letterhead=letterhead,
    )
    pdf.set_title(f"Маршрутный лист {day:%d.%m.%Y}")
    pdf.set_margins(_ROUTE_MARGIN, _ROUTE_MARGIN, _ROUTE_MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_ROUTE_MARGIN + 5)
    pdf.add_page()

    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(0, 5, letterhead.organisation, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, "МАРШРУТНЫЙ ЛИСТ", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(
        0,
        5.5,
        f"Курьер: {courier}\nДата: {day:%d.%m.%Y}\nУведомлений: {len(stops)}",
        align=Align.L,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(3)

    pdf.set_font(FONT, "", _ROUTE_SIZE)
    with pdf.table(
        col_widths=tuple(width for _, width, _ in _ROUTE_COLUMNS),
        width=sum(width for _, width, _ in _ROUTE_COLUMNS),
        text_align=tuple(align for _, _, align in _ROUTE_COLUMNS),
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        line_height=_ROUTE_SIZE * _PT * 1.25,
        min_row_height=_ROUTE_ROW_HEIGHT,
        padding=(0.8, 1.2),
        repeat_headings=1,
    ) as table:
        table.row([heading for heading, _, _ in _ROUTE_COLUMNS])
        for number, (stop, kind) in enumerate(zip(stops, kinds, strict=True), start=1):
            table.row(
                [
                    str(number),
                    stop.address,
                    stop.full_name,
                    stop.account,
                    NOTICE_KIND_LABELS[kind],
                    _amount(stop.debt),
                    "",
                    "",
                    "",
                ]
            )

    primary = sum(1 for kind in kinds if kind is NoticeKind.PRIMARY)
    total = sum((_kopecks(stop.debt) for stop in stops), Decimal(0))
    summary = (
        f"Итого уведомлений: {len(stops)} (первичных: {primary}, повторных: {len(stops) - primary})\n"
        f"Общая сумма задолженности: {_rubles(total)}"
    )
    signatures = "Выдал: ______________________ (подпись)        Курьер: ______________________ (подпись)"
    pdf.set_font(FONT, "B", 10)
    if pdf.will_page_break(5.5 * 2 + 4 + 12):
        pdf.add_page()
    pdf.ln(4)
    pdf.multi_cell(0, 5.5, summary, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(FONT, "", 9)
    pdf.cell(0, 5, signatures, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


# --- the notice page ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    """One paragraph of the notice body; ``label`` goes bold in a left column, the text wraps beside it."""

    text: str
    label: str = ""
    bold: bool = False
    scale: float = 1.0  # font size relative to the body's
    align: Align = Align.J
    space_before: float = 0.0  # in lines of the body's size
    boxed: bool = False


def _notice_body(notice: PrintedNotice, kind: NoticeKind, letterhead: NoticeLetterhead) -> list[_Block]:
    as_of = f"{notice.debt_as_of:%d.%m.%Y}" if notice.debt_as_of else "дату последнего расчёта"
    months = f"{notice.months_overdue} {WORDS[noun_prompt('month', notice.months_overdue)]}"
    words = say(money_prompts(notice.debt))
    if kind is NoticeKind.SECONDARY:
        intro = (
            "Ранее Вам было направлено уведомление о задолженности по оплате жилищно-коммунальных услуг. "
            f"По состоянию на {as_of} задолженность не погашена."
        )
    else:
        intro = (
            "Уведомляем Вас о том, что по указанному лицевому счёту по состоянию на "
            f"{as_of} имеется задолженность по оплате жилищно-коммунальных услуг."
        )
    days = letterhead.restriction_days
    warning = (
        "В соответствии с пунктами 117–119 Правил предоставления коммунальных услуг собственникам и "
        "пользователям помещений в многоквартирных домах и жилых домов, утверждённых постановлением "
        "Правительства Российской Федерации от 06.05.2011 № 354 (ПП РФ № 354), предупреждаем: если "
        f"задолженность не будет погашена в течение {days} {_days_genitive(days)} со дня доставки Вам "
        "настоящего уведомления, предоставление коммунальной услуги «водоотведение» может быть ограничено "
        "или приостановлено путём установки заглушки на канализационный выпуск. Расходы исполнителя, "
        "связанные с введением ограничения, приостановлением и возобновлением предоставления коммунальной "
        "услуги, подлежат возмещению за счёт потребителя-должника."
    )
    return [
        _Block(letterhead.organisation, bold=True, align=Align.L),
        _Block(TITLES[kind], bold=True, scale=1.3, align=Align.C, space_before=1.5),
        _Block(f"№ {notice.notice_id} от {notice.created_on:%d.%m.%Y}", align=Align.C),
        _Block(notice.full_name or "—", label="Кому:", align=Align.L, space_before=1.5),
        _Block(notice.account, label="Лицевой счёт:", align=Align.L, space_before=0.2),
        _Block(notice.address or "—", label="Адрес:", align=Align.L, space_before=0.2),
        _Block(intro, space_before=1.2),
        _Block(_rubles(notice.debt), label="Сумма долга:", bold=True, align=Align.L, space_before=0.8),
        _Block(_capitalised(words), label="Прописью:", align=Align.L, space_before=0.2),
        _Block(months, label="Период долга:", align=Align.L, space_before=0.2),
        _Block(
            "Просим погасить задолженность в полном объёме в кратчайший срок. Если задолженность уже "
            "погашена, просим не принимать настоящее уведомление во внимание.",
            space_before=1.0,
        ),
        _Block(_sentence(letterhead.how_to_pay), label="Как оплатить:", align=Align.L, space_before=0.6),
        _Block("ПРЕДУПРЕЖДЕНИЕ", bold=True, align=Align.C, space_before=1.2),
        _Block(warning, boxed=True, space_before=0.3),
    ]


def _line(size: float) -> float:
    return size * _PT * _LEADING


def _label_width(pdf: FPDF, blocks: Sequence[_Block], size: float) -> float:
    pdf.set_font(FONT, "B", size)
    return max((pdf.get_string_width(b.label) for b in blocks if b.label), default=0.0) + 3.0


def _height(pdf: FPDF, blocks: Sequence[_Block], size: float) -> float:
    """How tall the body is at ``size`` pt (measured by fpdf's own line breaking, nothing drawn)."""
    label_w = _label_width(pdf, blocks, size)
    total = 0.0
    for block in blocks:
        block_size = size * block.scale
        pdf.set_font(FONT, "B" if block.bold else "", block_size)
        width = pdf.epw - (label_w if block.label else 0.0) - (2 * _BOX_PAD if block.boxed else 0.0)
        lines = pdf.multi_cell(
            width,
            _line(block_size),
            block.text,
            align=block.align,
            dry_run=True,
            output=MethodReturnValue.LINES,
        )
        if not isinstance(lines, list):  # pragma: no cover - fpdf returns what ``output`` asks for
            raise TypeError(f"fpdf returned {type(lines).__name__} instead of the wrapped lines")
        total += block.space_before * _line(size) + len(lines) * _line(block_size)
        total += 2 * _BOX_PAD if block.boxed else 0.0
    return total


def _draw(pdf: FPDF, blocks: Sequence[_Block], size: float) -> None:
    label_w = _label_width(pdf, blocks, size)
    for block in blocks:
        block_size = size * block.scale
        pdf.set_y(pdf.get_y() + block.space_before * _line(size))
        if block.label:
            pdf.set_font(FONT, "B", size)
            pdf.cell(label_w, _line(block_size), block.label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(FONT, "B" if block.bold else "", block_size)
        if block.boxed:
            top = pdf.get_y()
            pdf.set_xy(pdf.l_margin + _BOX_PAD, top + _BOX_PAD)
            pdf.multi_cell(
                pdf.epw - 2 * _BOX_PAD, _line(block_size), block.text, align=block.align, new_x=XPos.LMARGIN
            )
            bottom = pdf.get_y() + _BOX_PAD
            pdf.set_line_width(0.4)
            pdf.rect(pdf.l_margin, top, pdf.epw, bottom - top)
            pdf.set_y(bottom)
            continue
        width = pdf.epw - (label_w if block.label else 0.0)
        pdf.multi_cell(width, _line(block_size), block.text, align=block.align, new_x=XPos.LMARGIN)


def _receipt_strip(pdf: FPDF, notice: PrintedNotice) -> None:
    """The tear-off receipt: the debtor signs, the courier ticks how the notice was handed over."""
    left, width = pdf.l_margin, pdf.epw
    pdf.set_draw_color(90)
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.line(left - 10, _STRIP_TOP, left + width + 10, _STRIP_TOP)
    pdf.set_dash_pattern()
    pdf.set_draw_color(0)
    pdf.set_font(FONT, "", 7)
    pdf.set_xy(left, _STRIP_TOP - 3.5)
    pdf.cell(width, 3, "линия отреза", align=Align.R)

    line = 6.5
    pdf.set_xy(left, _STRIP_TOP + 3)
    pdf.set_font(FONT, "B", 9.5)
    pdf.multi_cell(
        width,
        5.0,
        f"КОРЕШОК уведомления № {notice.notice_id} от {notice.created_on:%d.%m.%Y}, "
        f"лицевой счёт {notice.account}",
        align=Align.L,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(1.0)
    pdf.set_font(FONT, "", 9.5)
    rows = (
        "Уведомление получил(а): ____________________ подпись      «____» ______________ 20____ г. дата",
        "Ф.И.О. получателя: ________________________________________________________________",
    )
    for text in rows:
        pdf.cell(width, line, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # Delivery method: ticked by hand in the boxes.
    pdf.cell(pdf.get_string_width("Способ вручения:") + 3, line, "Способ вручения:", new_x=XPos.RIGHT)
    for method in RECEIPT_METHODS:
        box_y = pdf.get_y() + (line - 3.2) / 2
        pdf.set_line_width(0.3)
        pdf.rect(pdf.get_x(), box_y, 3.2, 3.2)
        pdf.set_x(pdf.get_x() + 4.5)
        label = METHOD_LABELS[method]
        pdf.cell(pdf.get_string_width(label) + 6, line, label, new_x=XPos.RIGHT)
    pdf.ln(line)
    pdf.cell(
        width,
        line,
        "Курьер: ____________________ подпись   ____________________ Ф.И.О.   Дата и время: ________________",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


# --- shared ------------------------------------------------------------------------------------------


class _Document(FPDF):
    """A4 with the DejaVu fonts, metadata and the footer «… стр. N из M» on every page."""

    def __init__(self, orientation: str, *, footer: str, letterhead: NoticeLetterhead) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self._footer = footer
        for style, name in FONT_FILES.items():
            path = FONT_DIR / name
            if not path.is_file():
                raise NoticeFontError(
                    f"the font {path} is missing", hint=f"install the Debian package {FONT_PACKAGE}"
                )
            self.add_font(FONT, style, str(path))
        self.set_lang("ru")
        self.set_author(letterhead.organisation)
        self.set_creator("UpravDolg")
        self.set_creation_date(letterhead.printed_at)
        self.alias_nb_pages("{nb}", align=Align.R)

    def footer(self) -> None:
        self.set_y(_FOOTER_Y)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(80)
        number = f"стр. {self.page_no()} из {{nb}}"
        room = self.epw - self.get_string_width(number) - 5
        self.cell(room, 4, _fit(self, self._footer, room), align=Align.L)
        self.set_x(self.l_margin)
        self.cell(self.epw, 4, number, align=Align.R)
        self.set_text_color(0)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` shortened with «…» to fit ``width`` on one line."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _checked_kind(notice: PrintedNotice) -> NoticeKind:
    try:
        kind = NoticeKind(notice.kind)
    except ValueError:
        known = ", ".join(k.value for k in NoticeKind)
        raise ValueError(
            f"notice {notice.notice_id}: unknown kind {notice.kind!r} (expected {known})"
        ) from None
    if notice.debt < 0:
        raise ValueError(f"notice {notice.notice_id}: the debt {notice.debt} is negative")
    if notice.months_overdue < 0:
        raise ValueError(f"notice {notice.notice_id}: months overdue {notice.months_overdue} is negative")
    return kind


def _local_time(letterhead: NoticeLetterhead) -> str:
    if letterhead.printed_at.utcoffset() is None:
        raise ValueError("printed_at must be an aware datetime")
    return f"{letterhead.printed_at.astimezone(ZoneInfo(letterhead.timezone)):%d.%m.%Y %H:%M}"


def _kopecks(amount: Decimal) -> Decimal:
    return amount.quantize(_KOPECK, rounding=ROUND_HALF_UP)


def _amount(amount: Decimal) -> str:
    """``12 345,67`` with no-break spaces between thousands (a line never breaks inside a number)."""
    whole, _, kopecks = f"{_kopecks(amount):,.2f}".partition(".")
    return whole.replace(",", NBSP) + "," + kopecks


def _rubles(amount: Decimal) -> str:
    return f"{_amount(amount)}{NBSP}руб."


def _days_genitive(days: int) -> str:
    """«в течение 20 дней», «в течение 21 дня» (genitive after «в течение»)."""
    return "дня" if days % 10 == 1 and days % 100 != 11 else "дней"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    """Capital first letter and a full stop at the end (the setting is often a bare phrase)."""
    text = " ".join(text.split())
    if not text:
        return "—"
    return _capitalised(text) if text[-1] in ".!?" else _capitalised(text) + "."
