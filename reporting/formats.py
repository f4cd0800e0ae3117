"""Writing report rows as CSV (streamed) and XLSX (openpyxl's write-only mode), safely for
spreadsheet users (docs/reports.md §1.1).

- CSV is UTF-8 with a BOM (spreadsheets then read the accents right), one row at a time: a
  generator of encoded chunks, never the whole file in memory.
- A text cell beginning with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is a
  formula to a spreadsheet: it is neutralised with a leading apostrophe (OWASP's advice on CSV
  injection). Our own numbers (``-1500``, ``12.50``) are left as they are.
- XLSX amounts are numbers (``Decimal``), text cells neutralised the same way (openpyxl would
  otherwise store ``=1+1`` as a formula).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
CHUNK_ROWS = 500


def neutralise(value: object) -> object:
    """A cell a spreadsheet will never evaluate: text starting like a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER_RE.match(value):
        return "'" + value
    return value


class _Line:
    """A file-like object that keeps what ``csv.writer`` writes until it is taken."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The CSV file as UTF-8 chunks (BOM first), a few hundred rows each."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    writer.writerow(header)
    yield (BOM + line.take()).encode()
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) for cell in row])
        if count % CHUNK_ROWS == 0:
            yield line.take().encode()
    rest = line.take()
    if rest:
        yield rest.encode()


def xlsx_cell(value: object) -> object:
    """Amounts given as ``Decimal`` stay numbers; text is neutralised."""
    return value if isinstance(value, Decimal | int) else neutralise(value)


def xlsx_write(
    path: Path,
    *,
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    progress: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> int:
    """Write a one-sheet workbook in write-only mode (rows streamed to disk); the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(header))
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(cell) for cell in row])
        count += 1
        if progress is not None and count % every == 0:
            progress(count)
    workbook.save(str(path))
    return count
