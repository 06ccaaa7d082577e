"""The exceptions of ``multiscale``: one small tree, so callers catch what they mean.

- ``MultiscaleError``: anything this package raises on purpose.
- ``EngineMissingError``: a physics engine needed here is not installed.
- ``InputError``: bad input; the message names the field, the value and what was expected.
- ``ConvergenceError``: an iterative solve did not converge.
- ``CalculationFailed``: an engine ran and failed for another reason.
"""


class MultiscaleError(Exception):
    """Base of every error raised on purpose by ``multiscale``."""


class EngineMissingError(MultiscaleError, ImportError):
    """A physics engine (torch, gpaw, dolfinx, pybamm, ...) is not importable."""


class InputError(MultiscaleError, ValueError):
    """User input is invalid; the message says which field and why."""


class ConvergenceError(MultiscaleError, RuntimeError):
    """An iterative solver stopped without converging."""


class CalculationFailed(MultiscaleError, RuntimeError):
    """An engine ran but did not produce a usable result."""


class RunLockedError(MultiscaleError, RuntimeError):
    """Another run holds the output directory."""


class StageFailed(MultiscaleError, RuntimeError):
    """A pipeline stage raised; the message names the stage."""
