"""A drop as a load batch: its id, its archive copy and the manifest's per-file options."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from csc_warehouse.config import Settings
from csc_warehouse.drop import Drop, DropError
from csc_warehouse.faults import disk_full, is_disk_full
from csc_warehouse.load.csv_files import CsvFileInfo


def batch_id_for(drop: Drop, files: dict[str, str], fmt: str) -> str:
    """Batch id: drop date + a hash of the format and every file's name and sha256."""
    h = hashlib.sha256(f"{fmt}|{drop.drop_date}".encode())
    for name in sorted(files):
        h.update(f"|{name}:{files[name]}".encode())
    return f"{drop.drop_date.isoformat()}-{h.hexdigest()[:12]}"


def archive_files(settings: Settings, drop: Drop, infos: list[CsvFileInfo]) -> str:
    """Copy the original files to archive/<drop date>/<sha256[:16]>/<name>; never overwrite
    (a file already archived under its checksum is the same bytes)."""
    root = settings.archive / drop.drop_date.isoformat()
    written: list[Path] = []
    for info in infos:
        dest = root / info.sha256[:16] / info.path.name
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(dest.suffix + ".part")
            try:
                shutil.copyfile(info.path, tmp)
            except OSError as e:  # a full disk: none of tonight's copies stays behind
                for p in [tmp, *written]:
                    p.unlink(missing_ok=True)
                if is_disk_full(e):
                    raise disk_full(settings.archive, e) from None
                raise
            tmp.rename(dest)
            written.append(dest)
    manifest = drop.path / "manifest.json"
    if manifest.exists():
        h = hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]
        dest = root / "manifests" / f"{h}.json"
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, dest)
    return str(root)


def manifest_file_option(drop: Drop, filename: str, option: str) -> str | None:
    """An option of one file in the manifest (``files.<name>.<option>``), else the drop's."""
    files = (drop.manifest or {}).get("files") or {}
    value = (files.get(filename) or {}).get(option) or (drop.manifest or {}).get(option)
    return None if value is None else str(value)


def date_format_uk(drop: Drop, filename: str) -> bool:
    """The manifest says the file's dates are DD/MM/YYYY."""
    fmt = manifest_file_option(drop, filename, "date_format")
    return str(fmt).lower() in ("uk", "dd/mm/yyyy")


def file_encoding(drop: Drop, filename: str, settings: Settings) -> str:
    """The encoding to read a file with: manifest (per file or drop), else the setting."""
    enc = (manifest_file_option(drop, filename, "encoding") or settings.csv_encoding).lower()
    enc = {"utf-8": "utf8", "utf-8-sig": "utf8", "windows-1252": "cp1252", "win1252": "cp1252",
           "latin-1": "cp1252"}.get(enc, enc)
    if enc not in ("auto", "utf8", "cp1252"):
        raise DropError(f"{filename}: unknown encoding {enc!r} configured (utf8, cp1252, auto)")
    return enc
