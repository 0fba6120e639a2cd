"""Layer contracts: which parts of the code may import which (docs/architecture.md).

Read from the source with ``ast`` (nothing is imported), so a forbidden import anywhere in a module,
at its top or inside a function, fails here with the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# (package, forbidden top-level names or core sub-packages)
RULES = [
    ("core", {"PySide6", "vispy", "pyqtgraph", "editor"}),
    ("core/model", {"torch", "core.ml", "core.io", "core.jobs", "core.commands", "core.cli"}),
    ("core/kinematics", {"core.ml", "core.jobs", "core.commands", "core.cli", "editor"}),
    ("core/ml", {"core.cli", "core.commands", "editor"}),
    ("core/jobs", {"editor", "core.commands", "core.cli"}),
    ("core/io", {"core.ml", "core.jobs", "core.commands", "core.cli"}),
]


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in a module under ROOT."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return out


def violations(folder: str, forbidden: set[str]) -> list[str]:
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, name in imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


@pytest.mark.parametrize("folder, forbidden", RULES, ids=[r[0] for r in RULES])
def test_layer_contract(folder, forbidden):
    assert violations(folder, forbidden) == []


def test_the_contract_catches_a_wrong_import(tmp_path, monkeypatch):
    """A deliberately wrong import in a scratch package is reported with its file and line."""
    pkg = tmp_path / "core" / "model"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "bad.py").write_text("import numpy\n\ndef f():\n    from ..ml import unet\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert violations("core/model", {"core.ml"}) == ["core/model/bad.py:4 imports core.ml"]
