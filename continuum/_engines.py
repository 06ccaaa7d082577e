"""Lazy, explained imports of the heavy engines this package uses."""
import importlib
from types import ModuleType

from .errors import EngineMissingError

_EXTRA = {"dolfinx": "fem", "basix": "fem", "ufl": "fem", "petsc4py": "fem",
          "pybamm": "battery"}


def import_engine(name: str) -> ModuleType:
    """Import an engine module, or raise EngineMissingError saying how to get it.

    For dolfinx, the FEniCSx wheel's ``dolfinx_solver`` guard is imported first
    when present (it orders MPI ahead of the bindings); a conda-forge dolfinx
    has no such module and needs none.
    """
    top = name.split(".")[0]
    try:
        if top in ("dolfinx", "petsc4py", "basix", "ufl"):
            try:
                importlib.import_module("dolfinx_solver")
            except ImportError:
                pass
        return importlib.import_module(name)
    except ImportError as exc:
        extra = _EXTRA.get(top, "all")
        raise EngineMissingError(
            f"{name} is needed here but cannot be imported ({exc}). "
            f"Install it with: pip install 'multiscale[{extra}]' "
            "(or run `make test` in a checkout, which sets up .venv/)."
        ) from exc
