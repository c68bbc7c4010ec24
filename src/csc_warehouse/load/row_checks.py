"""The row-level checks as SQL: one scan of ``_load`` builds ``_clean`` (every value
normalised once, a fault flag per checked column, the key checks, ``_ok``), and the reject
rows of the faulty ones. Used by the SSD loader (on the rows its canonical scan could not
pass, ``load/canonical.py``) and by the SSDA903 loader (on every mapped row)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2 import sql

from csc_warehouse.contract import Table, load_contract
from csc_warehouse.load.canonical import NUMBER_RE, code_inputs

#: marks a non-blank date value that does not parse (level 1 of ``_clean``)
BAD_DATE = "!"


def date_expr(c: sql.Composable, uk: bool) -> sql.Composable:
    """ISO text of a date value, NULL when blank, ``'!'`` when it does not parse.

    Fast path for what nearly every row holds, exact ``YYYY-MM-DD``:
    ``cscw_private.is_iso_date`` (digit shape and calendar arithmetic, inlined; works on
    PostgreSQL 15+). Anything else takes ``cscw_private.iso_date`` (trimmed, time part, UK
    DD/MM/YYYY), inlined. Each value is parsed once."""
    slow = sql.SQL("coalesce(cscw_private.iso_date({c}, {uk}), "
                   "case when btrim({c}) <> '' then {bad} end)").format(
        c=c, uk=sql.Literal(uk), bad=sql.Literal(BAD_DATE))
    return sql.SQL(
        "case when cscw_private.is_iso_date({c}) then {c} else {slow} end"
    ).format(c=c, slow=slow)


@dataclass(frozen=True)
class Check:
    """One column's row-level check: fault flag column in ``_clean`` and its reason."""

    column: str
    flag: str
    reason: str


