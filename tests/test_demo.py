"""The default demo's config runs end to end (reduced sizes) and reports every branch's numbers."""
import tomllib
from pathlib import Path

from multiscale.config import parse_config
from multiscale.pipeline import run_pipeline
from multiscale.report import write_report

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo" / "demo.toml"


def test_demo_config_runs_end_to_end_in_a_reduced_setting(tmp_path):
    data = tomllib.loads(DEMO.read_text())
    st = data["stage"]
    st["data"].update(frames=6)
    st["potential"]["settings"].update(n_members=2, epochs=3)
    st["md"].update(steps=20)
    st["transport"].update(steps=4000)
    st["battery"].update(train_c_rates=[1.0], train_drive_cycle_seeds=[0], epochs=100)
    cfg = parse_config(data, DEMO)
    records = run_pipeline(cfg, tmp_path)
    assert [r.status for r in records] == ["ran"] * 5
    report, results = write_report(tmp_path, records, cfg)
    text = report.read_text()
    for figure in ("md_uncertainty.png", "md_vs_pnp.png", "drive_cycle.png"):
        assert figure in text
    r = {rec.name: rec.results for rec in records}
    # the atoms branch is judged by held-out GPAW labels (a 3-epoch committee: a number, finite)
    assert "held-out frames of ../../data/nacl_cu/test/test.extxyz" in " ".join(
        r["md"]["headline"])
    assert r["md"]["force_mae_vs_reference_meV_per_A"] > 0
    # The measured D comes back to the Brownian-dynamics input: within 5 standard errors even
    # in this short run (the benchmark checks 2 SE over longer runs and several seeds).
    for species, d_in in (("cation", 1.33e-9), ("anion", 2.03e-9)):
        d = r["transport"]["diffusivities"][species]
        assert abs(d["value"] - d_in) < 5 * d["stderr"]
    # The hybrid's correction is learned, not guessed: it must not make the held-out cycle worse.
    assert r["battery"]["rmse_hybrid_mV"] < r["battery"]["rmse_spme_mV"]
