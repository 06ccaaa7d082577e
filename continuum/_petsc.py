"""PETSc options shared by the Newton solvers (PNP 1D, PNP on any mesh, Poisson-Boltzmann)."""
from __future__ import annotations


def newton_lu_options(stol: float, max_it: int, user: dict | None = None) -> dict:
    """Newton with a basic line search (each solver pre-checks the step size itself),
    converged on the Newton step (``snes_stol``) or an absolute residual of 1e-12, never
    on the relative residual (a continuation stage starts at ~1e11), and a direct MUMPS
    LU solve; ``user`` options override any of these."""
    return {"snes_type": "newtonls", "snes_linesearch_type": "basic",
            "snes_rtol": 1e-50, "snes_atol": 1e-12, "snes_stol": stol,
            "snes_max_it": max_it, "ksp_type": "preonly", "pc_type": "lu",
            "pc_factor_mat_solver_type": "mumps", **(user or {})}


def weak_precheck(method):
    """A SNES line-search pre-check that calls ``method`` through a weak reference.

    PETSc keeps the callback alive; a bound method would keep its solver, and with it the
    mesh's MPI communicators, alive forever (a cycle through a C object that Python's garbage
    collector cannot see), so a loop that builds solvers runs out of communicators after ~2000.
    """
    import weakref
    ref = weakref.WeakMethod(method)

    def precheck(*args):
        m = ref()
        if m is not None:
            m(*args)
    return precheck
