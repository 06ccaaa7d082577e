"""Production MD: a run continued from its file is the run that was never stopped, and an
applied field adds exactly q E to every atom's force."""
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from atomistic.errors import InputError
from atomistic.md.applied_field import UniformField
from atomistic.md.production import read_production, run_production


@pytest.fixture(scope="module")
def shipped():
    """The shipped NaCl/Cu committee (loaded once: a few seconds) and a small water box for it."""
    from pathlib import Path

    from atomistic.interface.electrolyte_cells import water_box
    from atomistic.mlip.potential import load_potential

    calc = load_potential(Path(__file__).resolve().parents[1] / "data" / "nacl_cu" / "potential.mlip.pt")
    return calc, lambda: water_box(8, ("Na", "Cl"), seed=3)


def cell():
    a = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    a.rattle(0.05, seed=1)
    return a


def test_a_continued_run_is_the_uninterrupted_run(tmp_path):
    kw = dict(timestep_fs=2.0, temperature_K=500.0, record_every=5, checkpoint_every=10, seed=3)
    whole = run_production(cell(), EMT(), tmp_path / "whole.npz", steps=40, **kw)
    run_production(cell(), EMT(), tmp_path / "cut.npz", steps=20, **kw)     # stops half way
    cont = run_production(cell(), EMT(), tmp_path / "cut.npz", steps=40, **kw)
    # same momenta and thermostat random stream; EMT rebuilds its neighbour list on resume, which
    # changes the last bits of a sum: agreement to round-off, not just statistically
    assert np.allclose(cont.positions, whole.positions, rtol=0, atol=1e-12)
    assert cont.steps_done == 40 and len(cont.time_fs) == 9
    assert np.all(np.isnan(cont.max_force_dev)) and cont.charges is None  # EMT: no committee, no charges


def test_the_first_picoseconds_of_a_run_are_its_opening_frames(tmp_path):
    kw = dict(timestep_fs=2.0, temperature_K=500.0, record_every=5, checkpoint_every=10, seed=3)
    run = run_production(cell(), EMT(), tmp_path / "md.npz", steps=40, **kw)   # 80 fs, 9 frames
    head = run.first(0.04)                        # 40 fs: the frames at 0, 10, ..., 40 fs
    assert head.time_fs.tolist() == run.time_fs[:5].tolist()
    assert np.array_equal(head.positions, run.positions[:5]) and len(head.temperature_K) == 5
    assert head.symbols == run.symbols and head.frame_dt_fs == run.frame_dt_fs


def test_positions_about_the_centre_of_mass_carry_no_drift(tmp_path):
    a = cell()
    a.set_velocities(np.tile([0.05, 0.0, 0.0], (len(a), 1)))   # ~0.005 A/fs, all along x
    run = run_production(a, EMT(), tmp_path / "md.npz", steps=20, timestep_fs=2.0,
                         temperature_K=300.0, thermostat="bussi", record_every=5,
                         checkpoint_every=10, seed=1)
    assert run.positions.mean(axis=1)[-1, 0] - run.positions.mean(axis=1)[0, 0] > 0.05  # it flew
    free = run.com_free_positions()
    # one element: the centre of mass is the mean position, and it stays at the origin
    np.testing.assert_allclose(free.mean(axis=1), 0.0, atol=1e-12)   # float64 round-off
    np.testing.assert_allclose(free[-1] - free[0], (run.positions[-1] - run.positions[0])
                               - (run.positions[-1] - run.positions[0]).mean(axis=0), atol=1e-12)
    frames = run.frames(every=2)
    assert len(frames) == 3 and frames[0].get_chemical_symbols() == run.symbols
    assert np.all(frames[-1].get_scaled_positions(wrap=False) >= -1e-12)   # wrapped
    assert np.all(frames[-1].get_scaled_positions(wrap=False) < 1.0)


def test_a_file_of_other_settings_is_refused(tmp_path):
    run_production(cell(), EMT(), tmp_path / "md.npz", steps=10, timestep_fs=2.0, temperature_K=300.0,
                   record_every=5, checkpoint_every=10)
    with pytest.raises(InputError, match="other settings"):
        run_production(cell(), EMT(), tmp_path / "md.npz", steps=20, timestep_fs=1.0,
                       temperature_K=300.0, record_every=5, checkpoint_every=10)
    with pytest.raises(InputError, match="no such production file"):
        read_production(tmp_path / "absent.npz")


