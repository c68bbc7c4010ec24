"""Benchmark the raw loader against a bare COPY of the same files (not a test).

    uv run python benchmarks/bench_load.py                      # 50,000 children x 10 years
    uv run python benchmarks/bench_load.py --children 2000 --years 5
    uv run python benchmarks/bench_load.py --data /tmp/bench    # reuse generated nights

One run, one warehouse (the embedded one of CSCW_HOME/CSCW_PG_PORT, or CSCW_WAREHOUSE_URL),
a fresh scratch database ``cscw_bench_load`` on it, the same generated files for both sides:

1. bare COPY: every CSV of night N into a plain text table (one transaction);
2. our loader on night N (checks, quarantine, insert, SCD2 history, bookkeeping, archive);
3. our loader on night N again (idempotent: the batch is recognised and skipped);
4. our loader on night N+1 (history closes/opens versions, retention).

Prints seconds, rows/s, the loader / bare COPY ratio (time and throughput) and the loader's
phases (inspect, COPY, checks, insert, history, retention).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql


def _generate(root: Path, children: int, years: int) -> list[Path]:
    from csc_warehouse.generate import generate_drop

    nights = [dt.date(2026, 11, 27), dt.date(2026, 11, 28)]
    out = []
    for night in nights:
        path = root / f"{children}x{years}" / night.isoformat()
        marker = path / "manifest.json"
        if not marker.exists():
            t0 = time.perf_counter()
            generate_drop(path, children=children, years=years, as_of=night, seed=1)
            print(f"generated {path} in {time.perf_counter() - t0:.1f}s", flush=True)
        out.append(path)
    return out


def _scratch_url(url: str, dbname: str) -> str:
    from psycopg2.extensions import make_dsn, parse_dsn

    params = parse_dsn(url)
    admin = make_dsn(**{**params, "dbname": "postgres"})
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(dbname)))
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    conn.close()
    return make_dsn(**{**params, "dbname": dbname})


def bare_copy(url: str, drop: Path) -> tuple[float, int]:
    """COPY every file into a new, empty text table (one transaction, committed). Only the
    COPY and the commit are timed; the header and encoding are read beforehand."""
    from csc_warehouse.load.csv_files import inspect_csv

    infos = [inspect_csv(path) for path in sorted(drop.glob("*.csv"))]
    conn = psycopg2.connect(url)
    rows = 0
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("create schema if not exists bare")
        for info in infos:
            path = info.path
            tbl = sql.Identifier("bare", path.stem)
            cur.execute(sql.SQL("drop table if exists {}").format(tbl))
            cur.execute(sql.SQL("create table {} ({})").format(
                tbl, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                                        for c in info.header)))
            with path.open("rb") as f:
                cur.copy_expert(
                    sql.SQL("copy {} from stdin with (format csv, header true, encoding {})")
                    .format(tbl, sql.Literal(info.encoding)).as_string(cur), f, size=1 << 20)
            rows += cur.rowcount
    conn.commit()
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed, rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=50000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cscw-bench")
    args = ap.parse_args(argv)

    from csc_warehouse.config import get_settings
    from csc_warehouse.drop import open_drop
    from csc_warehouse.load.history import record_history
    from csc_warehouse.load.ssd import SsdLoader
    from csc_warehouse.warehouse import warehouse_url
    from csc_warehouse.warehouse.schemas import bootstrap

    night_n, night_n1 = _generate(args.data, args.children, args.years)
    settings = get_settings()
    url = _scratch_url(warehouse_url(settings), "cscw_bench_load")
    bootstrap(url, settings)

    bare_s, bare_rows = bare_copy(url, night_n)
    # the loader alone (history is its own transaction after the load: timed apart)
    loader = SsdLoader(url, settings, history=False)

    def timed(drop: Path):
        t0 = time.perf_counter()
        report = loader.load(open_drop(drop))
        return time.perf_counter() - t0, report, dict(loader.timings)

    def timed_history(batch_id: str) -> float:
        t0 = time.perf_counter()
        record_history(url, batch_id)
        return time.perf_counter() - t0

    load_s, report, phases_n = timed(night_n)
    history_s = timed_history(report.batch_id)
    reload_s, again, _ = timed(night_n)
    assert again.already_loaded
    next_s, report_n1, phases_n1 = timed(night_n1)
    history_n1_s = timed_history(report_n1.batch_id)
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("select count(*), count(*) filter (where valid_to_drop is not null) "
                    "from raw.record_history")
        hist, closed = cur.fetchone()
    conn.close()

    size = sum(p.stat().st_size for p in night_n.glob("*.csv")) / 1e6
    rows_n = report.rows_loaded + report.rows_rejected
    rows_n1 = report_n1.rows_loaded + report_n1.rows_rejected
    print()
    print(f"drop: {args.children:,} children x {args.years} years, "
          f"{bare_rows:,} rows, {size:.0f} MB of CSV")
    print(f"{'step':<36}{'seconds':>9}{'rows/s':>12}{'time/COPY':>11}{'throughput':>12}")
    lines = [
        ("bare COPY into empty text tables", bare_s, bare_rows),
        ("cscw loader, night N", load_s, rows_n),
        ("cscw loader, night N again (skip)", reload_s, 0),
        ("cscw loader, night N+1", next_s, rows_n1),
        ("record history (SCD2), night N", history_s, rows_n),
        ("record history (SCD2), night N+1", history_n1_s, rows_n1),
    ]
    for name, secs, rows in lines:
        rate = f"{rows / secs:,.0f}" if rows else "-"
        share = f"{bare_s / secs:.2f}" if rows else "-"
        print(f"{name:<36}{secs:>9.2f}{rate:>12}{secs / bare_s:>10.2f}x{share:>12}")
    print("throughput = loader rows/s / bare COPY rows/s (target >= 0.80)")
    print()
    print("loader phases (seconds)        night N   night N+1")
    order = ["inspect", "copy + checks (overlapped)", "copy", "checks", "attach",
             "retention"]
    names = order + sorted((set(phases_n) | set(phases_n1)) - set(order))
    for phase in names:
        label = f"  {phase}" if phase not in ("copy", "checks") else f"    {phase} (thread)"
        print(f"{label:<30}{phases_n.get(phase, 0):>9.2f}{phases_n1.get(phase, 0):>12.2f}")
    def other(total: float, phases: dict[str, float]) -> float:
        return total - sum(v for k, v in phases.items() if k not in ("copy", "checks"))

    other_n, other_n1 = other(load_s, phases_n), other(next_s, phases_n1)
    print(f"  {'other (bookkeeping, archive)':<28}{other_n:>9.2f}{other_n1:>12.2f}")
    print(f"quarantined: night N {report.rows_rejected:,}, night N+1 "
          f"{report_n1.rows_rejected:,}; record_history: {hist:,} versions, {closed:,} closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
