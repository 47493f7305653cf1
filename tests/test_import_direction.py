"""Dependencies go downward (design.md): audiogen_tf <- zoo <- {training, tflite_export}.

Walks the AST of every ``.py`` under the four packages and fails on a wrong arrow:
- ``audiogen_tf`` imports nothing from ``zoo`` / ``training`` / ``tflite_export``; only the CLI
  (``audiogen_tf/cli.py`` or ``audiogen_tf/cli/``) may, and only lazily inside a function;
- ``zoo`` never imports ``training`` or ``tflite_export``.
``import x``, ``from x import y``, relative imports and ``importlib.import_module("x")`` / ``__import__("x")``
with a literal name all count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("audiogen_tf", "zoo", "training", "tflite_export")
FORBIDDEN = {
    "audiogen_tf": {"zoo", "training", "tflite_export"},
    "zoo": {"training", "tflite_export"},
}
# The CLI (a module or a subpackage) wires all rooms together, importing inside functions.
LAZY_ALLOWED = ("audiogen_tf/cli.py", "audiogen_tf/cli/")


def _lazy_allowed(rel: str) -> bool:
    return any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in LAZY_ALLOWED)


def _module_package(rel_path: str) -> list[str]:
    """Dotted package parts of a file, e.g. ``zoo/hifigan/x.py`` -> ``['zoo', 'hifigan']``."""
    parts = rel_path[:-3].split("/")
    return parts[:-1] if parts[-1] != "__init__" else parts[:-1]


def _resolve(node: ast.ImportFrom, package: list[str]) -> str:
    if not node.level:
        return node.module or ""
    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(source: str, rel_path: str) -> list[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for every import in ``source``."""
    tree = ast.parse(source, filename=rel_path)
    package = _module_package(rel_path)
    found: list[tuple[str, int, bool]] = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                module = _resolve(child, package)
                found.append((module, child.lineno, in_function))
                if child.level and not child.module:  # from .. import zoo
                    found.extend((f"{module}.{a.name}".strip("."), child.lineno, in_function) for a in child.names)
            elif isinstance(child, ast.Call):
                func = child.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("import_module", "__import__") and child.args:
                    arg = child.args[0]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.append((arg.value, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def violations_in(root: Path) -> list[str]:
    """Every wrong arrow under ``root`` as ``path:line: pkg imports module``."""
    problems = []
    for pkg in PACKAGES:
        base = root / pkg
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            forbidden = FORBIDDEN.get(pkg, set())
            if not forbidden:
                continue
            for module, line, lazy in imports_of(path.read_text(encoding="utf-8"), rel):
                top = module.split(".")[0]
                if top not in forbidden:
                    continue
                if lazy and _lazy_allowed(rel):
                    continue
                where = "inside a function" if lazy else "at module level"
                problems.append(f"{rel}:{line}: {pkg} imports {module} {where}")
    return problems


def test_no_wrong_arrows_in_the_repo():
    problems = violations_in(ROOT)
    assert not problems, "Dependencies must go downward (see design.md):\n" + "\n".join(problems)


def test_the_repo_has_python_files_to_check():
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    assert len(files) >= len(PACKAGES)


@pytest.mark.parametrize(
    "rel, source, bad",
    [
        ("audiogen_tf/layers/x.py", "import zoo.hifigan\n", True),
        ("audiogen_tf/x.py", "from tflite_export.export import export_tflite\n", True),
        ("audiogen_tf/x.py", "def f():\n    import training\n", True),  # lazy outside cli.py
        ("audiogen_tf/x.py", "from ..zoo import hifigan\n", True),  # relative, climbs out of the package
        ("audiogen_tf/x.py", "import importlib\nimportlib.import_module('training.gan')\n", True),
        ("audiogen_tf/cli.py", "import zoo\n", True),
        ("audiogen_tf/cli.py", "def main():\n    from zoo.hifigan import x\n    import training\n", False),
        ("audiogen_tf/cli/models.py", "def f():\n    import zoo\n    importlib.import_module('zoo.x')\n", False),
        ("audiogen_tf/cli/models.py", "from tflite_export import export\n", True),
        ("audiogen_tf/climate.py", "def f():\n    import zoo\n", True),
        ("zoo/hifigan/g.py", "from training.gan_trainer import GANTrainer\n", True),
        ("zoo/hifigan/g.py", "try:\n    import tflite_export\nexcept ImportError:\n    pass\n", True),
        ("zoo/hifigan/g.py", "from audiogen_tf.layers import conv\nfrom . import presets\n", False),
        ("training/gan.py", "import zoo\nimport audiogen_tf\n", False),
        ("tflite_export/x.py", "import zoo\nimport training\n", False),
        ("audiogen_tf/x.py", "import zoology\nimport trainingwheels\n", False),  # prefix is not the package
    ],
)
def test_checker_catches_wrong_arrows(tmp_path, rel, source, bad):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    problems = violations_in(tmp_path)
    assert bool(problems) == bad, problems
    if bad:
        assert rel in problems[0]


def test_relative_imports_resolve_to_their_package():
    found = imports_of("from .layers import conv\nfrom ..registry import x\n", "audiogen_tf/layers/a.py")
    assert [m for m, _, _ in found] == ["audiogen_tf.layers.layers", "audiogen_tf.registry"]
