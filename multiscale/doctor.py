"""``multiscale doctor``: is every engine installed, and does it compute?

For each engine the doctor prints its version and runs a real calculation
of about a second whose answer it checks against a known value, so "ok"
means the engine works here, not merely that it imports. All checks run in
one process on purpose: GPAW and dolfinx (with its bundled OpenBLAS and
MPICH) must coexist in a user's script, and a mis-linked GPAW build fails
exactly there.
"""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


@dataclasses.dataclass
class CheckResult:
    """The outcome of one engine check."""

    engine: str
    version: str
    ok: bool
    detail: str  # what was computed, or why it failed
    seconds: float


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


# --- the smoke calculations ---------------------------------------------
# Each returns (version, detail) and raises on failure. Tolerances are
# stated next to each comparison.

def _check_torch() -> tuple[str, str]:
    import torch

    # Lennard-Jones dimer: the autograd force must equal the analytic one.
    r = torch.tensor([1.3], dtype=torch.float64, requires_grad=True)
    energy = 4.0 * (r**-12 - r**-6)
    (dE_dr,) = torch.autograd.grad(energy.sum(), r)
    force = -dE_dr.item()
    exact = 4.0 * (12.0 * 1.3**-13 - 6.0 * 1.3**-7)
    if abs(force - exact) > 1e-12 * abs(exact):  # float64 round-off only
        raise RuntimeError(f"autograd LJ force {force} != analytic {exact}")
    return torch.__version__, f"LJ autograd force {force:.6f} (analytic {exact:.6f})"


def _check_ase() -> tuple[str, str]:
    import ase
    from ase.build import bulk
    from ase.calculators.emt import EMT

    # EMT is parametrised so that fcc Cu at its lattice constant is ~ its
    # own reference: the energy per atom is tiny and the forces vanish by symmetry.
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.calc = EMT()
    e = atoms.get_potential_energy() / len(atoms)
    fmax = abs(atoms.get_forces()).max()
    if fmax > 1e-10:  # symmetry makes forces exactly zero up to round-off
        raise RuntimeError(f"EMT forces in perfect fcc Cu are {fmax} eV/A, not 0")
    return ase.__version__, f"EMT fcc Cu {e * 1000:.2f} meV/atom, |F|max {fmax:.1e}"


def _check_gpaw() -> tuple[str, str]:
    from ase.build import molecule
    from gpaw import GPAW

    import gpaw

    h2 = molecule("H2")
    h2.center(vacuum=2.5)
    h2.calc = GPAW(mode="lcao", basis="dzp", xc="PBE", h=0.25, txt=None)
    e = h2.get_potential_energy()
    # PBE H2 (LCAO dzp) sits near -6.3 eV relative to GPAW's atomic
    # references; a broken BLAS or libxc gives NaN or a wildly different value.
    if not -7.5 < e < -5.5:
        raise RuntimeError(f"H2 LCAO energy {e:.3f} eV is outside [-7.5, -5.5] eV")
    return gpaw.__version__, f"LCAO H2 energy {e:.4f} eV"


def _check_dolfinx() -> tuple[str, str]:
    try:
        import dolfinx_solver  # noqa: F401  (the wheel's MPI guard; absent on conda)
    except ImportError:
        pass
    import numpy as np
    import ufl
    from dolfinx import fem, mesh
    from dolfinx.fem.petsc import LinearProblem
    from mpi4py import MPI
    from petsc4py import PETSc

    import dolfinx

    # -u'' = 2 on (0, 1), u(0) = u(1) = 0 has the exact solution x(1 - x);
    # P2 elements contain it, so the discrete error is round-off only.
    domain = mesh.create_unit_interval(MPI.COMM_SELF, 16)
    V = fem.functionspace(domain, ("Lagrange", 2))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    x = ufl.SpatialCoordinate(domain)
    ends = mesh.locate_entities_boundary(
        domain, 0, lambda p: np.isclose(p[0], 0.0) | np.isclose(p[0], 1.0))
    bc = fem.dirichletbc(0.0, fem.locate_dofs_topological(V, 0, ends), V)
    problem = LinearProblem(
        ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, 2.0 * v * ufl.dx, bcs=[bc],
        petsc_options_prefix="multiscale_doctor_",
        petsc_options={"ksp_type": "preonly", "pc_type": "lu"})
    uh = problem.solve()
    err = np.sqrt(fem.assemble_scalar(fem.form((uh - x[0] * (1 - x[0])) ** 2 * ufl.dx)))
    if not err < 1e-10:  # exact in the P2 space: LU round-off only
        raise RuntimeError(f"Poisson L2 error {err:.2e} (expected round-off)")
    petsc = ".".join(str(n) for n in PETSc.Sys.getVersion())
    return f"{dolfinx.__version__} (PETSc {petsc})", f"1D P2 Poisson L2 error {err:.1e}"