def clean_select(table: Table, header: list[str], uk: bool,
                 provenance: list[str]) -> tuple[sql.Composable, list[Check]]:
    """The SELECT that builds ``_clean`` from ``_load`` in one scan: every value normalised
    once (ISO dates, upper-cased codes with aliases mapped, '' = NULL), a fault flag per
    checked column, the key checks and ``_ok`` (no fault at all).

    Three levels, fenced (``offset 0``) so nothing is computed twice: 1. trim/parse each
    value; 2. map codes (an inline CASE; unknown code of a closed list -> NULL) and derive
    the fault flags from level 1; 3. ``_ok``.
    """
    contract = load_contract()
    key = table.key.name
    lvl1: list[sql.Composable] = [sql.SQL("l._row_number")]
    lvl1 += [sql.SQL("l.{}").format(sql.Identifier(p)) for p in provenance]
    lvl2: list[sql.Composable] = [sql.SQL("a._row_number")]
    lvl2 += [sql.SQL("a.{}").format(sql.Identifier(p)) for p in provenance]
    checks: list[Check] = []
    for i, col in enumerate(table.columns):
        ident = sql.Identifier(col.name)
        c = sql.SQL("l.{}").format(ident)
        a = sql.SQL("a.{}").format(ident)
        if col.name not in header:
            lvl1.append(sql.SQL("null::text as {}").format(ident))
            lvl2.append(sql.SQL("a.{0} as {0}").format(ident))
            continue
        flag = f"_f{i}"
        if col.type == "date":
            lvl1.append(sql.SQL("{} as {}").format(date_expr(c, uk), ident))
            lvl2.append(sql.SQL("nullif({a}, {bad}) as {i}, ({a} = {bad}) is true as {f}")
                        .format(a=a, i=ident, bad=sql.Literal(BAD_DATE),
                                f=sql.Identifier(flag)))
            fmt = "YYYY-MM-DD or DD/MM/YYYY" if uk else "YYYY-MM-DD"
            checks.append(Check(col.name, flag, f"unparseable date (expected {fmt})"))
        elif col.type == "code":
            lvl1.append(sql.SQL("nullif(upper(btrim({})), '') as {}").format(c, ident))
            cl = contract.code_lists[col.code_list or ""]
            inputs, mapping = code_inputs(cl)
            whens = sql.SQL(" ").join(
                sql.SQL("when {} then {}").format(sql.Literal(k), sql.Literal(v))
                for k, v in sorted(mapping.items()))
            mapped = (sql.SQL("case {a} {w} else {a} end").format(a=a, w=whens)
                      if mapping else a)
            if cl.open:
                lvl2.append(sql.SQL("{} as {}").format(mapped, ident))
                continue
            known = sql.SQL("{} = any({}::text[])").format(a, sql.Literal(inputs))
            lvl2.append(sql.SQL("case when {k} then {m} end as {i}, "
                                "({a} is not null and not {k}) as {f}")
                        .format(k=known, m=mapped, a=a, i=ident, f=sql.Identifier(flag)))
            checks.append(Check(col.name, flag, f"unknown code (not on the {cl.name} list)"))
        elif col.type in ("id", "number"):
            lvl1.append(sql.SQL("nullif(btrim({}), '') as {}").format(c, ident))
            if col.type == "number":
                lvl2.append(sql.SQL("a.{i} as {i}, (a.{i} !~ {re}) is true as {f}").format(
                    i=ident, re=sql.Literal(NUMBER_RE), f=sql.Identifier(flag)))
                checks.append(Check(col.name, flag, "not a number"))
            else:
                lvl2.append(sql.SQL("a.{0} as {0}").format(ident))
        else:
            lvl1.append(sql.SQL("nullif({}, '') as {}").format(c, ident))
            lvl2.append(sql.SQL("a.{0} as {0}").format(ident))
    extra = [c for c in header if c not in table.column_names]
    extra_expr = (
        sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(
            sql.SQL("{}, l.{}").format(sql.Literal(c), sql.Identifier(c)) for c in extra))
        if extra else sql.SQL("null::jsonb"))
    lvl1.append(sql.SQL("{} as _extra, d.n as _dup_n").format(extra_expr))
    lvl2.append(sql.SQL("a._extra, a._dup_n"))
    flags = [sql.SQL("b.{}").format(sql.Identifier(ch.flag)) for ch in checks]
    ok = sql.SQL("b.{k} is not null and b._dup_n is null{rest}").format(
        k=sql.Identifier(key),
        rest=sql.SQL("").join(sql.SQL(" and not {}").format(f) for f in flags))
    kl = sql.SQL("l.{}").format(sql.Identifier(key))
    query = sql.SQL(
        "select b.*, {ok} as _ok from (select {lvl2} from (select {lvl1} from _load l "
        "left join (select btrim({kc}) as v, count(*) as n from _load group by 1 "
        "having count(*) > 1) d on d.v = btrim({kl}) offset 0) a offset 0) b"
    ).format(ok=ok, lvl2=sql.SQL(", ").join(lvl2), lvl1=sql.SQL(", ").join(lvl1),
             kc=sql.Identifier(key), kl=kl)
    return query, checks


def reject_rows(table: Table, checks: list[Check]) -> sql.Composable:
    """(_row_number, column_name, value, reason) of every fault of the rows of ``_clean``
    that are not ``_ok`` (few: only they are expanded, with the original text from
    ``_load``)."""
    key = table.key.name
    values = [sql.SQL(
        "({kn}, l.{k}, case when c.{k} is null then 'missing key' when c._dup_n is not null "
        "then 'duplicate key (' || c._dup_n || ' rows share it)' end)").format(
        kn=sql.Literal(key), k=sql.Identifier(key))]
    values += [sql.SQL("({}, l.{}, case when c.{} then {} end)").format(
        sql.Literal(ch.column), sql.Identifier(ch.column), sql.Identifier(ch.flag),
        sql.Literal(ch.reason)) for ch in checks]
    return sql.SQL(
        "select c._row_number, x.col, x.val, x.reason from _clean c "
        "join _load l on l._row_number = c._row_number "
        "cross join lateral (values {}) x(col, val, reason) "
        "where not c._ok and x.reason is not null"
    ).format(sql.SQL(", ").join(values))
