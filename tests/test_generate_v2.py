"""The generator's version-2 features (issues 11 and 12): short breaks, temporary
placements, missing episodes, CAMHS referrals, historic SGO codes, care begun before the
extract's history, teams and workers. Each appears at its configured (or England's) rate on
a mid-size drop, within a tolerance that the drop's size allows."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from csc_warehouse.generate import DEFAULT_RATES, GenerateResult, generate_drop
from csc_warehouse.generate.measure import measured_v2, same_carer
from csc_warehouse.generate.teams import ALL_TEAMS, IRO_TEAM, ROLE_ALLOCATED, ROLE_IRO, TEAMS

AS_OF = dt.date(2026, 11, 27)
R = DEFAULT_RATES


def read(drop: Path, table: str) -> list[dict[str, str]]:
    with (drop / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def day(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


@pytest.fixture(scope="module")
def mid(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    """The mid-size drop of the brief: 3,000 children over 5 years, default rates."""
    out = tmp_path_factory.mktemp("mid") / AS_OF.isoformat()
    return generate_drop(out, children=3000, years=5, as_of=AS_OF, seed=3)


@pytest.fixture(scope="module")
def m(mid: GenerateResult) -> dict[str, float]:
    return measured_v2(mid.path, AS_OF)


@pytest.fixture(scope="module")
def disabled(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    """Many disabled children (30% of referrals N2), half their series turning into care,
    so the short-break rates can be measured on 3,000 children."""
    out = tmp_path_factory.mktemp("disabled") / AS_OF.isoformat()
    return generate_drop(out, children=3000, years=5, as_of=AS_OF, seed=4,
                         rates={"disabled_need": 0.3, "short_breaks_to_care": 0.5})


# --- short breaks --------------------------------------------------------------------
def _short_break_series(drop: Path) -> tuple[dict[str, set[str]], dict[str, list[dict]]]:
    """referral -> the periods (clae_cla_id) of its short breaks; period -> its episodes."""
    legal = defaultdict(list)
    for r in read(drop, "ssd_legal_status"):
        legal[r["lega_person_id"]].append(r)
    periods: dict[str, list[dict]] = defaultdict(list)
    for r in read(drop, "ssd_cla_episodes"):
        periods[r["clae_cla_id"]].append(r)
    series: dict[str, set[str]] = defaultdict(set)
    for cla_id, eps in periods.items():
        eps.sort(key=lambda r: r["clae_cla_episode_start_date"])
        first = eps[0]
        status = [x["lega_legal_status"] for x in legal[first["clae_person_id"]]
                  if x["lega_legal_status_start_date"] == first["clae_cla_episode_start_date"]]
        if status and status[0] in ("V3", "V4"):
            series[first["clae_referral_id"]].add(cla_id)
    return series, periods


def test_short_breaks_go_to_disabled_children_on_cin_plans_at_the_configured_rate(disabled):
    drop = disabled.path
    series, periods = _short_break_series(drop)
    referrals = {r["cine_referral_id"]: r for r in read(drop, "ssd_cin_episodes")}
    plans = {r["cinp_referral_id"]: r for r in read(drop, "ssd_cin_plans")}
    with_cp = {r["cppl_referral_id"] for r in read(drop, "ssd_cp_plans")}
    in_care = {r["clae_referral_id"] for r in read(drop, "ssd_cla_episodes")}
    # every series belongs to a disabled child's CIN plan and lies within it
    assert series
    for ref_id, cla_ids in series.items():
        assert referrals[ref_id]["cine_cin_primary_need_code"] == "N2"
        plan = plans[ref_id]
        for cla_id in cla_ids:
            first = min(periods[cla_id], key=lambda r: r["clae_cla_episode_start_date"])
            assert first["clae_cla_episode_start_reason"] == "S"
            assert first["clae_cla_episode_start_date"] >= plan["cinp_cin_plan_start_date"]
    # the rate: series per CIN plan of a disabled child with no CP plan and no other care,
    # started at least 6 months before the drop date (a series starts 2-17 weeks in)
    cutoff = (AS_OF - dt.timedelta(days=183)).isoformat()
    eligible = [ref for ref, p in plans.items()
                if referrals[ref]["cine_cin_primary_need_code"] == "N2" and ref not in with_cp
                and (ref not in in_care or ref in series)
                and p["cinp_cin_plan_start_date"] <= cutoff
                and (not p["cinp_cin_plan_end_date"]
                     or day(p["cinp_cin_plan_end_date"]) - day(p["cinp_cin_plan_start_date"])
                     > dt.timedelta(days=150))]
    assert len(eligible) > 150
    share = sum(ref in series for ref in eligible) / len(eligible)
    assert abs(share - R.short_breaks) < 0.08, share


def test_short_breaks_follow_regulation_48_and_keep_the_same_carer(disabled):
    drop = disabled.path
    series, periods = _short_break_series(drop)
    placements = {r["clap_cla_placement_id"]: r for r in read(drop, "ssd_cla_placement")}
    legal = defaultdict(list)
    for r in read(drop, "ssd_legal_status"):
        legal[r["lega_person_id"]].append(r)
    kinds = set()
    for cla_ids in series.values():
        carers = set()
        for cla_id in cla_ids:
            eps = sorted(periods[cla_id], key=lambda r: r["clae_cla_episode_start_date"])
            p = placements[eps[0]["clae_cla_placement_id"]]
            carers.add((p["clap_cla_placement_provider"], p["clap_cla_placement_postcode"],
                        p["clap_cla_placement_urn"]))
            status = next(x["lega_legal_status"] for x in legal[eps[0]["clae_person_id"]]
                          if x["lega_legal_status_start_date"]
                          == eps[0]["clae_cla_episode_start_date"])
            kinds.add(status)
            if status == "V3" and len(eps) == 1 and eps[0]["clae_cla_episode_ceased_date"]:
                length = (day(eps[0]["clae_cla_episode_ceased_date"])
                          - day(eps[0]["clae_cla_episode_start_date"])).days
                assert 1 <= length <= 17  # one break: at most 17 days (reg 48)
                assert eps[0]["clae_cla_episode_ceased_reason"] == "E4A"
        assert len(carers) == 1  # the same short-break carer throughout a series
    assert kinds == {"V3", "V4"}
    # V3 nights per child in any 12 months stay within 75 (reg 48)
    nights = defaultdict(list)
    for pid, rows in legal.items():
        for x in rows:
            if x["lega_legal_status"] == "V3" and x["lega_legal_status_end_date"]:
                nights[pid].append((day(x["lega_legal_status_start_date"]),
                                    day(x["lega_legal_status_end_date"])))
    for spans in nights.values():
        for s, _e in spans:
            window = [(a, b) for a, b in spans if s <= a < s + dt.timedelta(days=365)]
            assert sum((b - a).days for a, b in window) <= 75


def test_some_series_turn_into_a_care_order_within_the_same_period(disabled):
    drop = disabled.path
    series, periods = _short_break_series(drop)
    legal = defaultdict(list)
    for r in read(drop, "ssd_legal_status"):
        legal[r["lega_person_id"]].append(r)
    plan_ended = {r["cinp_referral_id"] for r in read(drop, "ssd_cin_plans")
                  if r["cinp_cin_plan_end_date"]}
    converted = []
    ended = turned = 0
    for ref_id, cla_ids in series.items():
        conv = [eps for cla_id in cla_ids if len(
            eps := sorted(periods[cla_id], key=lambda r: r["clae_cla_episode_start_date"])) > 1]
        converted.extend(conv)
        if ref_id in plan_ended:  # the series is over: it turned into care or it did not
            ended += 1
            turned += bool(conv)
    assert ended > 40
    assert abs(turned / ended - 0.5) < 0.15, (turned, ended)
    assert converted
    for eps in converted:
        start, change = eps[0], eps[1]
        # the care order starts on the day the short-break episode ends (X1), same period
        assert start["clae_cla_episode_ceased_reason"] == "X1"
        assert change["clae_cla_episode_start_reason"] in ("L", "U", "B")
        statuses = {x["lega_legal_status_start_date"]: x["lega_legal_status"]
                    for x in legal[start["clae_person_id"]]}
        assert statuses[change["clae_cla_episode_start_date"]] == "C1"
        assert start["clae_entered_care_date"] == start["clae_cla_episode_start_date"]


def test_short_breaks_at_default_rates(m):
    # V3 (one row per break) and V4 (one row per agreement) both appear
    assert m["short_break_rows_v3"] > 0 and m["short_break_rows_v4"] > 0
    assert m["short_break_children"] >= 3


# --- temporary placements --------------------------------------------------------------
def test_temporary_placements_mostly_return_to_the_same_carer(mid, m):
    assert m["temporary_types"] == 5  # T0-T4: other, hospital, holiday, respite, <= 7 days
    assert m["temporary_placements"] >= 25
    assert abs(m["temporary_back_to_same_carer"] - (1 - R.temporary_to_new_carer)) < 0.15
    # per looked-after year, below the configured rate (long-term placements see fewer)
    assert 0.04 <= m["temporary_placements_per_cla_year"] <= R.temporary_placements_per_year
    rows = defaultdict(list)
    for r in read(mid.path, "ssd_cla_placement"):
        rows[r["clap_cla_id"]].append(r)
    moved = 0
    for rs in rows.values():
        rs.sort(key=lambda r: r["clap_cla_placement_start_date"])
        for a, t, b in zip(rs, rs[1:], rs[2:], strict=False):
            if t["clap_cla_placement_type"][0] == "T" and t["clap_cla_placement_end_date"]:
                assert a["clap_cla_placement_end_date"] == t["clap_cla_placement_start_date"]
                assert t["clap_cla_placement_end_date"] == b["clap_cla_placement_start_date"]
                assert not t["clap_cla_placement_provider"] and not t["clap_cla_placement_urn"]
                if not same_carer(a, b):
                    moved += 1
    assert moved > 0  # some move to a new carer after the temporary placement


# --- missing ---------------------------------------------------------------------------
def test_missing_episodes_of_looked_after_children(mid, m):
    # England: about 1 in 10 looked-after children go missing in a year
    assert 0.06 <= m["cla_12m_with_missing_episode"] <= 0.2
    assert 2 <= m["missing_episodes_per_missing_child_12m"] <= 8
    assert abs(m["rhi_offered"] - R.rhi_offered) < 0.06
    assert abs(m["rhi_accepted_of_offered"] - R.rhi_accepted) < 0.1
    assert 0.2 <= m["missing_away_share"] <= 0.4  # M missing 70%, A away 30%
    assert 0 < m["missing_not_looked_after_share"] < 0.25
    assert m["missing_open_on_drop_date"] >= 1  # a child currently missing
    for r in read(mid.path, "ssd_missing"):
        if not r["miss_missing_episode_end_date"]:
            assert r["miss_missing_rhi_offered"] == r["miss_missing_rhi_accepted"] == ""
        elif r["miss_missing_rhi_offered"] == "N":
            assert r["miss_missing_rhi_accepted"] == ""


# --- CAMHS -----------------------------------------------------------------------------
def test_camhs_waits_have_a_long_tail_and_some_are_never_seen(mid, m):
    assert m["camhs_referrals"] >= 150
    assert 8 <= m["camhs_median_wait_weeks"] <= 12
    assert 0.7 <= m["camhs_seen_within_18_weeks"] <= 0.9  # a tail past 18 weeks
    assert 0.2 <= m["camhs_closed_without_appointment"] <= 0.4
    assert abs(m["camhs_accepted"] - R.camhs_accepted) < 0.08
    assert m["camhs_open_waiting_on_drop_date"] >= 3
    people = {r["pers_person_id"] for r in read(mid.path, "ssd_person")}
    for r in read(mid.path, "ext_camhs_referrals"):
        assert r["camh_person_id"] in people
        first, closed = r["camh_first_appointment_date"], r["camh_closed_date"]
        assert not first or r["camh_referral_date"] < first <= AS_OF.isoformat()
        assert not closed or r["camh_referral_date"] <= closed <= AS_OF.isoformat()
        assert bool(closed) == bool(r["camh_outcome"])  # the outcome is known at closure
        if first:
            assert r["camh_accepted"] == "Y"


def test_camhs_fields_fill_in_night_by_night(tmp_path):
    """A referral open on one night shows what was known then; later nights add to it."""
    a = generate_drop(tmp_path / "a", children=600, years=3, as_of=dt.date(2026, 3, 1), seed=8)
    b = generate_drop(tmp_path / "b", children=600, years=3, as_of=dt.date(2026, 9, 1), seed=8)
    before = {r["camh_referral_id"]: r for r in read(a.path, "ext_camhs_referrals")}
    after = {r["camh_referral_id"]: r for r in read(b.path, "ext_camhs_referrals")}
    filled = 0
    for key, row in before.items():
        for col, value in row.items():
            assert value in ("", after[key][col]), (key, col)
            filled += value == "" and after[key][col] != ""
    assert filled > 0


# --- historic codes, care before the history ---------------------------------------------
def test_old_sgo_codes_only_before_april_2018(tmp_path):
    cutoff = "2018-04-01"
    res = generate_drop(tmp_path / "d", children=3000, years=10, as_of=AS_OF, seed=1,
                        rates={"old_sgo_code": 1.0})
    sgo = [r for r in read(res.path, "ssd_cla_episodes")
           if r["clae_cla_episode_ceased_reason"] in ("E43", "E44", "E45", "E46", "E47", "E48")]
    before = [r for r in sgo if r["clae_cla_episode_ceased_date"] < cutoff]
    after = [r for r in sgo if r["clae_cla_episode_ceased_date"] >= cutoff]
    assert before and after
    assert all(r["clae_cla_episode_ceased_reason"] in ("E43", "E44") for r in before)
    assert all(r["clae_cla_episode_ceased_reason"] not in ("E43", "E44") for r in after)
    # at the default rate only some of them
    default = measured_v2(
        generate_drop(tmp_path / "e", children=3000, years=10, as_of=AS_OF, seed=1).path, AS_OF)
    assert default["sgo_endings_before_2018_04"] >= 3
    assert default["old_sgo_code_share_before_2018_04"] < 1


def test_care_begun_before_the_history_has_an_earlier_entered_care_date(mid, m):
    window_start = "2021-11-27"
    assert abs(m["periods_entered_care_before_first_episode"] / 3000
               - R.in_care_before_history) < 0.008
    periods = defaultdict(list)
    for r in read(mid.path, "ssd_cla_episodes"):
        periods[r["clae_cla_id"]].append(r)
    reviews = defaultdict(list)
    for r in read(mid.path, "ssd_cla_reviews"):
        reviews[r["clar_cla_id"]].append(r["clar_cla_review_date"])
    early = 0
    for cla_id, eps in periods.items():
        first = min(eps, key=lambda r: r["clae_cla_episode_start_date"])
        if first["clae_entered_care_date"] < first["clae_cla_episode_start_date"]:
            early += 1
            assert first["clae_cla_episode_start_date"] == window_start
            assert first["clae_cla_episode_start_reason"] == "S"
            assert all(d >= window_start for d in reviews[cla_id])
    assert early > 0


# --- teams and workers ----------------------------------------------------------------
def test_teams_caseloads_worker_changes_and_unallocated_gaps(mid, m):
    drop = mid.path
    assert m["teams_with_early_help"] == len(TEAMS)  # all eight allocating teams in use
    assert 6 <= len(TEAMS) <= 8
    assert 14 <= m["caseload_mean"] <= 21  # caseload-sized allocations
    # England 2025: 24% of CLA had 3+ social workers in the year
    assert 0.12 <= m["cla_3plus_workers_12m"] <= 0.36
    assert m["open_cases_unallocated"] < 0.05  # unallocated gaps are short (checked below)
    names = {t.name for t in ALL_TEAMS}
    profs = {r["prof_professional_id"]: r for r in read(drop, "ssd_professionals")}
    invo = read(drop, "ssd_involvements")
    reasons = defaultdict(int)
    by_ref = defaultdict(list)
    for r in invo:
        assert r["invo_professional_team"] in names
        assert profs[r["invo_professional_id"]]["prof_professional_department"] == (
            r["invo_professional_team"])
        assert r["invo_professional_role_id"] in (ROLE_ALLOCATED, ROLE_IRO)
        assert (r["invo_professional_role_id"] == ROLE_IRO) == (
            r["invo_professional_team"] == IRO_TEAM.name)
        if r["invo_professional_role_id"] == ROLE_ALLOCATED:
            reasons[r["invo_worker_change_reason"]] += 1
            by_ref[r["invo_referral_id"]].append(r)
    assert {"LEFTRL", "TSPROC", "MANAGE"} <= set(reasons)
    gaps = 0
    for rows in by_ref.values():
        rows.sort(key=lambda r: r["invo_involvement_start_date"])
        for a, b in zip(rows, rows[1:], strict=False):
            assert a["invo_involvement_end_date"] <= b["invo_involvement_start_date"]
            gaps += a["invo_involvement_end_date"] < b["invo_involvement_start_date"]
    assert gaps > 0  # unallocated periods
    eh = read(drop, "ssd_early_help_episodes")
    assert {r["earl_episode_organisation"] for r in eh} == {
        t.name for t in TEAMS if t.kind == "early_help"}
    assert all(profs[r["earl_episode_worker_id"]]["prof_professional_department"]
               == r["earl_episode_organisation"] for r in eh)
    assessment_teams = {t.name for t in TEAMS if t.kind == "assessment"}
    assert {r["cine_referral_team"] for r in read(drop, "ssd_cin_episodes")} == assessment_teams


def test_episode_team_columns_agree_with_the_allocation(mid):
    drop = mid.path
    invo = defaultdict(list)
    for r in read(drop, "ssd_involvements"):
        if r["invo_professional_role_id"] == ROLE_ALLOCATED:
            invo[r["invo_referral_id"]].append(r)

    def allocated(ref: str, on: str) -> dict | None:
        for r in invo[ref]:
            if r["invo_involvement_start_date"] <= on and (
                    not r["invo_involvement_end_date"] or on < r["invo_involvement_end_date"]):
                return r
        return None

    checked = unallocated = 0
    for r in read(drop, "ssd_cin_assessments"):
        a = allocated(r["cina_referral_id"], r["cina_assessment_start_date"])
        if a is None:
            unallocated += not r["cina_assessment_worker_id"]
            continue
        assert r["cina_assessment_worker_id"] == a["invo_professional_id"]
        assert r["cina_assessment_team"] == a["invo_professional_team"]
        checked += 1
    for r in read(drop, "ssd_cin_plans"):
        a = allocated(r["cinp_referral_id"], r["cinp_cin_plan_start_date"])
        if a is not None and r["cinp_cin_plan_worker_id"]:
            assert r["cinp_cin_plan_team"] == a["invo_professional_team"]
    assert checked > 1000


# --- the drop as a whole ----------------------------------------------------------------
def test_same_seed_same_bytes_for_the_new_tables(tmp_path):
    a = generate_drop(tmp_path / "a" / "x", children=400, years=4, seed=9, workers=1)
    b = generate_drop(tmp_path / "b" / "x", children=400, years=4, seed=9, workers=2)
    for t in ("ext_camhs_referrals", "ssd_involvements", "ssd_professionals",
              "ssd_legal_status", "ssd_missing"):
        assert (a.path / f"{t}.csv").read_bytes() == (b.path / f"{t}.csv").read_bytes(), t


def test_the_mid_size_drop_passes_the_loaders_contract_check(mid):
    from csc_warehouse.config import get_settings
    from csc_warehouse.contract import load_contract
    from csc_warehouse.drop import open_drop
    from csc_warehouse.load.ssd import check_ssd_drop

    infos, ignored = check_ssd_drop(open_drop(mid.path), get_settings())
    assert set(infos) == set(load_contract().tables) and ignored == []
    assert mid.rows["ext_camhs_referrals"] > 0


def test_manifest_counts_from_the_writer_match_the_files(tmp_path):
    """The generator hands its row counts to write_manifest (no re-parse): they must be the
    files' real counts, duplicated rows of the faulty profile included."""
    from csc_warehouse.drop import count_csv_rows, open_drop, verify_manifest

    res = generate_drop(tmp_path / "x", children=300, years=3, seed=6, profile="faulty",
                        faults={"duplicate_key": 0.05})
    drop = open_drop(res.path)
    verify_manifest(drop)  # raises on a wrong count or checksum
    for name, entry in drop.manifest["files"].items():
        assert entry["rows"] == count_csv_rows(res.path / name), name
    assert drop.manifest["files"]["ssd_person.csv"]["rows"] > 300  # duplicated persons
