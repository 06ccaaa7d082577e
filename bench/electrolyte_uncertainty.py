"""Does the NaCl(aq) | Cu(111) committee know when it is wrong? Judged on both held-out sets.

    OMP_NUM_THREADS=2 .venv/bin/python bench/electrolyte_uncertainty.py
    (seconds: nothing is trained; MULTISCALE_FAST=1: 4 frames of 'test', nothing recorded)

Frozen recipe (written 2026-12-06, before any frame of test/broad.extxyz was read; the
training recipes of both committees are older and unchanged):

- committees, as committed, never retrained here:
  - shipped: data/nacl_cu/potential.mlip.pt, the recipe of bench/electrolyte_potential.py
    (charges + PME, 3 members, trained on the campaign frames of the run that shipped it;
    the table gives the count);
  - campaign: data/nacl_cu/campaign/potential.mlip.pt, the committee the active-learning
    campaign (learn.toml: no charges, 3 members) last trained (102 of 104 frames when this
    recipe was frozen; the table gives the count of the run).
    It is the one whose uncertainty chooses the campaign's next labels.
- held-out sets (data/nacl_cu/make_test.py, hashes in the table): ``test``, 16 frames from
  two 300 K trajectories (bench/electrolyte_potential.py measured Spearman 0.16 on it with
  the shipped committee); ``broad``, 36 frames from six trajectories of five compositions
  at 300-500 K, drawn because ``test``'s frames barely differ in error. A set of either
  that is not fully labelled yet is judged on the frames it has, and the row says so.
- per frame: u = the committee's max_force_dev (eV/A), e = the largest per-atom force
  error |F_committee - F_GPAW| (eV/A, the committee mean).
- score: Spearman rank correlation of u and e over the set (target >= 0.5, issue 20), with a
  95 % bootstrap interval (2000 resamples of the frames, seed 0), and over the bulk and the
  interface frames separately; force error per atom (RMSE of |dF|) for scale.
- a scatter of u against e (bench/out/electrolyte_uncertainty.png).
"""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

from bench._record import markdown_table, record  # noqa: E402  (first: wall time starts here)

FAST = os.environ.get("MULTISCALE_FAST") == "1"
DATA = ROOT / "data" / "nacl_cu"
COMMITTEES = {"shipped": DATA / "potential.mlip.pt",
              "campaign": DATA / "campaign" / "potential.mlip.pt"}
SETS = {"test": DATA / "test" / "test.extxyz", "broad": DATA / "test" / "broad.extxyz"}
N_BOOT = 2000
TARGET = 0.5


def per_frame(calc, frames) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, e, per-atom |dF| of every atom) for ``frames`` under the committee ``calc``."""
    from atomistic.mlip.dataset import labels_of

    u, e, norms = [], [], []
    for frame in frames:
        ref = labels_of(frame)["forces"]
        a = frame.copy()
        a.calc = calc
        d = np.linalg.norm(a.get_forces() - ref, axis=1)
        u.append(float(calc.results["max_force_dev"]))
        e.append(float(d.max()))
        norms.append(d)
    return np.array(u), np.array(e), np.concatenate(norms) if norms else np.zeros(0)


def spearman(u, e, boot: int = 0, seed: int = 0):
    """rho, and with ``boot`` resamples its 95 % percentile interval (or None)."""
    from scipy.stats import spearmanr

    if len(u) < 3:
        return float("nan"), None
    rho = float(spearmanr(u, e).statistic)
    if not boot:
        return rho, None
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(boot):
        k = rng.integers(0, len(u), len(u))
        if np.ptp(u[k]) > 0 and np.ptp(e[k]) > 0:
            draws.append(spearmanr(u[k], e[k]).statistic)
    return rho, (float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5)))


def _status(rho: float) -> str:
    return "n/a" if not np.isfinite(rho) else ("met" if rho >= TARGET else "missed")


def _plot(points, path: Path) -> None:
    """One panel per committee (rows) and held-out set (columns): u against e, by system."""
    from matplotlib.figure import Figure

    committees = list(dict.fromkeys(c for c, _ in points))
    sets = list(dict.fromkeys(t for _, t in points))
    fig = Figure(figsize=(4.6 * len(sets), 3.8 * len(committees)))
    axes = fig.subplots(len(committees), len(sets), squeeze=False)
    for (name, set_name), (u, e, systems, rho) in points.items():
        ax = axes[committees.index(name)][sets.index(set_name)]
        for system, marker in (("bulk", "o"), ("interface", "s")):
            sel = systems == system
            ax.scatter(1e3 * u[sel], 1e3 * e[sel], marker=marker, label=system, alpha=0.8)
        ax.set_xlabel("committee max_force_dev u (meV/Å)")
        ax.set_ylabel("worst-atom force error vs GPAW (meV/Å)")
        ax.set_title(f"{name} committee on '{set_name}': Spearman {rho:.2f}", fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main() -> None:
    from atomistic.mlip.dataset import dataset_hash, read_frames
    from atomistic.mlip.potential import load_potential, read_potential_file

    sets = {}
    for name, path in SETS.items():
        if FAST and name != "test":   # the smoke run tries the code on 'test' only
            continue
        frames = read_frames(path) if path.is_file() else []
        sets[name] = frames[:4] if FAST else frames
    rows, points = [], {}
    for cname, cpath in COMMITTEES.items():
        calc = load_potential(cpath)
        n_train = read_potential_file(cpath)["metrics"].get("n_train", "?")
        for sname, frames in sets.items():
            label = f"{cname} ({n_train} training frames)"
            if not frames:
                rows.append([label, sname, 0, "-", "-", "-", "-", "not labelled yet"])
                continue
            u, e, norms = per_frame(calc, frames)
            systems = np.array([f.info.get("system", "?") for f in frames])
            rho, ci = spearman(u, e, boot=0 if FAST else N_BOOT)
            parts = {s: spearman(u[systems == s], e[systems == s])[0]
                     for s in ("bulk", "interface")}
            points[(cname, sname)] = (u, e, systems, rho)
            rows.append([label, sname, len(frames),
                         f"{rho:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""),
                         f"{parts['bulk']:.2f} / {parts['interface']:.2f}",
                         f"{1e3 * np.sqrt(np.mean(norms ** 2)):.0f}",
                         f"{1e3 * np.median(u):.0f} / {1e3 * np.median(e):.0f}",
                         _status(rho)])
    figure = ROOT / "bench" / "out" / "electrolyte_uncertainty.png"
    if points:
        _plot(points, figure)
    hashes = ", ".join(f"{n} `{dataset_hash(f)[:16]}` ({len(f)} frames)" if f else f"{n}: none yet"
                       for n, f in sets.items())
    body = "\n\n".join([
        "Recipe: bench/electrolyte_uncertainty.py (frozen before `broad` was read). Committees "
        "as committed, nothing retrained. u = max_force_dev, e = worst-atom |F - F_GPAW| per "
        f"frame; Spearman over the set with a 95 % bootstrap interval ({N_BOOT} resamples), "
        f"target >= {TARGET}. Held-out sets: {hashes}.",
        markdown_table(["committee", "held-out set", "frames", "Spearman(u, e) [95 % CI]",
                        "bulk / interface", "F RMSE per atom (meV/Å)",
                        "median u / median e (meV/Å)", "target >= 0.5"], rows),
        "Scatter: bench/out/electrolyte_uncertainty.png."])
    print(body)
    if FAST:
        print("\n(smoke run: nothing recorded)")
        return
    record("electrolyte_uncertainty", "OMP_NUM_THREADS=2 python bench/electrolyte_uncertainty.py",
           body)


if __name__ == "__main__":
    main()
