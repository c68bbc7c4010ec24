"""The report task runs after publish, so only a published night gets a report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from conftest import REPO


def test_report_task_runs_after_publish_only(tmp_path):
    env = dict(os.environ)
    env["CSCW_HOME"] = str(tmp_path / "home")
    env["CSCW_DBT_TASKS"] = "single"  # the shape of the pipeline tasks does not depend on it
    code = textwrap.dedent("""
        import json
        from csc_warehouse.config import PIPELINE_TASKS, get_settings
        from csc_warehouse import airflow_runner
        airflow_runner.configure(get_settings())
        from csc_warehouse.dag_factory import build_nightly_dag
        dag = build_nightly_dag()
        t = dag.get_task("report")
        print(json.dumps({"up": sorted(t.upstream_task_ids), "rule": str(t.trigger_rule),
                          "listed": "report" in PIPELINE_TASKS,
                          "outlets": [str(o) for o in t.outlets]}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["up"] == ["load_raw", "publish"]
    assert "all_success" in info["rule"].lower()  # a failed or skipped publish: no report
    assert info["listed"] and info["outlets"] == []
