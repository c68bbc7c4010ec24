"""SSDA903 return files: which files of a drop are 903 returns (names and kinds: the drop
module decides, ``drop.kind_of_903_file``) and their file-level checks (no database)."""

from __future__ import annotations

from dataclasses import dataclass

from csc_warehouse.config import Settings, get_settings
from csc_warehouse.drop import (
    FILES_903,
    UNMAPPED_903,
    Drop,
    DropError,
    drop_files,
    kind_of_903_file,
    verify_manifest,
)
from csc_warehouse.load.csv_files import CsvFileInfo, check_required_columns, inspect_csv


@dataclass
class ReturnFile:
    info: CsvFileInfo
    kind: str
    order: int  # return year (older first); _LATEST for a plain file
    name: str  # path relative to the drop folder

    @property
    def mapped(self) -> bool:
        return self.kind in FILES_903


def scan_903_files(drop: Drop, encoding: str = "auto") -> tuple[list[ReturnFile], list[str]]:
    """The 903 files of a drop (mapped and recognised-but-unmapped) and the ignored names."""
    files: list[ReturnFile] = []
    ignored: list[str] = []
    seen: dict[tuple[str, int], str] = {}
    for path in drop_files(drop.path):
        rel = str(path.relative_to(drop.path))
        if path.name == "manifest.json" or path.name.startswith("."):
            continue
        kind = kind_of_903_file(path, drop.path)
        if path.suffix.lower() != ".csv":
            if kind and kind[0] in FILES_903:
                raise DropError(f"{rel}: not a CSV file (903 {kind[0]} must be a .csv file)")
            ignored.append(rel)
            continue
        if kind is None or (kind[0] not in FILES_903 and kind[0] not in UNMAPPED_903):
            ignored.append(rel)
            continue
        if kind in seen:
            raise DropError(f"{rel}: a second {kind[0]} file for the same return as {seen[kind]}")
        seen[kind] = rel
        files.append(ReturnFile(inspect_csv(path, encoding), kind[0], kind[1], rel))
    return files, ignored


def header_903(info: CsvFileInfo) -> list[str]:
    return [c.upper() for c in info.header]


def check_903_drop(drop: Drop, settings: Settings | None = None) -> dict:
    """File-level checks of a 903 drop (no database): manifest, CSV-ness, encoding, required
    columns, at least one episodes file. Returns {file: {kind, order, encoding, rows?}}."""
    settings = settings or get_settings()
    verify_manifest(drop)
    files, _ignored = scan_903_files(drop, settings.csv_encoding)
    out = {}
    for f in files:
        if f.mapped:
            check_required_columns(f.name, header_903(f.info), FILES_903[f.kind],
                                   f"903 {f.kind} file")
        out[f.name] = {"kind": f.kind, "mapped": f.mapped, "encoding": f.info.encoding,
                       "columns": len(f.info.header)}
    if not any(f.kind == "episodes" for f in files):
        raise DropError(f"{drop.path}: no 903 episodes file (episodes.csv or "
                        "YYYY-episodes.csv) in the drop")
    return out
