"""The DejaVu fonts every PDF of ours is set in (Debian ``fonts-dejavu-core``), embedded as subsets so
Cyrillic prints the same on any machine. Shared by the report engine; debtors/notice_pdf.py keeps its own
copy of these constants for now."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from dialer.errors import UpravDolgError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}  # fpdf style -> file in FONT_DIR
FONT_PACKAGE = "fonts-dejavu-core"
FONT = "DejaVu"


class PdfFontError(UpravDolgError):
    """The font for PDF documents is missing."""


def add_dejavu(pdf: FPDF) -> None:
    """Register DejaVu Sans (regular and bold) as :data:`FONT` on ``pdf``; a clear error if it is missing."""
    for style, name in FONT_FILES.items():
        path = FONT_DIR / name
        if not path.is_file():
            raise PdfFontError(
                f"the font {path} is missing", hint=f"install the Debian package {FONT_PACKAGE}"
            )
        pdf.add_font(FONT, style, str(path))
