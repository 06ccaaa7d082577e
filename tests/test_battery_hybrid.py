"""HybridSPMe: SPMe + learned DFN residual as PyBaMM symbols."""

import numpy as np
import pytest

pybamm = pytest.importorskip("pybamm")
torch = pytest.importorskip("torch")

from continuum.battery_data import (BASE_FEATURE_NAMES, FEATURE_NAMES,  # noqa: E402
                                    FEATURE_VARIABLES, cc_profile, derived_features,
                                    ocp_slope_exact, run_pair)
from couplers.battery import (HybridSPMe, ParameterSetMismatch, Residual,  # noqa: E402
                              combine_voltage_events)
from couplers.battery_train import load_config, train_residual  # noqa: E402
from couplers.errors import InputError  # noqa: E402

NF = len(FEATURE_NAMES)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def trained(cache):
    torch.set_num_threads(1)
    train = [run_pair(cc_profile(c), cache_dir=cache) for c in (0.5, 1.5)]
    test = run_pair(cc_profile(1.0), cache_dir=cache)
    res, net = train_residual(train, hidden=(8,), epochs=600, lr=1e-2)
    return res, net, test


def test_zero_residual_reproduces_spme():
    p = pybamm.ParameterValues("Chen2020")
    t = np.linspace(0, 3000, 40)

    def v(model):
        solver = pybamm.IDAKLUSolver(rtol=1e-9, atol=1e-9)
        sol = pybamm.Simulation(model, parameter_values=p, solver=solver).solve([0, 3000])
        return np.ravel(sol["Voltage [V]"](t))

    # The hybrid's two filter states change the solver's step sequence, so
    # the match is to solver tolerance (rtol 1e-9 * 4 V), not bit-exact.
    assert np.max(np.abs(v(HybridSPMe()) - v(pybamm.lithium_ion.SPMe()))) < 1e-6


def test_model_features_equal_data_features():
    p = pybamm.ParameterValues("Chen2020")
    sol = pybamm.Simulation(HybridSPMe(), parameter_values=p).solve(
        [0, 2000], t_interp=np.linspace(0, 2000, 21))
    x = np.stack([np.ravel(sol[n].entries) for n in FEATURE_VARIABLES], axis=1)
    nb = len(BASE_FEATURE_NAMES)
    # Same PyBaMM expression evaluated two ways: rounding only.
    assert np.max(np.abs(derived_features(x[:, :nb]) - x[:, nb:])) < 1e-9
    # The 100 s filtered current relaxes to the applied 1C (exp(-20) ~ 2e-9
    # off); what is left is IDAKLU's default rtol 1e-4.
    assert abs(x[-1, FEATURE_NAMES.index("C-rate filtered 100 s")] - 1.0) < 1e-3


def test_tabulated_ocp_slope_equals_central_difference_of_the_ocp():
    rng = np.random.default_rng(0)
    n = 2000
    base = np.zeros((n, len(BASE_FEATURE_NAMES)))
    base[:, 1], base[:, 2] = rng.uniform(0.02, 0.98, (2, n))  # operating window
    base[:, 4] = rng.uniform(263.15, 333.15, n)
    exact = ocp_slope_exact(base[:, 1], base[:, 2], base[:, 4])
    # Cubic spline on a 5e-4 grid of a smooth slope: measured 4e-9 (log units).
    assert np.max(np.abs(derived_features(base) - exact)) < 1e-6


def test_symbolic_mlp_equals_torch_mlp(trained):
    res, net, _ = trained
    free = Residual(res.weights, res.biases, res.mean, res.scale,
                    np.full(NF, -np.inf), np.full(NF, np.inf), res.parameter_set,
                    res.out_scale, res.bound_V)
    rng = np.random.default_rng(0)
    X = res.mean + res.scale * rng.normal(size=(20, NF))
    with torch.no_grad():
        y_t = net(torch.tensor((X - res.mean) / res.scale))[:, 0].numpy() * res.out_scale
    y_t = res.bound_V * np.tanh(y_t / res.bound_V)
    y_s = [free.symbols([pybamm.Scalar(v) for v in x]).evaluate() for x in X]
    # float64 throughout: only rounding differences.
    assert np.max(np.abs(np.ravel(y_s) - y_t)) < 1e-10


