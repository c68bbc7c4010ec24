"""Benchmark a whole night at several sizes and print ratios (not a timed test).

    uv run python benchmarks/bench_night.py                        # 2,000 and 8,000 children
    uv run python benchmarks/bench_night.py --children 12500,50000  # issue 15's large authority
    uv run python benchmarks/bench_night.py --children 12500,50000,200000 --years 10

For each size (10 years of history by default), the drop is generated once into ``--data``
and reused by later runs. Then, each size in its own fresh CSCW_HOME, on its own port:

1. ``cscw run`` (CSCW_DBT_TASKS=single, the warehouse already started) on ``--port``: the
   real Airflow DAG under ``dag.test()``; each task's seconds are read from its progress lines;
2. the same steps by hand, in a second fresh CSCW_HOME on ``--hand-port``: the loader, the
   history step, one ``dbt build`` (dbtRunner, same vars and exclusions as the DAG), the GX
   validation, the publish swap and the improvement report, each timed in one process.

It prints each phase's seconds, the orchestration ratio (``cscw run``'s night over the
steps by hand), the validation's share of the night and, between consecutive sizes, each
phase's growth exponent ``log(t2/t1) / log(n2/n1)`` (1 is linear, 2 quadratic).

The default night is a Sunday (2026-11-29): the generator dates an assessment that starts
on the day of a weekend referral on the Friday before it, so a drop cut on a Friday can hold
an assessment whose referral is cut off (a critical failure: nothing would be published and
the publish phase would go unmeasured). Results and analysis: docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: the phases of a night, in order, as the DAG's tasks name them
PHASES = ("find_drop", "check_drop", "load_raw", "record_history", "dbt_build", "validate",
          "publish", "report", "summary")
MARKER = ".cscw-bench-night"
TASK_LINE = re.compile(r"^\s*[✓✗-] (\S+) (\w+) \(([\d.]+)s\)\s*$")
STEP_LINE = re.compile(r"^[✓✗] (.+?) \(([\d.]+)s\)\s*$")


# --- drops --------------------------------------------------------------------------------
def drop_for(data: Path, children: int, years: int, as_of: dt.date) -> Path:
    """The generated drop for this size, generated once and reused."""
    from csc_warehouse.generate import generate_drop

    path = data / f"{children}x{years}" / as_of.isoformat()
    if not (path / "manifest.json").exists():
        if path.exists():
            shutil.rmtree(path)
        t0 = time.perf_counter()
        generate_drop(path, children=children, years=years, as_of=as_of, seed=1)
        print(f"generated {path} in {time.perf_counter() - t0:.1f}s", flush=True)
    else:
        print(f"reusing {path}", flush=True)
    return path


# --- homes --------------------------------------------------------------------------------
def fresh_home(path: Path) -> Path:
    """An empty CSCW_HOME; only a folder this benchmark made is ever removed."""
    if path.exists():
        if not (path / MARKER).exists():
            raise SystemExit(f"{path} exists and is not a bench_night home: remove it or "
                             "choose another --homes")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("made by benchmarks/bench_night.py\n")
    return path


def env_for(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CSCW_WAREHOUSE_URL"}
    env.update(CSCW_HOME=str(home), CSCW_PG_PORT=str(port), CSCW_DBT_TASKS="single",
               COLUMNS="250", NO_COLOR="1", TERM="dumb")
    return env


def cscw(*args: str, env: dict[str, str], check: bool = True,
         timeout: float | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("cscw")
    try:
        proc = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        proc = subprocess.CompletedProcess(e.cmd, -9, out, f"\ntimed out after {timeout:.0f}s")
    if check and proc.returncode != 0:
        raise SystemExit(f"cscw {' '.join(args)} failed ({proc.returncode}):\n"
                         f"{(proc.stdout + proc.stderr)[-3000:]}")
    return proc


def peak_rss_mb() -> float:
    """Largest resident set of any child process so far (the client side, not PostgreSQL)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


