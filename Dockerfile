# syntax=docker/dockerfile:1
#
# csc-warehouse: the Airflow image of the compose stack (docker-compose.yml, `build: .`).
#
#   Airflow 3.3.2 (slim official image, Python 3.11)
#   + the project's locked runtime dependencies (uv.lock, exported; no dev group)
#   + the Airflow providers the stack needs (docker/airflow-providers.txt)
#   + the project itself (src/), dags/, dbt_project/ and expectations/ under /opt/cscw
#   + dbt_project's manifest.json, built here so Cosmos runs with LoadMode.DBT_MANIFEST
#     and nothing parses the dbt project at DAG-parse time.
#
# Build: docker compose build      (or: docker build -t csc-warehouse-airflow .)
# Skip the manifest step (e.g. while the dbt project is being written):
#        docker compose build --build-arg CSCW_DBT_PARSE=0

ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:slim-${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ARG AIRFLOW_VERSION
ARG UV_VERSION=0.13.8
ARG CSCW_DBT_PARSE=1

# The checkout lives at /opt/cscw: csc_warehouse.config.PROJECT_ROOT is the folder two
# levels above src/csc_warehouse/, so the package is installed editable from here and finds
# dbt_project/, expectations/ and dags/ beside it. CSCW_HOME (/opt/airflow/cscw) is a volume.
USER root
RUN mkdir -p /opt/cscw /opt/airflow/cscw \
 && chown -R airflow:0 /opt/cscw /opt/airflow/cscw \
 && chmod -R g+rwX /opt/cscw /opt/airflow/cscw
USER airflow
WORKDIR /opt/cscw

RUN pip install --no-cache-dir "uv==${UV_VERSION}"

# 1. Dependencies first (cached until pyproject.toml/uv.lock change).
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
COPY --chown=airflow:0 docker/airflow-providers.txt /opt/cscw/docker/airflow-providers.txt
RUN uv export --frozen --no-dev --no-hashes --no-emit-project -o /tmp/requirements.txt \
 && while read -r pin; do \
        case "$pin" in ''|'#'*) continue ;; esac; \
        name="${pin%%==*}"; \
        grep -qi "^${name}==" /tmp/requirements.txt || echo "$pin" >> /tmp/requirements.txt; \
    done < /opt/cscw/docker/airflow-providers.txt \
 && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# 2. The project.
COPY --chown=airflow:0 src ./src
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 expectations ./expectations
RUN pip install --no-cache-dir --no-deps -e . \
 && cscw --help > /dev/null

# 3. dbt manifest at build time (Cosmos LoadMode.DBT_MANIFEST).
# `cscw dbt-parse` is the project's command that runs dbt deps/parse for dbt_project/ and
# writes the manifest INSIDE the project (dbt_project/target/manifest.json), so it is part
# of the image. It must not write it under CSCW_HOME: that is a volume at run time and would
# hide (or, for a new named volume, freeze a stale copy of) whatever was built here.
# A placeholder warehouse URL stops the CLI from starting an embedded PostgreSQL; dbt parse
# does not connect. If the command is renamed, change it here: the build fails loudly
# rather than shipping an image without a manifest (CSCW_DBT_PARSE=0 skips it on purpose).
RUN if [ "${CSCW_DBT_PARSE}" = "1" ]; then \
        CSCW_HOME=/tmp/cscw-build \
        CSCW_DBT_TARGET_PATH=/opt/cscw/dbt_project/target \
        CSCW_WAREHOUSE_URL="postgresql://cscw@localhost:5432/warehouse" \
        cscw dbt-parse \
        && rm -rf /tmp/cscw-build \
        && find /opt/cscw/dbt_project -name manifest.json -path '*target*' | grep -q . \
        || { echo "cscw dbt-parse did not write dbt_project/target/manifest.json" >&2; exit 1; }; \
    else \
        echo "CSCW_DBT_PARSE=${CSCW_DBT_PARSE}: manifest.json NOT built" >&2; \
    fi

# Nothing leaves the machine: the usage-data opt-outs of csc_warehouse.config.TELEMETRY_OPT_OUT
# (tests/test_reliability_faults.py checks this list against it).
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/cscw/dags \
    CSCW_HOME=/opt/airflow/cscw \
    CSCW_DBT_TARGET_PATH=/opt/cscw/dbt_project/target \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    DO_NOT_TRACK=1 \
    SCARF_NO_ANALYTICS=true \
    SCARF_ANALYTICS=false \
    GX_ANALYTICS_ENABLED=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False
WORKDIR /opt/airflow
