"""No benchmarks script imports another script's (or bench_utils') private helper: what two scripts share lives
in benchmarks/bench_utils.py under a public, tested name (issue 40, item 3). Checked on the source with ast."""

from __future__ import annotations

import ast
import glob
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def private_imports(folder: str) -> list[str]:
    """``file: module._name`` for every underscore name a ``folder/*.py`` takes from a sibling module, by
    ``from sibling import _name`` or ``import sibling`` then ``sibling._name``."""
    paths = sorted(glob.glob(os.path.join(folder, "*.py")))
    siblings = {os.path.splitext(os.path.basename(p))[0] for p in paths}
    found = []
    for path in paths:
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in siblings:
                found += [f"{name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            elif isinstance(node, ast.Import):
                aliases.update({a.asname or a.name: a.name for a in node.names if a.name in siblings})
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                found.append(f"{name}: {aliases[node.value.id]}.{node.attr}")
    return sorted(set(found))


def test_no_benchmark_script_imports_a_private_helper_of_another():
    found = private_imports(os.path.join(ROOT, "benchmarks"))
    assert not found, "move these into benchmarks/bench_utils.py under a public name:\n" + "\n".join(found)


def test_the_check_finds_both_import_forms(tmp_path):
    (tmp_path / "shared.py").write_text("def _helper():\n    pass\n\n\ndef helper():\n    pass\n")
    (tmp_path / "a.py").write_text("from shared import _helper, helper\nfrom os import _exit\n")
    (tmp_path / "b.py").write_text("import shared as s\nimport os\ns._helper()\ns.helper()\nos._exit\ns.__name__\n")
    assert private_imports(str(tmp_path)) == ["a.py: shared._helper", "b.py: shared._helper"]
