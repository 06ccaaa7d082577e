"""The exceptions of ``couplers``: one small tree, so callers catch what they mean.

- ``CouplersError``: anything this package raises on purpose.
- ``EngineMissingError``: a physics engine needed here is not installed.
- ``InputError``: bad input; the message names the field, the value and what was expected.
- ``ConvergenceError``: an iterative solve did not converge.
- ``CalculationFailed``: an engine ran and failed for another reason.
"""
from foundation.errors import package_errors

# Each class is also the toolkit-wide class of its role (foundation.errors): ``except
# foundation.errors.InputError`` (or ``ValueError``) catches bad input from any package.
(CouplersError, EngineMissingError, InputError, ConvergenceError,
 CalculationFailed) = package_errors(__name__, "CouplersError")
