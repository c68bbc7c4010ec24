"""A drop: one night's folder of CSV files, plus an optional manifest.json; and the one
place that decides what kind of drop it is (SSD or SSDA903, :func:`detect_format`).

Layout (extract contract, "Delivery"): ``landing/<YYYY-MM-DD>/<table>.csv`` and optionally
``manifest.json``::

    {"drop_date": "2026-11-27", "contract_version": 1, "format": "ssd",
     "files": {"ssd_person.csv": {"rows": 200, "sha256": "..."}, ...}}

An SSDA903 drop is a folder of return files (``episodes.csv``, ``header.csv``, ...), several
years side by side as ``2019-episodes.csv`` / ``2019_episodes.csv`` and/or one sub-folder per
return (``2019/episodes.csv``); see ``load/ssda903/``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

MANIFEST_NAME = "manifest.json"
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DropError(Exception):
    """The drop as a whole is rejected. The message names the file and the cause."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def count_csv_rows(path: Path) -> int:
    """Data rows of a CSV file (RFC 4180: quoted fields may hold newlines)."""
    with path.open(newline="", encoding="latin-1") as f:  # byte-transparent for counting
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


@dataclass(frozen=True)
class Drop:
    path: Path
    drop_date: dt.date
    manifest: dict | None

    @property
    def csv_files(self) -> list[Path]:
        return sorted(p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


# --- what kind of drop is this ---------------------------------------------------------
#: the input formats a drop can be in
FORMATS = ("ssd", "903")
#: SSDA903 return files mapped onto contract tables: kind -> the columns each must have
FILES_903: dict[str, tuple[str, ...]] = {
    "episodes": ("CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC"),
    "header": ("CHILD", "SEX", "DOB", "ETHNIC"),
    "reviews": ("CHILD", "REVIEW"),
    "missing": ("CHILD", "MIS_START"),
}
#: 903 files recognised but with no contract table (kept in the archive, listed as ignored)
UNMAPPED_903 = ("uasc", "previous_permanence", "oc2", "oc3", "ad1", "placed_for_adoption",
                "placed_for_adoption_errors", "sw_episodes", "dolo", "prev_perm")
#: the 903 files whose presence makes a drop SSDA903 when its format is not given
_MARKS_903 = ("episodes", "header")
#: the order of a plain (un-dated) 903 return: after every dated one
LATEST_RETURN = 10**6
_903_NAME = re.compile(r"^(?:(?P<year>\d{4})[-_])?(?P<kind>[a-z0-9_]+)$")
_903_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})")


def drop_files(drop_path: Path) -> list[Path]:
    """Every file of a drop folder and of its sub-folders (one level: a 903 return each)."""
    files = [p for p in drop_path.iterdir() if p.is_file()]
    for sub in sorted(p for p in drop_path.iterdir() if p.is_dir()):
        files += [p for p in sub.iterdir() if p.is_file()]
    return sorted(files)


def kind_of_903_file(path: Path, drop_path: Path) -> tuple[str, int] | None:
    """(kind, return order) of a file as an SSDA903 return file names it: ``episodes``,
    ``2019-episodes``, ``2019_episodes``, ``2019/episodes`` (the year orders the returns;
    a plain name is the latest). None when the name cannot be one."""
    m = _903_NAME.match(path.stem.lower())
    if not m:
        return None
    order = int(m.group("year")) if m.group("year") else LATEST_RETURN
    if path.parent != drop_path:
        folder = path.parent.name
        if folder.isdigit():
            order = int(folder) if not m.group("year") else order
    return m.group("kind"), order


def _903_files(path: Path, kinds: tuple[str, ...]) -> list[Path]:
    return [p for p in drop_files(path) if p.suffix.lower() == ".csv"
            and (kind_of_903_file(p, path) or ("",))[0] in kinds]


def detect_format(drop_path: Path, requested: str | None = None) -> str:
    """"ssd" or "903": as requested, else SSDA903 when the drop holds a 903 episodes or
    header file (any of the namings above), else SSD."""
    if requested and requested != "auto":
        if requested not in FORMATS:
            raise DropError(f"unknown drop format {requested!r} (ssd, 903 or auto)")
        return requested
    return "903" if _903_files(drop_path, _MARKS_903) else "ssd"


