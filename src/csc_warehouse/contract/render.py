"""Files generated from the contract, so they cannot drift from it.

- ``dbt_project/models/staging/ssd/_ssd__sources.yml``: the dbt sources (raw tables).
- ``docs/extract-contract.md``: the page an authority's analyst reads to write the export.

``cscw contract render`` rewrites both; a test fails when a committed copy is stale.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from csc_warehouse.contract import Contract, load_contract

GENERATED_NOTE = "generated from src/csc_warehouse/contract/ssd_v1.yaml by `cscw contract render`"


def render_dbt_sources(contract: Contract | None = None) -> str:
    contract = contract or load_contract()
    tables = []
    for t in contract.tables.values():
        cols = []
        for c in t.columns:
            desc = c.description
            if c.code_list:
                desc += f" (code list: {c.code_list})"
            cols.append({"name": c.name, "description": desc})
        tables.append(
            {
                "name": t.name,
                "description": t.description
                + " Every row carries _batch_id, _drop_date, _source_file, _file_sha256,"
                " _row_number, _loaded_at and _extra (columns outside the contract)."
                " Partitioned by batch; holds the last CSCW_RAW_KEEP_BATCHES nights;"
                " staging reads one.",
                "columns": cols,
            }
        )
    doc = {
        "version": 2,
        "sources": [
            {
                "name": "ssd",
                "description": (
                    f"{contract.name}, loaded by csc-warehouse's loader into the raw schema "
                    "(dates normalised to ISO text, codes upper-cased and mapped)."
                ),
                "schema": "raw",
                "tables": tables,
            },
            {
                "name": "cscw",
                "description": "The loader's bookkeeping: batches and files.",
                "schema": "raw",
                "tables": [
                    {"name": "load_batches", "description": "One row per drop load attempt."},
                    {
                        "name": "load_files",
                        "description": "One row per contract table per batch: loaded or "
                        "absent, row counts, columns present.",
                    },
                    {
                        "name": "load_source_files",
                        "description": "One row per input file of a batch (an SSDA903 drop "
                        "feeds a raw table from several files): rows, quarantined, loaded or "
                        "ignored.",
                    },
                    {
                        "name": "record_history",
                        "description": "SCD2 history of every record of every contract "
                        "table across all nights: valid_from_drop (inclusive) to "
                        "valid_to_drop (exclusive, null = current), the record as jsonb.",
                    },
                ],
            },
        ],
    }
    return f"# {GENERATED_NOTE}\n" + yaml.safe_dump(doc, sort_keys=False, width=100)


def render_markdown(contract: Contract | None = None) -> str:
    contract = contract or load_contract()
    out = [
        f"# The extract contract (version {contract.version})",
        "",
        f"<!-- {GENERATED_NOTE} -->",
        "",
        f"{contract.name}. This page is what your export query must produce.",
        "",
        "## Delivery",
        "",
        "- One folder per night, named `YYYY-MM-DD` (the drop date), holding one CSV per table "
        "named `<table>.csv`, and optionally `manifest.json` listing each file's data row count "
        "and sha256. When present the manifest is enforced.",
        "- CSV: RFC 4180, header row, comma separated; UTF-8 with or without BOM, or "
        "Windows-1252 (detected). CRLF or LF. Quoted fields may hold commas and newlines.",
        "- Dates: `YYYY-MM-DD` (a time part is accepted and dropped). `DD/MM/YYYY` when the "
        "manifest says `\"date_format\": \"uk\"` for the file (or the whole drop).",
        "- Encoding: detected; force it with `\"encoding\": \"cp1252\"` (or `utf8`) in the "
        "manifest (per file or drop) or `CSCW_CSV_ENCODING`.",
        "- Empty string = NULL. Codes are case-insensitive and upper-cased on load; listed "
        "aliases are mapped.",
        "- Each drop is a full snapshot of every table. A table you do not have can be left "
        "out; it is reported as absent and the measures that need it as not available.",
        "- Columns outside the contract are kept (in `_extra`) and reported.",
        "",
        "## What is rejected",
        "",
        "| fault | effect |",
        "|---|---|",
        "| missing required column, unreadable encoding, not a CSV, malformed CSV, manifest "
        "mismatch, an empty file for a table that had rows last night | the whole drop is "
        "rejected; nothing is loaded or published; the message names the file and cause |",
        "| missing or duplicated key, unparseable date, unknown code, non-numeric number | the "
        "row is quarantined in `raw.rejects` (file, row, column, value, reason); the rest "
        "loads |",
        "| more than 1% of a file's rows quarantined (`CSCW_REJECT_THRESHOLD`; 5% of a 903 "
        "file's, `CSCW_REJECT_THRESHOLD_903`) | the whole drop is rejected |",
        "",
        "An empty file is accepted for the tables listed in `CSCW_ALLOW_EMPTY_TABLES`.",
        "",
        "## History",
        "",
        "Each drop is a full snapshot. `raw.<table>` keeps the last `CSCW_RAW_KEEP_BATCHES` "
        "nights (default 3); `raw.record_history` keeps every version of every record for all "
        "nights. `select raw.record_as_of('ssd_person', 'P123', date '2026-11-27')` answers "
        "\"what did this record look like on that night\"; `raw.record_versions(table, key)` "
        "lists all versions.",
        "",
        "## SSDA903 return files",
        "",
        "A drop of SSDA903 CSVs (`cscw run --drop DIR --format 903`) is mapped onto the same "
        "raw tables (episodes, placements, legal status, person, reviews, missing); see "
        "[loading.md](loading.md#ssda903-return-files).",
        "",
        "## Tables",
        "",
    ]
    for t in contract.tables.values():
        out += [f"### `{t.name}`", "", t.description, "", f"Key: `{t.key.name}`.", ""]
        out += ["| column | type | required | description |", "|---|---|---|---|"]
        for c in t.columns:
            typ = c.type if c.type != "code" else f"code ([{c.code_list}](#{c.code_list}))"
            if c.references:
                typ += f", references `{c.references}`"
            req = "yes" if c.required else ""
            out.append(f"| `{c.name}` | {typ} | {req} | {c.description} |")
        out.append("")
    out += ["## Code lists", ""]
    for cl in contract.code_lists.values():
        out += [f"### {cl.name}", "", cl.description + (" (open list)" if cl.open else ""), ""]
        out += ["| code | meaning |", "|---|---|"]
        out += [f"| `{k}` | {v} |" for k, v in cl.values.items()]
        if cl.aliases:
            aliases = ", ".join(f"`{a}` → `{c}`" for a, c in cl.aliases.items())
            out += ["", f"Accepted and mapped: {aliases}."]
        out.append("")
    return "\n".join(out)


def rendered_files(project_root: Path) -> dict[Path, str]:
    return {
        project_root / "dbt_project/models/staging/ssd/_ssd__sources.yml": render_dbt_sources(),
        project_root / "docs/extract-contract.md": render_markdown(),
    }


def write_rendered(project_root: Path) -> list[Path]:
    written = []
    for path, text in rendered_files(project_root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
