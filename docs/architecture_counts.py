"""Measure how spread out a source tree's family knowledge is (issue 16): a markdown table row per tree.

For each tree given:

- ``isinstance`` calls in ``training/`` (every ``.py`` under it);
- lines of ``training/run.py`` and ``training/recipes.py``;
- import arrows that climb back up, eager and lazy (inside a function): rooms rank ``audiogen_tf`` (0) <
  ``zoo`` (1) < ``training``, ``tflite_export`` (2) < the CLI (3: the modules ``audiogen_tf.cli*`` or any
  top-level package whose name contains ``cli``); an import from a lower room of a higher one climbs. A file
  ranks by its top-level package, so while the CLI lives inside ``audiogen_tf`` its imports of ``zoo``,
  ``training`` and ``tflite_export`` climb (imports within the CLI itself do not). ``import x``,
  ``from x import y``, relative imports and ``importlib.import_module("x")`` / ``__import__("x")`` count;
- files a new family touches: for a family (``--family``, default ``istft_vocoder``), the files of the packages
  that name it (the family name not inside a longer name, or a class its zoo folder defines) outside its own
  files: its zoo folder, ``training/families/<family>.py``, ``training/configs/<family>.yaml`` and
  ``tests/test_<family>*.py``. "Touched" adds the own files (one zoo folder, one recipe, one test, and the
  training file where the tree has one) to those. Other test files that name it are counted apart (most use the
  family as a fixture and need no edit); ``--all`` prints the package-file count of every family.

Usage:
    git archive 5c1959e | tar -x -C /tmp/before16
    python docs/architecture_counts.py /tmp/before16 .            # prints the table
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

ROOMS = {"audiogen_tf": 0, "zoo": 1, "training": 2, "tflite_export": 2}
CLI_RANK = 3


def _packages(root: Path) -> list[str]:
    """The tree's importable rooms: the four packages and any top-level CLI package."""
    found = [p for p in ROOMS if (root / p).is_dir()]
    found += sorted(d.name for d in root.iterdir()
                    if d.is_dir() and "cli" in d.name.lower() and (d / "__init__.py").exists() and d.name not in ROOMS)
    return found


def _rank(module: str, cli_packages: set[str]) -> int | None:
    parts = module.split(".")
    if parts[0] in cli_packages or parts[:2] == ["audiogen_tf", "cli"]:
        return CLI_RANK
    return ROOMS.get(parts[0])


