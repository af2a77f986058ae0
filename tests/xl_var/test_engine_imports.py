"""The engine stays numpy/scipy-only: nothing Excel- or pandas-shaped is ever imported."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import xl_var

PACKAGE = Path(xl_var.__file__).resolve().parent
ALLOWED = {"numpy", "scipy", "xl_var"}
LAZY_ONLY_IN_MONTECARLO = {"dask", "distributed"}
# threadpoolctl (a core dependency) pins BLAS threads so Monte Carlo results do not depend on them
MONTECARLO_ONLY = {"threadpoolctl"}
FORBIDDEN = ("xlwings", "pandas", "openpyxl")


def test_importing_every_engine_module_loads_no_excel_or_pandas():
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import xl_var\n"
        "names = [m.name for m in pkgutil.walk_packages(xl_var.__path__, 'xl_var.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(json.dumps({'modules': names, 'bad': bad}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["bad"] == []
    assert {"xl_var.portfolio", "xl_var.moments", "xl_var.parametric", "xl_var.historical"} <= set(
        report["modules"])


def _imports(tree):
    """(root module name, node, inside a function?) for every import in a module."""
    lazy = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            lazy.update(id(n) for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node, id(node) in lazy
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node, id(node) in lazy


def test_engine_modules_import_only_stdlib_numpy_scipy_and_xl_var():
    problems = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        rel = path.relative_to(PACKAGE.parent)
        in_montecarlo = "montecarlo" in path.relative_to(PACKAGE).parts
        for root, node, lazy in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if root in ALLOWED or root in sys.stdlib_module_names or root == "__future__":
                continue
            if in_montecarlo and (root in MONTECARLO_ONLY or (root in LAZY_ONLY_IN_MONTECARLO and lazy)):
                continue
            problems.append(f"{rel}:{node.lineno} imports {root}")
    assert problems == []


def test_the_scanner_tells_lazy_from_top_level_imports():
    src = ("import pandas\nfrom numpy import linalg\n"
           "def f():\n    import dask.array\n    from distributed import Client\n")
    found = [(root, lazy) for root, _, lazy in _imports(ast.parse(src))]
    assert sorted(found) == [("dask", True), ("distributed", True), ("numpy", False), ("pandas", False)]
