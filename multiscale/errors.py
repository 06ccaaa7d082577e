"""The exceptions of ``multiscale``: one small tree, so callers catch what they mean.

- ``MultiscaleError``: anything this package raises on purpose.
- ``EngineMissingError``: a physics engine needed here is not installed.
- ``InputError``: bad input; the message names the field, the value and what was expected.
- ``ConvergenceError``: an iterative solve did not converge.
- ``CalculationFailed``: an engine ran and failed for another reason.
- ``RunLockedError``, ``StageFailed``: a run directory is held by another run; a pipeline stage raised.

The whole toolkit's family, for users who want one class to catch (each package's class of a role
is a subclass of it; see ``foundation.errors``):

- ``ToolkitError``: anything any package raises on purpose;
- ``AnyInputError`` (a ``ValueError``), ``AnyEngineMissingError`` (an ``ImportError``),
  ``AnyConvergenceError``, ``AnyCalculationFailed`` (``RuntimeError``).

    try:
        run(...)
    except multiscale.errors.AnyInputError as exc:   # atomistic, continuum, couplers or multiscale
        print("fix the input:", exc)
"""
from foundation.errors import CalculationFailed as AnyCalculationFailed
from foundation.errors import ConvergenceError as AnyConvergenceError
from foundation.errors import EngineMissingError as AnyEngineMissingError
from foundation.errors import InputError as AnyInputError
from foundation.errors import ToolkitError, package_errors

# Each class is also the toolkit-wide class of its role (foundation.errors): ``except
# foundation.errors.InputError`` (or ``ValueError``) catches bad input from any package.
(MultiscaleError, EngineMissingError, InputError, ConvergenceError,
 CalculationFailed) = package_errors(__name__, "MultiscaleError")


class RunLockedError(MultiscaleError, RuntimeError):
    """Another run holds the output directory."""


class StageFailed(MultiscaleError, RuntimeError):
    """A pipeline stage raised; the message names the stage."""


__all__ = ["AnyCalculationFailed", "AnyConvergenceError", "AnyEngineMissingError", "AnyInputError",
           "CalculationFailed", "ConvergenceError", "EngineMissingError", "InputError", "MultiscaleError",
           "RunLockedError", "StageFailed", "ToolkitError"]
