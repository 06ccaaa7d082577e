"""GPAW and dolfinx share one process, imported in either order.

The FEniCSx wheel bundles OpenBLAS and MPICH; a GPAW linked against other
copies makes whichever is imported second fail with an undefined symbol.
Each order runs in a fresh interpreter, since import order is per process.
"""
import json
import subprocess
import sys

import pytest

SCRIPT = r'''
import json, sys

def gpaw_h2():
    from ase.build import molecule
    from gpaw import GPAW
    h2 = molecule("H2")
    h2.center(vacuum=2.5)
    h2.calc = GPAW(mode="lcao", basis="dzp", xc="PBE", h=0.25, txt=None)
    return h2.get_potential_energy()

def dolfinx_poisson():
    import dolfinx_solver  # the wheel's MPI guard
    import numpy as np, ufl
    from dolfinx import fem, mesh
    from dolfinx.fem.petsc import LinearProblem
    from mpi4py import MPI
    domain = mesh.create_unit_interval(MPI.COMM_SELF, 8)
    V = fem.functionspace(domain, ("Lagrange", 2))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    x = ufl.SpatialCoordinate(domain)
    ends = mesh.locate_entities_boundary(domain, 0, lambda p: np.isclose(p[0], 0) | np.isclose(p[0], 1))
    bc = fem.dirichletbc(0.0, fem.locate_dofs_topological(V, 0, ends), V)
    uh = LinearProblem(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx, 2.0 * v * ufl.dx, bcs=[bc],
                       petsc_options_prefix="coexist_",
                       petsc_options={"ksp_type": "preonly", "pc_type": "lu"}).solve()
    return float(np.sqrt(fem.assemble_scalar(fem.form((uh - x[0] * (1 - x[0]))**2 * ufl.dx))))

out = {}
for step in sys.argv[1].split(","):
    out[step] = gpaw_h2() if step == "gpaw" else dolfinx_poisson()
print(json.dumps(out))
'''


def _run(order: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, order],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def both_orders():
    return _run("gpaw,dolfinx"), _run("dolfinx,gpaw")


def test_gpaw_energy_does_not_depend_on_import_order(both_orders):
    gpaw_first, dolfinx_first = both_orders
    # Same input, same libraries: identical up to SCF convergence (~1e-6 eV at defaults).
    assert gpaw_first["gpaw"] == pytest.approx(dolfinx_first["gpaw"], abs=1e-5)
    # and it is the PBE H2 energy, not a NaN from a mis-linked BLAS
    assert -7.5 < gpaw_first["gpaw"] < -5.5


def test_dolfinx_poisson_is_exact_in_either_order(both_orders):
    for result in both_orders:
        # x(1 - x) lies in the P2 space: only LU round-off remains
        assert result["dolfinx"] < 1e-12
