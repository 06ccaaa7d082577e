"""Calibrated committee error bars: a variance scale fitted on held-out frames transfers to new ones."""
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator

from atomistic.mlip.calibration import (attach_calibration, calibrate_committee,
                                             check_calibration, fit_variance_scale, scale_interval,
                                             store_calibration, z_variance)
from atomistic.emt_committee import EMTCommittee
from atomistic.errors import InputError
from atomistic.reactions.neb import run_neb
from atomistic.reactions.endpoints import adatom_hop


def rattled_cu(n, seed):
    """EMT-labelled rattled Cu supercells (8 atoms, 0.03-0.12 A displacements)."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        a = bulk("Cu", "fcc", a=3.61 * (1 + 0.01 * rng.standard_normal()), cubic=True).repeat(
            (2, 1, 1))
        a.positions += rng.normal(0.0, 0.03 + 0.09 * rng.random(), a.positions.shape)
        a.calc = EMT()
        a.calc = SinglePointCalculator(a, energy=a.get_potential_energy(), forces=a.get_forces())
        frames.append(a)
    return frames


@pytest.fixture(scope="module")
def committee():
    # perturbed-EMT members: their mean sits much closer to EMT than their spread says
    return EMTCommittee(n_members=8, spread=0.01, seed=1)


def test_likelihood_scale_recovers_a_known_error_to_spread_ratio():
    rng = np.random.default_rng(0)
    m, n, ratio = 8, 4000, 2.5
    spread = rng.uniform(0.5, 2.0, n)  # heteroscedastic: per-value spread varies
    truth = rng.normal(0.0, 1.0, n)
    members = truth + ratio * spread * rng.standard_normal(n) + spread * rng.standard_normal((m, n))
    # the error of the mean is ratio*spread (plus spread/sqrt(m)); sigma is estimated from m members
    a = fit_variance_scale(members, truth)
    # <z^2> with sigma from m=8 members is inflated by (m-1)/(m-3) = 1.4 (t_7), as likelihood fits it
    expected = np.sqrt((ratio ** 2 + 1 / m) * (m - 1) / (m - 3))
    # 4000 values: the sampling error of <z^2> is ~3 %, of alpha ~1.5 %; 5 % is 3 standard errors
    assert a == pytest.approx(expected, rel=0.05)
    lo, hi = scale_interval(members, truth)
    assert lo < expected < hi and hi - lo < 0.2 * expected  # a 95 % interval, a few % wide


def test_musil_correction_recovers_the_population_scale():
    rng = np.random.default_rng(1)
    m, n, ratio = 16, 4000, 2.0
    spread = rng.uniform(0.5, 2.0, n)
    centre = rng.normal(0.0, 1.0, n)
    truth = centre + ratio * spread * rng.standard_normal(n)
    members = centre + spread * rng.standard_normal((m, n))
    # Musil et al. 2019: alpha^2 = -1/M + (M-3)/(M-1) <z^2> estimates the truth's spread / members'
    # 4000 values, M = 16: sampling error of alpha ~2 %; 6 % is 3 standard errors
    assert fit_variance_scale(members, truth, method="musil") == pytest.approx(ratio, rel=0.06)
    with pytest.raises(InputError, match="M > 3"):
        fit_variance_scale(members[:3], truth, method="musil")


def test_calibrated_z_scores_have_unit_variance_on_other_held_out_frames(committee):
    fit_set, check_set = rattled_cu(60, seed=10), rattled_cu(60, seed=11)
    reference = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 1, 1))
    cal = calibrate_committee(committee, fit_set, reference_structure=reference,
                              reference_calc=EMT)
    # the raw committee is under-confident: its mean errs far less than its members disagree
    assert cal.z_variance_raw["energy"] < 0.5 and cal.energy_scale < 0.7
    check = check_calibration(committee, check_set, cal, reference, EMT)
    for quantity in ("energy", "energy_difference"):
        # 60 independent values, z Student-t-like (sigma from 8 members, 7 dof): the standard
        # error of <z^2> is ~2/sqrt(60) = 0.26; 0.4 is ~1.5 of them, while raw is off by > 0.8
        assert check[quantity]["calibrated"] == pytest.approx(1.0, abs=0.4), (quantity, check)
        assert abs(check[quantity]["raw"] - 1.0) > 0.8
        lo, hi = cal.intervals[quantity]
        assert lo < getattr(cal, f"{quantity}_scale") < hi
    # force components: 1440 values but correlated within a frame; same tolerance
    assert check["force"]["calibrated"] == pytest.approx(1.0, abs=0.4), check


def test_calibration_is_stored_with_the_potential_and_scales_its_uncertainties(tmp_path):
    from atomistic.mlip.potential import load_potential
    from atomistic.mlip.training import train_committee

    frames = rattled_cu(8, seed=20)
    settings = dict(n_members=3, epochs=2, hidden=[8], n_channels=4, cutoff=4.0, seed=1)
    path = tmp_path / "cu.mlip.pt"
    calc = train_committee(frames, settings, path, progress=False)
    held_out = rattled_cu(6, seed=21)
    cal = calibrate_committee(calc, held_out)
    store_calibration(path, cal)
    loaded = load_potential(path)
    assert loaded.calibration["energy_scale"] == pytest.approx(cal.energy_scale)
    a = held_out[0].copy()
    a.calc = loaded
    a.get_potential_energy()
    e_members = loaded.results["member_energies"]
    # float32 members: sigma is a difference of ~1e2 eV totals, good to ~1e-5 relative
    assert loaded.results["energy_sigma"] == pytest.approx(
        cal.energy_scale * e_members.std(ddof=1), rel=1e-5)
    # calibration on the file's own validation data reproduces <z^2> = 1 there (by construction)
    p = check_calibration(loaded, held_out, cal)
    assert p["energy"]["calibrated"] == pytest.approx(1.0, rel=1e-6)


def test_calibrated_neb_error_bars_are_the_scaled_member_spread():
    initial, final = adatom_hop("Au", "Al", fmax=0.02)
    calc = attach_calibration(EMTCommittee(n_members=4, spread=0.003, seed=0),
                              {"energy_scale": 3.0, "force_scale": 1.0,
                               "energy_difference_scale": 2.0})
    res = run_neb(initial, final, calc, n_images=3, fmax=0.05)
    assert res.uncertainty_scale == 2.0  # the difference factor, not the total-energy one
    # every member peaks at the climbing image, so stretching deviations scales the std exactly
    assert res.barrier_std == pytest.approx(2.0 * res.barrier_std_raw, rel=1e-9)
    assert res.reaction_energy_std == pytest.approx(2.0 * res.reaction_energy_std_raw, rel=1e-9)
    # the mean is untouched by the stretch
    assert res.member_barriers.mean() == pytest.approx(res.member_energies.mean(0).max(), abs=1e-9)
    with pytest.raises(InputError, match="uncertainty_scale"):
        run_neb(initial, final, calc, n_images=1, uncertainty_scale=0.0)


def test_a_plain_calculator_cannot_be_calibrated():
    with pytest.raises(InputError, match="not a committee"):
        calibrate_committee(EMT(), rattled_cu(3, seed=0))
    with pytest.raises(InputError, match="shape"):
        z_variance(np.zeros(4), np.zeros(4))
