"""Benchmark the raw loader against a bare COPY of the same files (not a test).

    uv run python benchmarks/bench_load.py                      # 50,000 children x 10 years
    uv run python benchmarks/bench_load.py --children 2000 --years 5 --rounds 1
    uv run python benchmarks/bench_load.py --data /tmp/bench    # reuse generated nights

One run, one warehouse (the embedded one of CSCW_HOME/CSCW_PG_PORT, or CSCW_WAREHOUSE_URL),
the same generated files for every side. Each round, in a fresh scratch database
``cscw_bench_load``, times side by side:

1. bare COPY: every CSV of night N into a new plain text table, one connection, one
   transaction (the issue's baseline);
2. bare COPY on as many connections as the loader uses (the same files, shared out largest
   first): how much of the loader's speed is parallelism;
3. our loader on night N (inspect, COPY, checks, quarantine, attach, bookkeeping, archive).

Several rounds (default 3), because one machine's timings of an 80 MB write vary by ±20%
from run to run: the ratios are of the medians. The last round then also times the loader
on night N again (idempotent: skipped), on night N+1, and the SCD2 history step after each
night (its own transaction after the load; see docs/loading.md). Before each timed step
the benchmark waits for autovacuum to be idle (it wakes up after every bulk load) and
issues a CHECKPOINT, so no step pays for writing out the previous step's buffers.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql


def _generate(root: Path, children: int, years: int, profile: str) -> list[Path]:
    from csc_warehouse.generate import generate_drop

    nights = [dt.date(2026, 11, 27), dt.date(2026, 11, 28)]
    out = []
    for night in nights:
        suffix = "" if profile == "clean" else f"-{profile}"
        path = root / f"{children}x{years}{suffix}" / night.isoformat()
        marker = path / "manifest.json"
        if not marker.exists():
            t0 = time.perf_counter()
            generate_drop(path, children=children, years=years, as_of=night, seed=1,
                          profile=profile)
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


def wait_quiet(url: str, limit: float = 120.0) -> None:
    """Start a timed step from the state a night starts from: no autovacuum worker busy
    (after a bulk load autovacuum analyses and vacuums the new rows) and no dirty buffers
    left by the step before (a checkpoint; nights are hours apart, checkpoints minutes)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    deadline = time.monotonic() + limit
    try:
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("select count(*) from pg_stat_activity "
                            "where backend_type = 'autovacuum worker'")
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.2)
            try:
                cur.execute("checkpoint")
            except psycopg2.Error as e:  # needs superuser or pg_checkpoint
                print(f"(no checkpoint before the step: {e.pgerror or e})".strip())
    finally:
        conn.close()


def _copy_files(url: str, infos: list, schema: str) -> int:
    """COPY the files into new text tables on one connection, one transaction."""
    conn = psycopg2.connect(url)
    rows = 0
    try:
        with conn.cursor() as cur:
            for info in infos:
                tbl = sql.Identifier(schema, info.path.stem)
                cur.execute(sql.SQL("create table {} ({})").format(
                    tbl, sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                                            for c in info.header)))
                with info.path.open("rb") as f:
                    cur.copy_expert(
                        sql.SQL("copy {} from stdin with (format csv, header true, "
                                "encoding {})").format(tbl, sql.Literal(info.encoding))
                        .as_string(cur), f, size=1 << 20)
                rows += cur.rowcount
        conn.commit()
    finally:
        conn.close()
    return rows