def _imports(path: Path, rel: str):
    """``(module, lazy)`` of every import in a file (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    package = rel[:-3].split("/")[:-1]
    out = []

    def visit(node, lazy):
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend((a.name, lazy) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - (child.level - 1)] if child.level > 1 else package
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                out.append((module, lazy))
                if not child.module:
                    out.extend((f"{module}.{a.name}".strip("."), lazy) for a in child.names)
            elif isinstance(child, ast.Call):
                f = child.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("import_module", "__import__") and child.args and isinstance(child.args[0], ast.Constant) \
                        and isinstance(child.args[0].value, str):
                    out.append((child.args[0].value, lazy))
            visit(child, inner)

    visit(tree, False)
    return out


def climbing_imports(root: Path) -> tuple[int, int]:
    """``(eager, lazy)`` counts of imports from a lower room of a higher one."""
    packages = _packages(root)
    cli_packages = {p for p in packages if p not in ROOMS}
    eager = lazy = 0
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            own = CLI_RANK if pkg in cli_packages else ROOMS[pkg]
            in_cli = own == CLI_RANK or rel.startswith("audiogen_tf/cli")
            for module, is_lazy in _imports(path, rel):
                target = _rank(module, cli_packages)
                if in_cli and target == CLI_RANK:
                    continue
                if own is not None and target is not None and target > own:
                    lazy += is_lazy
                    eager += not is_lazy
    return eager, lazy


def isinstance_calls(root: Path) -> int:
    """``isinstance(`` calls in training/."""
    count = 0
    for path in (root / "training").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        count += sum(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "isinstance" for n in ast.walk(tree))
    return count


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def _names(family: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){family}(?![A-Za-z0-9])", text) is not None


def family_folder(root: Path, family: str) -> Path | None:
    """The zoo folder of a family: ``zoo/<family>`` or the folder whose family file or presets name it."""
    if (root / "zoo" / family).is_dir():
        return root / "zoo" / family
    for pattern in ("*_family.py", "*_presets.py"):
        for d in sorted((root / "zoo").iterdir()):
            if d.is_dir() and any(_names(family, p.read_text(encoding="utf-8")) for p in d.glob(pattern)):
                return d
    return None


def training_file(root: Path, family: str) -> str | None:
    """The ``training/families/*.py`` file that declares ``family`` (``TrainFamily("name"`` or ``_family("name"``)."""
    for p in sorted((root / "training" / "families").glob("*.py")):
        if re.search(rf"(TrainFamily|utterance_family|vocoder_family)\(\s*\"{family}\"", p.read_text(encoding="utf-8")):
            return p.relative_to(root).as_posix()
    return None


def family_files(root: Path, family: str) -> tuple[list[str], int]:
    """(files outside the family's own that name it, number of own files a new family adds)."""
    folder = family_folder(root, family)
    classes = set()
    if folder is not None:
        for p in folder.glob("*.py"):
            classes.update(re.findall(r"^class (\w+)", p.read_text(encoding="utf-8"), re.M))
    names = [re.escape(family)] + [re.escape(c) for c in sorted(classes)]
    pattern = re.compile(rf"(?<![A-Za-z0-9_])({'|'.join(names)})(?![A-Za-z0-9])")
    recipe = "encoders" if family == "encoder" else family
    own = {training_file(root, family), f"{recipe_folder(root)}/{recipe}.yaml"}
    has_training_file = (root / "training" / "families").is_dir()
    outside = []
    for pkg in _packages(root) + ["tests"]:
        if not (root / pkg).is_dir():
            continue
        for path in sorted((root / pkg).rglob("*")):
            if path.suffix not in (".py", ".yaml") or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            if rel in own or (folder is not None and path.is_relative_to(folder)):
                continue
            if rel.startswith((f"tests/test_{family}", f"tests/test_{recipe}")):
                continue
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                outside.append(rel)
    return outside, 3 + int(has_training_file)


def recipe_folder(root: Path) -> str:
    """Where a tree keeps its bundled recipes: ``training/configs`` (``training/recipes`` in older trees)."""
    return "training/configs" if (root / "training" / "configs").is_dir() else "training/recipes"


def families_of(root: Path) -> list[str]:
    """Family names of a tree: its bundled recipes (``training/configs/*.yaml`` stems, ``encoders`` as ``encoder``)."""
    names = {p.stem for p in (root / recipe_folder(root)).glob("*.yaml")}
    return sorted("encoder" if n == "encoders" else n for n in names)


def measure(root: Path, family: str) -> dict:
    eager, lazy = climbing_imports(root)
    outside, own = family_files(root, family)
    code = [f for f in outside if not f.startswith("tests/")]
    return {"isinstance in training/": isinstance_calls(root),
            "training/run.py lines": lines(root / "training" / "run.py"),
            "training/recipes.py lines": lines(root / "training" / "recipes.py"),
            "climbing imports (eager + lazy)": f"{eager + lazy} ({eager} + {lazy})",
            f"package files naming {family} outside its own": len(code),
            f"files touched to add {family} (own + those)": own + len(code),
            f"other test files naming {family}": len(outside) - len(code),
            "_outside": outside}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="source trees to measure (a checkout or an extracted archive)")
    parser.add_argument("--family", default="istft_vocoder", help="the family whose files are counted")
    parser.add_argument("--list", action="store_true", help="also list the files outside the family's own")
    parser.add_argument("--all", action="store_true", help="also the package files naming each family")
    args = parser.parse_args(argv)
    rows = [(t, measure(Path(t).resolve(), args.family)) for t in args.trees]
    keys = [k for k in rows[0][1] if not k.startswith("_")]
    print("| measure | " + " | ".join(t for t, _ in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for k in keys:
        print(f"| {k} | " + " | ".join(str(r[k]) for _, r in rows) + " |")
    if args.all:
        roots = [Path(t).resolve() for t in args.trees]
        names = sorted(set().union(*(families_of(r) for r in roots)))
        print("\n| family: package files naming it outside its own | " + " | ".join(args.trees) + " |")
        print("|---|" + "---:|" * len(roots))
        for name in names:
            counts = [len([f for f in family_files(r, name)[0] if not f.startswith("tests/")]) for r in roots]
            print(f"| {name} | " + " | ".join(map(str, counts)) + " |")
    if args.list:
        for t, r in rows:
            print(f"\n{t}: " + ", ".join(r["_outside"]))


if __name__ == "__main__":
    main()
