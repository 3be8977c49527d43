"""Reading billing-centre files as a header row plus data rows of strings, streamed (never loaded whole).

Formats (../shared/DOMAIN.md): CSV (UTF-8 with or without BOM, or cp1251; ``;`` ``,`` or tab), XLSX, and
DBF from older billing (usually cp866, sometimes cp1251). The format is recognised from the file's first
bytes, not its name. Row numbers are what a person finds when opening the file: the CSV line, the XLSX
sheet row, the DBF record number + 1 (the header counting as row 1, like in the other formats).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from dialer.errors import UpravDolgError

SAMPLE_BYTES = 64 * 1024
BLOCK_BYTES = 1 << 20
DELIMITERS = (";", ",", "\t")
_DBF_VERSIONS = {0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x83, 0x8B, 0x8E, 0xCB, 0xF5, 0xFB}


class ImportFileError(UpravDolgError):
    """The file cannot be imported; nothing was written."""

    exit_code = 10


@dataclass
class TableFile:
    """An opened file: its format, encoding, header row, and an iterator of (row number, cells)."""

    path: Path
    file_format: str
    encoding: str
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    _handle: IO[Any] | None = None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> TableFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def guess_cyrillic_single_byte(sample: bytes) -> str:
    """cp1251 or cp866 for bytes that are not UTF-8.

    Russian text in cp1251 lives in 0xC0-0xFF; in cp866 it lives in 0x80-0xAF and 0xE0-0xEF, while
    0xB0-0xDF are box-drawing characters that never appear in names and addresses.
    """
    box = sum(1 for b in sample if 0xB0 <= b <= 0xDF)
    low = sum(1 for b in sample if 0x80 <= b <= 0xAF)
    return "cp866" if low > box else "cp1251"


def detect_text_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is fine
    except UnicodeDecodeError:
        return guess_cyrillic_single_byte(sample)
    return "utf-8"


def detect_format(path: Path, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            f"{path}: this is an old binary Excel (.xls) file",
            hint="save it as .xlsx or CSV in Excel/LibreOffice and import that",
        )
    if len(head) >= 32 and head[0] in _DBF_VERSIONS:
        header_len = int.from_bytes(head[8:10], "little")
        record_len = int.from_bytes(head[10:12], "little")
        if header_len >= 65 and record_len >= 2 and (header_len - 1) % 32 == 0:
            return "dbf"
    if b"\x00" in head[:4096]:
        raise ImportFileError(f"{path}: unknown format (binary data)", hint="expected CSV, XLSX or DBF")
    return "csv"


def _pick_delimiter(lines: list[str]) -> str:
    best, best_fields = "", 1
    for delimiter in DELIMITERS:
        parsed = list(csv.reader(lines, delimiter=delimiter))
        if not parsed:
            continue
        width = len(parsed[0])
        if width <= 1:
            continue
        rows = [r for r in parsed[1:] if any(c.strip() for c in r)]
        consistent = sum(1 for r in rows if len(r) == width)
        if rows and consistent < len(rows) / 2:
            continue
        if width > best_fields:
            best, best_fields = delimiter, width
    return best


def _decoded_lines(handle: IO[bytes], encoding: str, path: Path) -> Iterator[str]:
    """The file's lines, decoded a block at a time; a bad byte is reported with its own line number."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    line_number = 0
    tail = b""
    first = True
    while True:
        block = handle.read(BLOCK_BYTES)
        data = tail + block
        if not data:
            return
        if block:
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                tail = data
                continue
            data, tail = data[:cut], data[cut:]
        else:
            tail = b""
        if first:
            first = False
            if data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            bad_line = line_number + data.count(b"\n", 0, exc.start) + 1
            raise ImportFileError(
                f"{path}: line {bad_line} is not valid {encoding} ({exc.reason})",
                hint="the file mixes encodings; give --encoding explicitly",
            ) from None
        line_number += data.count(b"\n")
        yield from io.StringIO(text, newline="")  # splits at line ends only, never at U+2028 and the like
        if not block:
            return


