"""Cheap, exact tests that a raw value is already in its normalised form.

Nearly every value of a healthy extract is already what the loader would store: an ISO
date, a code exactly as the contract spells it, an id without surrounding blanks. The SSD
loader therefore tests every row with these predicates (a few comparisons per value, no
rewriting) and sends only the rows that fail one of them through the full normalisation
and checks of ``load.ssd`` (``_clean_select``): they are either normalised in place or
quarantined. A predicate may send a good row to the full checks, never the other way
round: a value it accepts is exactly what the full normalisation would produce from it.

COPY runs with FORCE_NULL on every column, so an empty field (quoted or not) arrives as
NULL and no predicate needs to look for ''.
"""

from __future__ import annotations

from psycopg2 import sql

from csc_warehouse.contract import CodeList, Column, Contract, Table

#: shape of a number value (the full check's regular expression)
NUMBER_RE = "^-?[0-9]+(\\.[0-9]+)?$"


def _no_blanks(c: sql.Composable) -> sql.Composable:
    # btrim() trims spaces only: a value equals btrim(value) iff it neither starts nor ends
    # with a space (LIKE is far cheaper than computing btrim for every row)
    return sql.SQL("({c} not like ' %' and {c} not like '% ')").format(c=c)


def _iso_date(c: sql.Composable, server_version: int, optimistic: bool) -> sql.Composable:
    """Exactly YYYY-MM-DD and a real date (what ``cscw_private.is_iso_date`` says).

    A round trip through the date type's ISO output rules out anything but the canonical
    spelling. optimistic: the cast itself, which raises on an impossible date such as
    2023-02-30 (the caller then runs the safe form); the safe form asks the input
    function softly first (``pg_input_is_valid``, PostgreSQL 16+) or, before 16, is
    is_iso_date itself.
    """
    if optimistic:
        return sql.SQL(
            "case when {c} like '____-__-__' then {c}::date::text = {c} else false end"
        ).format(c=c)
    if server_version >= 160000:
        return sql.SQL(
            "case when {c} like '____-__-__' and pg_input_is_valid({c}, 'date') "
            "then {c}::date::text = {c} else false end"
        ).format(c=c)
    return sql.SQL("cscw_private.is_iso_date({c})").format(c=c)


def code_inputs(code_list: CodeList) -> tuple[list[str], dict[str, str]]:
    """(accepted upper-cased inputs, input -> code where they differ) of a code list: what
    the full normalisation accepts and how it maps it."""
    mapping = {v.upper(): v for v in code_list.values if v.upper() != v}
    mapping.update({a.upper(): c for a, c in code_list.aliases.items() if a.upper() != c})
    inputs = sorted({v.upper() for v in code_list.values}
                    | {a.upper() for a in code_list.aliases})
    return inputs, mapping


def canonical_codes(code_list: CodeList) -> list[str]:
    """The values the full normalisation leaves exactly as they are."""
    _, mapping = code_inputs(code_list)
    return sorted(v for v in code_list.values if mapping.get(v.upper(), v.upper()) == v)


def column_predicate(col: Column, contract: Contract, server_version: int,
                     optimistic: bool = False) -> sql.Composable | None:
    """True when the column's value needs no normalisation and passes its checks; None
    when every value of the column does (free text)."""
    c = sql.Identifier(col.name)
    if col.type == "date":
        ok = _iso_date(c, server_version, optimistic)
    elif col.type == "code":
        values = canonical_codes(contract.code_lists[col.code_list or ""])
        ok = sql.SQL("{} = any({}::text[])").format(c, sql.Literal(values))
    elif col.type == "id":
        ok = _no_blanks(c)
    elif col.type == "number":
        ok = sql.SQL("{} ~ {}").format(c, sql.Literal(NUMBER_RE))
    else:
        if not col.key:
            return None
        ok = sql.SQL("true")
    if col.key:
        # a key with blanks is never canonical, whatever its type: the duplicate check
        # compares keys exactly and relies on it (the full checks compare them trimmed)
        if col.type != "id":
            ok = sql.SQL("{} and {}").format(ok, _no_blanks(c))
        return sql.SQL("({} is not null and {})").format(c, ok)
    return sql.SQL("({} is null or {})").format(c, ok)


def row_predicate(table: Table, present: list[str], contract: Contract,
                  server_version: int, optimistic: bool = False) -> sql.Composable:
    """True when every present column of the row is canonical (and the key is present)."""
    parts: list[sql.Composable] = []
    for col in table.columns:
        if col.name not in present:
            continue
        p = column_predicate(col, contract, server_version, optimistic)
        if p is not None:
            parts.append(p)
    return sql.SQL(" and ").join(parts) if parts else sql.SQL("true")
