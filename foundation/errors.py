"""The error family of the whole toolkit.

Every package (``atomistic``, ``continuum``, ``couplers``, ``multiscale``) has
the same small tree, made by :func:`package_errors`, and every class in it
also belongs to the family class of the same role here:

=====================  ==========================  =======================
role                   family class (this module)  also a
=====================  ==========================  =======================
anything on purpose    ``ToolkitError``            ``Exception``
bad input              ``InputError``              ``ValueError``
engine not installed   ``EngineMissingError``      ``ImportError``
solve not converged    ``ConvergenceError``        ``RuntimeError``
engine ran and failed  ``CalculationFailed``       ``RuntimeError``
=====================  ==========================  =======================

So ``except foundation.errors.InputError`` (or plain ``except ValueError``)
catches bad input from any package, and ``except atomistic.errors.InputError``
only that package's. ``multiscale.errors`` names the family for users.
"""
from __future__ import annotations

__all__ = ["CalculationFailed", "ConvergenceError", "EngineMissingError", "InputError", "ToolkitError",
           "package_errors"]


class ToolkitError(Exception):
    """Base of every error the toolkit raises on purpose."""


class InputError(ToolkitError, ValueError):
    """User input is invalid; the message names the field, the value and what was expected."""


class EngineMissingError(ToolkitError, ImportError):
    """A physics engine (torch, gpaw, dolfinx, pybamm, ...) is not importable."""


class ConvergenceError(ToolkitError, RuntimeError):
    """An iterative solver stopped without converging."""


class CalculationFailed(ToolkitError, RuntimeError):
    """An engine ran but did not produce a usable result."""


_ROLES = (("EngineMissingError", EngineMissingError), ("InputError", InputError),
          ("ConvergenceError", ConvergenceError), ("CalculationFailed", CalculationFailed))


def package_errors(module: str, base: str) -> tuple[type, type, type, type, type]:
    """A package's error tree: ``base`` (a ``ToolkitError``) and, under it, one class per role
    (``EngineMissingError``, ``InputError``, ``ConvergenceError``, ``CalculationFailed``), each
    also the family class of its role. ``module`` (the package's errors module, ``__name__``) is
    recorded on the classes so tracebacks and pickles name them where they live. Returns
    ``(base, EngineMissingError, InputError, ConvergenceError, CalculationFailed)``."""
    pkg = module.split(".")[0]
    root = type(base, (ToolkitError,), {"__module__": module, "__qualname__": base,
                                        "__doc__": f"Base of every error raised on purpose by ``{pkg}``."})
    roles = tuple(type(name, (root, family), {"__module__": module, "__qualname__": name,
                                              "__doc__": f"{family.__doc__} (raised by ``{pkg}``)"})
                  for name, family in _ROLES)
    return (root, *roles)
