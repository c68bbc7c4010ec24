"""The report's declarative parts, read and checked: the sections and KPIs
(``catalogue.yml`` beside this module), the local targets (``config/targets.yml``) and the
small-number threshold (the dbt var the marts use).

A mistake in either file is a :class:`CatalogueError` naming the file, the entry and the
field, never a traceback from deep inside the renderer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from csc_warehouse.config import Settings

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yml")
TARGETS_FILE = Path("config") / "targets.yml"
#: the dbt var the published by-team marts suppress small numbers with (default when unset)
SMALL_NUMBER_VAR = "small_number_threshold"
DEFAULT_SMALL_NUMBER_THRESHOLD = 5
GRAINS = ("month", "year", "night")
HEADLINES = ("rolling_12", "latest", "night")
UNITS = ("percent",)
#: the grain each ``period_type`` of the long KPI shape (docs/measures/kpi-shape.md) is read as
PERIOD_TYPES = {"month": "month", "reporting_year": "year"}
SUPPRESSED_COLUMNS = ("is_suppressed", "suppressed")
TEAM_COLUMN = "team"
PERIOD_TYPE_COLUMN = "period_type"


class CatalogueError(ValueError):
    """The catalogue or the targets file is wrong (the message names file, entry, field)."""


@dataclass(frozen=True)
class MartShape:
    """How to read one published KPI mart. The defaults are the long KPI shape
    (docs/measures/kpi-shape.md); a mart listed under ``marts:`` names other columns."""

    name: str
    grain: str | None = None  # None: by the mart's period_type (PERIOD_TYPES)
    period: str = "period_start"
    period_end: str = "period_end"  # the last day observed (as_of for a period to date)
    #: a false value marks a period not over on as_of: a month is left out, a year is
    #: kept and labelled "to date" (a mart without the column has complete periods only)
    complete: str = "is_complete_period"
    measure_column: str = "measure"
    numerator: str = "numerator"
    denominator: str = "denominator"


@dataclass(frozen=True)
class Kpi:
    id: str
    title: str
    mart: str
    measure: str
    better: str  # higher | lower
    unit: str
    definition: str
    doc: str
    counts: str
    section: str
    comparator: str | None = None
    headline: str | None = None  # None: by the mart's grain

    @property
    def doc_path(self) -> str:
        return self.doc.split("#", 1)[0]

    @property
    def doc_heading(self) -> str | None:
        return self.doc.split("#", 1)[1] if "#" in self.doc else None


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    theme: str
    kpis: tuple[Kpi, ...]
    #: a data-completeness mart whose checks and worklist sizes the section lists
    completeness: str | None = None


@dataclass(frozen=True)
class Target:
    value: float
    amber_band: float


@dataclass(frozen=True)
class Catalogue:
    sections: tuple[Section, ...]
    marts: dict[str, MartShape]
    targets: dict[str, Target]
    small_number_threshold: int

    @property
    def kpis(self) -> list[Kpi]:
        return [k for s in self.sections for k in s.kpis]

    def shape(self, mart: str) -> MartShape:
        return self.marts.get(mart) or MartShape(name=mart)

    def headline_rule(self, kpi: Kpi, grain: str) -> str:
        """The KPI's headline rule: its own, else by the grain its mart is read at."""
        if kpi.headline:
            return kpi.headline
        return "rolling_12" if grain == "month" else "latest"


def _need(entry: dict, key: str, where: str) -> object:
    if key not in entry or entry[key] in (None, ""):
        raise CatalogueError(f"{where}: field `{key}` is required")
    return entry[key]


def _choice(value: object, allowed: tuple[str, ...], where: str, key: str) -> str:
    if value not in allowed:
        raise CatalogueError(f"{where}: `{key}` is {value!r}; use one of {', '.join(allowed)}")
    return str(value)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: expected a mapping at the top")
    return data


def _shapes(raw: dict, path: Path) -> dict[str, MartShape]:
    shapes: dict[str, MartShape] = {}
    fields = ("period", "period_end", "complete", "measure_column", "numerator", "denominator")
    for name, spec in (raw or {}).items():
        where = f"{path}: marts.{name}"
        spec = spec or {}
        unknown = set(spec) - {"grain", *fields}
        if unknown:
            raise CatalogueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        shapes[name] = MartShape(
            name=name,
            grain=_choice(spec["grain"], GRAINS, where, "grain") if "grain" in spec else None,
            **{f: str(spec[f]) for f in fields if spec.get(f)},
        )
    return shapes


