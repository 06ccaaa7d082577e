"""Issue 18: a table of bad inputs. Each one is refused in ONE line that names the file or field
(and the value where there is one), with exit code 2 from the CLI or a specific InputError from
the API; never a traceback, never a silent NaN. Tiny inputs and EMT only: the table is fast.
"""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from typer.testing import CliRunner

from multiscale.cli import app

GOOD_CONFIG = '[run]\nname = "bad-inputs"\n\n[stage.data]\nkind = "mlip_data"\nelement = "Cu"\n'
GOOD_HANDOFF = {"temperature": 300.0, "relative_permittivity": 78.0,
                "species": [{"name": "Na", "charge_number": 1}],
                "bulk_concentrations": {"Na": 100.0}}
XYZ_OK = "1\n\nCu 0 0 0\n"


def _json(d) -> str:
    import json
    return json.dumps(d)


def _handoff(**change) -> str:
    return _json({**GOOD_HANDOFF, **change})


# --- CLI cases: (id, argv with {d} for the temp folder, files {name: text|bytes|None (folder)},
#                 a fragment the one error line must hold) ---------------------------------------

CLI_CASES = [
    # configs: decode and parse errors, graph errors, stage bounds, the output folder
    ("config-utf16", ["run", "{d}/c.toml"], {"c.toml": GOOD_CONFIG.encode("utf-16")}, "c.toml: "),
    ("config-latin1", ["run", "{d}/c.toml"], {"c.toml": b'[run]\nname = "caf\xe9"\n'}, "not UTF-8"),
    ("config-folder", ["run", "{d}/c.toml"], {"c.toml": None}, "is a folder"),
    ("config-missing", ["run", "{d}/nope.toml"], {}, "nope.toml: no such config file"),
    ("config-truncated", ["run", "{d}/c.toml"], {"c.toml": "[run\nname ="}, "invalid TOML"),
    ("config-empty", ["run", "{d}/c.toml"], {"c.toml": ""}, "c.toml: run"),
    ("config-needs-itself", ["run", "{d}/c.toml"],
     {"c.toml": GOOD_CONFIG + 'needs = ["data"]\n'}, "stage.data.needs: 'data': a stage cannot need itself"),
    ("config-needs-unknown", ["run", "{d}/c.toml"],
     {"c.toml": GOOD_CONFIG + 'needs = ["dta"]\n'}, "'dta': no such stage"),
    ("config-negative-temperature", ["run", "{d}/c.toml"],
     {"c.toml": GOOD_CONFIG + "temperatures_K = [-300]\n"}, "stage.data.temperatures_K[0]: -300: "),
    ("config-nan-temperature", ["run", "{d}/c.toml"],
     {"c.toml": GOOD_CONFIG + "temperatures_K = [nan]\n"}, "stage.data.temperatures_K[0]: nan: "),
    ("run-out-is-a-file", ["run", "{d}/c.toml", "-o", "{d}/taken"],
     {"c.toml": GOOD_CONFIG, "taken": "x"}, "taken"),
    # handoff files
    ("handoff-truncated-json", ["handoff", "show", "{d}/h.json"], {"h.json": '{"temperature": 3'},
     "h.json: cannot read handoff file"),
    ("handoff-empty-json", ["handoff", "show", "{d}/h.json"], {"h.json": ""}, "h.json: empty handoff"),
    ("handoff-truncated-toml", ["handoff", "show", "{d}/h.toml"], {"h.toml": "temperature = \n"},
     "h.toml: cannot read handoff file"),
    ("handoff-empty-toml", ["handoff", "show", "{d}/h.toml"], {"h.toml": "  \n"}, "h.toml: empty handoff"),
    ("handoff-folder", ["handoff", "show", "{d}/h.json"], {"h.json": None}, "h.json: is a folder"),
    ("handoff-missing", ["handoff", "show", "{d}/h.json"], {}, "h.json: no such file"),
    ("handoff-utf16", ["handoff", "show", "{d}/h.json"], {"h.json": _handoff().encode("utf-16")},
     "not UTF-8"),
    ("handoff-top-level-list", ["handoff", "show", "{d}/h.json"], {"h.json": "[1, 2]"},
     "h.json: a list at the top level"),
    ("handoff-nan-temperature", ["handoff", "show", "{d}/h.json"],
     {"h.json": _handoff(temperature=float("nan"))}, "temperature"),
    ("handoff-inf-permittivity", ["handoff", "show", "{d}/h.json"],
     {"h.json": _handoff(relative_permittivity=float("inf"))}, "relative_permittivity"),
    ("handoff-negative-temperature", ["handoff", "show", "{d}/h.json"],
     {"h.json": _handoff(temperature=-300.0)}, "temperature = -300.0"),
    ("handoff-negative-concentration", ["handoff", "show", "{d}/h.json"],
     {"h.json": _handoff(bulk_concentrations={"Na": -1.0})}, "bulk_concentrations['Na'] = -1.0"),
    ("handoff-nan-concentration", ["handoff", "show", "{d}/h.json"],
     {"h.json": _handoff(bulk_concentrations={"Na": float("nan")})}, "bulk_concentrations.Na"),
    ("handoff-nan-profile", ["handoff", "show", "{d}/h.toml"],
     {"h.toml": 'temperature = 300.0\nrelative_permittivity = 78.0\n[[species]]\nname = "Na"\n'
                'charge_number = 1\n[[profiles]]\nname = "c_Na"\nunit = "mol/m^3"\n'
                'grid = [0.0, 1.0]\nvalues = [1.0, nan]\n'}, "profiles.0.values.1"),
    ("handoff-wrong-suffix", ["handoff", "show", "{d}/h.txt"], {"h.txt": _handoff()}, "h.txt"),
    # structures given to `multiscale property`
    ("property-empty-xyz", ["property", "rdf", "{d}/s.xyz", "-o", "{d}/o"], {"s.xyz": ""},
     "s.xyz: empty structure file"),
    ("property-folder", ["property", "rdf", "{d}/s.xyz", "-o", "{d}/o"], {"s.xyz": None},
     "s.xyz: is a folder"),
    ("property-missing", ["property", "rdf", "{d}/s.xyz", "-o", "{d}/o"], {}, "s.xyz: no such structure"),
    ("property-unknown-element", ["property", "timestep", "{d}/s.xyz", "-o", "{d}/o"],
     {"s.xyz": "2\n\nXx 0 0 0\nCu 0 0 2.5\n"}, "unknown element 'Xx'"),
    ("property-garbage-bytes", ["property", "timestep", "{d}/s.xyz", "-o", "{d}/o"],
     {"s.xyz": bytes(range(256))}, "s.xyz: cannot read structure file"),
    ("property-nan-coordinate", ["property", "timestep", "{d}/s.xyz", "-o", "{d}/o"],
     {"s.xyz": "2\n\nCu 0 0 nan\nCu 0 0 2.5\n"}, "position of atom 0 (Cu) is nan along z"),
    ("property-overlapping-atoms", ["property", "timestep", "{d}/s.xyz", "-o", "{d}/o"],
     {"s.xyz": "2\n\nCu 0 0 0\nCu 0 0 0.3\n"}, "atoms 0 (Cu) and 1 (Cu) are 0.3 Å apart"),
    ("property-out-is-a-file", ["property", "rdf", "{d}/s.xyz", "-o", "{d}/taken"],
     {"s.xyz": XYZ_OK, "taken": "x"}, "out = "),
    ("property-set-not-a-number", ["property", "rdf", "{d}/s.xyz", "--set", "r_max=abc", "-o", "{d}/o"],
     {"s.xyz": XYZ_OK}, "--set r_max='abc'"),
    ("property-set-nan", ["property", "rdf", "{d}/s.xyz", "--set", "r_max=NaN", "-o", "{d}/o"],
     {"s.xyz": XYZ_OK}, "--set r_max="),
    ("property-set-temperature-text", ["property", "free-energy", "{d}/s.xyz", "--set",
                                       "temperature=hot", "-o", "{d}/o"],
     {"s.xyz": XYZ_OK}, "--set temperature='hot'"),
    ("property-unknown-name", ["property", "colour", "{d}/s.xyz", "-o", "{d}/o"], {"s.xyz": XYZ_OK},
     "property = 'colour'"),
    ("hull-empty-xyz", ["hull", "{d}/s.xyz", "-o", "{d}/o", "-q"], {"s.xyz": ""}, "s.xyz: empty"),
    ("hull-out-is-a-file", ["hull", "{d}/s.xyz", "-o", "{d}/taken", "-q"],
     {"s.xyz": XYZ_OK, "taken": "x"}, "taken"),
    # kinetics inputs
    ("kinetics-gaps-pickle", ["kinetics", "--gaps", "{d}/g.npz", "-o", "{d}/k.toml"],
     {"g.npz": pickle.dumps({"reactant": [1.0]})}, "g.npz: cannot read energy-gap file"),
    ("kinetics-gaps-npy", ["kinetics", "--gaps", "{d}/g.npy", "-o", "{d}/k.toml"],
     {"g.npy": "npy"}, "g.npy: a single array"),
    ("kinetics-gaps-nan", ["kinetics", "--gaps", "{d}/g.npz", "-o", "{d}/k.toml"],
     {"g.npz": "nan-gaps"}, "array 'reactant' is empty or not finite"),
    ("kinetics-gaps-missing-array", ["kinetics", "--gaps", "{d}/g.npz", "-o", "{d}/k.toml"],
     {"g.npz": "no-product"}, "no array ['product']"),
    ("kinetics-gaps-folder", ["kinetics", "--gaps", "{d}/g.npz", "-o", "{d}/k.toml"],
     {"g.npz": None}, "g.npz: is a folder"),
    ("kinetics-barriers-empty", ["kinetics", "--barriers", "{d}/b.csv", "-o", "{d}/k.toml"],
     {"b.csv": ""}, "b.csv: expected rows of 2 or 3"),
    ("kinetics-barriers-missing", ["kinetics", "--barriers", "{d}/b.csv", "-o", "{d}/k.toml"], {},
     "b.csv: no such barriers file"),
    ("kinetics-barriers-one-column", ["kinetics", "--barriers", "{d}/b.csv", "-o", "{d}/k.toml"],
     {"b.csv": "0.1\n0.2\n0.3\n"}, "b.csv: expected rows of 2 or 3"),
    ("kinetics-barriers-latin1", ["kinetics", "--barriers", "{d}/b.csv", "-o", "{d}/k.toml"],
     {"b.csv": b"# potential \xb5V\n0.1,0.5\n"}, "b.csv: cannot read barriers file"),
    ("kinetics-nothing-given", ["kinetics", "-o", "{d}/k.toml"], {}, "--barriers, --gaps"),
]


