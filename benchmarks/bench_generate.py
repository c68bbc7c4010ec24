"""Benchmark the synthetic local-authority generator (not a test).

    uv run python benchmarks/bench_generate.py            # 2,000 x 5y and 50,000 x 10y
    uv run python benchmarks/bench_generate.py 10000x5    # any CHILDRENxYEARS sizes

Each size runs in a fresh child process so its peak RSS is its own. Prints wall time,
rows written, rows/second and peak RSS (resource.getrusage, parent + worker processes).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path


def _run(children: int, years: int, out: str, conn) -> None:  # runs in a child process
    from csc_warehouse.generate import generate_drop

    t0 = time.perf_counter()
    result = generate_drop(Path(out) / "2026-11-27", children=children, years=years, seed=1)
    elapsed = time.perf_counter() - t0
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    own, workers = me.ru_maxrss, kids.ru_maxrss
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    size = sum(p.stat().st_size for p in result.path.iterdir())
    conn.send(
        {
            "seconds": elapsed,
            "cpu_seconds": cpu,
            "rows": sum(result.rows.values()),
            "self_kb": own,
            "workers_kb": workers,
            "bytes": size,
        }
    )


def bench(children: int, years: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        parent, child = mp.Pipe()
        p = mp.get_context("fork").Process(target=_run, args=(children, years, tmp, child))
        p.start()
        stats = parent.recv()
        p.join()
    return stats


def main(argv: list[str]) -> None:
    sizes = [tuple(int(x) for x in a.lower().split("x")) for a in argv] or [(2000, 5), (50000, 10)]
    for children, years in sizes:
        s = bench(children, years)
        print(
            f"{children:>7,} children x {years:>2}y: {s['seconds']:6.1f} s "
            f"({s['cpu_seconds']:5.1f} s CPU), "
            f"{s['rows']:>10,} rows, {s['rows'] / s['seconds']:>9,.0f} rows/s, "
            f"{s['bytes'] / 1e6:7.1f} MB written, peak RSS main {s['self_kb'] / 1024:5.0f} MB, "
            f"largest worker {s['workers_kb'] / 1024:5.0f} MB"
        )
        sys.stdout.flush()
    if "--json" in argv:
        print(json.dumps(s))


if __name__ == "__main__":
    main([a for a in sys.argv[1:] if not a.startswith("--")])