def _open_csv(path: Path, encoding: str | None) -> TableFile:
    handle = path.open("rb")
    sample = handle.read(SAMPLE_BYTES)
    handle.seek(0)
    chosen = encoding or detect_text_encoding(sample)
    try:
        codecs.lookup(chosen)
    except LookupError:
        handle.close()
        raise ImportFileError(
            f"unknown encoding {chosen!r}", hint="e.g. --encoding cp1251 or utf-8"
        ) from None
    first_lines = sample.decode(chosen, errors="replace").splitlines()[:20]
    if first_lines and first_lines[0].startswith("\ufeff"):
        first_lines[0] = first_lines[0][1:]
    delimiter = _pick_delimiter(first_lines)
    if not delimiter:
        handle.close()
        raise ImportFileError(
            f"{path}: cannot find the column separator",
            hint="expected a header row with columns separated by ';', ',' or tab",
        )
    reader = csv.reader(_decoded_lines(handle, chosen, path), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        handle.close()
        raise ImportFileError(f"{path}: the file is empty") from None
    except ImportFileError:
        handle.close()
        raise

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as exc:
            raise ImportFileError(f"{path}: line {reader.line_num}: broken CSV ({exc})") from None

    return TableFile(path, "csv", chosen, headers, rows(), handle)


def cell_text(value: object) -> str:
    """A spreadsheet or DBF value as the text a person sees."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _open_xlsx(path: Path) -> TableFile:
    from openpyxl import load_workbook  # heavy import: only when an XLSX file comes

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file
        raise ImportFileError(f"{path}: not a readable XLSX file ({exc.__class__.__name__}: {exc})") from None
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    headers: list[str] = []
    header_row = 0
    for number, values in enumerate(iterator, start=1):
        cells = [cell_text(v) for v in values]
        if any(cells):
            headers, header_row = cells, number
            break
    if not headers:
        workbook.close()
        raise ImportFileError(f"{path}: the first sheet is empty")

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(iterator, start=header_row + 1):
            yield number, [cell_text(v) for v in values]
        workbook.close()

    return TableFile(path, "xlsx", "", headers, rows())


def _dbf_value(raw: bytes, field_type: str, encoding: str) -> str:
    text = raw.decode(encoding).strip(" \x00")
    if field_type == "D" and len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if field_type == "L":
        return {"T": "да", "Y": "да", "F": "нет", "N": "нет"}.get(text.upper(), "")
    return text


def _open_dbf(path: Path, encoding: str | None) -> TableFile:
    from dbfread import DBF
    from dbfread.codepages import guess_encoding

    with path.open("rb") as fh:
        head = fh.read(32)
        language_driver = head[29] if len(head) > 29 else 0
        header_len = int.from_bytes(head[8:10], "little")
        fh.seek(header_len)
        sample = fh.read(SAMPLE_BYTES)
    chosen = encoding
    if chosen is None:
        try:
            chosen = guess_encoding(language_driver)
        except LookupError:
            chosen = "ascii"
        if chosen in {"ascii", "cp437", "cp850", "cp1252"}:
            chosen = guess_cyrillic_single_byte(sample)  # old Russian billing leaves the byte at 0
    try:
        table = DBF(str(path), encoding=chosen, raw=True, load=False, char_decode_errors="strict")
    except (ValueError, UnicodeDecodeError, LookupError) as exc:
        raise ImportFileError(f"{path}: not a readable DBF file ({exc})") from None
    fields = [(f.name, f.type) for f in table.fields]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, record in enumerate(table, start=2):
                yield number, [_dbf_value(record[name], ftype, chosen) for name, ftype in fields]
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"{path}: not valid {chosen} ({exc.reason})", hint="give --encoding"
            ) from None

    return TableFile(path, "dbf", chosen, [name for name, _ in fields], rows())


def open_table(path: Path, encoding: str | None = None) -> TableFile:
    """Open ``path`` as a table. File-level problems raise :class:`ImportFileError` before any row."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    if not head:
        raise ImportFileError(f"{path}: the file is empty")
    file_format = detect_format(path, head)
    if file_format == "xlsx":
        return _open_xlsx(path)
    if file_format == "dbf":
        return _open_dbf(path, encoding)
    return _open_csv(path, encoding)
