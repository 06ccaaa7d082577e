"""EMT Cu surfaces: close-packed faces cost least, gamma converges in thickness; hollow sites bind adatoms best."""
import pytest
from ase.build import bulk, fcc111

from ase.calculators.emt import EMT
from atomistic.stability.adsorption import adsorption_energies
from atomistic.errors import ConvergenceError, InputError
from atomistic.stability.surface_energy import EV_PER_A2_IN_J_PER_M2, surface_energy


@pytest.fixture(scope="module")
def gammas():
    return {m: surface_energy(bulk("Cu", "fcc"), EMT(), m) for m in [(1, 1, 1), (1, 0, 0), (1, 1, 0)]}


def test_close_packed_faces_have_the_lowest_surface_energy(gammas):
    g = {m: s.gamma_J_m2 for m, s in gammas.items()}
    # fewer broken bonds per area: (111) < (100) < (110) for fcc metals
    assert 0 < g[(1, 1, 1)] < g[(1, 0, 0)] < g[(1, 1, 0)]
    # a primitive cell and the cube give the same (100): indices refer to the conventional cell
    cube = surface_energy(bulk("Cu", "fcc", cubic=True), EMT(), (1, 0, 0))
    assert cube.gamma == pytest.approx(gammas[(1, 0, 0)].gamma, abs=1e-6)  # same slabs, fmax noise


def test_gamma_is_converged_in_thickness_and_reported(gammas):
    for s in gammas.values():
        assert len(s.series) == len(s.layers) >= 2
        assert abs(s.series[-1] - s.series[-2]) < s.tol
        assert s.n_atoms == sorted(s.n_atoms)
        assert s.to_dict()["gamma_J_per_m2"] == pytest.approx(s.gamma * EV_PER_A2_IN_J_PER_M2)


def test_unconverged_thickness_series_asks_for_thicker_slabs():
    with pytest.raises(ConvergenceError, match=r"thicker layers="):
        surface_energy(bulk("Cu", "fcc"), EMT(), (1, 1, 0), layers=(1, 2), tol=1e-9)
    with pytest.raises(InputError, match="miller"):
        surface_energy(bulk("Cu", "fcc"), EMT(), (0, 0, 0))


def test_adatom_binds_most_strongly_in_the_hollow_sites():
    slab = fcc111("Cu", (2, 2, 3), vacuum=6.0)
    r = adsorption_energies(slab, "Cu", EMT())
    e = r.energies
    # coordination 3 (hollow) > 2 (bridge) > 1 (top): binding follows it
    assert e["fcc"] < e["bridge"] < e["ontop"] < 0
    # fcc and hcp hollows differ only in the second layer: nearly degenerate (< 20 meV)
    assert abs(e["fcc"] - e["hcp"]) < 0.02
    assert r.best_site in ("fcc", "hcp")
    with pytest.raises(InputError, match="sites are"):
        adsorption_energies(slab, "Cu", EMT(), sites=["hollow4"])
