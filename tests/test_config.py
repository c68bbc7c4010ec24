from __future__ import annotations

from csc_warehouse.config import DEFAULT_PG_PORT, get_settings
from csc_warehouse.warehouse.db import sqlalchemy_url, url_parts


def test_defaults_and_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("CSCW_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("CSCW_PG_PORT", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CSCW_HOME", raising=False)
    s = get_settings()
    assert s.home == tmp_path / ".cscw"
    assert s.embedded and s.pg_port == DEFAULT_PG_PORT
    assert s.pgdata == s.home / "pgdata" and s.airflow_home == s.home / "airflow"
    monkeypatch.setenv("CSCW_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("CSCW_WAREHOUSE_URL", "postgresql://u:p%40ss@db.example:6543/wh")
    s = get_settings()
    assert s.home == tmp_path / "elsewhere"
    assert not s.embedded


def test_url_parts_and_sqlalchemy_url_keep_special_characters():
    p = url_parts("postgresql://u:p%40ss@db.example:6543/wh")
    assert p == {"host": "db.example", "port": "6543", "user": "u", "password": "p@ss",
                 "dbname": "wh"}
    assert sqlalchemy_url("postgresql://u:p%40ss@db.example:6543/wh") == (
        "postgresql+psycopg2://u:p%40ss@db.example:6543/wh"
    )


def test_secrets_come_from_the_environment_and_stay_out_of_repr(monkeypatch):
    monkeypatch.setenv("CSCW_PSEUDONYM_KEY", "pseudonym-secret-value")
    monkeypatch.setenv("CSCW_BI_PASSWORD", "bi-secret-value")
    monkeypatch.delenv("CSCW_CASEWORK_PASSWORD", raising=False)
    s = get_settings()
    assert s.pseudonym_key == "pseudonym-secret-value"
    assert s.role_passwords == {"cscw_bi": "bi-secret-value"}
    assert "secret-value" not in repr(s)
