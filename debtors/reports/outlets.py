"""The formats a report is written in: a name → its renderer (``Report -> bytes``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from debtors.reports.model import Report, ReportError
from debtors.reports.render_csv import render_csv
from debtors.reports.render_pdf import render_pdf
from debtors.reports.render_xlsx import render_xlsx

RENDERERS: dict[str, Callable[[Report], bytes]] = {"csv": render_csv, "pdf": render_pdf, "xlsx": render_xlsx}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def format_of(path: Path, given: str | None = None) -> str:
    """The format asked for, or the one the file's suffix names."""
    name = (given or path.suffix.lstrip(".")).lower()
    if name not in RENDERERS:
        raise ReportError(
            f"{path}: cannot tell the format from the name" if not given else f"unknown format {given!r}",
            hint=f"give --format {' | '.join(sorted(RENDERERS))}",
        )
    return name


def render(report: Report, fmt: str) -> bytes:
    if fmt not in RENDERERS:
        raise ReportError(f"unknown format {fmt!r}", hint=f"one of: {', '.join(sorted(RENDERERS))}")
    return RENDERERS[fmt](report)
