"""A report as PDF (fpdf2, DejaVu Sans): A4, landscape when a section's table does not fit a portrait
page. The first page opens with the organisation, the title, the period, the generation time (the
organisation's timezone) and the filters; later pages carry a one-line running header; every page ends
with «стр. N из M». Tables break across pages with their header row repeated; totals rows are bold."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF, Align, FontFace, XPos, YPos

from debtors.pdf_fonts import FONT, add_dejavu
from debtors.reports.cell_text import print_text
from debtors.reports.model import NUMERIC_KINDS, Column, Report, Section

_PT = 25.4 / 72  # millimetres per point
_MARGIN = 12.0
_SIZE = 8.5  # table text, pt
_PAD = 1.2  # cell padding, mm
_PORTRAIT_WIDTH = 210.0 - 2 * _MARGIN
_TEXT_MAX = 75.0  # a text column's natural width is capped here (longer text wraps)
_HEADER_MAX = 32.0  # a heading wider than this wraps at its words
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
_TOTALS = FontFace(emphasis="BOLD", fill_color=(242, 242, 242))


class _ReportPdf(FPDF):
    def __init__(self, report: Report, orientation: str) -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        add_dejavu(self)
        self._running = f"{report.organisation} · {report.title} · {report.period_text}"
        self.set_lang("ru")
        self.set_title(report.title)
        self.set_author(report.organisation)
        self.set_creator("UpravDolg")
        self.set_creation_date(report.generated_at)
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN + 4)

    def header(self) -> None:
        if self.page_no() == 1:
            return  # the first page has the full header block instead
        self.set_font(FONT, "", 7.5)
        self.set_text_color(80)
        self.cell(0, 4, _fit(self, self._running, self.epw), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-_MARGIN)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(80)
        self.cell(0, 4, f"стр. {self.page_no()} из {{nb}}", align=Align.R)
        self.set_text_color(0)


def render_pdf(report: Report) -> bytes:
    pdf = _ReportPdf(report, "P")
    natural = [_natural_widths(pdf, section) for section in report.sections]
    wide = any(sum(widths) > _PORTRAIT_WIDTH for widths in natural)
    pdf.add_page(orientation="L" if wide else "P")  # later pages keep the first one's orientation
    _title_block(pdf, report)
    for section, widths in zip(report.sections, natural, strict=True):
        _section(pdf, section, _fitted(widths, section.columns, pdf.epw))
    return bytes(pdf.output())


def _title_block(pdf: FPDF, report: Report) -> None:
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(0, 5, report.organisation, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1.5)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, report.title, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font(FONT, "", 9.5)
    lines = [
        f"Период: {report.period_text}",
        f"Сформирован: {report.generated_text} ({report.timezone})",
        f"Отбор: {report.filters or 'нет'}",
    ]
    pdf.multi_cell(0, 5, "\n".join(lines), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _section(pdf: FPDF, section: Section, widths: Sequence[float]) -> None:
    line = _SIZE * _PT * 1.3
    if pdf.will_page_break(6 + 4 + 3 * (line + 2 * _PAD)):
        pdf.add_page(same=True)  # never leave a caption alone at the foot of a page
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 6, section.caption, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if section.note or not section.rows:
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(80)
        note = section.note + ("\n" if section.note and not section.rows else "")
        note += "" if section.rows else "Нет данных за период."
        pdf.multi_cell(0, 4, note, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0)
    pdf.ln(1)
    pdf.set_font(FONT, "", _SIZE)
    align = tuple("R" if c.kind in NUMERIC_KINDS else "L" for c in section.columns)
    with pdf.table(
        col_widths=tuple(widths),
        width=sum(widths),
        align="LEFT",
        text_align=align,
        headings_style=_HEADINGS,
        line_height=line,
        padding=(_PAD * 0.7, _PAD),
        repeat_headings=1,
    ) as table:
        table.row([column.title for column in section.columns])
        for row in section.rows:
            table.row([print_text(cell, column) for cell, column in zip(row, section.columns, strict=True)])
        for row in section.totals:
            table.row(
                [
                    "" if cell is None else print_text(cell, column)
                    for cell, column in zip(row, section.columns, strict=True)
                ],
                style=_TOTALS,
            )
    pdf.ln(3)


def _natural_widths(pdf: FPDF, section: Section) -> list[float]:
    """Each column's width with nothing wrapped, except headings longer than a few words and text past a
    cap (mm)."""
    widths = []
    for index, column in enumerate(section.columns):
        pdf.set_font(FONT, "B", _SIZE)
        words = max((pdf.get_string_width(w) for w in column.title.split()), default=0.0)
        heading = max(words, min(pdf.get_string_width(column.title), _HEADER_MAX))
        values = [print_text(row[index], column) for row in (*section.rows, *section.totals)]
        widest = max((pdf.get_string_width(v) for v in values), default=0.0)  # bold: totals are bold
        if column.kind not in NUMERIC_KINDS:
            widest = min(widest, _TEXT_MAX)
        widths.append(max(heading, widest, 6.0) + 2 * _PAD + 0.5)
    return widths


def _fitted(widths: Sequence[float], columns: Sequence[Column], page: float) -> list[float]:
    """Fill the page's width: text columns take the slack or give up room (they wrap); numbers keep
    their natural width unless nothing else can shrink."""
    total = sum(widths)
    text = [i for i, c in enumerate(columns) if c.kind not in NUMERIC_KINDS]
    text_total = sum(widths[i] for i in text)
    fitted = list(widths)
    if text and total < page:
        for i in text:
            fitted[i] += (page - total) * widths[i] / text_total
    elif text and total > page and text_total - (total - page) >= 12.0 * len(text):
        for i in text:
            fitted[i] -= (total - page) * widths[i] / text_total
    elif total != page:
        fitted = [w * page / total for w in widths]
    # The shares above may add up to a hair over the page (float rounding), which fpdf2 refuses as a
    # table wider than the page: the last column takes exactly what is left.
    fitted[-1] = page - sum(fitted[:-1])
    return fitted


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` shortened with «…» to fit ``width`` on one line."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"