def bare_copy(url: str, drop: Path, connections: int = 1) -> tuple[float, int]:
    """COPY every file into a new, empty text table and commit; with several connections
    the files are shared out largest first (greedy). Only the COPYs and commits are timed;
    the header and encoding are read beforehand."""
    from csc_warehouse.load.csv_files import inspect_csv

    infos = sorted((inspect_csv(p) for p in drop.glob("*.csv")), key=lambda i: -i.size)
    schema = f"bare{connections}"
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("drop schema if exists {0} cascade; create schema {0}").format(
            sql.Identifier(schema)))
    conn.close()
    shares: list[list] = [[] for _ in range(connections)]
    sizes = [0] * connections
    for info in infos:
        i = sizes.index(min(sizes))
        shares[i].append(info)
        sizes[i] += info.size
    counts = [0] * connections

    def run(i: int) -> None:
        counts[i] = _copy_files(url, shares[i], schema)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sum(counts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=50000)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", default="clean",
                    help="generator profile: clean, or faulty (injected faults: the rows "
                         "that fail the cheap checks take the full checks; the reject "
                         "threshold is raised to 5%% so the night loads)")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cscw-bench")
    args = ap.parse_args(argv)

    from csc_warehouse.config import get_settings
    from csc_warehouse.drop import open_drop
    from csc_warehouse.load.history import record_history
    from csc_warehouse.load.ssd import SsdLoader
    from csc_warehouse.warehouse import warehouse_url
    from csc_warehouse.warehouse.schemas import bootstrap

    night_n, night_n1 = _generate(args.data, args.children, args.years, args.profile)
    settings = get_settings()
    if args.profile != "clean":
        settings = dataclasses.replace(settings, reject_threshold=0.05)
    n_conn = settings.load_connections

    def timed_load(loader: SsdLoader, drop: Path):
        t0 = time.perf_counter()
        report = loader.load(open_drop(drop))
        return time.perf_counter() - t0, report, dict(loader.timings)

    bare, bare_par, load = [], [], []
    for r in range(args.rounds):
        url = _scratch_url(warehouse_url(settings), "cscw_bench_load")
        bootstrap(url, settings)
        wait_quiet(url)
        b, bare_rows = bare_copy(url, night_n)
        wait_quiet(url)
        bp, _ = bare_copy(url, night_n, n_conn)
        wait_quiet(url)
        # the loader alone: history is its own step after the load, timed apart below
        loader = SsdLoader(url, settings, history=False)
        s, report, phases_n = timed_load(loader, night_n)
        bare.append(b)
        bare_par.append(bp)
        load.append(s)
        print(f"round {r + 1}: bare COPY {b:.2f} s, bare COPY x{n_conn} {bp:.2f} s, "
              f"loader {s:.2f} s", flush=True)

    # the last round's database goes on: history, the same night again, the next night
    wait_quiet(url)
    t0 = time.perf_counter()
    record_history(url, report.batch_id)
    history_s = time.perf_counter() - t0
    wait_quiet(url)
    reload_s, again, _ = timed_load(loader, night_n)
    assert again.already_loaded
    next_s, report_n1, phases_n1 = timed_load(loader, night_n1)
    wait_quiet(url)
    t0 = time.perf_counter()
    record_history(url, report_n1.batch_id)
    history_n1_s = time.perf_counter() - t0
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("select count(*), count(*) filter (where valid_to_drop is not null) "
                    "from raw.record_history")
        hist, closed = cur.fetchone()
    conn.close()

    bare_s = statistics.median(bare)
    size = sum(p.stat().st_size for p in night_n.glob("*.csv")) / 1e6
    rows_n = report.rows_loaded + report.rows_rejected
    rows_n1 = report_n1.rows_loaded + report_n1.rows_rejected
    print()
    print(f"drop: {args.children:,} children x {args.years} years ({args.profile}), "
          f"{bare_rows:,} rows, {size:.0f} MB of CSV; loader connections: {n_conn}; "
          f"medians of {args.rounds} round(s)")
    print(f"{'step':<40}{'seconds':>9}{'rows/s':>12}{'time/COPY':>11}{'throughput':>12}")
    lines = [
        ("bare COPY, 1 connection (baseline)", bare_s, bare_rows),
        (f"bare COPY, {n_conn} connections", statistics.median(bare_par), bare_rows),
        ("cscw loader, night N", statistics.median(load), rows_n),
        ("cscw loader, night N again (skip)", reload_s, 0),
        ("cscw loader, night N+1", next_s, rows_n1),
        ("record history (SCD2), night N", history_s, rows_n),
        ("record history (SCD2), night N+1", history_n1_s, rows_n1),
    ]
    for name, secs, rows in lines:
        rate = f"{rows / secs:,.0f}" if rows else "-"
        share = f"{bare_s / secs:.2f}" if rows else "-"
        print(f"{name:<40}{secs:>9.2f}{rate:>12}{secs / bare_s:>10.2f}x{share:>12}")
    print("throughput = rows/s / bare COPY (1 connection) rows/s; target for the loader >= 0.80")
    print(f"loader, night N, every round: {', '.join(f'{s:.2f}' for s in load)} s; "
          f"bare COPY: {', '.join(f'{s:.2f}' for s in bare)} s")
    print()
    print("loader phases (seconds, last round)   night N   night N+1")
    order = ["inspect", "copy + checks (overlapped)", "copy", "checks", "attach", "retention"]
    names = order + sorted((set(phases_n) | set(phases_n1)) - set(order))
    for phase in names:
        label = f"  {phase}" if phase not in ("copy", "checks") else \
            f"    {phase} (sum over connections)"
        print(f"{label:<37}{phases_n.get(phase, 0):>9.2f}{phases_n1.get(phase, 0):>12.2f}")
    print(f"quarantined: night N {report.rows_rejected:,}, night N+1 "
          f"{report_n1.rows_rejected:,}; record_history: {hist:,} versions, {closed:,} closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
