"""The house rules of DESIGN.md: imports go down only, engines load lazily."""
import ast
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLOOR = {"foundation": 0, "atomistic": 1, "continuum": 1, "couplers": 2, "multiscale": 3}
ENGINES = ("gpaw", "dolfinx", "pybamm", "torch", "petsc4py", "openmm")


def test_importing_the_packages_loads_no_engine():
    code = ("import json, sys; import foundation, couplers, atomistic, continuum, multiscale; "
            f"print(json.dumps([m for m in {ENGINES!r} if m in sys.modules]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert json.loads(proc.stdout) == []


def test_imports_go_down_only():
    bad = []
    for pkg, floor in FLOOR.items():
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in FLOOR and top != pkg and FLOOR[top] >= floor:
                        bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert bad == []