def _make(folder, files):
    for name, content in files.items():
        path = folder / name
        if content is None:
            path.mkdir()
        elif content == "npy":
            np.save(path, np.zeros(3))
        elif content == "nan-gaps":
            np.savez(path, reactant=np.array([np.nan, 1.0]), product=np.array([1.0, 2.0]))
        elif content == "no-product":
            np.savez(path, reactant=np.array([0.5, 1.0]))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def _one_error_line(text: str) -> str:
    assert "Traceback" not in text, text
    lines = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("argv, files, fragment", [c[1:] for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_bad_input_in_one_line(tmp_path, argv, files, fragment):
    _make(tmp_path, files)
    r = CliRunner().invoke(app, [a.format(d=tmp_path) for a in argv])
    assert r.exit_code == 2, (r.output, r.exception)
    assert isinstance(r.exception, SystemExit), r.exception    # exited on purpose, not a crash
    assert fragment in _one_error_line(r.output), r.output
    assert not (tmp_path / "o").exists() and not (tmp_path / "k.toml").exists()   # nothing written


# --- API cases: (id, a callable of tmp_path, the exception, a regex for the one-line message) ------

def _cu2(d=2.5):
    return Atoms("Cu2", positions=[[0, 0, 0], [0, 0, d]], cell=[10, 10, 10], pbc=True)


def _nan_atoms():
    a = _cu2()
    a.positions[1, 0] = np.nan
    return a


def _committee():
    from atomistic.mlip.calculator import CommitteeCalculator
    from atomistic.mlip.model import MomentPotential

    return CommitteeCalculator([MomentPotential([29], cutoff=4.5, hidden=[8])], dtype="float64")


def _mlip_energy(atoms):
    atoms.calc = _committee()
    return atoms.get_potential_energy()


def _run_md(atoms=None, **kw):
    from atomistic.md.dynamics import run_md

    return run_md(atoms if atoms is not None else bulk("Cu", cubic=True), EMT(), steps=2,
                  timestep_fs=kw.pop("timestep_fs", 1.0), progress=False, **kw)


def _labelled(energy=1.0, forces=None):
    from ase.calculators.singlepoint import SinglePointCalculator

    a = _cu2()
    a.calc = SinglePointCalculator(a, energy=energy, forces=np.zeros((2, 3)) if forces is None else forces)
    return a


def _write_frames(tmp, frames):
    from atomistic.mlip.dataset import write_frames

    return write_frames(frames, tmp / "d.extxyz")


def _read_frames(tmp, text):
    from atomistic.mlip.dataset import read_frames

    (tmp / "d.extxyz").write_text(text)
    return read_frames(tmp / "d.extxyz")


def _residual(tmp, text):
    from couplers.battery import Residual

    (tmp / "r.json").write_text(text)
    return Residual.load(tmp / "r.json")


def _residual_nan(tmp):
    from couplers.battery import Residual

    d = Residual.zero().to_dict()
    d["weights"][0][0][0] = float("nan")
    return _residual(tmp, _json(d))


def _bytes(tmp, name, data):
    (tmp / name).write_bytes(data)
    return tmp / name


def _learning_state(tmp, data):
    from atomistic.learning.store import LearningStore

    (tmp / "run").mkdir()
    (tmp / "run" / "state.json").write_bytes(data)
    return LearningStore(tmp / "run").read_state()


def _qmml_state(tmp, data):
    from couplers.qmml import HybridCalculator

    (tmp / "qmml.json").write_bytes(data)
    return HybridCalculator(EMT(), EMT(), [0], state_file=tmp / "qmml.json")


def _learning_curve(tmp, data):
    from atomistic.learning.display import plot_learning_curve

    (tmp / "run").mkdir()
    (tmp / "run" / "state.json").write_bytes(data)
    return plot_learning_curve(tmp / "run", tmp / "curve.png")


def _training_checkpoint(tmp, data):
    from atomistic.mlip.training import train_committee

    frames = []
    for d in (2.3, 2.5, 2.7):
        a = _cu2(d)
        a.calc = EMT()
        a.get_forces()
        frames.append(a)
    (tmp / "ck").mkdir()
    (tmp / "ck" / "member0.pt").write_bytes(data)
    return train_committee(frames, {"n_members": 1, "epochs": 1, "hidden": [4], "n_channels": 2,
                                    "valid_fraction": 0.0}, checkpoint_dir=tmp / "ck", progress=False)


def _handoff_load(tmp, text):
    from couplers.handoff import Handoff

    (tmp / "h.json").write_text(text)
    return Handoff.load(tmp / "h.json")


def _api_cases():
    from atomistic.errors import InputError as AtomisticInputError
    from atomistic.mlip.potential import PotentialFileError
    from atomistic.structures import StructureError
    from continuum.errors import InputError as ContinuumInputError
    from couplers.errors import InputError as CouplersInputError
    from multiscale.config import ConfigError

    return [
        ("mlip-nan-position", lambda t: _mlip_energy(_nan_atoms()), StructureError,
         r"learned potential: position of atom 1 \(Cu\) is nan along x"),
        ("mlip-inf-position", lambda t: _mlip_energy(_cu2(math.inf)), StructureError,
         r"position of atom 1 \(Cu\) is inf along z"),
        ("md-negative-temperature", lambda t: _run_md(temperature_K=-300), AtomisticInputError,
         r"temperature_K = -300: expected a finite temperature >= 0 K"),
        ("md-langevin-zero-temperature", lambda t: _run_md(ensemble="langevin", temperature_K=0),
         AtomisticInputError, r"temperature_K = 0: expected a finite temperature > 0 K"),
        ("md-nan-temperature", lambda t: _run_md(temperature_K=float("nan")), AtomisticInputError,
         r"temperature_K = nan"),
        ("md-nan-timestep", lambda t: _run_md(timestep_fs=float("nan")), AtomisticInputError,
         r"timestep_fs = nan"),
        ("md-overlapping-atoms", lambda t: _run_md(_cu2(0.2)), StructureError,
         r"atoms 0 \(Cu\) and 1 \(Cu\) are 0.2 Å apart, under 0.5 x"),
        ("md-nan-position", lambda t: _run_md(_nan_atoms()), StructureError, r"position of atom 1"),
        ("langevin-frames-negative-temperature",
         lambda t: __import__("atomistic.mlip.reference_frames", fromlist=["x"]).langevin_frames(
             _cu2(), EMT(), -300.0, 1), AtomisticInputError, r"temperature_K = -300.0"),
        ("thermalize-negative-temperature",
         lambda t: __import__("atomistic.md.velocities", fromlist=["x"]).thermalize(_cu2(), -1.0),
         AtomisticInputError, r"temperature_K = -1.0"),
        ("write-frames-nan-energy", lambda t: _write_frames(t, [_labelled(energy=math.nan)]),
         StructureError, r"d.extxyz frame 0: energy is not finite"),
        ("write-frames-nan-forces", lambda t: _write_frames(t, [_labelled(forces=np.full((2, 3), np.nan))]),
         StructureError, r"d.extxyz frame 0: forces is not finite"),
        ("write-frames-nan-position", lambda t: _write_frames(t, [_nan_atoms()]), StructureError,
         r"d.extxyz frame 0: position of atom 1"),
        ("read-frames-truncated", lambda t: _read_frames(t, "2\nLattice=\"10 0 0 0 10 0 0 0 10\"\nCu 0 0 0\n"),
         StructureError, r"d.extxyz: cannot read structure file"),
        ("read-frames-nan-energy", lambda t: _read_frames(
            t, '1\nLattice="10 0 0 0 10 0 0 0 10" Properties=species:S:1:pos:R:3 energy=nan pbc="T T T"\n'
               "Cu 0 0 0\n"), StructureError, r"d.extxyz: energy is not finite"),
        ("check-atoms-inf-cell", lambda t: __import__("atomistic.structures", fromlist=["x"]).check_atoms(
            Atoms("Cu", cell=[[math.inf, 0, 0], [0, 1, 0], [0, 0, 1]], pbc=True)), StructureError,
         r"atoms: cell .*inf.* is not finite"),
        ("check-atoms-empty", lambda t: __import__("atomistic.structures", fromlist=["x"]).check_atoms(
            Atoms()), StructureError, r"atoms: no atoms"),
        ("potential-garbage", lambda t: __import__("atomistic.mlip.potential", fromlist=["x"])
         .read_potential_file(_bytes(t, "p.pt", b"not a zip")), PotentialFileError,
         r"p.pt'?: not a readable potential file"),
        ("learning-state-truncated", lambda t: _learning_state(t, b'{"version": 1, "walk'),
         AtomisticInputError, r"state.json: cannot read active-learning state: JSONDecodeError"),
        ("learning-state-a-list", lambda t: _learning_state(t, b"[1, 2]"), AtomisticInputError,
         r"state.json: expected a JSON object, found list"),
        ("qmml-state-file-truncated", lambda t: _qmml_state(t, b'{"region": {"ins'), CouplersInputError,
         r"qmml.json: cannot read QM/ML state file: JSONDecodeError"),
        ("qmml-state-file-not-a-state", lambda t: _qmml_state(t, b'{"step": 3}'), CouplersInputError,
         r"qmml.json: expected HybridCalculator.state\(\) output"),
        ("learning-curve-state-truncated", lambda t: _learning_curve(t, b'{"curve": ['),
         AtomisticInputError, r"state.json: cannot read active-learning state: JSONDecodeError"),
        ("learning-curve-no-state", lambda t: __import__("atomistic.learning.display", fromlist=["x"])
         .plot_learning_curve(t, t / "c.png"), AtomisticInputError, r"state.json: no such active-learning state"),
        ("training-checkpoint-garbage", lambda t: _training_checkpoint(t, b"not a zip"), AtomisticInputError,
         r"member0.pt: cannot read training checkpoint: .*; delete it to train this member from epoch 0$"),
        ("handoff-api-truncated", lambda t: _handoff_load(t, '{"temperature"'), CouplersInputError,
         r"h.json: cannot read handoff file: JSONDecodeError"),
        ("residual-truncated", lambda t: _residual(t, '{"weights": [[1'), CouplersInputError,
         r"r.json: cannot read battery residual file: JSONDecodeError"),
        ("residual-missing-entry", lambda t: _residual(t, '{"weights": []}'), CouplersInputError,
         r"r.json: cannot read battery residual file: missing entry 'mean'"),
        ("residual-nan-weights", _residual_nan, CouplersInputError, r"r.json: NaN or infinite weights"),
        ("battery-config-utf16", lambda t: __import__("couplers.battery_train", fromlist=["x"]).load_config(
            _bytes(t, "b.toml", "epochs = 5\n".encode("utf-16"))), CouplersInputError,
         r"b.toml: cannot read training config: not UTF-8"),
        ("read-toml-latin1", lambda t: __import__("multiscale.config", fromlist=["x"]).read_toml(
            _bytes(t, "c.toml", b"name = '\xe9'\n")), ConfigError, r"c.toml: cannot read config file: not UTF-8 "
                                                                   r"text \(byte 0xe9 at position 8\)"),
        ("continuum-reading-folder", lambda t: _enter_reading(t, ContinuumInputError), ContinuumInputError,
         r"is a folder, expected a battery dataset"),
    ]


def _overlapping(module: str, func: str, *args, arg: str = "atoms"):
    """(id, call, error, message): ``module.func`` given two Cu atoms 0.2 A apart (under half the
    sum of their covalent radii) as ``arg``, after ``args``, refuses them before computing."""
    from atomistic.structures import StructureError

    def call(tmp):
        f = getattr(__import__(module, fromlist=["x"]), func)
        if arg == "final":
            return f(_cu2(), _cu2(0.2), *args)
        return f(_cu2(0.2), *args)

    return (f"{func}-overlapping-atoms", call, StructureError,
            rf"^{func}: {arg}: atoms 0 \(Cu\) and 1 \(Cu\) are 0.2 Å apart, under 0.5 x")


# Every public function that computes with an Atoms checks it, as the file readers do (the API
# user is owed the same refusal as the CLI user: issue 18's "overlapping atoms exit 0").
OVERLAP_CASES = [
    ("atomistic.md.timestep", "estimate_timestep", EMT()),
    ("atomistic.md.timestep", "stable_timestep", EMT()),
    ("atomistic.md.timestep", "nve_drift", EMT(), 1.0),
    ("atomistic.properties.phonons", "phonons", EMT()),
    ("atomistic.properties.elastic", "elastic_constants", EMT()),
    ("atomistic.properties.elastic", "eos_bulk_modulus", EMT()),
    ("atomistic.properties.elastic", "relax_cell", EMT()),
    ("atomistic.properties.free_energy", "harmonic_free_energy", EMT(), 300.0),
    ("atomistic.properties.free_energy", "frenkel_ladd", EMT(), 300.0),
    ("atomistic.properties.free_energy", "switch_free_energy", EMT(), EMT(), 300.0),
    ("atomistic.reactions.energy_gap", "sample_energy_gap", EMT(), EMT()),
    ("atomistic.mlip.reference_frames", "langevin_frames", EMT(), 300.0, 1),
    ("atomistic.interface.stark", "stark_scan", [0.0], EMT),
]


def _enter_reading(tmp, error):
    from foundation.reading import reading

    with reading(tmp, "battery dataset", error):
        pass


API_CASES = _api_cases() + [_overlapping(*c) for c in OVERLAP_CASES] + [
    _overlapping("atomistic.stability.surface_energy", "surface_energy", EMT(), (1, 1, 1), arg="bulk"),
    _overlapping("atomistic.reactions.neb", "run_neb", EMT(), arg="final")]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in API_CASES],
                         ids=[c[0] for c in API_CASES])