def test_trained_residual_beats_spme_at_held_out_c_rate(trained):
    res, _, test = trained
    p = pybamm.ParameterValues("Chen2020")
    p["Current function [A]"] = 1.0 * p["Nominal cell capacity [A.h]"]
    t = test["t"]
    sol = pybamm.Simulation(HybridSPMe(residual=res), parameter_values=p).solve(
        [0, t[-1]], t_interp=t, initial_soc=0.95)
    n = len(sol.t)
    err_h = np.sqrt(np.mean((np.ravel(sol["Voltage [V]"].entries) - test["v_dfn"][:n]) ** 2))
    err_s = np.sqrt(np.mean(test["residual"] ** 2))
    assert err_h < err_s


def test_experiment_voltage_cutoff_sees_corrected_voltage(trained):
    res, _, _ = trained
    exp = pybamm.Experiment(["Discharge at 1C until 3.3 V"])
    sol = pybamm.Simulation(HybridSPMe(residual=res), experiment=exp).solve()
    v = np.ravel(sol["Voltage [V]"].entries)
    # Event located by the solver to its tolerance (~1e-4 V).
    assert abs(v[-1] - 3.3) < 1e-3
    corr = np.ravel(sol["Voltage correction [V]"].entries)
    assert np.allclose(v, np.ravel(sol["SPMe voltage [V]"].entries) + corr)


def test_one_cutoff_event_stops_at_either_voltage_limit(trained):
    res, _, _ = trained
    p = pybamm.ParameterValues("Chen2020")
    lo, hi = p["Lower voltage cut-off [V]"], p["Upper voltage cut-off [V]"]
    for current, soc, limit, name in ((5.0, 0.3, lo, "Minimum"), (-5.0, 0.7, hi, "Maximum")):
        p["Current function [A]"] = current
        model = HybridSPMe(residual=res)  # default: one combined cut-off event
        sol = pybamm.Simulation(model, parameter_values=p).solve([0, 20000], initial_soc=soc)
        # Root located by IDAKLU to its event tolerance (well below 1 mV).
        assert abs(float(sol["Voltage [V]"].entries[-1]) - limit) < 1e-3
        assert model.termination(sol) == f"event: {name} voltage [V]"


def test_cccv_experiment_runs_through_the_combined_safety_event(trained):
    res, _, _ = trained
    exp = pybamm.Experiment([("Discharge at 1C until 3.3 V",
                              "Charge at 1C until 4.2 V", "Hold at 4.2 V until C/20")])
    model = HybridSPMe(residual=res)
    # No parameter_values: the model's default is its residual's set (Chen2020).
    sol = pybamm.Simulation(model, experiment=exp).solve()
    steps = sol.cycles[0].steps
    # Every step ended on its own [experiment] condition; had the model's
    # combined safety event fired, the experiment would stop there.
    assert [s.termination.endswith("[experiment]") for s in steps] == [True] * 3
    i_end = float(steps[-1]["Current [A]"].entries[-1])
    # C/20 of Chen2020's 5 A.h, to the event location tolerance.
    assert abs(i_end + 5.0 / 20) < 1e-2
    # Voltage-controlled hold: held to IDAKLU's default rtol 1e-4 x 4.2 V.
    assert abs(float(steps[-1]["Voltage [V]"].entries[-1]) - 4.2) < 5e-4


def test_separate_and_combined_cutoff_events_give_the_same_voltage(trained):
    res, _, _ = trained
    p = pybamm.ParameterValues("Chen2020")
    t = np.linspace(0, 3000, 31)
    v = [np.ravel(pybamm.Simulation(HybridSPMe(residual=res, voltage_events=e),
                                    parameter_values=p).solve([0, 3000], t_interp=t)
                  ["Voltage [V]"].entries) for e in ("separate", "combined")]
    # Events do not enter the dynamics: identical up to the solver's rtol 1e-4.
    assert np.max(np.abs(v[0] - v[1])) < 1e-3
    with pytest.raises(InputError, match="voltage_events"):
        HybridSPMe(voltage_events="both")


