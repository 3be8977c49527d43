"""A report as CSV for Excel: UTF-8 with a BOM (Excel then reads it as UTF-8), ``;`` between fields (the
list separator of the Russian locale), numbers with a decimal comma and no grouping (``12345,67``), dates
``dd.mm.yyyy``, percentages ``51,7%`` — so Excel opens it with a double click and gets numbers and dates.

Layout: the report's header lines (title, organisation, period, generation time, filters), then each
section: its caption, the header row, the rows, the totals rows, and an empty line."""

from __future__ import annotations

import csv
import io

from debtors.reports.cell_text import csv_text
from debtors.reports.model import Report

BOM = "\ufeff"


def render_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([report.title])
    writer.writerow(["Организация", report.organisation])
    writer.writerow(["Период", report.period_text])
    writer.writerow(["Сформирован", report.generated_text])
    writer.writerow(["Отбор", report.filters or "нет"])
    for section in report.sections:
        writer.writerow([])
        writer.writerow([section.caption])
        if section.note:
            writer.writerow([section.note])
        writer.writerow([column.title for column in section.columns])
        for row in (*section.rows, *section.totals):
            writer.writerow(
                [csv_text(cell, column) for cell, column in zip(row, section.columns, strict=True)]
            )
    return (BOM + buffer.getvalue()).encode("utf-8")
