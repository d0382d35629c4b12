"""The documents travel with the code: no pointer leaves the repository, every link lands.

Users get the repository (and the wheel), never the project's private notes, so user-facing
text may not send them to the SPEC or the research files; the rules they need are in
docs/rules.md and docs/analytics.md, which must name every era and category the code has.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Where users read: the package (docstrings, --help, data READMEs), the READMEs, the docs,
# the notebooks and the benchmarks' README. Tests and C++ comments are for developers.
USER_FACING = ("python/", "docs/", "notebooks/", "benchmarks/", "README.md")
# Pointers to files outside the repository (the private project notes).
PRIVATE = re.compile(r"/work/shared|meta-rules|SPEC\.md|SOURCES\.md|\bSPEC\b")
LINKED_DOCS = ("README.md", "ARCHITECTURE.md")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SECTION_POINTER = re.compile(r"docs/(\w+\.md)\s+§([^\n]*)")


def _tracked() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):  # an unpacked source tree: every file but build output
        skipped = {".git", "build", "dist", "__pycache__", ".mypy_cache", ".pytest_cache", ".hypothesis"}
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                if p.is_file() and not skipped & set(p.relative_to(ROOT).parts) and p.suffix != ".so"]
    return [line for line in listed.stdout.splitlines() if (ROOT / line).is_file()]


def _text(path: str) -> str | None:
    try:
        return (ROOT / path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # images and other binary files


def _markdown_files() -> list[str]:
    """README.md, ARCHITECTURE.md, docs/*.md and every other tracked Markdown file but the
    tests' (the data READMEs, the benchmarks' README)."""
    docs = [str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")]
    try:
        listed = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True)
        others = [p for p in listed.stdout.splitlines() if not p.startswith("tests/") and (ROOT / p).is_file()]
    except (OSError, subprocess.CalledProcessError):
        others = []
    return [*LINKED_DOCS, *sorted(set(docs + others) - set(LINKED_DOCS))]


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower()
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def _headings(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return [m.group(1).strip() for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)]


def test_no_file_outside_tests_points_to_the_private_project_folder():
    offenders = []
    for path in _tracked():
        if path.startswith("tests/"):
            continue
        text = _text(path)
        if text is None:
            continue
        if "/work/" in text:
            offenders.append(f"{path}: an absolute /work/ path")
        if path.startswith(USER_FACING):
            for number, line in enumerate(text.splitlines(), 1):
                found = PRIVATE.search(line)
                if found:
                    offenders.append(f"{path}:{number}: {found.group(0)!r} (point to docs/rules.md instead)")
    assert not offenders, "\n".join(offenders)


def test_no_absolute_paths_in_tests():
    this = Path(__file__).name
    offenders = [p for p in _tracked() if p.startswith("tests/") and not p.endswith(this)
                 and "/work/" in (_text(p) or "")]
    assert not offenders


@pytest.mark.parametrize("document", _markdown_files())
def test_relative_links_land(document):
    source = ROOT / document
    text = re.sub(r"```.*?```", "", source.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("<"):
            continue  # https:, mailto: ...
        path, _, anchor = target.partition("#")
        landing = (source.parent / path).resolve() if path else source
        if not landing.exists():
            broken.append(f"{target}: no such file")
        elif anchor and landing.suffix == ".md" and anchor not in {_slug(h) for h in _headings(landing)}:
            broken.append(f"{target}: no heading with anchor #{anchor} in {landing.relative_to(ROOT)}")
    assert not broken, f"{document}:\n" + "\n".join(broken)


def test_section_pointers_name_a_section():
    """'docs/rules.md §Free entry points' in a docstring or help text names a real heading."""
    broken = []
    for path in _tracked():
        text = _text(path)
        if text is None or path.endswith(Path(__file__).name):
            continue
        for name, rest in SECTION_POINTER.findall(text):
            document = ROOT / "docs" / name
            if not document.exists():
                broken.append(f"{path}: docs/{name} does not exist")
                continue
            headings = [h.lower() for h in _headings(document)]
            if not any(rest.lower().startswith(h) for h in headings):
                broken.append(f"{path}: docs/{name} has no section {rest.strip()!r}")
    assert not broken, "\n".join(broken)


def test_rules_name_every_era_category_and_type():
    import waconv

    rules = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    names = [*waconv.ERAS, *waconv.PRICING_CATEGORIES, *waconv.PRICING_TYPES]
    missing = [name for name in names if f"`{name}`" not in rules]
    assert not missing, f"docs/rules.md does not mention {missing}"
    headings = _headings(ROOT / "docs" / "rules.md")
    assert [era for era in waconv.ERAS if era not in headings] == []  # a section per era


def test_analytics_spellings_match_the_code():
    """docs/analytics.md's table gives, for each category, the values summary() writes."""
    import waconv
    from waconv.analytics import buckets

    text = (ROOT / "docs" / "analytics.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        first = re.match(r"`(\w+)`", cells[0]) if len(cells) == 4 else None
        if first:
            rows[first.group(1)] = [re.match(r"`?([A-Z_-]+)`?", c).group(1) for c in cells[1:]]
    assert sorted(rows) == sorted(waconv.PRICING_CATEGORIES)
    for category, (pricing, conversation, direction) in rows.items():
        if pricing != "-":
            assert pricing == buckets.PRICING_CATEGORY[category], category
        assert conversation == buckets.CONVERSATION_CATEGORY[category], category
        assert direction == buckets.CONVERSATION_DIRECTION[category], category
    for pricing_type in waconv.PRICING_TYPES:
        assert f"`{buckets.PRICING_TYPE[pricing_type]}`" in text
