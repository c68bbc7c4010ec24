"""The second input format: SSDA903 (children looked after) return files, mapped onto the
SAME raw SSD tables, so staging and the placement marts work unchanged.

A 903 drop is a folder of the return's CSV files (``header.csv``, ``episodes.csv``,
``reviews.csv``, ``missing.csv``, ``uasc.csv``, ``previous_permanence.csv``, ...; DD/MM/YYYY
dates). Several years may sit in one drop: files prefixed by the year (``2019-episodes.csv``,
``2019_episodes.csv``) and/or one sub-folder per return (``2019/episodes.csv``). Returns are
applied oldest first and a plain ``episodes.csv`` at the top counts as the latest; the same
(CHILD, DECOM) episode, (CHILD) header, (CHILD, REVIEW) review or (CHILD, MIS_START) missing
episode is one record, the latest return's values win.

Mapping (extract contract, "Second input format"; docs/loading.md has the table):

- episodes -> ``ssd_cla_episodes`` (one row per 903 episode, id ``CHILD-DECOM``); a period
  of care starts at an episode with RNE = S (or at the child's first episode in the data,
  when the return does not reach back to the start: then ``clae_entered_care_date`` is
  blank) and runs while each episode ends with REC = X1; ``clae_cla_id`` = ``CHILD-<period
  start>``.
- placements -> ``ssd_cla_placement``: a new placement at RNE S, P, B, T, U (and at a
  period's first episode); RNE = L continues it. Type, provider, PL_POST and URN from its
  first episode, end = DEC and change reason = REASON_PLACE_CHANGE of its last.
- legal status spans -> ``ssd_legal_status``: consecutive episodes of a period with equal LS.
- header -> ``ssd_person`` (CHILD, SEX, DOB, ETHNIC; UPN, MOTHER, MC_DOB kept in _extra).
- reviews -> ``ssd_cla_reviews`` (``clar_cla_id`` = the period open on the review date; a
  period whose start the data does not reach (its first episode is not RNE = S) is taken
  to have been open since the child's previous period ended; a review no known period
  covers - returns carry reviews of earlier years - loads with a blank ``clar_cla_id``).
- missing -> ``ssd_missing``.
- HOME_POST is not loaded (the SSD's ssd_address needs address dates the 903 does not
  have); uasc, previous_permanence, oc2, oc3, ad1, placed_for_adoption and other files have
  no contract table: they are listed in ``raw.load_source_files`` as ignored.

Row-level problems are quarantined in ``raw.rejects`` with the 903 file, row, column, value
and reason, never a crash: a missing CHILD, an unparseable date (DECOM, DEC, DOB, REVIEW,
MIS_START, MIS_END), an unknown RNE or REC (they drive the chaining), DEC before DECOM, a
duplicated key within one return, an episode that does not chain (starts while the previous
one is open, overlaps an ended period, or does not start on the day the previous one ended
with X1). Unknown codes of the other
columns (LS is an open list; PLACE, PLACE_PROVIDER, CIN, REASON_PLACE_CHANGE, SEX, MISSING,
REVIEW_CODE) are caught by the same set-based SQL checks as an SSD drop, on the mapped row,
and reported against the 903 file and row it came from.

Threshold: ``CSCW_REJECT_THRESHOLD_903`` (default 5%) of a 903 file's rows; over it the
whole drop is rejected (returns carry rows the DfE validator flags; the counts are always
reported in raw.load_files, raw.load_source_files and the run summary).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from csc_warehouse.contract import load_contract
from csc_warehouse.drop import DropError
from csc_warehouse.load.ssda903.files import ReturnFile, header_903

PLACEMENT_CHANGE = frozenset("SPBTU")
_UK_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$")

#: raw table -> the SSD columns the 903 mapping fills (plus _extra columns for header)
SSD_COLUMNS: dict[str, list[str]] = {
    "ssd_person": ["pers_person_id", "pers_sex", "pers_ethnicity", "pers_dob", "upn", "mother",
                   "mc_dob"],
    "ssd_cla_episodes": ["clae_cla_episode_id", "clae_person_id", "clae_cla_id",
                         "clae_cla_episode_start_date", "clae_cla_episode_start_reason",
                         "clae_cla_primary_need_code", "clae_cla_episode_ceased_date",
                         "clae_cla_episode_ceased_reason", "clae_cla_placement_id",
                         "clae_entered_care_date"],
    "ssd_cla_placement": ["clap_cla_placement_id", "clap_cla_id", "clap_person_id",
                          "clap_cla_placement_start_date", "clap_cla_placement_end_date",
                          "clap_cla_placement_type", "clap_cla_placement_provider",
                          "clap_cla_placement_postcode", "clap_cla_placement_urn",
                          "clap_cla_placement_change_reason"],
    "ssd_legal_status": ["lega_legal_status_id", "lega_person_id", "lega_legal_status",
                         "lega_legal_status_start_date", "lega_legal_status_end_date"],
    "ssd_cla_reviews": ["clar_cla_review_id", "clar_cla_id", "clar_cla_review_date",
                        "clar_cla_review_participation"],
    "ssd_missing": ["miss_table_id", "miss_person_id", "miss_missing_episode_start_date",
                    "miss_missing_episode_type", "miss_missing_episode_end_date"],
}
#: SSD column -> the 903 column it comes from (to name the 903 column in raw.rejects)
FROM_903 = {
    "pers_person_id": "CHILD", "pers_sex": "SEX", "pers_ethnicity": "ETHNIC", "pers_dob": "DOB",
    "clae_cla_episode_id": "CHILD+DECOM", "clae_cla_episode_start_reason": "RNE",
    "clae_cla_primary_need_code": "CIN", "clae_cla_episode_ceased_reason": "REC",
    "clap_cla_placement_type": "PLACE", "clap_cla_placement_provider": "PLACE_PROVIDER",
    "clap_cla_placement_change_reason": "REASON_PLACE_CHANGE", "lega_legal_status": "LS",
    "clar_cla_review_id": "CHILD+REVIEW", "clar_cla_review_participation": "REVIEW_CODE",
    "miss_table_id": "CHILD+MIS_START", "miss_missing_episode_type": "MISSING",
    "clap_cla_placement_id": "CHILD+DECOM", "lega_legal_status_id": "CHILD+DECOM",
}



def parse_903_date(value: str | None) -> dt.date | None:
    """DD/MM/YYYY (the 903's) or YYYY-MM-DD; None when blank; ValueError when unparseable."""
    if value is None or not value.strip():
        return None
    m = _UK_DATE.match(value)
    if m:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = _ISO_DATE.match(value)
    if m:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError(value)


@dataclass
class Reject:
    table: str
    source_file: str
    row_number: int
    column: str | None
    value: str | None
    reason: str


@dataclass
class Row:
    """One 903 row as read: upper-cased column names, stripped values."""

    file: ReturnFile
    number: int
    values: dict[str, str]

    def get(self, col: str) -> str:
        return self.values.get(col, "") or ""


def _read_rows(f: ReturnFile) -> Iterator[Row]:
    enc = "cp1252" if f.info.encoding == "WIN1252" else "utf-8-sig"
    header = header_903(f.info)
    with f.info.path.open(encoding=enc, newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for i, rec in enumerate(reader, start=2):
            if not any(v.strip() for v in rec):
                continue
            if len(rec) != len(header):
                raise DropError(
                    f"{f.name}: not a well-formed CSV file: row {i} has {len(rec)} fields, "
                    f"the header {len(header)}"
                )
            yield Row(f, i, {h: v.strip() for h, v in zip(header, rec, strict=True)})


@dataclass
class Episode:
    row: Row
    child: str
    decom: dt.date
    dec: dt.date | None
    rne: str
    rec: str

    def v(self, col: str) -> str:
        return self.row.get(col)


@dataclass
class Mapped:
    rows: dict[str, list[dict]] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    rows_in_file: dict[str, int] = field(default_factory=dict)

    def reject(self, table: str, row: Row, column: str | None, reason: str) -> None:
        value = row.get(column) if column and "+" not in column else None
        self.rejects.append(Reject(table, row.file.name, row.number, column, value, reason))

    def add(self, table: str, row: Row, values: dict) -> None:
        values["_src_file"] = row.file.name
        values["_src_sha"] = row.file.info.sha256
        values["_src_row"] = row.number
        self.rows.setdefault(table, []).append(values)


def _latest_wins(files: list[ReturnFile], kind: str, table: str, key_cols: tuple[str, ...],
                 out: Mapped, parse) -> dict[tuple, tuple[Row, dict]]:
    """Read every return of a kind, oldest first; the same key in a later return replaces
    the earlier one; a key twice in one return is quarantined (both rows).

    ``parse(row)`` returns parsed values or raises ``_RowError`` (quarantined)."""
    merged: dict[tuple, tuple[Row, dict]] = {}
    for f in sorted((f for f in files if f.kind == kind), key=lambda f: (f.order, f.name)):
        in_file: dict[tuple, list[tuple[Row, dict]]] = {}
        n = 0
        for row in _read_rows(f):
            n += 1
            if not row.get("CHILD"):
                out.reject(table, row, "CHILD", "missing key (CHILD is blank)")
                continue
            try:
                parsed = parse(row)
            except _RowError as e:
                out.reject(table, row, e.column, e.reason)
                continue
            key = tuple(parsed[k] if k in parsed else row.get(k) for k in key_cols)
            in_file.setdefault(key, []).append((row, parsed))
        out.rows_in_file[f.name] = n
        for key, hits in in_file.items():
            if len(hits) > 1:
                for row, _ in hits:
                    out.rejects.append(Reject(
                        table, row.file.name, row.number, "+".join(key_cols),
                        "/".join(str(k) for k in key),
                        f"duplicate key ({len(hits)} rows of this return share it)"))
                merged.pop(key, None)
            else:
                merged[key] = hits[0]
    return merged


class _RowError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def _date(row: Row, col: str, required: bool = False) -> dt.date | None:
    try:
        d = parse_903_date(row.get(col))
    except ValueError:
        raise _RowError(col, "unparseable date (expected DD/MM/YYYY)") from None
    if d is None and required:
        raise _RowError(col, f"missing {col}")
    return d


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def map_903(files: list[ReturnFile]) -> Mapped:
    """Map the returns onto SSD-shaped rows (dicts of SSD column -> text) and rejects."""
    contract = load_contract()
    rne_list = contract.code_lists["reason_for_new_episode"]
    rec_list = contract.code_lists["reason_episode_ceased"]
    out = Mapped()

    # --- episodes ----------------------------------------------------------------------
    def parse_episode(row: Row) -> dict:
        decom = _date(row, "DECOM", required=True)
        dec = _date(row, "DEC")
        rne = rne_list.normalise(row.get("RNE")) if row.get("RNE") else None
        if rne is None:
            raise _RowError("RNE", "unknown code (not on the reason_for_new_episode list)"
                            if row.get("RNE") else "missing RNE")
        rec = ""
        if row.get("REC"):
            rec = rec_list.normalise(row.get("REC")) or ""
            if not rec:
                raise _RowError("REC", "unknown code (not on the reason_episode_ceased list)")
        if dec and dec < decom:
            raise _RowError("DEC", f"episode ceases (DEC) before it starts (DECOM {decom})")
        if dec and not rec:
            raise _RowError("REC", "DEC given without REC")
        return {"DECOM": decom, "DEC": dec, "RNE": rne, "REC": rec}

    merged = _latest_wins(files, "episodes", "ssd_cla_episodes", ("CHILD", "DECOM"), out,
                          parse_episode)
    by_child: dict[str, list[Episode]] = {}
    for (child, _), (row, p) in merged.items():
        by_child.setdefault(child, []).append(
            Episode(row, child, p["DECOM"], p["DEC"], p["RNE"], p["REC"]))
    periods: dict[str, list[tuple[dt.date, dt.date | None, str]]] = {}
    for child, eps in by_child.items():
        eps.sort(key=lambda e: e.decom)
        kept: list[Episode] = []
        for e in eps:
            prev = kept[-1] if kept else None
            reason = None
            if prev is not None:
                if prev.dec is None:
                    reason = "does not chain: starts while the previous episode is still open"
                elif prev.rec == "X1" and e.decom != prev.dec:
                    reason = ("does not chain: the previous episode ended X1 (new episode the "
                              "same day) on another day")
                elif prev.rec != "X1" and e.decom < prev.dec:
                    reason = "does not chain: starts before the previous period of care ended"
            if reason:
                out.reject("ssd_cla_episodes", e.row, "DECOM", reason)
                continue
            kept.append(e)
        _map_child_episodes(child, kept, out, periods)

    # --- header ------------------------------------------------------------------------
    def parse_header(row: Row) -> dict:
        return {"DOB": _date(row, "DOB"), "MC_DOB": _date(row, "MC_DOB")}

    for (child,), (row, p) in _latest_wins(files, "header", "ssd_person", ("CHILD",), out,
                                            parse_header).items():
        out.add("ssd_person", row, {
            "pers_person_id": child, "pers_sex": row.get("SEX"),
            "pers_ethnicity": row.get("ETHNIC"), "pers_dob": _iso(p["DOB"]),
            "upn": row.get("UPN"), "mother": row.get("MOTHER"), "mc_dob": _iso(p["MC_DOB"]),
        })

    # --- reviews -----------------------------------------------------------------------
    def parse_review(row: Row) -> dict:
        return {"REVIEW": _date(row, "REVIEW", required=True)}

    for (child, review), (row, _p) in _latest_wins(files, "reviews", "ssd_cla_reviews",
                                                    ("CHILD", "REVIEW"), out,
                                                    parse_review).items():
        cla_id = next((pid for start, end, pid in periods.get(child, ())
                       if start <= review and (end is None or review <= end)), None)
        out.add("ssd_cla_reviews", row, {
            "clar_cla_review_id": f"{child}-{review}", "clar_cla_id": cla_id,
            "clar_cla_review_date": _iso(review),
            "clar_cla_review_participation": row.get("REVIEW_CODE"),
        })

    # --- missing -----------------------------------------------------------------------
    def parse_missing(row: Row) -> dict:
        start = _date(row, "MIS_START", required=True)
        end = _date(row, "MIS_END")
        if end and end < start:
            raise _RowError("MIS_END", f"ends before it starts ({start})")
        return {"MIS_START": start, "MIS_END": end}

    for (child, start), (row, p) in _latest_wins(files, "missing", "ssd_missing",
                                                  ("CHILD", "MIS_START"), out,
                                                  parse_missing).items():
        out.add("ssd_missing", row, {
            "miss_table_id": f"{child}-{start}", "miss_person_id": child,
            "miss_missing_episode_start_date": _iso(start),
            "miss_missing_episode_type": row.get("MISSING"),
            "miss_missing_episode_end_date": _iso(p["MIS_END"]),
        })
    for f in files:
        out.rows_in_file.setdefault(f.name, 0)
    return out


def _map_child_episodes(child: str, eps: list[Episode], out: Mapped,
                        periods: dict[str, list]) -> None:
    """One child's chained episodes -> episodes, placements, legal status spans."""
    period_id = placement = span = None
    entered: str | None = None
    prev: Episode | None = None
    for e in eps:
        new_period = prev is None or prev.rec != "X1"
        if new_period:
            period_id = f"{child}-{e.decom}"
            entered = _iso(e.decom) if e.rne == "S" else None
            known = periods.setdefault(child, [])
            # a period whose start the data does not reach: open since the previous ended
            start = e.decom if e.rne == "S" else (
                known[-1][1] + dt.timedelta(days=1) if known and known[-1][1] else dt.date.min)
            known.append([start, None, period_id])
            placement = span = None
        if new_period or e.rne in PLACEMENT_CHANGE or placement is None:
            placement = {
                "clap_cla_placement_id": f"{child}-{e.decom}-pl", "clap_cla_id": period_id,
                "clap_person_id": child, "clap_cla_placement_start_date": _iso(e.decom),
                "clap_cla_placement_type": e.v("PLACE"),
                "clap_cla_placement_provider": e.v("PLACE_PROVIDER"),
                "clap_cla_placement_postcode": e.v("PL_POST"),
                "clap_cla_placement_urn": e.v("URN"),
            }
            out.add("ssd_cla_placement", e.row, placement)
        placement["clap_cla_placement_end_date"] = _iso(e.dec)
        placement["clap_cla_placement_change_reason"] = e.v("REASON_PLACE_CHANGE")
        ls = e.v("LS").upper()
        if span is None or span["lega_legal_status"].upper() != ls:
            span = {
                "lega_legal_status_id": f"{child}-{e.decom}-ls", "lega_person_id": child,
                "lega_legal_status": e.v("LS"), "lega_legal_status_start_date": _iso(e.decom),
            }
            out.add("ssd_legal_status", e.row, span)
        span["lega_legal_status_end_date"] = _iso(e.dec)
        out.add("ssd_cla_episodes", e.row, {
            "clae_cla_episode_id": f"{child}-{e.decom}", "clae_person_id": child,
            "clae_cla_id": period_id, "clae_cla_episode_start_date": _iso(e.decom),
            "clae_cla_episode_start_reason": e.rne, "clae_cla_primary_need_code": e.v("CIN"),
            "clae_cla_episode_ceased_date": _iso(e.dec),
            "clae_cla_episode_ceased_reason": e.rec or None,
            "clae_cla_placement_id": placement["clap_cla_placement_id"],
            "clae_entered_care_date": entered,
        })
        periods[child][-1][1] = e.dec if e.rec != "X1" else None
        prev = e
    periods[child] = [tuple(p) for p in periods.get(child, [])]
