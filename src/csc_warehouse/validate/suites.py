"""The validation suites, read from ``expectations/*.yml`` (reviewed like code).

A suite file has a ``severity`` (``critical`` blocks publishing, ``warning`` is recorded and
reported) and a list of assets. An asset is a query over tonight's staging views with a
``key`` (the column that identifies a failing row) and GX Core expectations: ``type`` plus
the expectation's keyword arguments (``column``, ``value_set``, ``mostly``, ...).

Extra keys on an expectation are project metadata, not passed to GX:

- ``name``: the stable label stored in dq.validation_results and charted in
  marts.data_completeness (default: derived from the type and column);
- ``contract_column`` / ``references``: the contract column (and ``table.column`` it
  references) an expectation covers, so a test can prove the suite covers the contract;
- ``worklist``: the analytics model listing the rows this expectation counts as unexpected.

Placeholders in a query, substituted when the suite runs:

- ``{as_of}``: the night's as_of date, as a SQL date literal (``date 'YYYY-MM-DD'``);
- ``{required_columns}``: the contract's required columns as a ``values`` list of
  ``(table_name, column_name)`` rows;
- ``{codes:<code_list>}`` / ``{codes:<code_list>:<code_group>}``: the codes of a list of
  ``dbt_project/seeds/code_groupings.csv`` (the one definition the dbt models read too), as
  a SQL list ``('T0', 'T1', ...)``;
- ``{var:<name>}``: a var of ``dbt_project/dbt_project.yml`` (a window the dbt models read
  too, e.g. ``step_down_worklist_months``), substituted as a plain integer.

An asset may have ``available_when``: a query returning one boolean row, whether tonight's
drop carried the asset's input (e.g. ``intermediate.int_check_inputs_pivoted``, the
definition its worklist reads too). When it is false the asset is not run and each of its
expectations is recorded as "not available" (docs/data-quality.md#not-available).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SEVERITIES = ("critical", "warning")
#: expectation keys that are project metadata, never passed to GX
META_KEYS = ("name", "contract_column", "references", "worklist", "description")
AS_OF = "{as_of}"
REQUIRED_COLUMNS = "{required_columns}"
CODES = re.compile(r"\{codes:(\w+)(?::(\w+))?\}")
VARS = re.compile(r"\{var:(\w+)\}")
CODE_GROUPINGS = Path(__file__).resolve().parents[3] / "dbt_project/seeds/code_groupings.csv"
DBT_PROJECT = Path(__file__).resolve().parents[3] / "dbt_project/dbt_project.yml"


@dataclass(frozen=True)
class ExpectationSpec:
    name: str
    type: str  # GX expectation type, e.g. expect_column_values_to_be_unique
    kwargs: dict  # passed to the GX expectation class
    meta: dict = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or self.kwargs.get("column_A")

    @property
    def mostly(self) -> float | None:
        return self.kwargs.get("mostly")

    @property
    def worklist(self) -> str | None:
        return self.meta.get("worklist")


@dataclass(frozen=True)
class AssetSpec:
    name: str
    query: str
    key: str | None
    expectations: tuple[ExpectationSpec, ...]
    contract_table: str | None = None
    available_when: str | None = None

    def render(self, as_of: dt.date | None = None) -> str:
        """The query with its placeholders substituted (as_of as a date literal)."""
        return render_query(self.query, as_of)

    def render_available_when(self, as_of: dt.date | None = None) -> str | None:
        """The ``available_when`` query with its placeholders substituted, or None."""
        return render_query(self.available_when, as_of) if self.available_when else None


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    severity: str
    description: str
    assets: tuple[AssetSpec, ...] = field(default_factory=tuple)

    @property
    def expectations(self) -> list[tuple[AssetSpec, ExpectationSpec]]:
        return [(a, e) for a in self.assets for e in a.expectations]


def as_of_literal(as_of: dt.date) -> str:
    """A SQL date literal, built from a real date (never from text), so it is safe to
    substitute into a query."""
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a datetime.date, not {type(as_of).__name__}")
    return f"date '{as_of.isoformat()}'"


def required_columns_values() -> str:
    """``values ('table', 'column'), ...`` for every required column of the contract."""
    from csc_warehouse.contract import load_contract

    def lit(s: str) -> str:
        return "'" + s.replace("'", "''") + "'"

    rows = [
        f"({lit(t.name)}, {lit(c)})"
        for t in load_contract().tables.values()
        for c in t.required_columns
    ]
    return "values " + ", ".join(rows)


def render_query(query: str, as_of: dt.date | None = None) -> str:
    if AS_OF in query:
        if as_of is None:
            raise ValueError("this query needs as_of ({as_of} placeholder) but none was given")
        query = query.replace(AS_OF, as_of_literal(as_of))
    if REQUIRED_COLUMNS in query:
        query = query.replace(REQUIRED_COLUMNS, required_columns_values())
    query = VARS.sub(lambda m: dbt_var_sql(m.group(1)), query)
    return CODES.sub(lambda m: code_list_sql(m.group(1), m.group(2)), query)


def dbt_var_sql(name: str) -> str:
    """A numeric var of dbt_project.yml (the default the dbt models read), as SQL text."""
    doc = yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8"))
    value = (doc.get("vars") or {}).get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{DBT_PROJECT.name}: var {name!r} is not a number: {value!r}")
    return str(value)


def code_list_sql(code_list: str, code_group: str | None = None) -> str:
    """``('A', 'B')``: the codes of one list (one group of it) of the code groupings seed."""
    with CODE_GROUPINGS.open(newline="", encoding="utf-8") as f:
        codes = [r["code"] for r in csv.DictReader(f) if r["code_list"] == code_list
                 and (code_group is None or r["code_group"] == code_group)]
    if not codes:
        raise ValueError(f"{CODE_GROUPINGS.name}: no codes in list {code_list!r}"
                         + (f", group {code_group!r}" if code_group else ""))
    return "(" + ", ".join("'" + c.replace("'", "''") + "'" for c in codes) + ")"


def _expectation(raw: dict, asset: str) -> ExpectationSpec:
    raw = dict(raw)
    etype = raw.pop("type")
    meta = {k: raw.pop(k) for k in META_KEYS if k in raw}
    name = meta.get("name")
    col = raw.get("column") or raw.get("column_A") or ""
    label = name or f"{etype.removeprefix('expect_').replace('_', ' ')}"
    mostly = raw.get("mostly")
    if mostly is not None and not 0 <= float(mostly) <= 1:
        raise ValueError(f"{asset}: mostly must be between 0 and 1, not {mostly}")
    return ExpectationSpec(name=f"{asset}: {label}{' (' + col + ')' if col and not name else ''}",
                           type=etype, kwargs=raw, meta=meta)


def load_suite(path: Path) -> SuiteSpec:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    severity = doc.get("severity", "critical")
    if severity not in SEVERITIES:
        raise ValueError(f"{path}: severity must be one of {SEVERITIES}")
    for a in doc["assets"]:
        if "--" in a["query"] or "--" in a.get("available_when", ""):
            # queries are folded onto one line: a line comment would swallow the rest
            raise ValueError(f"{path}: asset {a['name']}: use /* */ comments in queries, not --")
    assets = tuple(
        AssetSpec(
            name=a["name"],
            query=" ".join(a["query"].split()),
            key=a.get("key"),
            contract_table=a.get("contract_table"),
            available_when=" ".join(a["available_when"].split()) if a.get("available_when")
            else None,
            expectations=tuple(_expectation(e, a["name"]) for e in a["expectations"]),
        )
        for a in doc["assets"]
    )
    names = [e.name for a in assets for e in a.expectations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{path}: expectation names must be unique: {dupes}")
    return SuiteSpec(doc["name"], severity, doc.get("description", ""), assets)


def load_suites(folder: Path) -> list[SuiteSpec]:
    suites = [load_suite(p) for p in sorted(folder.glob("*.yml"))]
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise ValueError(f"{folder}: suite names must be unique: {names}")
    return suites
