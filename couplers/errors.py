"""The exceptions of ``couplers``: one small tree, so callers catch what they mean.

- ``CouplersError``: anything this package raises on purpose.
- ``EngineMissingError``: a physics engine needed here is not installed.
- ``InputError``: bad input; the message names the field, the value and what was expected.
- ``ConvergenceError``: an iterative solve did not converge.
- ``CalculationFailed``: an engine ran and failed for another reason.
"""


class CouplersError(Exception):
    """Base of every error raised on purpose by ``couplers``."""


class EngineMissingError(CouplersError, ImportError):
    """A physics engine (torch, gpaw, dolfinx, pybamm, ...) is not importable."""


class InputError(CouplersError, ValueError):
    """User input is invalid; the message says which field and why."""


class ConvergenceError(CouplersError, RuntimeError):
    """An iterative solver stopped without converging."""


class CalculationFailed(CouplersError, RuntimeError):
    """An engine ran but did not produce a usable result."""
