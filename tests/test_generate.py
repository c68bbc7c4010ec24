"""The synthetic local-authority generator (issue 3)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from csc_warehouse.contract import load_contract
from csc_warehouse.drop import open_drop, verify_manifest
from csc_warehouse.generate import PROFILES, GenerateResult, generate_drop
from csc_warehouse.generate.measure import measured_rates
from csc_warehouse.generate.tables import CUTS

AS_OF = dt.date(2026, 11, 27)
CONTRACT = load_contract()


def read(drop: Path, table: str) -> list[dict[str, str]]:
    with (drop / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def header(drop: Path, table: str) -> list[str]:
    with (drop / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def files(drop: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(drop.iterdir())}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    out = tmp_path_factory.mktemp("clean") / AS_OF.isoformat()
    return generate_drop(out, children=1500, years=6, as_of=AS_OF, seed=7)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    out = tmp_path_factory.mktemp("faulty") / AS_OF.isoformat()
    return generate_drop(
        out,
        children=1500,
        years=6,
        as_of=AS_OF,
        seed=7,
        profile="faulty",
        faults={
            "missing_postcode": 0.05,
            "duplicate_key": 0.01,
            "orphan_row": 0.01,
            "unknown_code": 0.01,
            "end_before_start": 0.02,
            "overlapping_placement": 0.1,
        },
    )


def test_every_contract_table_with_the_contract_header(clean: GenerateResult) -> None:
    assert clean.drop_date == AS_OF
    assert clean.injected is None
    for name, table in CONTRACT.tables.items():
        assert header(clean.path, name) == table.column_names
        assert clean.rows[name] == len(read(clean.path, name)), name
        if name != "ssd_professionals":
            assert clean.rows[name] > 0, f"{name} is empty"
    assert clean.rows["ssd_person"] == 1500


def test_manifest_row_counts_and_checksums(clean: GenerateResult) -> None:
    drop = open_drop(clean.path)
    assert drop.drop_date == AS_OF
    verify_manifest(drop)  # raises on a wrong count or checksum
    listed = drop.manifest["files"]
    assert set(listed) == {f"{t}.csv" for t in CONTRACT.tables}
    for name, n in clean.rows.items():
        assert listed[f"{name}.csv"]["rows"] == n


#: dates that may lie after the drop date (timescales set in advance)
FUTURE_DATES = {"target_date", "clar_cla_review_due_date", "icpc_icpc_target_date"}


def test_clean_codes_dates_and_keys(clean: GenerateResult) -> None:
    people = {r["pers_person_id"] for r in read(clean.path, "ssd_person")}
    for name, table in CONTRACT.tables.items():
        rows = read(clean.path, name)
        keys = [r[table.key.name] for r in rows]
        assert len(keys) == len(set(keys)), f"{name}: duplicate keys"
        for col in table.columns:
            values = {r[col.name] for r in rows} - {""}
            if col.type == "code":
                code_list = CONTRACT.code_lists[col.code_list]
                bad = {v for v in values if code_list.normalise(v) != v}
                assert not bad, f"{name}.{col.name}: {sorted(bad)[:5]}"
            elif col.type == "date" and col.name not in FUTURE_DATES:
                for v in values:
                    assert dt.date.fromisoformat(v) <= AS_OF, f"{name}.{col.name} {v}"
            elif col.references == "ssd_person.pers_person_id":
                assert values <= people, f"{name}.{col.name}: orphans"
            if col.required and col.name.endswith("_id") and col.type == "id":
                assert "" not in {r[col.name] for r in rows}, f"{name}.{col.name} blank"


SPANS = {
    "ssd_address": ("addr_address_start_date", "addr_address_end_date"),
    "ssd_early_help_episodes": ("earl_episode_start_date", "earl_episode_end_date"),
    "ssd_cin_episodes": ("cine_referral_date", "cine_close_date"),
    "ssd_cin_assessments": ("cina_assessment_start_date", "cina_assessment_auth_date"),
    "ssd_cin_plans": ("cinp_cin_plan_start_date", "cinp_cin_plan_end_date"),
    "ssd_s47_enquiry": ("s47e_s47_start_date", "s47e_s47_end_date"),
    "ssd_cp_plans": ("cppl_cp_plan_start_date", "cppl_cp_plan_end_date"),
    "ssd_cla_episodes": ("clae_cla_episode_start_date", "clae_cla_episode_ceased_date"),
    "ssd_cla_placement": ("clap_cla_placement_start_date", "clap_cla_placement_end_date"),
    "ssd_legal_status": ("lega_legal_status_start_date", "lega_legal_status_end_date"),
    "ssd_missing": ("miss_missing_episode_start_date", "miss_missing_episode_end_date"),
    "ssd_involvements": ("invo_involvement_start_date", "invo_involvement_end_date"),
}


def test_spans_end_on_or_after_start(clean: GenerateResult) -> None:
    for table, (s, e) in SPANS.items():
        for r in read(clean.path, table):
            assert not r[e] or r[e] >= r[s], (table, r)


def test_placements_do_not_overlap_and_follow_903_rules(clean: GenerateResult) -> None:
    by_child: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in read(clean.path, "ssd_cla_placement"):
        by_child[r["clap_person_id"]].append(r)
    for rows in by_child.values():
        rows.sort(key=lambda r: r["clap_cla_placement_start_date"])
        for a, b in zip(rows, rows[1:], strict=False):
            assert a["clap_cla_placement_end_date"], "only the last placement may be open"
            assert a["clap_cla_placement_end_date"] <= b["clap_cla_placement_start_date"]
            if a["clap_cla_id"] == b["clap_cla_id"]:  # contiguous within a period
                assert a["clap_cla_placement_end_date"] == b["clap_cla_placement_start_date"]
        for r in rows:
            if r["clap_cla_placement_type"] in ("T3", "T4") and r["clap_cla_placement_end_date"]:
                days = (
                    dt.date.fromisoformat(r["clap_cla_placement_end_date"])
                    - dt.date.fromisoformat(r["clap_cla_placement_start_date"])
                ).days
                assert days <= (7 if r["clap_cla_placement_type"] == "T4" else 14)
    placements = {r["clap_cla_placement_id"]: r for r in read(clean.path, "ssd_cla_placement")}
    legal: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in read(clean.path, "ssd_legal_status"):
        legal[r["lega_person_id"]].append(r)
    periods: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in read(clean.path, "ssd_cla_episodes"):
        periods[r["clae_cla_id"]].append(r)
    assert set(periods) >= {p["clap_cla_id"] for p in placements.values()}
    for eps in periods.values():
        eps.sort(key=lambda r: r["clae_cla_episode_start_date"])
        assert eps[0]["clae_cla_episode_start_reason"] == "S"
        for a, b in zip(eps, eps[1:], strict=False):
            assert a["clae_cla_episode_ceased_reason"] == "X1"
            assert a["clae_cla_episode_ceased_date"] == b["clae_cla_episode_start_date"]
            pa, pb = placements[a["clae_cla_placement_id"]], placements[b["clae_cla_placement_id"]]
            rne = b["clae_cla_episode_start_reason"]
            assert rne in "LPTBU"
            assert (pa is not pb) == (rne in "PTBU"), (rne, a, b)
        last = eps[-1]
        if last["clae_cla_episode_ceased_date"]:
            assert last["clae_cla_episode_ceased_reason"] not in ("", "X1")
        else:
            assert last["clae_cla_episode_ceased_reason"] == ""


def test_every_reference_resolves_on_a_friday_night(clean: GenerateResult) -> None:
    """AS_OF is a Friday: a referral made on the Saturday is after the cut, so nothing may
    start before its referral and be left in the drop pointing at it (the critical suite's
    foreign keys would stop the night)."""
    assert AS_OF.weekday() == 4
    for name, table in CONTRACT.tables.items():
        for col in table.columns:
            if not col.references:
                continue
            ref_table, ref_col = col.references.split(".")
            keys = {r[ref_col] for r in read(clean.path, ref_table)}
            orphans = [r[col.name] for r in read(clean.path, name)
                       if r[col.name] and r[col.name] not in keys]
            assert not orphans, f"{name}.{col.name}: {len(orphans)} not in {col.references}"


def test_every_open_child_has_a_current_address(clean: GenerateResult) -> None:
    current = {
        r["addr_person_id"]
        for r in read(clean.path, "ssd_address")
        if not r["addr_address_end_date"]
    }
    open_children = {
        r["cine_person_id"]
        for r in read(clean.path, "ssd_cin_episodes")
        if not r["cine_close_date"]
    }
    assert open_children and open_children <= current


def test_journeys_cover_the_issue_list(clean: GenerateResult) -> None:
    eh = read(clean.path, "ssd_early_help_episodes")
    assert any("step up" in r["earl_episode_end_reason"].lower() for r in eh)
    refs = read(clean.path, "ssd_cin_episodes")
    reasons = {r["cine_close_reason"] for r in refs}
    assert {"RC1", "RC4", "RC7", "RC8", "RC9"} <= reasons
    assert all(r["ext_close_authorised_by"] for r in refs if r["cine_close_reason"] == "RC9")
    assert any(not r["ext_close_authorised_by"] for r in refs if r["cine_close_date"])
    recs = {r["clae_cla_episode_ceased_reason"] for r in read(clean.path, "ssd_cla_episodes")}
    assert {"X1", "E4A", "E11"} <= recs and recs & {"E45", "E46", "E47", "E48"}
    rne = {r["clae_cla_episode_start_reason"] for r in read(clean.path, "ssd_cla_episodes")}
    assert {"S", "L", "P", "T"} <= rne
    types = {r["clap_cla_placement_type"] for r in read(clean.path, "ssd_cla_placement")}
    assert types & {"A5", "A6"} and types & {"T3", "T4"}
    reasons = {r["clap_cla_placement_change_reason"] for r in read(clean.path, "ssd_cla_placement")}
    assert {"CARPL"} <= reasons and reasons & {"CREQB", "CREQO", "CHILD", "LAREQ"}
    actions = read(clean.path, "ext_plan_actions")
    assert {r["plan_type"] for r in actions} == {"CIN", "CP", "CLA"}
    assert any(not r["target_date"] for r in actions) and any(r["target_date"] for r in actions)
    assert read(clean.path, "ssd_missing")


def test_same_arguments_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = generate_drop(tmp_path / "a" / "2026-11-27", children=150, years=3, seed=3)
    b = generate_drop(tmp_path / "b" / "2026-11-27", children=150, years=3, seed=3, workers=1)
    c = generate_drop(tmp_path / "c" / "2026-11-27", children=150, years=3, seed=4)
    assert files(a.path) == files(b.path)
    assert files(a.path)["ssd_person.csv"] != files(c.path)["ssd_person.csv"]
    assert files(a.path)["ssd_cin_episodes.csv"] != files(c.path)["ssd_cin_episodes.csv"]


def test_parallel_chunks_give_the_same_files(tmp_path: Path, monkeypatch) -> None:
    from csc_warehouse.generate import api

    monkeypatch.setattr(api, "CHUNK_CHILDREN", 70)
    a = generate_drop(tmp_path / "a" / "x", children=300, years=3, seed=5, workers=2)
    monkeypatch.setattr(api, "CHUNK_CHILDREN", 1000)
    b = generate_drop(tmp_path / "b" / "x", children=300, years=3, seed=5, workers=1)
    assert files(a.path) == files(b.path)


def _by_key(drop: Path) -> dict[str, dict[str, dict[str, str]]]:
    return {t: {r[tab.key.name]: r for r in read(drop, t)} for t, tab in CONTRACT.tables.items()}


@pytest.mark.parametrize("profile", ["clean", "faulty"])
def test_next_night_extends_the_previous_one(tmp_path: Path, profile: str) -> None:
    night = dt.date(2026, 6, 30)
    before = _by_key(
        generate_drop(
            tmp_path / "n1", children=800, years=4, as_of=night, seed=11, profile=profile
        ).path
    )
    after_days = [night + dt.timedelta(days=1), night + dt.timedelta(days=40)]
    for later in after_days:
        after = _by_key(
            generate_drop(
                tmp_path / later.isoformat(),
                children=800,
                years=4,
                as_of=later,
                seed=11,
                profile=profile,
            ).path
        )
        changed = new = 0
        for table, rows in before.items():
            for key, row in rows.items():
                assert key in after[table], f"{table} {key} disappeared"
                other = after[table][key]
                if other != row:
                    changed += 1
                    # only an open span may change: blanks filled in, nothing else
                    for col, value in row.items():
                        assert value == other[col] or value == "", (table, key, col)
            new += len(after[table]) - len(rows)
        assert new > 0 and changed > 0
        # nothing back-dated appears: a new row starts after the earlier night (a new
        # child's addresses excepted: they were recorded when the child came to notice)
        new_people = set(after["ssd_person"]) - set(before["ssd_person"])
        for table, cut in CUTS.items():
            if cut.start in ("", "_start"):
                continue
            for key, row in after[table].items():
                if key in before[table]:
                    continue
                if table == "ssd_address" and row["addr_person_id"] in new_people:
                    continue
                assert row[cut.start] > night.isoformat(), (table, key)


def test_dialled_rate_moves_the_measured_rate(tmp_path: Path) -> None:
    base = generate_drop(tmp_path / "base", children=3000, years=5, seed=2)
    more = generate_drop(
        tmp_path / "more",
        children=3000,
        years=5,
        seed=2,
        rates={"re_referral_12m": 0.6, "late_review": 0.5},
    )
    m0, m1 = measured_rates(base.path, AS_OF), measured_rates(more.path, AS_OF)
    assert m1["re_referral_12m"] > m0["re_referral_12m"] + 0.1
    assert m1["late_reviews"] > m0["late_reviews"] + 0.2
    with pytest.raises(ValueError, match="unknown rate"):
        generate_drop(tmp_path / "bad", children=5, rates={"no_such_rate": 1})


def test_default_rates_are_near_england(clean: GenerateResult) -> None:
    m = measured_rates(clean.path, AS_OF)
    assert 0.12 <= m["re_referral_12m"] <= 0.32
    assert 0.08 <= m["late_reviews"] <= 0.30


def test_faulty_sidecar_matches_the_files(faulty: GenerateResult) -> None:
    assert faulty.injected == faulty.path.parent / f"{faulty.path.name}.injected.json"
    assert not (faulty.path / faulty.injected.name).exists()
    listed = json.loads(faulty.injected.read_text())["faults"]
    kinds = {f["kind"] for f in listed}
    assert kinds == {
        "missing_postcode",
        "blank_rc9_authorisation",
        "unknown_code",
        "end_before_start",
        "overlapping_placement",
        "orphan_row",
        "duplicate_key",
    }
    tables = {t: read(faulty.path, t) for t in {f["table"] for f in listed}}
    key_of = {t: CONTRACT.tables[t].key.name for t in tables}
    people = {r["pers_person_id"] for r in read(faulty.path, "ssd_person")}
    for f in listed:
        rows = [r for r in tables[f["table"]] if r[key_of[f["table"]]] == f["key"]]
        assert rows, f
        row, col, kind = rows[0], f["column"], f["kind"]
        if kind == "missing_postcode":
            assert row[col] == ""
        elif kind == "blank_rc9_authorisation":
            assert row["cine_close_reason"] == "RC9" and row[col] == ""
            assert row["ext_close_authorised_date"] == ""
        elif kind == "unknown_code":
            code_list = CONTRACT.code_lists[CONTRACT.tables[f["table"]].column(col).code_list]
            assert code_list.normalise(row[col]) is None
        elif kind == "end_before_start":
            start_col = SPANS[f["table"]][0]
            assert row[col] and row[col] < row[start_col]
        elif kind == "overlapping_placement":
            pid, start = row["clap_person_id"], row[col]
            assert any(
                o["clap_person_id"] == pid
                and o is not row
                and o["clap_cla_placement_start_date"] < start
                and (
                    not o["clap_cla_placement_end_date"] or o["clap_cla_placement_end_date"] > start
                )
                for o in tables[f["table"]]
            )
        elif kind == "orphan_row":
            assert row[col] not in people
        elif kind == "duplicate_key":
            assert len(rows) == 2
    # nothing faulty beyond the list: duplicates and orphans are all listed
    listed_dups = {(f["table"], f["key"]) for f in listed if f["kind"] == "duplicate_key"}
    for t, tab in CONTRACT.tables.items():
        keys = [r[tab.key.name] for r in read(faulty.path, t)]
        dups = {k for k, n in Counter(keys).items() if n > 1}
        assert {(t, k) for k in dups} <= listed_dups


def test_profiles_and_clean_has_no_faults() -> None:
    assert set(PROFILES) == {"clean", "faulty"}
    assert not PROFILES["clean"].any and PROFILES["faulty"].any


def test_a_handful_of_children_and_one_year(tmp_path: Path) -> None:
    result = generate_drop(tmp_path / "tiny", children=3, years=1, seed=1)
    assert result.rows["ssd_person"] == 3
    for name, table in CONTRACT.tables.items():
        assert header(result.path, name) == table.column_names
    with pytest.raises(ValueError, match="unknown profile"):
        generate_drop(tmp_path / "x", children=3, profile="nope")
    with pytest.raises(ValueError, match="unknown fault"):
        generate_drop(tmp_path / "y", children=3, faults={"nope": 0.1})


def test_generator_calendar_matches_the_holidays_package() -> None:
    import holidays

    from csc_warehouse.generate.calendar import add_working_days, bank_holidays

    for year in range(2000, 2036):
        expected = {d for d in holidays.UK(subdiv="ENG", years=year) if d.weekday() < 5}
        assert set(bank_holidays(year)) == expected, year
    christmas_eve = dt.date(2026, 12, 24).toordinal()
    assert dt.date.fromordinal(add_working_days(christmas_eve, 1)) == dt.date(2026, 12, 29)
    # zero working days after a day off is the next working day, never the one before
    saturday, monday = dt.date(2026, 11, 28), dt.date(2026, 11, 30)
    assert dt.date.fromordinal(add_working_days(saturday.toordinal(), 0)) == monday
    assert dt.date.fromordinal(add_working_days(monday.toordinal(), 0)) == monday


def test_headline_rates_of_a_20000_child_drop_sit_within_tolerance(tmp_path: Path) -> None:
    """The issue's acceptance size: 20,000 children over 5 years, default rates."""
    from csc_warehouse.generate.measure import measured_rates
    from csc_warehouse.generate.rates import HEADLINE_TARGETS

    res = generate_drop(tmp_path / AS_OF.isoformat(), children=20_000, years=5, as_of=AS_OF,
                        seed=1)
    measured = measured_rates(res.path, AS_OF)
    off = {
        name: (round(measured[name], 3), target, tol)
        for name, (target, tol) in HEADLINE_TARGETS.items()
        if abs(measured[name] - target) > tol
    }
    assert not off, f"outside tolerance (measured, target, tolerance): {off}"


def test_generated_drop_passes_the_loaders_contract_check(tmp_path: Path) -> None:
    """`cscw generate --children 200 --seed 1` output passes the loader's file-level check."""
    from csc_warehouse.config import get_settings
    from csc_warehouse.contract import load_contract
    from csc_warehouse.drop import open_drop
    from csc_warehouse.load.ssd import check_ssd_drop

    res = generate_drop(tmp_path / AS_OF.isoformat(), children=200, seed=1, as_of=AS_OF)
    infos, ignored = check_ssd_drop(open_drop(res.path), get_settings())
    assert set(infos) == set(load_contract().tables) and ignored == []
