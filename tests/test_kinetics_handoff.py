"""Kinetics handoffs: transfer coefficient and reorganisation energy reach PyBaMM as parameters it runs with."""
import numpy as np
import pytest

from atomistic.reactions.marcus import reorganisation_energy
from atomistic.reactions.transfer_coefficient import fit_transfer_coefficient
from couplers.errors import InputError
from couplers.handoff import Handoff
from couplers.reaction_kinetics import kinetics_entry, kinetics_handoff, pybamm_options, pybamm_parameters


def _fit():
    U = np.array([-0.3, -0.15, 0.0, 0.15, 0.3])
    return fit_transfer_coefficient(U, 0.4 + 0.35 * U, [0.01] * 5, reference_electrode="Li/Li+",
                                    model="linear")


def _marcus():
    rng = np.random.default_rng(0)
    # Gaussian gaps with lambda = 0.4 eV at 300 K: var = 2 lambda kT
    sd = np.sqrt(2 * 0.4 * 8.617333e-5 * 300)
    return reorganisation_energy(rng.normal(-0.1 + 0.4, sd, 4000), rng.normal(-0.1 - 0.4, sd, 4000), 300)


def test_reduction_alpha_becomes_pybamms_anodic_alpha(tmp_path):
    entry = kinetics_entry(_fit(), _marcus(), electrode="negative", reaction="Li+ + e- -> Li")
    # PyBaMM's alpha is the oxidation one: 1 - dEa_red/d(eU) = 0.65 (exact data, linear fit)
    assert entry.transfer_coefficient == pytest.approx(0.65, abs=1e-9)
    assert entry.pybamm_parameters["Negative electrode Butler-Volmer transfer coefficient"] == pytest.approx(0.65)
    # lambda from 4000 Gaussian samples per state: standard error ~2 meV, 4 sigma
    assert entry.pybamm_parameters["Negative electrode reorganization energy [eV]"] == pytest.approx(0.4, abs=0.01)
    h = kinetics_handoff([entry], temperature=300.0)
    back = Handoff.load(h.save(tmp_path / "kinetics.toml"))
    assert back == h and back.relative_permittivity is None


def test_potentials_without_reference_electrode_are_refused():
    data = kinetics_entry(_fit()).model_dump(mode="json")
    data["reference_electrode"] = None
    with pytest.raises(InputError, match="reference_electrode"):
        Handoff.validate_data({"temperature": 300.0, "kinetics": [data]})


def test_transfer_coefficient_outside_unit_interval_is_refused():
    data = kinetics_entry(_fit()).model_dump(mode="json")
    data["transfer_coefficient"] = 1.3
    with pytest.raises(InputError, match=r"kinetics\.0.*transfer_coefficient"):
        Handoff.validate_data({"temperature": 300.0, "kinetics": [data]})


def test_transport_handoff_still_needs_permittivity():
    with pytest.raises(InputError, match="relative_permittivity"):
        Handoff.validate_data({"temperature": 300.0, "species": [{"name": "Na", "charge_number": 1}],
                               "bulk_concentrations": {"Na": 1.0}})


def test_pybamm_runs_with_handed_off_kinetics():
    pybamm = pytest.importorskip("pybamm")
    h = kinetics_handoff([kinetics_entry(_fit(), _marcus(), electrode="negative"),
                          kinetics_entry(None, _marcus(), electrode="positive")], temperature=298.15)
    voltages = {}
    # the options the handoff names (asymmetric Butler-Volmer here), and Marcus-Hush-Chidsey,
    # which reads the reorganisation energies
    for option in (pybamm_options(h)["intercalation kinetics"], "Marcus-Hush-Chidsey"):
        params = pybamm.ParameterValues("Chen2020")
        params.update(pybamm_parameters(h), check_already_exists=False)
        model = pybamm.lithium_ion.SPM({"intercalation kinetics": option})
        sim = pybamm.Simulation(model, parameter_values=params)
        sol = sim.solve([0, 600])
        voltages[option] = sol["Voltage [V]"].entries
        # a 1C discharge of Chen2020's cell for 10 min stays inside its 2.5-4.2 V window
        assert np.all((voltages[option] > 2.5) & (voltages[option] < 4.3))
    assert set(voltages) == {"asymmetric Butler-Volmer", "Marcus-Hush-Chidsey"}


def test_cli_kinetics_writes_a_handoff_that_handoff_show_validates(tmp_path):
    import subprocess
    import sys

    csv = tmp_path / "barriers.csv"
    csv.write_text("# potential_V, barrier_eV, barrier_std_eV\n-0.2,0.33,0.01\n0.0,0.40,0.01\n0.2,0.47,0.01\n")
    out = tmp_path / "k.toml"
    run = [sys.executable, "-m", "multiscale.cli"]
    proc = subprocess.run(run + ["kinetics", "--barriers", str(csv), "--reference", "Li/Li+",
                                 "--model", "linear", "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Negative electrode Butler-Volmer transfer coefficient = 0.65" in proc.stdout
    show = subprocess.run(run + ["handoff", "show", str(out)], capture_output=True, text=True, timeout=120)
    assert show.returncode == 0 and "valid" in show.stdout
    # the same barriers without their reference electrode: refused, naming the fix
    proc = subprocess.run(run + ["kinetics", "--barriers", str(csv), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "reference_electrode" in proc.stderr