def infer_903_drop_date(path: Path) -> dt.date | None:
    """The drop date of a manifest-less SSDA903 folder whose name is not a date: the latest
    DECOM or DEC in its episodes files (a return describes care up to that day), never
    later than today. None when the folder holds no 903 episodes file."""
    files = _903_files(path, ("episodes",))
    if not files:
        return None
    latest: dt.date | None = None
    today = dt.date.today()
    for f in files:
        with f.open(newline="", encoding="latin-1") as fh:  # dates are ASCII
            reader = csv.reader(fh)
            header = [c.strip().lstrip("\ufeff\xef\xbb\xbf").upper() for c in next(reader, [])]
            cols = [i for i, c in enumerate(header) if c in ("DECOM", "DEC")]
            for rec in reader:
                for i in cols:
                    m = _903_DATE.match(rec[i]) if i < len(rec) else None
                    if not m:
                        continue
                    try:
                        d = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
                    except ValueError:
                        continue
                    if d <= today and (latest is None or d > latest):
                        latest = d
    return latest


def drop_date_of(path: Path, manifest: dict | None) -> dt.date:
    """manifest drop_date, else a YYYY-MM-DD folder name, else (an SSDA903 folder only) the
    latest DECOM/DEC of its episodes (``infer_903_drop_date``)."""
    if manifest and manifest.get("drop_date"):
        return dt.date.fromisoformat(manifest["drop_date"])
    if _DATE_DIR.match(path.name):
        return dt.date.fromisoformat(path.name)
    inferred = infer_903_drop_date(path)
    if inferred is not None:
        return inferred
    raise DropError(
        f"{path}: cannot tell the drop's date: name the folder YYYY-MM-DD or give "
        f"drop_date in {MANIFEST_NAME}"
    )


def open_drop(path: Path) -> Drop:
    path = Path(path)
    if not path.is_dir():
        raise DropError(f"{path}: the drop folder does not exist")
    manifest = None
    mpath = path / MANIFEST_NAME
    if mpath.exists():
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DropError(f"{mpath}: not valid JSON ({e})") from e
    return Drop(path=path, drop_date=drop_date_of(path, manifest), manifest=manifest)


def verify_manifest(drop: Drop) -> None:
    """Honour the manifest: every listed file present, with its row count and checksum."""
    check_manifest_files_present(drop)
    for name in _listed(drop):
        verify_manifest_file(drop, name)


def _listed(drop: Drop) -> dict[str, dict]:
    return (drop.manifest or {}).get("files") or {}


def check_manifest_files_present(drop: Drop) -> None:
    """Raise, naming the first file the manifest lists that is not in the drop."""
    for name in _listed(drop):
        f = drop.path / name
        if not f.exists():
            raise DropError(f"{f}: listed in {MANIFEST_NAME} but missing from the drop")


def verify_manifest_file(drop: Drop, name: str, sha256: str | None = None,
                         count_rows: bool = True) -> None:
    """One listed file against the manifest: its checksum (``sha256`` when already
    computed, so the file is not read twice for it) and, unless ``count_rows`` is False
    (the loader compares the count with what COPY read), its data rows."""
    expected = _listed(drop).get(name)
    if expected is None:
        return
    f = drop.path / name
    if "sha256" in expected and (sha256 or sha256_file(f)) != expected["sha256"]:
        raise DropError(f"{f}: sha256 does not match {MANIFEST_NAME}")
    if count_rows and "rows" in expected:
        check_manifest_rows(drop, name, count_csv_rows(f))


def check_manifest_rows(drop: Drop, name: str, rows: int) -> None:
    """Raise when the manifest gives the file another number of data rows."""
    expected = _listed(drop).get(name) or {}
    if "rows" in expected and rows != int(expected["rows"]):
        raise DropError(
            f"{drop.path / name}: {rows} data rows, but {MANIFEST_NAME} says {expected['rows']}"
        )


def write_manifest(
    path: Path, drop_date: dt.date, fmt: str = "ssd", rows: dict[str, int] | None = None
) -> dict:
    """Write manifest.json for every CSV in ``path`` (used by the generator and tests).

    ``rows``: the data rows of each file by file name, when the writer already knows them
    (the generator); otherwise every file is parsed to count them.
    """
    files = {}
    for f in sorted(path.glob("*.csv")):
        n = rows[f.name] if rows is not None and f.name in rows else count_csv_rows(f)
        files[f.name] = {"rows": n, "sha256": sha256_file(f)}
    manifest = {
        "drop_date": drop_date.isoformat(),
        "contract_version": 1,
        "format": fmt,
        "files": files,
    }
    (path / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def find_drop_for(landing: Path, logical_date: dt.date) -> Path:
    """The drop for a night: exactly ``landing/<logical date>``.

    No fallback to an older drop: a night without its drop fails clearly rather than
    re-publishing yesterday's data as today's.
    """
    exact = landing / logical_date.isoformat()
    if exact.is_dir():
        return exact
    present = sorted(p.name for p in landing.iterdir() if p.is_dir()) if landing.is_dir() else []
    raise DropError(
        f"{exact}: no drop for {logical_date} in {landing} "
        f"(drops present: {', '.join(present[-5:]) or 'none'})"
    )