def test_a_uniform_field_adds_q_times_e_and_no_net_force_on_a_neutral_cell():
    a = cell()
    q = np.where(np.arange(len(a)) % 2 == 0, 0.5, -0.5)      # a neutral set of charges
    a.calc = EMT()
    f0 = a.get_forces()
    a.calc = UniformField(EMT(), 0.1, direction=(0, 0, 2), charges=q)
    f = a.get_forces()
    # the field's force is q E along the unit direction (V/A times e is eV/A), nothing else
    assert np.allclose(f - f0, q[:, None] * [0, 0, 0.1], atol=1e-12)
    assert np.allclose((f - f0).sum(axis=0), 0, atol=1e-12)   # sum q = 0: no net push on the cell
    assert a.get_potential_energy() == pytest.approx(EMT().get_potential_energy(a))


def test_a_field_needs_charges():
    a = cell()
    a.calc = UniformField(EMT(), 0.1)
    with pytest.raises(InputError, match="predicts no atomic charges"):
        a.get_forces()
    with pytest.raises(InputError, match="V/A"):
        UniformField(EMT(), 5.0)


def test_a_field_on_the_shipped_potential_uses_its_own_predicted_charges(shipped):
    calc, box = shipped
    a = box()
    a.calc = calc
    f0, q = a.get_forces(), a.get_charges()
    a.calc = UniformField(calc, -0.05)
    f = a.get_forces()
    # the committee's mean charges (neutral cell) times E along z: Na pushed down, Cl up, no net force
    assert np.allclose(f - f0, q[:, None] * [0, 0, -0.05], atol=1e-6)
    assert abs(q.sum()) < 1e-5 and q[a.symbols == "Na"][0] > 0 > q[a.symbols == "Cl"][0]


def test_the_trust_guard_stops_a_committee_that_left_its_data(tmp_path, shipped):
    from atomistic.md.production import UntrustedDynamics

    calc, box = shipped
    a = box()
    a.calc = calc
    dev = calc.get_property("max_force_dev", a)
    kw = dict(steps=20, timestep_fs=0.5, temperature_K=300.0, record_every=5, checkpoint_every=10,
              trust_patience=2)
    # a limit far below the committee's spread on this cell: the run stops after 2 recorded frames
    with pytest.raises(UntrustedDynamics, match="left its training data"):
        run_production(a, calc, tmp_path / "md.npz", trust_limit=dev / 100, **kw)
    assert read_production(tmp_path / "md.npz").steps_done == 5    # frames 0 and 5 above it: saved, stopped
    ok = run_production(box(), calc, tmp_path / "ok.npz", trust_limit=100 * dev, **kw)
    assert ok.steps_done == 20 and np.all(ok.max_force_dev > 0)
    # far beyond the limit (10x here) one recorded frame is enough, whatever the patience;
    # within FAR_BEYOND x of it (3x on every recorded frame of the same seeded run: the
    # spread may grow along it) the patience rule alone decides
    patient = {**kw, "trust_patience": 100}
    with pytest.raises(UntrustedDynamics, match="at once"):
        run_production(box(), calc, tmp_path / "far.npz", trust_limit=dev / 10, **patient)
    near = run_production(box(), calc, tmp_path / "near.npz",
                          trust_limit=ok.max_force_dev.max() / 3, **patient)
    assert near.steps_done == 20


def test_a_run_killed_before_its_first_checkpoint_resumes_without_a_duplicate_frame(tmp_path):
    class Dies(EMT):                     # stands in for a kill during the first chunk
        calls = 0

        def calculate(self, *args, **kwargs):
            Dies.calls += 1
            if Dies.calls > 1:
                raise KeyboardInterrupt
            super().calculate(*args, **kwargs)

    kw = dict(steps=20, timestep_fs=2.0, temperature_K=300.0, record_every=5, checkpoint_every=10)
    with pytest.raises(KeyboardInterrupt):
        run_production(cell(), Dies(), tmp_path / "md.npz", **kw)
    assert read_production(tmp_path / "md.npz").steps_done == 0
    prod = run_production(cell(), EMT(), tmp_path / "md.npz", **kw)
    assert prod.time_fs.tolist() == [0.0, 10.0, 20.0, 30.0, 40.0]   # one frame per record, none twice
