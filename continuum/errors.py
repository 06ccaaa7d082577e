"""The exceptions of ``continuum``: ``ContinuumError`` and, under it, ``InputError`` (bad input; the
message names the field, the value and what was expected), ``EngineMissingError``,
``ConvergenceError`` and ``CalculationFailed``: the roles of ``foundation.errors``, whose
family classes they also belong to.

``DiscretisationWarning`` (a warning, not an error): a solver's own error estimate says the mesh
does not resolve the answer to the stated tolerance.
"""
from foundation.errors import package_errors

# Each class is also the toolkit-wide class of its role (foundation.errors): ``except
# foundation.errors.InputError`` (or ``ValueError``) catches bad input from any package.
(ContinuumError, EngineMissingError, InputError, ConvergenceError,
 CalculationFailed) = package_errors(__name__, "ContinuumError")


class DiscretisationWarning(UserWarning):
    """A solver's own estimate of its discretisation error is above its tolerance (the mesh is too coarse)."""
