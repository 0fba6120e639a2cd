"""core/ must stay importable without any GUI package, and without torch where no model runs."""

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parents[2]
GUI = ("PySide6", "vispy", "pyqtgraph", "editor", "PyQt5", "PyQt6", "shiboken6")


def test_no_gui_imports_in_core_source():
    pattern = re.compile(r"^\s*(import|from)\s+(" + "|".join(GUI) + r")\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_core_modules_import_without_gui_or_torch():
    # Block GUI packages and torch outright, then import every module that is not a model
    # runner; a module that needs torch must say so by living under core.ml or core.jobs
    # workers, or by importing it lazily.
    names = [m.name for m in pkgutil.walk_packages(core.__path__, "core.") if m.name != "core.__main__"]
    torch_ok = ("core.ml", "core.kinematics.fk_torch", "core.data.torch")
    script = f"""
import sys, importlib
class Block:
    def find_spec(self, name, path=None, target=None):
        top = name.split('.')[0]
        if top in {GUI!r} + ('torch',):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
failed = []
for name in {names!r}:
    if name.startswith({torch_ok!r}):
        continue
    try:
        importlib.import_module(name)
    except ImportError as e:
        failed.append(f'{{name}}: {{e}}')
print('\\n'.join(failed))
sys.exit(1 if failed else 0)
"""
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_help_runs_without_torch():
    script = (
        "import sys\nclass B:\n def find_spec(self, n, p=None, t=None):\n"
        "  if n.split('.')[0] in ('torch', 'PySide6', 'vispy', 'pyqtgraph'): raise ImportError(n)\n"
        "sys.meta_path.insert(0, B())\nfrom core.cli import main\nsys.argv=['core','--help']\nmain()"
    )
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "info" in r.stdout and "convert" in r.stdout
