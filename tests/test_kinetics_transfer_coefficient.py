"""Transfer coefficient alpha = dEa/d(eU): Marcus curvature, confidence intervals, a field model on EMT."""
import numpy as np
import pytest

from atomistic.errors import InputError
from atomistic.reactions.marcus import marcus_alpha, marcus_barrier
from atomistic.reactions.transfer_coefficient import fit_transfer_coefficient


def test_quadratic_fit_recovers_marcus_alpha_and_lambda():
    lam, dG0 = 0.6, -0.1
    U = np.linspace(-0.3, 0.3, 7)
    Ea = marcus_barrier(dG0 + U, lam)  # reduction: dG rises with eU
    fit = fit_transfer_coefficient(U, Ea, reference_electrode="SHE", model="auto", at_potential=0.1)
    # noise-free parabola: the F-test picks the curvature, the fit is exact to round-off
    assert fit.model == "quadratic"
    assert fit.alpha == pytest.approx(float(marcus_alpha(dG0 + 0.1, lam)), abs=1e-9)
    assert fit.reorganisation_energy == pytest.approx(lam, rel=1e-9)
    assert fit.alpha_anodic == pytest.approx(1 - fit.alpha)
    assert fit.alpha_at(-0.2) == pytest.approx(float(marcus_alpha(dG0 - 0.2, lam)), abs=1e-9)


def test_confidence_interval_covers_the_true_slope_at_its_nominal_rate():
    rng = np.random.default_rng(0)
    U = np.linspace(-0.4, 0.4, 6)
    hits = 0
    for _ in range(400):
        Ea = 0.5 + 0.4 * U + rng.normal(0, 0.01, U.size)
        fit = fit_transfer_coefficient(U, Ea, reference_electrode="SHE", model="linear")
        hits += fit.alpha_ci[0] <= 0.4 <= fit.alpha_ci[1]
    # 95 % t-interval on 400 trials: binomial sd 1.1 %, so 91-99 % is a 3.6-sigma band
    assert 0.91 <= hits / 400 <= 0.99


def test_oxidation_direction_flips_the_sign():
    U = np.array([0.0, 0.1, 0.2])
    fit = fit_transfer_coefficient(U, 0.5 - 0.3 * U, [0.01] * 3, reference_electrode="Li/Li+",
                                   direction="oxidation", model="linear")
    assert fit.alpha == pytest.approx(0.3) and fit.alpha_anodic == pytest.approx(0.3)


def test_potentials_without_reference_electrode_are_refused():
    with pytest.raises(InputError, match="reference_electrode"):
        fit_transfer_coefficient([0.0, 0.1, 0.2], [0.5, 0.55, 0.6], reference_electrode=None)


def test_double_layer_field_shifts_the_barrier_by_the_charge_times_the_potential_drop():
    """Au+0.5 hopping on Al(100) in a 3 A compact layer: dEa/dU = q [s(z_TS) - s(z_IS)] at U = 0.

    By the envelope theorem the first derivative of a stationary-point energy is the explicit
    derivative at fixed geometry, so the slope needs only the U = 0 saddle and initial heights.
    """
    from ase.build import add_adsorbate, fcc100
    from ase.calculators.emt import EMT
    from ase.constraints import FixAtoms
    from ase.optimize import BFGS

    from atomistic.reactions.potential_dependent_barriers import DoubleLayerField, barriers_vs_potential

    slab = fcc100("Al", size=(2, 2, 3))
    add_adsorbate(slab, "Au", 1.7, "hollow")
    slab.center(axis=2, vacuum=4.0)
    slab.set_constraint(FixAtoms(mask=[a.tag > 1 for a in slab]))
    final = slab.copy()
    final[-1].x += final.cell[0, 0] / 2
    z_surf = slab.positions[:-1, 2].max()
    q, width = 0.5, 3.0
    scan = barriers_vs_potential(
        slab, final, lambda U: DoubleLayerField(EMT(), {len(slab) - 1: q}, U, z_surf, width),
        [-0.4, 0.0, 0.4], reference_electrode="SHE", n_images=3, fmax=0.01, relax_endpoints=True)
    band = scan["results"][1]
    dz = band.images[band.saddle_index].positions[-1, 2] - band.images[0].positions[-1, 2]
    expected = -q * dz / width  # s falls by dz/width between initial state and saddle
    fit = fit_transfer_coefficient(scan["potentials"], scan["barriers"], reference_electrode="SHE",
                                   model="linear", at_potential=0.0)
    # symmetric points: the line's slope is the central difference, curvature drops out;
    # NEB converged to 0.01 eV/A: barrier noise ~0.5 meV against a 0.03 eV change across the scan
    assert fit.alpha == pytest.approx(expected, rel=0.08)
    assert expected < 0  # the bridge saddle sits higher, farther from the electrode


def test_committee_offset_common_to_all_potentials_does_not_blur_alpha():
    # each member is off by its own constant (a correlated error): barriers scatter by
    # 50 meV, but every member sees the same slope, so alpha is sharp
    U = np.array([-0.2, 0.0, 0.2])
    offsets = np.array([-0.05, 0.0, 0.03, 0.06])
    members = 0.4 + 0.3 * U[None, :] + offsets[:, None]
    naive = fit_transfer_coefficient(U, members.mean(0), members.std(0, ddof=1),
                                     reference_electrode="SHE", model="linear")
    fit = fit_transfer_coefficient(U, members.mean(0), members.std(0, ddof=1),
                                   reference_electrode="SHE", model="linear",
                                   member_barriers=members)
    assert fit.alpha == pytest.approx(0.3, abs=1e-12)
    assert fit.alpha_err < 1e-9 < naive.alpha_err
