"""The docs point only to files that exist: every repository path (a file under one of the top-level folders,
or a path relative to the document) named in README.md and docs/*.md is there. Paths that commands write
(``out/...``, ``runs/...``) start elsewhere and are not checked."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOP = ("audiogen_tf", "audiogen_cli", "zoo", "training", "tflite_export", "tests", "docs", "benchmarks")
PATH = re.compile(r"(?<![\w/.-])((?:\.\.?/)?(?:[\w.-]+/)+[\w.-]+\.(?:md|py|yaml|yml|json|csv|keras|npz))")


def _documents():
    return [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def test_documented_paths_exist():
    missing = []
    for doc in _documents():
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for path in PATH.findall(line):
                if path.startswith("."):
                    target = doc.parent / path
                elif path.split("/")[0] in TOP:
                    target = ROOT / path
                else:
                    continue
                if "*" not in path and not target.exists():
                    missing.append(f"{doc.relative_to(ROOT)}:{number}: {path}")
    assert not missing, "documents name files that do not exist:\n" + "\n".join(missing)
