"""The house's shape: what OBS's embedded Python loads needs only the standard library,
and no module of vbg_core imports another in a circle (lazy imports included)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "vbg_core"
BLOCKED = ("numpy", "cv2", "onnxruntime", "av")

_IMPORT_BLOCKED = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in %r:
            raise ImportError(name + " is not available inside OBS")
sys.meta_path.insert(0, Block())
import obs_vbg, vbg_core.obs, vbg_core.shared
names = ["obs_vbg"]
for package in (vbg_core.obs, vbg_core.shared):
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
print(" ".join(names))
""" % (BLOCKED,)


def test_the_obs_side_imports_with_the_standard_library_only():
    done = subprocess.run([sys.executable, "-c", _IMPORT_BLOCKED], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert {"vbg_core.obs.filter", "vbg_core.obs.gpu", "vbg_core.obs.plugin", "vbg_core.shared.settings",
            "vbg_core.shared.channel"} <= set(loaded)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set) -> set:
    """The vbg_core modules `path` imports, anywhere in the file."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else node.module
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return (found & modules) - {name}


def test_no_import_circle():
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: imports_of(path, set(paths)) for name, path in paths.items()}

    def reaches(start, goal, seen):
        for nxt in graph[start] - seen:
            if nxt == goal or reaches(nxt, goal, seen | {nxt}):
                return True
        return False
    circles = [name for name in graph if not name.endswith("__init__") and
               any(reaches(dep, name, {dep}) for dep in graph[name] if not name.startswith(dep + "."))]
    assert not circles, f"modules in an import circle: {circles}"


def test_at_most_four_plain_modules_in_vbg_core():
    assert len(list(PACKAGE.glob("*.py"))) <= 4
