"""The exceptions of ``continuum``: one small tree, so callers catch what they mean.

- ``ContinuumError``: anything this package raises on purpose.
- ``EngineMissingError``: a physics engine needed here is not installed.
- ``InputError``: bad input; the message names the field, the value and what was expected.
- ``ConvergenceError``: an iterative solve did not converge.
- ``CalculationFailed``: an engine ran and failed for another reason.
- ``DiscretisationWarning`` (a warning, not an error): a solver's own error estimate says the
  mesh does not resolve the answer to the stated tolerance.
"""


class ContinuumError(Exception):
    """Base of every error raised on purpose by ``continuum``."""


class EngineMissingError(ContinuumError, ImportError):
    """A physics engine (torch, gpaw, dolfinx, pybamm, ...) is not importable."""


class InputError(ContinuumError, ValueError):
    """User input is invalid; the message says which field and why."""


class ConvergenceError(ContinuumError, RuntimeError):
    """An iterative solver stopped without converging."""


class CalculationFailed(ContinuumError, RuntimeError):
    """An engine ran but did not produce a usable result."""


class DiscretisationWarning(UserWarning):
    """A solver's own estimate of its discretisation error is above its tolerance (the mesh is too coarse)."""