# --- 1. cscw run ----------------------------------------------------------------------------
def via_cscw_run(drop: Path, home: Path, port: int, timeout: float) -> dict:
    env = env_for(fresh_home(home), port)
    cscw("warehouse", "start", env=env)
    try:
        t0 = time.perf_counter()
        proc = cscw("run", "--drop", str(drop), env=env, check=False, timeout=timeout)
        wall = time.perf_counter() - t0
    finally:
        cscw("warehouse", "stop", env=env, check=False)
    out = proc.stdout + proc.stderr
    tasks: dict[str, float] = {}
    steps: dict[str, float] = {}
    states: dict[str, str] = {}
    for line in out.splitlines():
        if m := TASK_LINE.match(line):
            tasks[m.group(1)] = float(m.group(3))
            states[m.group(1)] = m.group(2)
        elif m := STEP_LINE.match(line):
            steps[m.group(1)] = float(m.group(2))
    night = next((v for k, v in steps.items() if k.startswith("run the nightly DAG")), wall)
    prepare = next((v for k, v in steps.items() if k.startswith("prepare")), 0.0)
    if proc.returncode != 0:
        print(f"  ! cscw run exited {proc.returncode}: "
              f"{' '.join(out.split())[-600:]}", flush=True)
    return {"tasks": tasks, "states": states, "night": night, "prepare": prepare,
            "wall": wall, "ok": proc.returncode == 0, "peak_rss_mb": peak_rss_mb()}


