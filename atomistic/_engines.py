"""Lazy, explained imports of the heavy engines this package uses."""
import importlib
from types import ModuleType

from .errors import EngineMissingError

_EXTRA = {"torch": "ml", "gpaw": "dft", "matscipy": "ml", "pymatgen": "ml"}


def import_engine(name: str) -> ModuleType:
    """Import an engine module, or raise EngineMissingError saying how to get it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        extra = _EXTRA.get(name.split(".")[0], "all")
        raise EngineMissingError(
            f"{name} is needed here but cannot be imported ({exc}). "
            f"Install it with: pip install 'multiscale[{extra}]' "
            "(or run `make test` in a checkout, which sets up .venv/)."
        ) from exc
