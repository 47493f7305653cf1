"""Dependencies go downward (design.md): audiogen_tf <- zoo <- {training, tflite_export} <- audiogen_cli.

Walks the AST of every ``.py`` under the five packages and fails on any import of a package in a higher room,
with no exemptions: module-level and lazy (inside a function) imports count the same.
- ``audiogen_tf`` (the floor) imports nothing from ``zoo``, ``training``, ``tflite_export`` or ``audiogen_cli``;
- ``zoo`` never imports ``training``, ``tflite_export`` or ``audiogen_cli``;
- ``training`` and ``tflite_export`` never import ``audiogen_cli``;
- ``audiogen_cli``, the ``audiogen`` command, is the top room and may import all of them.
``import x``, ``from x import y``, relative imports, and ``importlib.import_module(...)`` / ``__import__(...)``
with a literal name or an f-string with a literal package prefix (``f"zoo.{name}"``) all count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The room of each package: a package may import its own room's and lower rooms' packages only.
ROOMS = {"audiogen_tf": 0, "zoo": 1, "training": 2, "tflite_export": 2, "audiogen_cli": 3}
PACKAGES = tuple(ROOMS)


def _module_package(rel_path: str) -> list[str]:
    """Dotted package parts of a file, e.g. ``zoo/hifigan/x.py`` -> ``['zoo', 'hifigan']``."""
    return rel_path[:-3].split("/")[:-1]


def _resolve(node: ast.ImportFrom, package: list[str]) -> str:
    if not node.level:
        return node.module or ""
    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join(base + ([node.module] if node.module else []))


def _literal_name(arg: ast.expr) -> str | None:
    """The module named by a string literal, or the literal prefix of an f-string (``f"zoo.{x}"`` -> ``zoo.``)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        first = arg.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


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
                    module = _literal_name(child.args[0])
                    if module is not None:
                        found.append((module, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def violations_in(root: Path) -> list[str]:
    """Every import of a higher room under ``root`` as ``path:line: pkg imports module where``."""
    problems = []
    for pkg, room in ROOMS.items():
        base = root / pkg
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            for module, line, lazy in imports_of(path.read_text(encoding="utf-8"), rel):
                top = module.split(".")[0]
                if ROOMS.get(top, -1) <= room:
                    continue
                where = "inside a function" if lazy else "at module level"
                problems.append(f"{rel}:{line}: {pkg} imports {module} {where}")
    return problems


def test_no_wrong_arrows_in_the_repo():
    problems = violations_in(ROOT)
    assert not problems, "Dependencies must go downward (see design.md):\n" + "\n".join(problems)


def test_the_repo_has_python_files_to_check():
    for pkg in PACKAGES:
        assert list((ROOT / pkg).rglob("*.py")), f"{pkg}/ has no Python files: is the layout in ROOMS still right?"


def test_the_library_has_no_cli_inside():
    """The CLI is its own top package: nothing named cli is left in the floor to wire rooms together."""
    assert not (ROOT / "audiogen_tf" / "cli").exists() and not (ROOT / "audiogen_tf" / "cli.py").exists()
    assert (ROOT / "audiogen_cli" / "__main__.py").is_file()


@pytest.mark.parametrize(
    "rel, source, bad",
    [
        ("audiogen_tf/layers/x.py", "import zoo.hifigan\n", True),
        ("audiogen_tf/x.py", "from tflite_export.export import export_tflite\n", True),
        ("audiogen_tf/x.py", "def f():\n    import training\n", True),  # lazy is no excuse
        ("audiogen_tf/x.py", "from ..zoo import hifigan\n", True),  # relative, climbs out of the package
        ("audiogen_tf/x.py", "import importlib\nimportlib.import_module('training.gan')\n", True),
        ("audiogen_tf/x.py", "def f():\n    return __import__('zoo')\n", True),
        ("audiogen_tf/x.py", "import importlib\ndef f(n):\n    importlib.import_module(f'zoo.{n}')\n", True),
        ("audiogen_tf/x.py", "import importlib\ndef f(n):\n    importlib.import_module(f'audiogen_tf.{n}')\n", False),
        ("audiogen_tf/x.py", "def f():\n    from audiogen_cli import main\n", True),
        ("audiogen_tf/cli/models.py", "def f():\n    import zoo\n", True),  # no CLI exemption in the floor
        ("zoo/hifigan/g.py", "from training.gan_trainer import GANTrainer\n", True),
        ("zoo/hifigan/g.py", "try:\n    import tflite_export\nexcept ImportError:\n    pass\n", True),
        ("zoo/hifigan/g.py", "def f():\n    from audiogen_cli.models import import_zoo\n", True),
        ("zoo/hifigan/g.py", "from audiogen_tf.layers import conv\nfrom . import presets\n", False),
        ("training/gan.py", "import zoo\nimport audiogen_tf\n", False),
        ("training/run.py", "def f():\n    import audiogen_cli\n", True),
        ("tflite_export/x.py", "import zoo\nimport training\n", False),
        ("tflite_export/x.py", "from audiogen_cli.export import build_preset\n", True),
        ("audiogen_cli/models.py", "import zoo\nimport training\nimport tflite_export\nimport audiogen_tf\n", False),
        ("audiogen_cli/models.py", "def f(n):\n    importlib.import_module(f'zoo.{n}')\n", False),
        ("audiogen_tf/x.py", "import zoology\nimport trainingwheels\nimport audiogen_climate\n", False),  # prefixes
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