def _check_pybamm() -> tuple[str, str]:
    import pybamm

    model = pybamm.lithium_ion.SPM()
    sim = pybamm.Simulation(model, parameter_values=pybamm.ParameterValues("Chen2020"))
    sol = sim.solve([0, 1800])  # half an hour at Chen2020's 1C (5 A)
    v = sol["Voltage [V]"].entries
    # Half a 1C discharge lowers the voltage and stays inside the cell's
    # 2.5-4.2 V window, far from its cut-off.
    if not (3.0 < v[-1] < v[0] < 4.3):
        raise RuntimeError(f"SPM voltage went {v[0]:.3f} -> {v[-1]:.3f} V")
    return pybamm.__version__, f"SPM discharge {v[0]:.3f} -> {v[-1]:.3f} V ({sol.termination})"


_MPI_SCRIPT = (
    "from mpi4py import MPI; c = MPI.COMM_WORLD; "
    "s = c.allreduce(c.rank + 1); "
    "print(s) if c.rank == 0 else None"
)


def _check_mpi() -> tuple[str, str]:
    import mpi4py
    from mpi4py import MPI

    # Prefer the launcher beside this interpreter (the mpich wheel's), so it
    # matches the MPI library mpi4py loaded.
    here = str(Path(sys.executable).parent)
    launcher = shutil.which("mpiexec", path=here) or shutil.which("mpiexec")
    if launcher is None:
        raise RuntimeError("no mpiexec found (the mpich wheel puts one in the venv's bin/)")
    out = subprocess.run([launcher, "-n", "2", sys.executable, "-c", _MPI_SCRIPT],
                         capture_output=True, text=True, timeout=60)
    # ranks 0 and 1 contribute 1 + 2 = 3
    if out.returncode != 0 or out.stdout.strip() != "3":
        raise RuntimeError(f"mpiexec -n 2 allreduce gave {out.stdout.strip()!r}: "
                           f"{out.stderr.strip()[-200:]}")
    lib = MPI.Get_library_version().splitlines()[0].strip()
    return f"mpi4py {mpi4py.__version__}; {lib}", "mpiexec -n 2 allreduce = 3"


CHECKS: dict[str, tuple[str, Callable[[], tuple[str, str]]]] = {
    # engine: (distribution for the version when the check fails, check)
    "torch": ("torch", _check_torch),
    "ASE": ("ase", _check_ase),
    "GPAW": ("gpaw", _check_gpaw),
    "dolfinx": ("dolfinx-solver-real", _check_dolfinx),
    "PyBaMM": ("pybamm", _check_pybamm),
    "MPI": ("mpi4py", _check_mpi),
}


def run_checks(engines: list[str] | None = None) -> list[CheckResult]:
    """Run the engine checks (all by default) in this process, in table order."""
    names = list(CHECKS) if engines is None else engines
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown engine(s) {unknown}; known: {list(CHECKS)}")
    results = []
    for name in names:
        dist, check = CHECKS[name]
        t0 = time.perf_counter()
        try:
            ver, detail = check()
            ok = True
        except Exception as exc:  # the doctor reports every failure, it never raises
            ver, ok = _dist_version(dist), False
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        results.append(CheckResult(name, ver, ok, detail, time.perf_counter() - t0))
    return results


def python_info() -> str:
    return f"Python {sys.version.split()[0]} at {sys.executable}"


__all__ = ["CHECKS", "CheckResult", "run_checks", "python_info"]