def _sections(raw: list, path: Path) -> tuple[Section, ...]:
    sections: list[Section] = []
    seen: set[str] = set()
    for i, s in enumerate(raw or []):
        where = f"{path}: sections[{i}]"
        sid = str(_need(s, "id", where))
        where = f"{path}: section {sid}"
        kpis = []
        for j, k in enumerate(s.get("kpis") or []):
            kwhere = f"{where}, kpis[{j}]"
            kid = str(_need(k, "id", kwhere))
            kwhere = f"{where}, KPI {kid}"
            if kid in seen:
                raise CatalogueError(f"{kwhere}: the id is used twice")
            if not re.fullmatch(r"[a-z0-9_]+", kid):
                raise CatalogueError(f"{kwhere}: id must be lower-case letters, digits and _")
            seen.add(kid)
            unknown = set(k) - {"id", "title", "mart", "measure", "better", "unit",
                                "definition", "doc", "comparator", "headline", "counts"}
            if unknown:
                raise CatalogueError(f"{kwhere}: unknown field(s) {', '.join(sorted(unknown))}")
            kpis.append(Kpi(
                id=kid,
                title=str(_need(k, "title", kwhere)),
                mart=str(_need(k, "mart", kwhere)),
                measure=str(_need(k, "measure", kwhere)),
                better=_choice(_need(k, "better", kwhere), ("higher", "lower"), kwhere,
                               "better"),
                unit=_choice(k.get("unit", "percent"), UNITS, kwhere, "unit"),
                definition=" ".join(str(_need(k, "definition", kwhere)).split()),
                doc=str(_need(k, "doc", kwhere)),
                counts=str(_need(k, "counts", kwhere)),
                section=sid,
                comparator=k.get("comparator"),
                headline=_choice(k["headline"], HEADLINES, kwhere, "headline")
                if k.get("headline") else None,
            ))
        sections.append(Section(
            id=sid,
            title=str(_need(s, "title", where)),
            theme=" ".join(str(s.get("theme", "")).split()),
            kpis=tuple(kpis),
            completeness=s.get("completeness"),
        ))
    if not sections:
        raise CatalogueError(f"{path}: no sections")
    return tuple(sections)


def _targets(path: Path, kpi_ids: set[str]) -> dict[str, Target]:
    if not path.exists():
        return {}
    data = _read_yaml(path)
    default_band = float(data.get("amber_band", 0.05))
    out: dict[str, Target] = {}
    for kid, spec in (data.get("targets") or {}).items():
        where = f"{path}: targets.{kid}"
        if kid not in kpi_ids:
            raise CatalogueError(f"{where}: no KPI has this id (see report/catalogue.yml)")
        if not isinstance(spec, dict) or "target" not in spec:
            raise CatalogueError(f"{where}: give {{target: <value>}}")
        try:
            value = float(spec["target"])
            band = float(spec.get("amber_band", default_band))
        except (TypeError, ValueError):
            raise CatalogueError(f"{where}: target and amber_band must be numbers") from None
        if band < 0:
            raise CatalogueError(f"{where}: amber_band must not be negative")
        out[str(kid)] = Target(value=value, amber_band=band)
    return out


def small_number_threshold(project_root: Path) -> int:
    """The dbt var ``small_number_threshold`` from dbt_project.yml (the marts' suppression
    threshold), or its planned default 5 while the project does not set it."""
    data = _read_yaml(project_root / "dbt_project" / "dbt_project.yml")
    value = (data.get("vars") or {}).get(SMALL_NUMBER_VAR, DEFAULT_SMALL_NUMBER_THRESHOLD)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise CatalogueError(f"dbt_project.yml: vars.{SMALL_NUMBER_VAR} must be a whole "
                             f"number, not {value!r}") from None


def load_catalogue(settings: Settings, catalogue_file: Path | None = None,
                   targets_file: Path | None = None) -> Catalogue:
    path = catalogue_file or CATALOGUE_FILE
    data = _read_yaml(path)
    sections = _sections(data.get("sections"), path)
    marts = _shapes(data.get("marts"), path)
    ids = {k.id for s in sections for k in s.kpis}
    targets = _targets(targets_file or settings.project_root / TARGETS_FILE, ids)
    return Catalogue(sections=sections, marts=marts, targets=targets,
                     small_number_threshold=small_number_threshold(settings.project_root))


def github_slug(heading: str) -> str:
    """The anchor GitHub (and most Markdown viewers) give a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def doc_anchor(project_root: Path, kpi: Kpi) -> str | None:
    """The slug of the first heading of the KPI's doc page that starts with its
    ``#Heading`` text (None when it names none, or no heading matches)."""
    wanted = kpi.doc_heading
    if not wanted:
        return None
    path = project_root / kpi.doc_path
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m and m.group(1).strip().startswith(wanted):
            return github_slug(m.group(1))
    return None
