"""The docs an engineer follows name real files, and the code's pointers to the measure
definitions land on a real page and heading.

- docs/adding-a-measure.md, docs/measures/*.md and docs/architecture.md: every relative
  Markdown link resolves (file, and heading when it has a ``#anchor``), and every path in
  backticks (a token with a ``/``) exists, from the repository root, the doc's folder,
  ``src/csc_warehouse`` or ``dbt_project``. Tokens with a placeholder (``<area>``, ``*``,
  ``{...}``) are patterns, not paths, and are skipped, as are runtime paths under an
  environment variable (``CSCW_HOME/...``) and the shared spec and samples beside the
  repository (``../shared``).
- Every ``docs/measures/<page>.md[#anchor]`` written in the dbt project, the expectations,
  ``src`` or the tests exists, with its heading; nothing points at the old ``measures.md``
  that is not in the repository (``shared/spec/measures.md``, the requirement outside the
  repository, is named as such and allowed).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [
    REPO / "docs" / "adding-a-measure.md",
    REPO / "docs" / "architecture.md",
    *sorted((REPO / "docs" / "measures").glob("*.md")),
]
BASES = [REPO, REPO / "src" / "csc_warehouse", REPO / "dbt_project"]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\n]+)`")
#: docs/measures/<page>.md, then a GitHub anchor (#section-2-...) or, as the report's
#: catalogue writes it, the heading's own text (#Flags on transitions) up to the line's end
CODE_REF = re.compile(r"docs/measures/([\w.-]+\.md)(?:#([^\n'\"`)]+))?")
PLACEHOLDER = re.compile(r"[<>*{}\[\] ]|\.\.\.")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _headings(md: Path) -> list[str]:
    return re.findall(r"^#{1,6}\s+(.+?)\s*$", md.read_text(encoding="utf-8"), re.M)


def _anchors(md: Path) -> set[str]:
    return {_slug(h) for h in _headings(md)}


def _names_a_heading(md: Path, anchor: str) -> bool:
    """A GitHub anchor of a heading, or the start of a heading's text."""
    anchor = anchor.strip()
    slug = re.match(r"[\w-]+", anchor)
    return (slug is not None and slug.group(0) in _anchors(md)) or any(
        h.startswith(anchor) for h in _headings(md))


def _exists(token: str, doc_dir: Path) -> bool:
    token = token.rstrip("/").split("::")[0]
    return any((base / token).exists() for base in (doc_dir, *BASES))


@pytest.mark.parametrize("doc", [d for d in DOCS if d.exists()],
                         ids=lambda d: str(d.relative_to(REPO)))
def test_every_link_and_path_in_the_doc_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    text_without_fences = re.sub(r"```.*?```", "", text, flags=re.S)
    missing = []
    for target in LINK.findall(text_without_fences):
        if re.match(r"[a-z]+:", target):  # http(s):, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists():
            missing.append(f"link {target}: no file {path}")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            missing.append(f"link {target}: no heading #{anchor} in {path or doc.name}")
    for token in CODE.findall(text_without_fences):
        if "/" not in token or PLACEHOLDER.search(token) or re.match(r"[a-z]+:", token):
            continue
        if token.startswith(("-", "$", "uv ", "cscw ")) or "=" in token:
            continue
        if re.match(r"[A-Z][A-Z0-9_]*/", token) or token.startswith(("shared/", "../shared/")):
            continue  # a runtime path under an environment variable; the shared folder
        if not _exists(token, doc.parent):
            missing.append(f"path `{token}` does not exist")
    assert not missing, f"{doc.relative_to(REPO)}:\n" + "\n".join(missing)


def _code_files() -> list[Path]:
    roots = [REPO / "dbt_project" / "models", REPO / "dbt_project" / "macros",
             REPO / "dbt_project" / "seeds", REPO / "expectations", REPO / "src", REPO / "tests"]
    files = [REPO / "dbt_project" / "dbt_project.yml"]
    for root in roots:
        files += [p for p in root.rglob("*") if p.suffix in {".sql", ".yml", ".py", ".md"}]
    return files


def test_code_points_at_measure_pages_that_exist() -> None:
    measures = REPO / "docs" / "measures"
    wrong = []
    for f in _code_files():
        text = f.read_text(encoding="utf-8")
        for page, anchor in CODE_REF.findall(text):
            target = measures / page
            if not target.exists():
                wrong.append(f"{f.relative_to(REPO)}: docs/measures/{page} does not exist")
            elif anchor and not _names_a_heading(target, anchor):
                wrong.append(f"{f.relative_to(REPO)}: no heading #{anchor} in {page}")
    assert not wrong, "\n".join(wrong)


def test_the_dbt_project_points_at_no_definition_outside_the_repository() -> None:
    """The dbt project and the suites name docs/measures/ pages, not measures.md."""
    stale = []
    for f in _code_files():
        rel = f.relative_to(REPO)
        if rel.parts[0] not in {"dbt_project", "expectations"}:
            continue
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<![/\w-])measures\.md", line):
                stale.append(f"{rel}:{n}: {line.strip()}")
    assert not stale, "\n".join(stale)
