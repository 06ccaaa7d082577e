"""The exceptions of ``couplers``: ``CouplersError`` and, under it, ``InputError`` (bad input; the
message names the field, the value and what was expected), ``EngineMissingError``,
``ConvergenceError`` and ``CalculationFailed``: the roles of ``foundation.errors``, whose
family classes they also belong to.
"""
from foundation.errors import package_errors

# Each class is also the toolkit-wide class of its role (foundation.errors): ``except
# foundation.errors.InputError`` (or ``ValueError``) catches bad input from any package.
(CouplersError, EngineMissingError, InputError, ConvergenceError,
 CalculationFailed) = package_errors(__name__, "CouplersError")
