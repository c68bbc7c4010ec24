"""File-level rejection through the real CLI (= the real Airflow DAG, in-process)."""

from __future__ import annotations

from pathlib import Path

from csc_warehouse.config import get_settings
from csc_warehouse.warehouse.schemas import bootstrap

PERSON = "pers_person_id,pers_sex,pers_dob\nP1,F,2010-01-01\n"  # no pers_ethnicity


def test_cscw_run_rejects_a_drop_with_a_missing_required_column(cscw, tmp_path: Path):
    drop = tmp_path / "2026-02-03"
    drop.mkdir()
    (drop / "ssd_person.csv").write_text(PERSON)
    bootstrap(cscw.url, get_settings())  # so the "nothing loaded" checks always run
    before = cscw.query("select count(*) from raw.ssd_person")
    proc = cscw.run("run", "--drop", str(drop), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "ssd_person.csv" in out and "pers_ethnicity" in out, out
    # nothing loaded, nothing published for that night
    assert cscw.query("select count(*) from raw.ssd_person") == before
    assert cscw.query("select count(*) from raw.load_batches where drop_date = "
                      "'2026-02-03' and status = 'loaded'") == [(0,)]