# --- 2. by hand -----------------------------------------------------------------------------
def by_hand(drop: Path, home: Path, port: int, timeout: float) -> dict:
    env = env_for(fresh_home(home), port)
    cscw("warehouse", "start", env=env)
    try:
        proc = subprocess.run([sys.executable, __file__, "--by-hand-worker", str(drop)],
                              env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  ! by hand stopped after {timeout:.0f}s", flush=True)
        return {"tasks": {}, "night": timeout, "ok": False, "rows": 0,
                "peak_rss_mb": peak_rss_mb()}
    finally:
        cscw("warehouse", "stop", env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"by hand failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def by_hand_worker(drop: str) -> None:
    """Runs in its own process with CSCW_HOME/CSCW_PG_PORT set: the night's steps, timed."""
    import logging

    from csc_warehouse import dbt_runner, pipeline
    from csc_warehouse.config import get_settings
    from csc_warehouse.warehouse import warehouse_url

    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    settings.ensure_dirs()
    url = warehouse_url(settings)
    times: dict[str, float] = {}

    def timed(name: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        times[name] = time.perf_counter() - t0
        return out

    load = timed("load_raw", pipeline.load_raw, drop, settings=settings)
    timed("record_history", pipeline.record_history, load, settings=settings)
    dbt_vars = json.dumps({"as_of": load["as_of"], "batch_id": load["batch_id"]})
    res = timed("dbt_build", dbt_runner.invoke,
                ["build", "--exclude", "resource_type:unit_test", "--vars", dbt_vars,
                 "--target-path", str(dbt_runner.build_target_path(settings))],
                url, settings)
    if not res.success:
        raise SystemExit(f"dbt build failed: {res.failures()[:3]}")
    run_id = f"bench_{load['batch_id']}"
    ok = True
    try:
        timed("validate", pipeline.validate, run_id, load["as_of"], load["batch_id"],
              settings=settings)
    except pipeline.CriticalValidationError as e:
        ok = False
        print(f"critical: {e}", file=sys.stderr)
    if ok:
        timed("publish", pipeline.publish, run_id, load["as_of"], load["batch_id"],
              settings=settings)
        timed("report", pipeline.report, load["as_of"], settings=settings)
    print(json.dumps({"tasks": times, "night": sum(times.values()), "ok": ok,
                      "rows": load["rows_loaded"]}))


# --- report ---------------------------------------------------------------------------------
def exponent(t1: float | None, t2: float | None, n1: int, n2: int) -> str:
    if not t1 or not t2 or t1 <= 0 or t2 <= 0:
        return "-"
    return f"{math.log(t2 / t1) / math.log(n2 / n1):.2f}"


def report(results: dict[int, dict]) -> None:
    sizes = sorted(results)
    print()
    head = f"{'phase':<16}" + "".join(f"{f'{n:,} run':>14}{'by hand':>10}" for n in sizes)
    print(head)
    seen = {t for n in sizes for t in results[n]["run"]["tasks"]}
    for phase in (*PHASES, *sorted(seen - set(PHASES))):
        row = f"{phase:<16}"
        for n in sizes:
            r, h = results[n]["run"], results[n]["hand"]
            rt, ht = r["tasks"].get(phase), h["tasks"].get(phase)
            row += f"{rt if rt is not None else float('nan'):>14.1f}"
            row += f"{ht:>10.1f}" if ht is not None else f"{'':>10}"
        print(row)
    row_night = f"{'night':<16}"
    row_wall = f"{'cscw run wall':<16}"
    for n in sizes:
        r, h = results[n]["run"], results[n]["hand"]
        row_night += f"{r['night']:>14.1f}{h['night']:>10.1f}"
        row_wall += f"{r['wall']:>14.1f}{'':>10}"
    print(row_night)
    print(row_wall)
    print()
    for n in sizes:
        r, h = results[n]["run"], results[n]["hand"]
        v = r["tasks"].get("validate", 0.0)
        print(f"{n:,} children ({h.get('rows', 0):,} rows): night {r['night']:.1f}s "
              f"(+ prepare {r['prepare']:.1f}s), published: {r['ok']}; validation "
              f"{v:.1f}s = {100 * v / r['night']:.0f}% of the night; orchestration ratio "
              f"cscw run / by hand = {r['night'] / h['night']:.2f}; peak client RSS "
              f"{max(r['peak_rss_mb'], h['peak_rss_mb']):.0f} MB")
    for n1, n2 in zip(sizes, sizes[1:], strict=False):
        r1, r2 = results[n1]["run"], results[n2]["run"]
        parts = [f"{p} {exponent(r1['tasks'].get(p), r2['tasks'].get(p), n1, n2)}"
                 for p in ("load_raw", "record_history", "dbt_build", "validate", "publish",
                           "report")]
        print(f"growth exponent {n1:,} -> {n2:,} (x{n2 / n1:g}): night "
              f"{exponent(r1['night'], r2['night'], n1, n2)} "
              f"(time x{r2['night'] / r1['night']:.2f}); " + ", ".join(parts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--children", default="2000,8000",
                    help="comma-separated sizes (default 2000,8000)")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--as-of", default="2026-11-29", help="the night (default a Sunday)")
    ap.add_argument("--data", type=Path, default=Path("/tmp/cscw-bench-night/drops"),
                    help="cache of generated drops")
    ap.add_argument("--homes", type=Path, default=Path("/tmp/cscw-bench-night"),
                    help="parent of the per-size CSCW_HOMEs (recreated each run)")
    ap.add_argument("--port", type=int, default=55403,
                    help="embedded warehouse port of the cscw run side (sizes run one after "
                         "the other; each size's warehouse is stopped before the next)")
    ap.add_argument("--hand-port", type=int, default=55413,
                    help="embedded warehouse port of the by-hand side")
    ap.add_argument("--timeout", type=float, default=3600,
                    help="seconds one side of one size may take before it is stopped")
    ap.add_argument("--by-hand-worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.by_hand_worker:
        by_hand_worker(args.by_hand_worker)
        return
    sizes = [int(s.replace("_", "")) for s in args.children.split(",")]
    as_of = dt.date.fromisoformat(args.as_of)
    results: dict[int, dict] = {}
    for n in sizes:
        drop = drop_for(args.data, n, args.years, as_of)
        print(f"{n:,} children: cscw run ...", flush=True)
        run = via_cscw_run(drop, args.homes / f"home-{n}-run", args.port, args.timeout)
        print(f"  night {run['night']:.1f}s: " + ", ".join(
            f"{k} {v:.1f}s" for k, v in run["tasks"].items()), flush=True)
        if not run["ok"] and run["wall"] >= args.timeout:
            print(f"  stopped after {args.timeout:.0f}s; no larger size is tried", flush=True)
            break
        print(f"{n:,} children: by hand ...", flush=True)
        hand = by_hand(drop, args.homes / f"home-{n}-hand", args.hand_port, args.timeout)
        print(f"  {hand['night']:.1f}s: " + ", ".join(
            f"{k} {v:.1f}s" for k, v in hand["tasks"].items()), flush=True)
        results[n] = {"run": run, "hand": hand}
    if results:
        report(results)


if __name__ == "__main__":
    main()
