"""The package's shape: every module imports on its own, and no two modules import
each other, not even through imports inside functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "drift_audit"
# Backends of an optional dependency: importing them without it is an ImportError
# that names it (the registry then leaves the backend out, with its reason).
OPTIONAL = {"drift_audit.decode.torchcodec": "torchcodec"}


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] != "__main__":  # runs the command line when imported
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def imports_of(module: str) -> set[str]:
    """drift_audit modules `module` imports anywhere (inside functions too), except
    under `if TYPE_CHECKING:`, which never runs."""
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = PACKAGE.parent / module.replace(".", "/") / "__init__.py"
    tree = ast.parse(path.read_text())
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    known = set(modules())
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in known and m != module}


def test_every_module_imports_on_its_own() -> None:
    """Each module imported first, in an interpreter where no other drift_audit module
    is loaded yet: an import circle fails here whichever module a user starts from."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules()!r}:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('drift_audit')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        f"        optional = {OPTIONAL!r}.get(name)\n"
        "        if not (isinstance(exc, ImportError) and optional and optional in str(exc)):\n"
        "            print(f'{name}: {type(exc).__name__}: {exc}')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == ""


def test_no_import_circles() -> None:
    """The graph of imports between modules has no cycle. The package's own
    `__init__` is left out: it is the public facade and imports `pipeline` lazily."""
    graph = {m: imports_of(m) - {"drift_audit"} for m in modules() if m != "drift_audit"}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_help_does_not_load_heavy_libraries() -> None:
    """`drift-audit --help` answers without importing torch, cv2, dlib, decord or ray."""
    code = (
        "import sys\n"
        "from drift_audit.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('torch', 'cv2', 'dlib', 'decord', 'torchcodec', 'numpy', 'ray')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "[]"
