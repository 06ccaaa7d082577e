"""An interface handoff carries the MD's surface charge and structure; a PNP handed that
structure reproduces the MD's ion profiles at the MD's charge, and a plain PNP, blind to
it, misses the layering. Here the "MD" profiles are those a known structure makes, so the
informed PNP must find them to within the solver's numerics."""
import numpy as np
import pytest

from continuum.electrolyte import FARADAY, thermal_voltage
from couplers.errors import InputError
from couplers.md_to_pnp import (interface_handoff, pnp_at_md_charge, pnp_capacitance,
                                pnp_open_cell)
from multiscale.config import parse_config
from multiscale.pipeline import run_pipeline

T, C = 298.15, 500.0                                  # K, mol/m^3
RT = FARADAY * thermal_voltage(T)                      # J/mol
X = np.linspace(0.25e-10, 14.75e-10, 30)               # bin centres, m
LAYER = 2.5e-10                                        # the "first adsorption layer" ends here

pytestmark = pytest.mark.slow          # dozens of FEniCSx solves per Brent search: seconds each


def structured(concentrations=None, double_layer=None):
    """Na bound in a well 4 A out, Cl pushed from a bump 3 A out: structure no plain PNP has."""
    w = {"Na": -2.0 * RT * np.exp(-((X - 4e-10) / 1e-10) ** 2),
         "Cl": 1.0 * RT * np.exp(-((X - 3e-10) / 1e-10) ** 2)}
    return interface_handoff(temperature=T, species={"Na": 1, "Cl": -1},
                             bulk_concentrations={"Na": C, "Cl": C},
                             diffusivities={"Na": (1.3e-9, 1e-10), "Cl": (2.0e-9, 1e-10)},
                             epsilon_r=78.5, x=X, concentrations=concentrations,
                             mean_force_potentials={s: (v, np.zeros_like(X)) for s, v in w.items()},
                             reference="x = 0 at the surface plane", double_layer=double_layer,
                             notes="profiles made by the informed PNP itself")


def md_like():
    """The handoff an MD of this structure would give at electrode potential 0.05 V: its bin
    averages, a 3 % standard error, its surface charge and capacitance."""
    h = structured()
    _, r = pnp_open_cell(h, 0.05, informed=True)
    half = 0.5 * (X[1] - X[0])
    fine = np.linspace(-half, half, 41)
    conc = {s.name: (np.array([np.interp(x + fine, r.x, r.c[k]).mean() for x in X]),
                     np.full(X.shape, 0.03 * C)) for k, s in enumerate(h.species)}
    cap = pnp_capacitance(h, 0.05, informed=True)
    return structured(conc, dict(potential=[0.05], capacitance=[cap], capacitance_stderr=[0.1 * cap],
                                 surface_charge=[r.surface_charge], first_layer_end=LAYER))


def test_the_informed_pnp_finds_the_md_profiles_and_the_plain_one_misses_the_layering():
    cmp = pnp_at_md_charge(md_like())
    for sp in ("Na", "Cl"):
        informed = cmp["informed"]["profiles"][sp]
        assert informed["bins"] == np.sum(X >= LAYER)                # judged beyond the layer only
        assert informed["max_abs_z"] < 0.1    # the same equations: mesh and Brent (1e-6 V) error only
    assert cmp["informed"]["potential"] == pytest.approx(0.05, abs=1e-4)   # Brent's tolerance, 1e-6 V, and the mesh
    assert cmp["informed"]["capacitance_ratio"] == pytest.approx(1.0, rel=1e-3)
    # the Na well holds e^2 = 7x the bulk 4 A out; a plain PNP has Na there at about the bulk
    assert cmp["plain"]["profiles"]["Na"]["within_2se"] < 0.8
    assert cmp["plain"]["profiles"]["Na"]["max_abs_z"] > 20


def test_a_handoff_without_the_md_surface_charge_is_refused_by_name():
    with pytest.raises(InputError, match="double_layer.surface_charge"):
        pnp_at_md_charge(structured())


def test_the_stage_reads_a_stored_handoff_and_draws_the_comparison(tmp_path):
    md_like().save(tmp_path / "handoff.toml")
    cfg = parse_config({"run": {"name": "interface"}, "stage": {
        "transport": {"kind": "interface_pnp", "handoff_file": "handoff.toml"}}}, tmp_path / "run.toml")
    (record,) = run_pipeline(cfg, tmp_path / "out")
    res = record.results
    assert res["informed"]["profiles"]["Na"]["within_2se"] == 1.0      # as above, through the file
    assert (record.dir / "interface_pnp.png").stat().st_size > 10_000   # a drawn figure, not an empty canvas
    assert "profiles made by the informed PNP itself" in res["headline"]["MD"]
