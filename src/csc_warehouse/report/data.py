"""What the report reads: the published marts, as the ``cscw_bi`` role and nothing else.

The report logs in as ``cscw_bi`` (the role BI tools use), so it can only show what a BI
tool can see. The password is ``CSCW_BI_PASSWORD``; when it is unset (a local or demo
warehouse), one is generated once under ``CSCW_HOME/secrets`` and set on the role by the
warehouse's owner, the way the pseudonymisation key is generated for local use.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlparse, urlunparse

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from csc_warehouse.config import Settings
from csc_warehouse.report.catalogue import (
    PERIOD_TYPE_COLUMN,
    PERIOD_TYPES,
    SUPPRESSED_COLUMNS,
    TEAM_COLUMN,
    Catalogue,
    Kpi,
)
from csc_warehouse.warehouse.roles import BI, PUBLISHED_SCHEMA

LOCAL_PASSWORD_FILE = "cscw_bi.password"
#: team values that mean "the whole authority" (the KPI shape's is `all`)
TOTAL_TEAMS = frozenset({"", "all", "all teams", "(all)", "total", "authority"})


def is_total_team(team: str | None) -> bool:
    return team is None or team.strip().lower() in TOTAL_TEAMS


class ReportDataError(RuntimeError):
    """The report cannot read the published marts (the message says what to do)."""


@dataclass(frozen=True)
class Row:
    """One period (and team) of a KPI as the mart publishes it."""

    period: dt.date  # the period's first day (the night, for a nightly mart)
    label: str
    numerator: int | None
    denominator: int | None
    team: str | None = None
    partial: bool = False  # a month not over on as_of (left out of headlines and charts)
    to_date: bool = False  # a year (or night) not over on as_of (kept, labelled "to date")
    suppressed: bool = False
    end: dt.date | None = None  # the last day observed (None: the period's own date)


@dataclass(frozen=True)
class Comparator:
    measure: str
    rate: float
    numerator: int | None
    denominator: int | None
    year: int
    period: str
    publication: str
    citation: str


@dataclass(frozen=True)
class WorklistSize:
    """One worklist's size tonight for one team (or `all`)."""

    worklist: str
    team: str
    list_rows: int | None
    children: int | None
    suppressed: bool = False


#: the published worklist-size marts, the one for wider circulation first
WORKLIST_MARTS = ("mart_worklist_sizes_suppressed", "mart_worklist_sizes")


@dataclass(frozen=True)
class Availability:
    """Whether a KPI can be shown tonight, and why not."""

    available: bool
    reason: str = ""


# --- the login -----------------------------------------------------------------------------
def bi_password(settings: Settings, owner_url: str) -> str:
    """CSCW_BI_PASSWORD, else (local use) a password generated once under CSCW_HOME/secrets
    and set on the role by the owner (who must be allowed to alter roles)."""
    password = settings.role_passwords.get(BI)
    if password:
        return password
    path = settings.secrets / LOCAL_PASSWORD_FILE
    if not path.exists():
        settings.ensure_dirs()
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    password = path.read_text().strip()
    from csc_warehouse.warehouse.db import transaction
    from csc_warehouse.warehouse.roles import _hashed_password

    try:
        with transaction(owner_url) as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (BI,))
            if cur.fetchone() is None:
                raise ReportDataError(
                    f"role {BI} does not exist: publish a night first (cscw run)")
            cur.execute(sql.SQL("alter role {} login password {}").format(
                sql.Identifier(BI), sql.Literal(_hashed_password(cur, BI, password))))
    except psycopg2.Error as exc:
        raise ReportDataError(
            f"could not give {BI} a local login ({str(exc).strip()}); set CSCW_BI_PASSWORD "
            f"to the role's password") from None
    return password


def bi_url(owner_url: str, password: str) -> str:
    """The warehouse URL with the cscw_bi login instead of the owner's."""
    u = urlparse(owner_url)
    host = u.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{BI}:{quote(password, safe='')}@{host}" + (f":{u.port}" if u.port else "")
    return urlunparse(u._replace(netloc=netloc))