def test_api_refuses_bad_input_with_a_specific_error(tmp_path, call, error, message):
    with pytest.raises(error, match=message) as info:
        call(tmp_path)
    assert "\n" not in str(info.value), str(info.value)      # one line


def test_the_table_is_big_enough():
    assert len(CLI_CASES) + len(API_CASES) >= 50


def test_md_that_blows_up_to_nan_positions_is_a_blow_up_not_an_input_error():
    """A calculator that refuses NaN positions (as the learned potential does) mid-run: the input
    was checked, so the run reports MDBlowUp with time-step advice, not the user's input."""
    from atomistic.md.dynamics import run_md
    from atomistic.md.guards import MDBlowUp
    from atomistic.structures import check_atoms

    class Exploding(EMT):
        calls = 0

        def calculate(self, atoms=None, properties=("energy",), system_changes=()):
            check_atoms(atoms, "atoms given to the calculator", min_fraction=0)
            super().calculate(atoms, properties, system_changes)
            Exploding.calls += 1
            if Exploding.calls > 2:    # after the first checks: an infinite force
                self.results["forces"] = np.full_like(self.results["forces"], np.inf)

    with pytest.raises(MDBlowUp, match=r"step \d+: the dynamics produced impossible positions"):
        run_md(bulk("Cu", cubic=True), Exploding(), steps=20, timestep_fs=1.0, check_every=5,
               progress=False)
