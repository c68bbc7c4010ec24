"""The extract contract as code.

`ssd_v1.yaml` beside this module is the one definition of the tables, columns, types, keys,
required columns and code lists the nightly load accepts. Everything else (the loader, the
dbt sources, the validation suites, the generator, the docs page) reads it through here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

import yaml

ColumnType = Literal["id", "text", "date", "code", "number", "json"]
COLUMN_TYPES: tuple[str, ...] = ("id", "text", "date", "code", "number", "json")


class ContractError(ValueError):
    """The contract file itself is malformed."""


@dataclass(frozen=True)
class CodeList:
    name: str
    description: str
    values: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)
    open: bool = False

    def normalise(self, raw: str) -> str | None:
        """Upper-case, trim and map aliases; None when the value is not on the list.

        For an open list an unknown value is kept (upper-cased), never rejected.
        """
        value = raw.strip().upper()
        value = self.aliases.get(value, value)
        if value in self.values or self.open:
            return value
        return None


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = False
    key: bool = False
    code_list: str | None = None
    references: str | None = None  # "table.column"


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    contains_identifiers: bool = False

    @property
    def key(self) -> Column:
        return next(c for c in self.columns if c.key)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Contract:
    version: int
    name: str
    tables: dict[str, Table]
    code_lists: dict[str, CodeList]

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"{name!r} is not a table of the extract contract") from None


def _parse(doc: dict) -> Contract:
    code_lists: dict[str, CodeList] = {}
    for name, spec in doc["code_lists"].items():
        values = {str(k): str(v) for k, v in spec["values"].items()}
        aliases = {str(k).upper(): str(v) for k, v in (spec.get("aliases") or {}).items()}
        for alias, target in aliases.items():
            if target not in values:
                raise ContractError(f"code list {name}: alias {alias} -> unknown code {target}")
        code_lists[name] = CodeList(
            name=name,
            description=str(spec.get("description", "")),
            values=values,
            aliases=aliases,
            open=bool(spec.get("open", False)),
        )
    tables: dict[str, Table] = {}
    for tname, tspec in doc["tables"].items():
        cols = []
        for c in tspec["columns"]:
            col = Column(
                name=c["name"],
                type=c["type"],
                description=str(c.get("description", "")),
                required=bool(c.get("required", False)),
                key=bool(c.get("key", False)),
                code_list=c.get("code_list"),
                references=c.get("references"),
            )
            if col.type not in COLUMN_TYPES:
                raise ContractError(f"{tname}.{col.name}: unknown type {col.type}")
            if col.type == "code" and col.code_list not in code_lists:
                raise ContractError(f"{tname}.{col.name}: unknown code list {col.code_list}")
            cols.append(col)
        if sum(c.key for c in cols) != 1:
            raise ContractError(f"{tname}: exactly one key column is required")
        tables[tname] = Table(
            name=tname,
            description=str(tspec.get("description", "")),
            columns=tuple(cols),
            contains_identifiers=bool(tspec.get("contains_identifiers", False)),
        )
    for t in tables.values():
        for c in t.columns:
            if c.references:
                rt, rc = c.references.split(".")
                if rt not in tables or rc not in tables[rt].column_names:
                    raise ContractError(f"{t.name}.{c.name}: reference {c.references} not found")
    return Contract(
        version=int(doc["version"]), name=str(doc["name"]), tables=tables, code_lists=code_lists
    )


@cache
def load_contract() -> Contract:
    """The SSD extract contract (cached)."""
    text = resources.files(__package__).joinpath("ssd_v1.yaml").read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))