@pytest.mark.parametrize("events", ["combined", "separate"])
def test_cutoff_stops_where_the_corrected_voltage_meets_the_limit_not_the_spme_voltage(events):
    """The events skip the network while both limits are further than bound_V away; near a
    limit they must see the full correction. A constant +46 mV correction makes the two
    stopping points differ by far more than the event tolerance."""
    res = Residual([np.zeros((1, NF))], [np.array([5.0])], np.zeros(NF), np.ones(NF),
                   np.full(NF, -np.inf), np.full(NF, np.inf), "Chen2020", 0.01, 0.1)
    offset = 0.1 * np.tanh(0.5)  # bound * tanh(out_scale * bias / bound) = 46.2 mV
    p = pybamm.ParameterValues("Chen2020")
    lo, hi = p["Lower voltage cut-off [V]"], p["Upper voltage cut-off [V]"]
    for current, soc, limit in ((5.0, 0.3, lo), (-5.0, 0.7, hi)):
        p["Current function [A]"] = current
        model = HybridSPMe(residual=res, voltage_events=events)
        sol = pybamm.Simulation(model, parameter_values=p).solve([0, 20000], initial_soc=soc)
        v = float(sol["Voltage [V]"].entries[-1])
        v_spme = float(sol["SPMe voltage [V]"].entries[-1])
        # Root located by IDAKLU to its event tolerance (well below 1 mV).
        assert abs(v - limit) < 1e-3
        assert abs(v - v_spme - offset) < 1e-9  # the correction is the constant offset


def test_plain_spme_with_the_combined_event_stops_where_pybamm_s_two_events_stop():
    """combine_voltage_events gives SPMe the hybrid's event layout (for like-for-like timings)
    without changing where a discharge ends."""
    p = pybamm.ParameterValues("Chen2020")
    p["Current function [A]"] = 10.0  # 2C: reaches the lower cut-off within 20000 s
    model = combine_voltage_events(pybamm.lithium_ion.SPMe())
    names = [e.name for e in model.events]
    assert "Minimum voltage [V]" in names and "Maximum voltage [V]" not in names
    ends = [pybamm.Simulation(m, parameter_values=p).solve([0, 20000]).t[-1]
            for m in (model, pybamm.lithium_ion.SPMe())]
    # Same root of V - V_low, located by IDAKLU to its event tolerance: well under 0.1 s.
    assert abs(ends[0] - ends[1]) < 0.1


def test_other_parameter_set_refused(trained, tmp_path):
    res, _, _ = trained
    path = tmp_path / "res.json"
    res.save(path)
    with pytest.raises(ParameterSetMismatch, match="Chen2020"):
        Residual.load(path, parameter_set="Marquis2019")
    with pytest.raises(ParameterSetMismatch):
        HybridSPMe(residual=res, parameter_set="Marquis2019")


def test_entry_point_finds_hybrid():
    m = pybamm.Model("HybridSPMe")
    assert isinstance(m, pybamm.lithium_ion.SPMe) and "Voltage correction [V]" in m.variables


def test_out_of_range_detected_and_correction_fades(trained):
    res, _, _ = trained
    p = pybamm.ParameterValues("Chen2020")
    p["Current function [A]"] = 3.0 * p["Nominal cell capacity [A.h]"]  # trained 0.5-1.5C
    model = HybridSPMe(residual=res)
    sol = pybamm.Simulation(model, parameter_values=p).solve([0, 600])
    with pytest.warns(UserWarning, match="outside"):
        assert model.check_range(sol) == 1.0
    # 1.5 sigma outside the C-rate range: fade exp(-(1.5/0.25)^2) ~ 2e-16.
    assert np.max(np.abs(sol["Voltage correction [V]"].entries)) < 1e-6


def test_training_config_names_bad_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("temperatures = []\nepoch = 5\n")
    with pytest.raises(InputError, match="temperatures.*epoch"):
        load_config(cfg)


def test_residual_training_reports_every_epoch_and_changes_nothing(cache):
    """Progress is a side channel: the same seed with and without a reporter gives the
    same weights bit for bit, and the reporter hears each epoch once, ending at the last."""
    runs = [run_pair(cc_profile(c), cache_dir=cache) for c in (0.5, 1.5)]
    heard = []
    quiet, _ = train_residual(runs, hidden=(8,), epochs=30, lr=1e-2)
    loud, _ = train_residual(runs, hidden=(8,), epochs=30, lr=1e-2, progress=heard.append)
    assert all(np.array_equal(a, b) for a, b in zip(quiet.weights, loud.weights))
    assert len(heard) == 30 and heard[-1].startswith("epoch 30/30, loss ")


def test_residual_training_to_a_log_file_writes_a_few_plain_lines(capsys, cache):
    """Not a terminal (pytest captures stdout): at most a line every few seconds plus the
    last, no carriage returns, however many epochs."""
    runs = [run_pair(cc_profile(0.5), cache_dir=cache)]
    train_residual(runs, hidden=(4,), epochs=2000, lr=1e-2, progress=True)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert 1 <= len(lines) <= 5 and lines[-1].startswith("residual training: epoch 2000/2000")