def connect_bi(settings: Settings, owner_url: str) -> psycopg2.extensions.connection:
    url = bi_url(owner_url, bi_password(settings, owner_url))
    try:
        conn = psycopg2.connect(url, application_name="csc-warehouse report")
    except psycopg2.OperationalError as exc:
        raise ReportDataError(f"could not log in as {BI}: {str(exc).strip()}") from None
    conn.set_session(readonly=True, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("select current_user")
        if cur.fetchone()[0] != BI:
            conn.close()
            raise ReportDataError(f"logged in, but not as {BI}")
    return conn


# --- reading ---------------------------------------------------------------------------
class MartReader:
    """Reads KPI rows from the published marts over one cscw_bi connection."""

    def __init__(self, conn: psycopg2.extensions.connection, catalogue: Catalogue) -> None:
        self.conn = conn
        self.catalogue = catalogue
        self._columns = self._published_columns()
        self._cache: dict[str, dict[str, list[Row]]] = {}
        self._types: dict[str, list[str]] = {}

    def _published_columns(self) -> dict[str, list[str]]:
        """Relations in marts the role can read, with their columns."""
        with self.conn.cursor() as cur:
            cur.execute(
                """select table_name, column_name from information_schema.columns
                   where table_schema = %s order by table_name, ordinal_position""",
                (PUBLISHED_SCHEMA,))
            out: dict[str, list[str]] = {}
            for table, column in cur.fetchall():
                out.setdefault(table, []).append(column)
        return out

    @property
    def relations(self) -> set[str]:
        return set(self._columns)

    def columns(self, mart: str) -> list[str]:
        return self._columns.get(mart, [])

    def published_night(self) -> tuple[dt.date, dt.datetime | None]:
        """The night the published marts describe (as_of), and when it was published."""
        with self.conn.cursor() as cur:
            if "published_at" in self.columns("data_completeness"):
                cur.execute("select as_of, published_at from marts.data_completeness "
                            "order by published_at desc limit 1")
                row = cur.fetchone()
                if row:
                    return row[0], row[1]
            for mart, cols in sorted(self._columns.items()):
                if "as_of" in cols:
                    cur.execute(sql.SQL("select max(as_of) from {}").format(
                        sql.Identifier(PUBLISHED_SCHEMA, mart)))
                    row = cur.fetchone()
                    if row and row[0]:
                        return row[0], None
        raise ReportDataError("no published marts to report on (publish a night first)")

    def availability(self, kpi: Kpi) -> Availability:
        cols = self.columns(kpi.mart)
        if not cols:
            return Availability(False, f"marts.{kpi.mart} is not published tonight")
        shape = self.catalogue.shape(kpi.mart)
        need = [shape.measure_column, shape.period, shape.numerator, shape.denominator]
        if shape.grain is None:
            need.append(PERIOD_TYPE_COLUMN)
        missing = [c for c in need if c not in cols]
        if missing:
            return Availability(False, f"marts.{kpi.mart} is not in the long KPI shape "
                                       f"(no {', '.join(missing)} column)")
        unknown = {t for t in self._period_types(kpi.mart) if t not in PERIOD_TYPES}
        if unknown:
            return Availability(False, f"marts.{kpi.mart} has period_type "
                                       f"{', '.join(sorted(unknown))}, which the report does "
                                       f"not read (it reads {', '.join(PERIOD_TYPES)})")
        if kpi.measure not in self._rows(kpi.mart):
            return Availability(False, f"marts.{kpi.mart} has no measure {kpi.measure}")
        rows = self.rows(kpi)
        snapshot = kpi.headline == "night"  # the month to date is a figure of its own
        if not any(r.denominator for r in rows if snapshot or not r.partial):
            if any(r.denominator == 0 for r in rows):
                return Availability(False, "nothing to measure yet: the denominator is 0 in "
                                           "every period")
            return Availability(False, "the marts publish no figure for it (its input was "
                                       "not in tonight's extract)")
        return Availability(True)

    def grain(self, mart: str) -> str:
        """month, year or night: the catalogue's for the mart, else by its period_type."""
        shape = self.catalogue.shape(mart)
        if shape.grain:
            return shape.grain
        types = self._period_types(mart)
        return PERIOD_TYPES.get(types[0], "month") if len(types) == 1 else "month"

    def _period_types(self, mart: str) -> list[str]:
        if self.catalogue.shape(mart).grain or PERIOD_TYPE_COLUMN not in self.columns(mart):
            return []
        if mart not in self._types:
            with self.conn.cursor() as cur:
                cur.execute(sql.SQL("select distinct {} from {} order by 1").format(
                    sql.Identifier(PERIOD_TYPE_COLUMN),
                    sql.Identifier(PUBLISHED_SCHEMA, mart)))
                self._types[mart] = [str(r[0]) for r in cur.fetchall()]
        return self._types[mart]

    def rows(self, kpi: Kpi) -> list[Row]:
        return self._rows(kpi.mart).get(kpi.measure, [])

    def has_team(self, mart: str) -> bool:
        """Whether the mart publishes rows for teams besides the whole authority."""
        return any(not is_total_team(r.team) for rows in self._rows(mart).values()
                   for r in rows)

    def _rows(self, mart: str) -> dict[str, list[Row]]:
        """Every measure's rows of a mart (read once), by measure name."""
        if mart in self._cache:
            return self._cache[mart]
        shape = self.catalogue.shape(mart)
        cols = self.columns(mart)
        if any(c not in cols for c in (shape.measure_column, shape.period, shape.numerator,
                                       shape.denominator)):
            self._cache[mart] = {}
            return {}

        def optional(name: str | None) -> sql.Composable:
            return sql.Identifier(name) if name and name in cols else sql.SQL("null")

        suppressed = next((c for c in SUPPRESSED_COLUMNS if c in cols), None)
        grain = self.grain(mart)
        out: dict[str, list[Row]] = {}
        with self.conn.cursor() as cur:
            cur.execute(sql.SQL("select {} from {} order by 2, 1").format(
                sql.SQL(", ").join([
                    sql.Identifier(shape.measure_column), sql.Identifier(shape.period),
                    optional(shape.period_end), optional(TEAM_COLUMN),
                    optional(shape.complete), optional(suppressed),
                    sql.Identifier(shape.numerator), sql.Identifier(shape.denominator)]),
                sql.Identifier(PUBLISHED_SCHEMA, mart)))
            for measure, *rec in cur.fetchall():
                out.setdefault(str(measure), []).append(kpi_row(*rec, grain=grain))
        self._cache[mart] = out
        return out

    def comparators(self) -> dict[str, Comparator]:
        """The England figures published with the marts (none when the seed's mart is not
        published)."""
        mart = "dim_england_comparators"
        if not self.columns(mart):
            return {}
        with self.conn.cursor() as cur:
            cur.execute("""select measure, england_rate, numerator, denominator, year,
                                  period_description, publication, citation
                           from marts.dim_england_comparators""")
            return {r[0]: Comparator(r[0], float(r[1]), r[2], r[3], r[4], r[5], r[6], r[7])
                    for r in cur.fetchall()}

    def worklist_sizes(self) -> tuple[str, list[WorklistSize]]:
        """Tonight's worklist sizes per team (the suppressed mart, for wider circulation,
        when it is published; else the unsuppressed one), with the mart read: ("", []) when
        neither is published."""
        for mart in WORKLIST_MARTS:
            cols = self.columns(mart)
            if not cols:
                continue
            flag = next((c for c in SUPPRESSED_COLUMNS if c in cols), None)
            with self.conn.cursor() as cur:
                cur.execute(sql.SQL(
                    "select worklist, team, list_rows, children, {} from {} "
                    "order by worklist, team").format(
                    sql.Identifier(flag) if flag else sql.SQL("false"),
                    sql.Identifier(PUBLISHED_SCHEMA, mart)))
                return mart, [WorklistSize(str(w), str(t), r, c, bool(h))
                              for w, t, r, c, h in cur.fetchall()]
        return "", []

    def completeness(self, mart: str, as_of: dt.date) -> list[tuple]:
        """The night's checks: (check, severity, checked, failing, % passing, threshold %,
        passed)."""
        if not self.columns(mart):
            return []
        with self.conn.cursor() as cur:
            cur.execute(sql.SQL(
                """select check_name, severity, records_checked, records_failing,
                          percent_passing, threshold_percent, success
                   from {} where as_of = %s
                   order by severity, records_failing desc nulls last, check_name""").format(
                sql.Identifier(PUBLISHED_SCHEMA, mart)), (as_of,))
            return cur.fetchall()


def _label(period: dt.date, grain: str) -> str:
    if grain == "month":
        return period.strftime("%b %Y")
    if grain == "year":
        start = period.year - (1 if period.month < 4 else 0)
        return f"{start}-{(start + 1) % 100:02d}"
    return period.strftime("%-d %b %Y")


def _date(value) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


def kpi_row(period, end, team, complete, suppressed, numerator, denominator, *,
            grain: str) -> Row:
    """One published row: a period not over on as_of is left out when it is a month (a
    month to date is never counted as a month) and kept, labelled "to date", otherwise."""
    period = _date(period)
    over = complete is not False
    text = _label(period, grain) + ("" if over or grain == "month" else " to date")
    return Row(period=period, label=text,
               numerator=None if numerator is None else int(numerator),
               denominator=None if denominator is None else int(denominator),
               team=team, partial=not over and grain == "month",
               to_date=not over and grain != "month", suppressed=bool(suppressed),
               end=_date(end))
