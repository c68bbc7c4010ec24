"""The production docker-compose stack: wiring checks that need no Docker engine.

The YAML checks parse docker-compose.yml with PyYAML (merge keys resolved). The last tests
run `docker-compose config -q` (Compose's own validation and interpolation) when the
docker-compose binary is installed: on Debian `apt-get install docker-compose` (1.29.2);
CI installs it. Without it those tests are skipped with a reason saying so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
WAREHOUSE_INIT = ROOT / "docker" / "warehouse" / "initdb" / "10-cscw-owner.sh"

AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
LONG_RUNNING = [*AIRFLOW_SERVICES, "postgres", "redis", "warehouse", "metabase-db", "metabase",
                "superset"]
SUPERSET_DIR = ROOT / "bi" / "superset"
# Environment variable names that carry a credential.
SECRET_NAME = re.compile(r"(PASSWORD|PASS|SECRET|FERNET|_KEY|AUTH)$")
# ${VAR}, ${VAR:-default}, ${VAR:?message}; not $${VAR} (escaped for the container's shell)
VAR_REF = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "use the mapping form of environment:"
    return {k: str(v) for k, v in env.items()}


def command_of(service: dict) -> str:
    cmd = service.get("command")
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def host_of(url: str) -> str:
    m = re.match(r"^[a-z0-9+]+://[^@/]*@([^:/]+)", url)
    assert m, url
    return m.group(1)


def env_example() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


# ------------------------------------------------------------------------ Airflow layout
def test_airflow_services_and_commands(services):
    for name, command in AIRFLOW_SERVICES.items():
        assert name in services, f"missing service {name}"
        assert command_of(services[name]) == command, name
    assert "airflow-init" in services


def test_airflow_services_use_the_project_image(services):
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        build = services[name].get("build")
        assert build in (".", {"context": "."}), f"{name} must build the repo's Dockerfile"


def test_airflow_common_environment(services):
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = env_of(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", name
        assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"].lower() == "true", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        ), name
        assert env["AIRFLOW__CORE__FERNET_KEY"].startswith("${FERNET_KEY"), name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW__API_AUTH__JWT_SECRET"), (
            name
        )
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert host_of(env["AIRFLOW__CELERY__BROKER_URL"]) == "redis", name


def test_apiserver_port_and_worker_settings(services):
    api = services["airflow-apiserver"]
    assert any(str(p).endswith(":8080:8080") or str(p) == "8080:8080" for p in api["ports"])
    worker = services["airflow-worker"]
    assert env_of(worker)["DUMB_INIT_SETSID"] == "0"
    assert worker["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_init_migrates_and_creates_admin(services):
    init = services["airflow-init"]
    env = env_of(init)
    assert env["_AIRFLOW_DB_MIGRATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    assert "/entrypoint airflow version" in command_of(init)
    for name in AIRFLOW_SERVICES:
        dep = services[name]["depends_on"]["airflow-init"]
        assert dep["condition"] == "service_completed_successfully", name


def test_healthchecks(services):
    for name in LONG_RUNNING:
        hc = services[name].get("healthcheck")
        assert hc and hc.get("test"), f"{name} has no healthcheck"
    expected = {
        "airflow-apiserver": "/api/v2/monitor/health",
        "airflow-scheduler": "8974/health",
        "airflow-dag-processor": "DagProcessorJob",
        "airflow-triggerer": "TriggererJob",
        "airflow-worker": "inspect ping",
        "metabase": "/api/health",
        "superset": "8088/health",
        "warehouse": "pg_isready",
    }
    for name, probe in expected.items():
        assert probe in " ".join(services[name]["healthcheck"]["test"]), name


# ------------------------------------------------------------------------ the warehouse
def test_warehouse_is_not_the_metadata_db(services):
    wh, meta = services["warehouse"], services["postgres"]
    assert re.fullmatch(r"postgres:1[67](\..*)?", wh["image"]), wh["image"]
    assert env_of(wh)["POSTGRES_DB"] == "warehouse"
    assert env_of(meta)["POSTGRES_DB"] == "airflow"
    wh_volumes = {str(v).split(":")[0] for v in wh["volumes"]}
    meta_volumes = {str(v).split(":")[0] for v in meta["volumes"]}
    assert not wh_volumes & meta_volumes, "the warehouse needs its own volume"
    assert "127.0.0.1:5433:5432" in wh["ports"]
    assert not meta.get("ports"), "the metadata DB is not published"

    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = env_of(services[name])
        assert host_of(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]) == "postgres"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("/airflow")
        url = env["CSCW_WAREHOUSE_URL"]
        assert url == (
            "postgresql://cscw:${CSCW_WAREHOUSE_PASSWORD:?set CSCW_WAREHOUSE_PASSWORD in .env}"
            "@warehouse:5432/warehouse"
        ), name
        assert services[name]["depends_on"]["warehouse"]["condition"] == "service_healthy"


def test_warehouse_init_script(services):
    mounts = [str(v) for v in services["warehouse"]["volumes"]]
    assert "./docker/warehouse/initdb:/docker-entrypoint-initdb.d:ro" in mounts
    assert WAREHOUSE_INIT.exists()
    assert os.access(WAREHOUSE_INIT, os.X_OK), "the init script must be executable"
    text = WAREHOUSE_INIT.read_text()
    assert "createrole" in text and "owner to cscw" in text
    assert not re.search(r"role cscw[^\n]*superuser", text, re.I), "cscw is not a superuser"


def test_project_environment_and_mounts(services):
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        svc = services[name]
        env = env_of(svc)
        assert env["CSCW_HOME"] == "/opt/airflow/cscw"
        for var in ("CSCW_PSEUDONYM_KEY", "CSCW_BI_PASSWORD", "CSCW_CASEWORK_PASSWORD"):
            assert env[var].startswith("${" + var), (name, var)
        volumes = [str(v) for v in svc["volumes"]]
        assert "${CSCW_LANDING_DIR:-./landing}:/opt/airflow/cscw/landing:ro" in volumes
        assert any(v.endswith(":/opt/airflow/cscw") for v in volumes), "CSCW_HOME volume"


# ------------------------------------------------------------------------ Metabase
def test_metabase_has_its_own_application_db(services):
    mb = services["metabase"]
    image, _, tag = mb["image"].partition(":")
    assert image == "metabase/metabase"
    assert tag and "latest" not in tag, "pin the Metabase version"
    assert re.fullmatch(r"(\$\{METABASE_VERSION:-)?v\d+\.\d+\.\d+\}?", tag), tag
    env = env_of(mb)
    assert env["MB_DB_TYPE"] == "postgres"
    db_host = env["MB_DB_HOST"]
    assert db_host in services
    assert db_host not in ("warehouse", "postgres"), "Metabase needs its own application DB"
    assert env_of(services[db_host])["POSTGRES_DB"] == env["MB_DB_DBNAME"]
    assert env["MB_DB_PASS"].startswith("${METABASE_DB_PASSWORD")
    assert env["MB_ENCRYPTION_SECRET_KEY"].startswith("${MB_ENCRYPTION_SECRET_KEY:?")
    assert any(str(p).endswith(":3000:3000") for p in mb["ports"])
    db_volumes = {str(v).split(":")[0] for v in services[db_host]["volumes"]}
    others = {
        str(v).split(":")[0] for s in ("warehouse", "postgres") for v in services[s]["volumes"]
    }
    assert not db_volumes & others


# ------------------------------------------------------------------------ Superset
def test_superset_imports_the_dashboards_as_code_and_reads_marts_as_cscw_bi(services):
    ss = services["superset"]
    assert ss["build"]["context"] == "./bi/superset"
    dockerfile = (SUPERSET_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/superset:\$\{SUPERSET_VERSION\}$", dockerfile, re.M)
    # the image and `cscw bi up` run the same Superset version, config, script and assets
    pinned = re.search(r'"apache-superset==([\d.]+)"',
                       (SUPERSET_DIR / "pyproject.toml").read_text()).group(1)
    assert f"ARG SUPERSET_VERSION={pinned}" in dockerfile
    assert ss["build"]["args"]["SUPERSET_VERSION"] == "${SUPERSET_VERSION:-" + pinned + "}"
    assert env_example()["SUPERSET_VERSION"] == pinned
    assert "COPY --chown=superset:superset superset_config.py cscw_superset_setup.py" in dockerfile
    assert "COPY --chown=superset:superset assets /app/cscw/assets" in dockerfile
    assert (SUPERSET_DIR / "assets" / "metadata.yaml").exists()
    command = command_of(ss)
    assert command.index("cscw_superset_setup.py") < command.index("gunicorn"), command
    env = env_of(ss)
    assert env["SUPERSET_CONFIG_PATH"] == "/app/cscw/superset_config.py"
    assert env["CSCW_SUPERSET_ASSETS"] == "/app/cscw/assets"
    uri = env["CSCW_SUPERSET_WAREHOUSE_URI"]
    assert re.fullmatch(r"postgresql\+psycopg2://cscw_bi@warehouse:5432/warehouse", uri), uri
    assert env["CSCW_BI_PASSWORD"].startswith("${CSCW_BI_PASSWORD:?")
    # its own metadata on its own volume, never the warehouse or another service's DB
    assert env["CSCW_SUPERSET_METADATA_URI"].startswith("sqlite:////app/superset_home/")
    volumes = {str(v).split(":")[0] for v in ss["volumes"]}
    assert volumes == {"superset-home"}
    others = {str(v).split(":")[0] for name, s in services.items() if name != "superset"
              for v in s.get("volumes", [])}
    assert not volumes & others
    assert any(str(p).endswith(":8088:8088") for p in ss["ports"])
    assert ss["depends_on"]["warehouse"]["condition"] == "service_healthy"


def test_superset_sends_nothing_outside():
    """The browser may load nothing but Superset itself (telemetry pixel, map tiles, web
    fonts): the content security policy names no other host."""
    config = (SUPERSET_DIR / "superset_config.py").read_text()
    policy = config[config.index("TALISMAN_CONFIG"):]
    assert "TALISMAN_ENABLED = True" in config
    assert not re.search(r"https?://", policy), "the CSP allows an outside host"
    assert "scarf" not in policy


# ------------------------------------------------------------------------ secrets
def test_no_password_literals_in_compose(services):
    text = COMPOSE.read_text()
    # credentials inside URLs: scheme://user:<secret>@host
    for secret in re.findall(r"://[^:/\s@]*:([^@\s]*)@", text):
        assert secret.startswith("${"), f"literal password in a URL: {secret!r}"
    for name, svc in services.items():
        for key, value in env_of(svc).items():
            if SECRET_NAME.search(key):
                assert value.startswith("${"), f"{name}: {key} must come from .env"
                assert ":-" not in value or value.endswith(":-}"), (
                    f"{name}: {key} must not have a default secret"
                )
    assert "--requirepass" in command_of(services["redis"])
    assert "${REDIS_PASSWORD:?" in command_of(services["redis"])


def test_env_example_lists_every_variable_with_placeholders():
    example = env_example()
    code = "\n".join(
        line for line in COMPOSE.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    referenced = set(VAR_REF.findall(code))
    missing = referenced - set(example)
    assert not missing, f".env.example does not list {sorted(missing)}"
    for key, value in example.items():
        if SECRET_NAME.search(key) and key not in {"METABASE_VERSION"}:
            assert value == "" or "CHANGE_ME" in value, f"{key} looks like a real secret"
    assert "openssl rand" in ENV_EXAMPLE.read_text()
    assert "Fernet.generate_key" in ENV_EXAMPLE.read_text()


def test_required_secrets_fail_fast():
    text = COMPOSE.read_text()
    for var in (
        "AIRFLOW_DB_PASSWORD",
        "REDIS_PASSWORD",
        "FERNET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW_ADMIN_PASSWORD",
        "CSCW_WAREHOUSE_PASSWORD",
        "CSCW_WAREHOUSE_ADMIN_PASSWORD",
        "CSCW_PSEUDONYM_KEY",
        "CSCW_BI_PASSWORD",
        "METABASE_DB_PASSWORD",
        "MB_ENCRYPTION_SECRET_KEY",
        "SUPERSET_SECRET_KEY",
        "SUPERSET_ADMIN_PASSWORD",
    ):
        refs = re.findall(r"\$\{" + var + r"(:?[-?]?)", text)
        assert refs, var
        assert all(r == ":?" for r in refs), f"${{{var}}} must be required everywhere"


# ------------------------------------------------------------------------ the image
def test_dockerfile_builds_the_locked_project():
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM apache/airflow:(slim-)?\$\{AIRFLOW_VERSION\}-python", text, re.M)
    assert "ARG AIRFLOW_VERSION=3.3.2" in text
    assert "ARG PYTHON_VERSION=3.11" in text
    assert "uv export --frozen --no-dev --no-hashes" in text
    assert 'pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r' in text
    assert "cscw dbt-parse" in text
    for folder in ("src", "dags", "dbt_project", "expectations"):
        assert f"COPY --chown=airflow:0 {folder} " in text, folder
    providers = (ROOT / "docker" / "airflow-providers.txt").read_text()
    for p in ("celery", "fab", "postgres", "redis"):
        assert f"apache-airflow-providers-{p}==" in providers


# ------------------------------------------------------------------------ Compose itself
def _compose_cmd() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    pytest.skip(
        "docker-compose is not installed (Debian: apt-get install docker-compose): "
        "`docker-compose config` validation NOT run"
    )


def _clean_env() -> dict[str, str]:
    """Only what Compose needs, so the caller's CSCW_*/AIRFLOW_* cannot mask a gap."""
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}


def test_docker_compose_config_validates():
    cmd = _compose_cmd()
    result = subprocess.run(
        [*cmd, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr or result.stdout


def test_docker_compose_config_rejects_missing_secrets(tmp_path):
    cmd = _compose_cmd()
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = subprocess.run(
        [*cmd, "--env-file", str(empty), "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "in .env" in (result.stderr + result.stdout)
