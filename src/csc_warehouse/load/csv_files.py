"""Reading a CSV file's bytes safely: checksum, encoding, header."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from csc_warehouse.drop import DropError

BOM = codecs.BOM_UTF8
#: bytes that are undefined in Windows-1252: a file holding them is not cp1252 either
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_NOT_CSV_MAGIC = {
    b"PK\x03\x04": "a ZIP/XLSX workbook",
    b"\xd0\xcf\x11\xe0": "an XLS workbook",
    b"%PDF": "a PDF",
    b"\x1f\x8b": "a gzip archive",
}


@dataclass(frozen=True)
class CsvFileInfo:
    path: Path
    sha256: str
    encoding: str  # PostgreSQL name: UTF8 or WIN1252
    header: list[str]  # lower-cased, trimmed column names in file order
    size: int


def inspect_csv(path: Path, encoding: str = "auto") -> CsvFileInfo:
    """One pass over the bytes: sha256, encoding detection, sanity checks; then the header.

    encoding: "auto" (UTF-8 with or without BOM, else Windows-1252), "utf8" or "cp1252".
    Raises DropError naming the file and the cause.
    """
    h = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_ok = True
    undefined_cp1252 = False
    size = 0
    first = b""
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            if not first:
                first = block[:8]
                for magic, what in _NOT_CSV_MAGIC.items():
                    if first.startswith(magic):
                        raise DropError(f"{path.name}: not a CSV file (it is {what})")
            size += len(block)
            h.update(block)
            if b"\0" in block:
                raise DropError(f"{path.name}: not a CSV file (it contains NUL bytes)")
            if utf8_ok:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
            if not undefined_cp1252 and not utf8_ok:
                undefined_cp1252 = any(b in _CP1252_UNDEFINED for b in block)
        if utf8_ok:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8_ok = False
    if encoding == "utf8" and not utf8_ok:
        raise DropError(f"{path.name}: unreadable encoding: configured UTF-8 but it is not UTF-8")
    if encoding == "cp1252" or (encoding == "auto" and not utf8_ok):
        if undefined_cp1252 and not utf8_ok:
            raise DropError(
                f"{path.name}: unreadable encoding: neither UTF-8 nor Windows-1252"
            )
        pg_encoding, py_encoding = "WIN1252", "cp1252"
    else:
        pg_encoding, py_encoding = "UTF8", "utf-8-sig"
    if size == 0:
        raise DropError(f"{path.name}: empty file (no header row)")
    with path.open(encoding=py_encoding, newline="") as f:
        try:
            header = next(csv.reader(io.StringIO(f.readline() + "")))
        except StopIteration:
            raise DropError(f"{path.name}: empty file (no header row)") from None
    header = [c.strip().lstrip("\ufeff").lower() for c in header]
    if not header or all(not c for c in header):
        raise DropError(f"{path.name}: not a CSV file (no header row)")
    if any(not c for c in header):
        pos = header.index("") + 1
        raise DropError(f"{path.name}: header column {pos} has no name")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise DropError(f"{path.name}: header repeats column(s) {', '.join(dupes)}")
    return CsvFileInfo(
        path=path, sha256=h.hexdigest(), encoding=pg_encoding, header=header, size=size
    )


def check_required_columns(name: str, header: list[str], required: list[str] | tuple[str, ...],
                           what: str | None = None) -> None:
    """Raise, naming the file and every required column its header lacks (``what``, e.g.
    "903 episodes file", is added in brackets)."""
    missing = [c for c in required if c not in header]
    if missing:
        raise DropError(
            f"{name}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}{f' ({what})' if what else ''}"
        )


class BlankLinesSkipped(io.RawIOBase):
    """A CSV file's bytes for COPY without its fully blank lines (empty or whitespace
    only), counted in ``skipped``: spreadsheet and SSIS exports often end with some. A
    blank line inside a quoted field is data and is kept; a line of separators (",,,") is a
    row of empty values and is kept (the row checks judge it). Quotes and line ends are the
    same bytes in UTF-8 and Windows-1252."""

    def __init__(self, raw) -> None:
        self._raw = raw
        self._in_quotes = False
        self.skipped = 0

    def readable(self) -> bool:
        return True

    def _next_line(self) -> bytes:
        """The next line to keep (b"" at the end of the file)."""
        while line := self._raw.readline():
            starts_in_quotes = self._in_quotes
            self._in_quotes ^= line.count(b'"') % 2 == 1
            if starts_in_quotes or line.strip():
                return line
            self.skipped += 1
        return b""

    def read(self, size: int = -1) -> bytes:
        """Whole lines, about ``size`` bytes of them (COPY asks for 1 MiB at a time)."""
        out = bytearray()
        while (size < 0 or len(out) < size) and (line := self._next_line()):
            out += line
        return bytes(out)
