"""Lazy, explained imports of the heavy engines (torch, GPAW, dolfinx, PyBaMM, Dask, ...).

A package never imports an engine at import time; the module that needs one
calls its package's ``import_engine(name)`` (made here by :func:`engine_importer`
with the package's own ``EngineMissingError``), which raises, when the engine is
missing, an error saying which extra installs it.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

__all__ = ["EXTRAS", "engine_importer"]

# top-level module -> the pyproject extra that installs it
EXTRAS = {"torch": "ml", "matscipy": "ml", "pymatgen": "ml", "phonopy": "ml", "gpaw": "dft",
          "dolfinx": "fem", "basix": "fem", "ufl": "fem", "petsc4py": "fem", "pybamm": "battery",
          "dask": "parallel", "distributed": "parallel", "chgnet": "universal", "torchpme": "ml",
          "dftd3": "dft"}
_FENICS = ("dolfinx", "petsc4py", "basix", "ufl")


def engine_importer(error: type[Exception]) -> Callable[[str], ModuleType]:
    """An ``import_engine(name)`` that raises ``error`` (a package's ``EngineMissingError``)."""

    def import_engine(name: str) -> ModuleType:
        """Import an engine module, or raise EngineMissingError saying how to get it.

        For the FEniCSx modules, the FEniCSx wheel's ``dolfinx_solver`` guard is imported first
        when present (it orders MPI ahead of the bindings); a conda-forge dolfinx has no such
        module and needs none.
        """
        top = name.split(".")[0]
        try:
            if top in _FENICS:
                try:
                    importlib.import_module("dolfinx_solver")
                except ImportError:
                    pass
            return importlib.import_module(name)
        except ImportError as exc:
            raise error(f"{name} is needed here but cannot be imported ({exc}). Install it with: "
                        f"pip install 'multiscale[{EXTRAS.get(top, 'all')}]' (or run `make test` in a "
                        "checkout, which sets up .venv/).") from exc

    return import_engine
