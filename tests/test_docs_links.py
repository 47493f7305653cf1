"""README.md and docs/*.md point only to files that exist in the repo.

Checked: relative markdown links and images ``[text](path#anchor)`` (from the page's folder; an anchor into a
markdown page must be one of its headings), and back-quoted markdown paths such as ``benchmarks/x.md`` (from the
repo root or the page's folder; a glob must match something). Web links are not fetched.
"""

from __future__ import annotations

import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
QUOTED_MD = re.compile(r"`([^`\s]+\.md)`")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def _anchors(path: str) -> set[str]:
    with open(path, encoding="utf-8") as f:
        text = FENCE.sub("", f.read())
    return {_slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


def broken_references(page: str, text: str, root: str = ROOT) -> list[str]:
    """Every reference of ``page`` (repo-relative) that does not resolve, as ``page: target (why)``."""
    text = FENCE.sub("", text)
    folder = os.path.join(root, os.path.dirname(page))
    problems = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http:, https:, mailto:; same-page anchors
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(folder, path))
        if not os.path.exists(full):
            problems.append(f"{page}: {target} (no such file)")
        elif not full.startswith(root + os.sep):
            problems.append(f"{page}: {target} (outside the repo)")
        elif anchor and full.endswith(".md") and anchor not in _anchors(full):
            problems.append(f"{page}: {target} (no heading #{anchor})")
    for target in QUOTED_MD.findall(text):
        candidates = [os.path.normpath(os.path.join(base, target)) for base in (root, folder)]
        inside = [c for c in candidates if c.startswith(root + os.sep) and not os.path.isabs(target)]
        if not any(glob.glob(c) for c in inside):
            problems.append(f"{page}: `{target}` (no such file in the repo)")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_every_reference_resolves(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        problems = broken_references(page, f.read())
    assert not problems, "\n".join(problems)


def test_the_checker_catches_missing_files_and_anchors(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# Title\n\n## Layout\n", encoding="utf-8")
    (tmp_path / "docs" / "here.md").write_text("x", encoding="utf-8")
    page = (
        "[ok](../README.md#layout) [ok](here.md) ![ok](here.md) `docs/here.md` `docs/*.md` [web](https://x.org/a.md)\n"
        "[gone](design.md) `../shared/design.md` [bad anchor](../README.md#nothing) `/work/shared/design.md`\n"
        "```\n[in a code block](missing.md)\n```\n"
    )
    problems = broken_references("docs/page.md", page, root=str(tmp_path))
    assert [p.split(": ", 1)[1].split(" (")[0] for p in problems] == [
        "design.md", "../README.md#nothing", "`../shared/design.md`", "`/work/shared/design.md`",
    ], problems
