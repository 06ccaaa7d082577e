"""NEB on EMT: an Au adatom hop on Al(100) (ASE's diffusion example) with ASE's machinery."""
import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.optimize import BFGS

from atomistic.emt_committee import EMTCommittee
from atomistic.errors import InputError
from atomistic.reactions.neb import run_neb
from atomistic.reactions.endpoints import adatom_hop


@pytest.fixture(scope="module")
def hop():
    return adatom_hop("Au", "Al", fmax=0.01)


@pytest.fixture(scope="module")
def emt_band(hop):
    return run_neb(*hop, EMT, n_images=3, fmax=0.03)


def test_barrier_matches_ase_own_neb(hop, emt_band):
    from ase.mep import NEB, NEBTools

    images = [hop[0].copy() for _ in range(4)] + [hop[1].copy()]
    for im in images:
        im.calc = EMT()
    neb = NEB(images, climb=True, method="improvedtangent")
    neb.interpolate()
    BFGS(neb, logfile=None).run(fmax=0.03)
    ref, _ = NEBTools(images).get_barrier()
    # same saddle reached from a different interpolation and optimiser; both converged to
    # 0.03 eV/A, which moves the climbing image's energy by well under 5 meV
    assert emt_band.barrier == pytest.approx(ref, abs=0.005)
    assert 0.3 < emt_band.barrier < 0.45  # the hollow-bridge-hollow hop of Au on Al(100), EMT


def test_symmetric_hop_has_zero_reaction_energy_and_saddle_in_the_middle(emt_band):
    # hollow -> equivalent hollow: E(final) = E(initial) to the endpoint relaxation's accuracy
    assert abs(emt_band.reaction_energy) < 1e-3
    assert emt_band.saddle_index == 2  # the bridge site, by mirror symmetry of the path
    assert emt_band.energies[0] == 0.0 and len(emt_band.images) == 5
    assert emt_band.member_energies is None and emt_band.barrier_std == 0.0


def test_committee_gives_error_bars_and_doubted_frames(hop, emt_band):
    committee = EMTCommittee(n_members=4, spread=0.01, elements=("Al", "Au"), seed=1)
    res = run_neb(*hop, committee, n_images=3, fmax=0.03, trust_level=0.0)
    assert res.member_energies.shape == (4, 5)
    assert np.allclose(res.member_energies[:, 0], 0.0)
    assert res.barrier_std > 0
    # EMT is the centre of the perturbation distribution: within 3 committee sigmas
    assert abs(res.barrier - emt_band.barrier) < 3 * res.barrier_std
    # trust level 0: every image with any disagreement is doubted and handed out as bare Atoms
    assert res.doubted == [i for i in range(5) if res.max_force_dev[i] > 0]
    frames = res.doubted_frames
    assert all(f.calc is None and f.info["source"] == "neb" for f in frames)
    # ... ready for the reference calculator, as an active-learning loop labels them
    from atomistic.mlip.dataset import emt_calculator, label_frames

    labelled = label_frames(frames, emt_calculator, progress=False)
    assert len(labelled.frames) == len(frames) and not labelled.failures


def test_endpoints_with_different_atom_counts_are_refused(hop):
    initial, final = hop
    with pytest.raises(InputError, match="same atoms in both endpoints"):
        run_neb(initial, final[:-1], EMT)


def test_endpoints_in_different_order_are_refused_naming_the_fix(hop):
    initial, final = hop
    order = list(range(len(final)))
    order[0], order[-1] = order[-1], order[0]
    with pytest.raises(InputError, match="different order.*reorder final"):
        run_neb(initial, final[order], EMT)


def test_cli_refuses_endpoints_of_different_size_naming_the_fix(hop, tmp_path):
    import subprocess
    import sys

    from ase.io import write

    write(tmp_path / "a.xyz", hop[0])
    write(tmp_path / "b.xyz", hop[1][:-1])
    proc = subprocess.run([sys.executable, "-m", "multiscale.cli", "neb", str(tmp_path / "a.xyz"),
                           str(tmp_path / "b.xyz"), "-q", "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "build final from initial.copy()" in proc.stderr
