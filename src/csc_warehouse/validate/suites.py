"""The validation suites, read from ``expectations/*.yml`` (reviewed like code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

SEVERITIES = ("critical", "warning")


@dataclass(frozen=True)
class ExpectationSpec:
    name: str
    type: str  # GX expectation type, e.g. expect_column_values_to_be_unique
    kwargs: dict

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or self.kwargs.get("column_A")


@dataclass(frozen=True)
class AssetSpec:
    name: str
    query: str
    key: str | None
    expectations: tuple[ExpectationSpec, ...]
    contract_table: str | None = None


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    severity: str
    description: str
    assets: tuple[AssetSpec, ...] = field(default_factory=tuple)


def _expectation(raw: dict, asset: str) -> ExpectationSpec:
    raw = dict(raw)
    etype = raw.pop("type")
    name = raw.pop("name", None)
    col = raw.get("column") or raw.get("column_A") or ""
    label = name or f"{etype.removeprefix('expect_').replace('_', ' ')}"
    return ExpectationSpec(name=f"{asset}: {label}{' (' + col + ')' if col and not name else ''}",
                           type=etype, kwargs=raw)


def load_suite(path: Path) -> SuiteSpec:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    severity = doc.get("severity", "critical")
    if severity not in SEVERITIES:
        raise ValueError(f"{path}: severity must be one of {SEVERITIES}")
    assets = tuple(
        AssetSpec(
            name=a["name"],
            query=" ".join(a["query"].split()),
            key=a.get("key"),
            contract_table=a.get("contract_table"),
            expectations=tuple(_expectation(e, a["name"]) for e in a["expectations"]),
        )
        for a in doc["assets"]
    )
    return SuiteSpec(doc["name"], severity, doc.get("description", ""), assets)


def load_suites(folder: Path) -> list[SuiteSpec]:
    return [load_suite(p) for p in sorted(folder.glob("*.yml"))]
