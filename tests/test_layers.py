"""The layers of the one ``handsdk`` namespace (README "Layout"), lowest first:

1. the runtime ``handsdk``: sdk/*.py, sdk/backends, sdk/bundle;
2. ``handsdk.train`` (train/), ``handsdk.convert`` (convert/) and
   ``handsdk.devices`` (devices/, whose profiles name convert's formats);
   train and convert use each other (a release converts its models);
3. ``handsdk.tools`` (sdk/tools);
4. ``handsdk.cli`` (sdk/cli).

A module imports nothing from a layer above its own. Every import is read
with ``ast``, those inside functions included, and so are the module names
given as constants to ``importlib.import_module`` / ``__import__`` and the
``"handsdk.module:function"`` strings that name converters to load later."""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: folder -> the package it is (pyproject.toml's package-dir)
FOLDERS = {"sdk": "handsdk", "train": "handsdk.train", "convert": "handsdk.convert", "devices": "handsdk.devices"}
#: the most specific prefix first
LAYERS = (("handsdk.cli", 4, "cli"), ("handsdk.tools", 3, "tools"), ("handsdk.train", 2, "train"),
          ("handsdk.convert", 2, "convert"), ("handsdk.devices", 2, "devices"), ("handsdk", 1, "runtime"))
#: folders that hold no source of the package
SKIP = {"checkpoints", "weights", "__pycache__"}
LAZY_NAME = re.compile(r"^(handsdk(?:\.\w+)+):\w+$")


def _layer(name: str) -> tuple[int, str] | None:
    """(level, layer) of a dotted ``handsdk`` name; None for other packages."""
    for prefix, level, layer in LAYERS:
        if name == prefix or name.startswith(prefix + "."):
            return level, layer
    return None


def _modules() -> list[tuple[str, Path]]:
    """(module name, file) of every module under the package folders."""
    out = []
    for folder, package in FOLDERS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO / folder)
            if SKIP & set(rel.parts):
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.append((".".join([package, *parts]), path))
    return out


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import ...`` in ``module``."""
    if not level:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - level + 1]
    return ".".join(base + ([name] if name else []))


def imported_names(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, dotted name) of everything ``source`` (the text of ``module``) imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            found += [(node.lineno, base if a.name == "*" else f"{base}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if func in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = LAZY_NAME.match(node.value)
            if m:
                found.append((node.lineno, m.group(1)))
    return found


def wrong_way(source: str, module: str, is_package: bool = False, where: str = "") -> list[str]:
    """The imports of ``module`` that reach a layer above its own."""
    level, layer = _layer(module)
    bad = []
    for line, name in imported_names(source, module, is_package):
        target = _layer(name)
        if target is not None and target[0] > level:
            bad.append(f"{where or module}:{line}: {layer} module {module} imports {name} ({target[1]})")
    return bad


def test_no_module_imports_from_a_layer_above_its_own():
    bad = []
    for module, path in _modules():
        bad += wrong_way(path.read_text(encoding="utf-8"), module, path.name == "__init__.py",
                         str(path.relative_to(REPO)))
    assert not bad, "imports against the layering (README 'Layout'):\n" + "\n".join(bad)


def test_the_scan_covers_every_layer():
    names = {m for m, _ in _modules()}
    for m in ("handsdk", "handsdk.recognizer", "handsdk.backends.tflite", "handsdk.bundle.read",
              "handsdk.train.release", "handsdk.train.data.catalog", "handsdk.convert.api", "handsdk.devices",
              "handsdk.tools.bench", "handsdk.cli.run"):
        assert m in names, m
    assert {_layer(m)[1] for m in names} == {"runtime", "train", "convert", "devices", "tools", "cli"}


def test_a_wrong_way_import_is_caught_wherever_it_hides():
    """Inside a function, relative, through importlib, as a converter's name."""
    runtime = ("import numpy as np\nfrom .boxes import box_iou\n\n\ndef f():\n"
               "    from .tools.bench import run_bench\n")
    assert wrong_way(runtime, "handsdk.draw") == [
        "handsdk.draw:6: runtime module handsdk.draw imports handsdk.tools.bench.run_bench (tools)"]
    assert wrong_way("from . import train\n", "handsdk", is_package=True)[0].endswith("handsdk.train (train)")
    assert wrong_way("import importlib\nimportlib.import_module('handsdk.cli.run')\n", "handsdk.train.x")
    assert wrong_way("TABLE = {'a': 'handsdk.tools.bench:run_bench'}\n", "handsdk.convert.formats")
    assert wrong_way("from ..cli import app\n", "handsdk.tools.demo")
    # what the layering allows
    assert not wrong_way("from handsdk.convert.api import convert_bundle\n", "handsdk.train.release")
    assert not wrong_way("from handsdk.train.data import catalog\n", "handsdk.convert.api")
    assert not wrong_way("from ..tools.bench import run_bench\nfrom handsdk.train import tf\n", "handsdk.cli.bench")
    assert not wrong_way("x = 'python -m handsdk.tools.motion_eval'\n", "handsdk.train.models.motion.evaluate")
