"""The code a pipeline stage runs, as one hash: edit it and the stage's cache key changes.

A stage kind is a function in a module; what it runs is that module and every
toolkit module it imports, directly or through others, at the top of a file or
inside a function (the engines are imported lazily, so most imports are). The
closure is found statically, from the source (``ast``), without importing
anything heavy: ``from atomistic import run_md`` follows the package's lazy
table to the submodule that defines ``run_md``. The digest is the sha256 of
every module's name and source bytes in the closure, in sorted order.

Only the toolkit's own packages are followed: third-party engines are pinned by
the lock and recorded in each stage's provenance; a change there is an
environment change, not a code edit.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import sys
from pathlib import Path

__all__ = ["TOOLKIT", "code_digest", "module_closure", "module_imports"]

TOOLKIT = ("foundation", "atomistic", "continuum", "couplers", "multiscale")


@functools.cache
def _package_dir(root: str) -> Path | None:
    """The folder of a top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(root)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache
def _source_file(module: str) -> Path | None:
    """The source file of a toolkit module, by its name alone: nothing is imported (finding
    ``a.b.c`` through importlib would import ``a.b``, engines and all)."""
    if module == "__main__":                 # a stage defined in the script being run
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        return Path(main) if main and main.endswith(".py") else None   # interactive: no file
    root, *rest = module.split(".")
    folder = _package_dir(root)
    if folder is None:
        return None
    base = folder.joinpath(*rest)
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


@functools.cache
def _lazy_table(package: str) -> dict[str, str]:
    """The package ``__init__``'s ``_LAZY`` table (name -> submodule), read from its source."""
    path = _source_file(package)
    if path is None or path.name != "__init__.py":
        return {}
    for node in ast.parse(path.read_bytes()).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and target.id == "_LAZY" and node.value is not None:
            try:
                return dict(ast.literal_eval(node.value))
            except ValueError:
                return {}
    return {}


def _imports(module: str, path: Path, roots: tuple[str, ...]) -> set[str]:
    """Toolkit modules that ``module`` (source at ``path``) names in any import statement."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts[: len(parts) - node.level + (1 if is_pkg else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            lazy = _lazy_table(target)
            for alias in node.names:
                found.add(f"{target}.{alias.name}")          # a submodule, if it is one
                if alias.name in lazy:
                    found.add(f"{target}.{lazy[alias.name]}")
    return {m for m in found if m.split(".")[0] in roots}


def module_imports(module: str, roots: tuple[str, ...] = TOOLKIT) -> set[str]:
    """The modules of ``roots`` that ``module`` imports directly, anywhere in its source (top level
    or inside functions, lazy-table names followed to their submodule); empty when ``module`` has
    no source file."""
    path = _source_file(module)
    if path is None:
        return set()
    return {m for m in _imports(module, path, roots) if m != module and _source_file(m) is not None}


def module_closure(module: str, roots: tuple[str, ...] = TOOLKIT) -> dict[str, Path]:
    """Every module of ``roots`` (and of ``module``'s own top-level package, so a user's plugin
    stage is followed too) that ``module`` imports, transitively, with its parents' ``__init__``
    files; name -> source file."""
    roots = tuple(sorted(set(roots) | {module.split(".")[0]}))
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _source_file(name)
        if path is None:
            continue
        seen[name] = path
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))   # importing a.b runs a
        todo.extend(_imports(name, path, roots))
    return seen


def code_digest(module: str, roots: tuple[str, ...] = TOOLKIT) -> str:
    """sha256 (hex) of the source of ``module`` and of every toolkit module it imports."""
    h = hashlib.sha256()
    for name, path in sorted(module_closure(module, roots).items()):
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
