"""Training the SPMe -> DFN residual MLP in torch (float64)."""

from __future__ import annotations

import contextlib

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .battery import Residual


def training_arrays(runs, bound_V, max_per_run=300):
    """Stack features/targets/weights of ``runs``; drop samples |residual| > bound_V.

    Such samples are SPMe breaking down (e.g. its electrolyte depleting at
    >= 2.5C for Chen2020, a ~1 V collapse at cut-off): a bounded correction
    cannot represent them and, left in, they dominate the squared loss.
    Each run gets equal total weight, so short high-C runs (few samples)
    count as much as long low-C ones, and is thinned to at most
    ``max_per_run`` evenly spaced samples (a 0.25C discharge on a 10 s grid
    has ~1400 nearly collinear ones) to keep full-batch training cheap; runs
    of 1C and above keep every sample, so the end-of-discharge knee, where
    the residual changes fastest, stays resolved (thinning to 100 raised the
    held-out 1.5C max error from 3 to 7 mV).
    Returns X (N, n_features), y (N,) [V], w (N,) summing to 1, n_dropped.
    """
    X, y, w = [], [], []
    dropped = 0
    for r in runs:
        keep = np.abs(r["residual"]) <= bound_V
        dropped += int(np.sum(~keep))
        if not np.any(keep):
            continue
        idx = np.flatnonzero(keep)
        keep = idx[np.unique(np.linspace(0, len(idx) - 1, min(len(idx), max_per_run)).round()
                             .astype(int))]
        X.append(r["features"][keep])
        y.append(r["residual"][keep])
        w.append(np.full(len(keep), 1.0 / len(keep)))
    w = np.concatenate(w)
    return np.concatenate(X), np.concatenate(y), w / w.sum(), dropped


@contextlib.contextmanager
def _epoch_reporter(progress, total):
    """``report(done, loss)`` for :func:`train_residual`'s ``progress`` argument."""
    if not progress:
        yield lambda done, loss: None
        return
    if callable(progress):
        yield lambda done, loss: progress(f"epoch {done}/{total}, loss {loss:.3g}")
        return
    from foundation.progress import LineThrottle, is_terminal

    if not is_terminal():
        say = LineThrottle(lambda msg: print(msg, flush=True))
        yield lambda done, loss: say(f"residual training: epoch {done}/{total}, loss {loss:.3g}",
                                     force=done == total)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("residual training"), BarColumn(),
                  TextColumn("epoch {task.completed}/{task.total}  loss {task.fields[loss]}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("", total=total, loss="-")
        yield lambda done, loss: bar.update(task, completed=done, loss=f"{loss:.3g}")


def _lbfgs_polish(torch, net, objective, steps, done, report):
    """Quasi-Newton polish: a small full-batch regression is where L-BFGS beats
    first-order steps on the last digits of the fit (20 iterations per step)."""
    lb = torch.optim.LBFGS(net.parameters(), lr=1.0, max_iter=20, history_size=50,
                           line_search_fn="strong_wolfe")

    def closure():
        lb.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    for k in range(steps):
        report(done + k + 1, lb.step(closure).item())


def train_residual(runs, parameter_set="Chen2020", hidden=(48, 48), seed=0,
                   epochs=1000, lr=5e-3, bound_V=0.1, max_per_run=300, lbfgs_steps=0,
                   progress=False):
    """Fit a tanh MLP to DFN - SPMe voltage over the samples of ``runs``.

    runs: list of run dicts from continuum.battery_data.run_pair (split by
    whole experiment beforehand). Full-batch Adam with cosine learning-rate
    decay on the run-weighted squared error (see ``training_arrays``), then
    ``lbfgs_steps`` L-BFGS steps (20 iterations each). The L-BFGS polish
    sharpens the fit where the runs cover the input space (TrainingConfig's
    default set: held-out 1.5C max error ~7 -> ~3 mV) but overfits sparse
    data (two CC runs: 0.16 mV on them, 21 mV on a held-out C-rate), so it
    is off unless asked for. Training is in
    float32 (about 2.5x faster here than float64; the residual is O(10 mV)
    and needs nowhere near float32's 1e-7). The weights are then used in
    float64 everywhere. Returns (Residual with training ranges, float64
    torch network carrying exactly the Residual's weights).

    progress: False (silent), True (a rich bar on a terminal, else a plain line at
    most every few seconds, see ``foundation.progress``), or a function called with a
    one-line status (``"epoch 120/1500, loss 3.1e-04"``; a pipeline's ``ctx.progress``,
    which rate-limits itself).
    """
    import torch

    torch.manual_seed(seed)
    X, y, w, _ = training_arrays(runs, bound_V, max_per_run)
    mean, scale = X.mean(0), X.std(0)
    scale[scale < 1e-12] = 1.0  # constant feature (one temperature): no scaling
    out_scale = float(np.abs(y).max()) or 1e-3
    Xt = torch.tensor((X - mean) / scale, dtype=torch.float32)
    yt = torch.tensor(y / out_scale, dtype=torch.float32)
    wt = torch.tensor(w, dtype=torch.float32)
    sizes = [X.shape[1], *hidden, 1]
    layers = []
    for k in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[k], sizes[k + 1], dtype=torch.float32))
        if k < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    def objective():   # the run-weighted squared error, full batch
        return torch.sum(wt * (net(Xt)[:, 0] - yt) ** 2)

    with _epoch_reporter(progress, epochs + lbfgs_steps) as report:
        for epoch in range(epochs):
            opt.zero_grad()
            loss = objective()
            loss.backward()
            opt.step()
            sched.step()
            report(epoch + 1, loss.item())
        if lbfgs_steps:
            _lbfgs_polish(torch, net, objective, lbfgs_steps, epochs, report)
    net = net.double()
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    return Residual([m.weight.detach().numpy().copy() for m in lin],
                    [m.bias.detach().numpy().copy() for m in lin],
                    mean, scale, X.min(0), X.max(0), parameter_set,
                    out_scale, bound_V), net


class TrainingConfig(BaseModel):
    """What ``multiscale battery train CONFIG`` reads (TOML, all keys optional).

    Temperatures [K]; C-rates positive = discharge (from 95 % SOC), negative
    = charge (from 10 % SOC); pulses are 300 s on / 600 s rest x 6; drive
    cycles are the seeded synthetic generator's two families
    (``drive_cycle_profile(seed)`` and ``drive_cycle_profile(seed,
    regen_rests=True)``). Paths are relative to the
    config file.
    """

    model_config = ConfigDict(extra="forbid")
    parameter_set: str = "Chen2020"
    temperatures: list[float] = Field(default_factory=lambda: [283.15, 313.15], min_length=1)
    # CC every 0.25C (discharge to 2.25C, charge to 1.25C) and the L-BFGS polish at 200 steps:
    # bench/battery.py's recipe v4, chosen on its validation split (with the 0.5C grid and 60
    # steps the end-of-discharge knee between 1.5C and 2C was missed by up to 6.5 mV, 4.2-4.5
    # with this; the end of a 0.7C charge at 310 K by 5.3 mV with charge at 0.5C and 1C only,
    # under 1 mV with this)
    cc_c_rates: list[float] = Field(
        default_factory=lambda: [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25,
                                 -0.25, -0.5, -0.75, -1.0, -1.25])
    pulse_c_rates: list[float] = Field(default_factory=lambda: [1.0, 2.0])
    # Pulse-train cycles (seed 6 opens with regen at 95 % SOC, above 4.2 V: left out) and
    # stop-and-go cycles with regen bursts and rests; bench/battery.py's recipe v2 chose this
    # family on its validation split (without the second family the residual did worse than
    # plain SPMe on such cycles).
    drive_cycle_seeds: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 7, 8])
    regen_drive_cycle_seeds: list[int] = Field(default_factory=lambda: list(range(16)))
    hidden: list[int] = Field(default_factory=lambda: [48, 48], min_length=1)
    epochs: int = Field(1000, ge=1)
    lr: float = Field(5e-3, gt=0)
    lbfgs_steps: int = Field(200, ge=0)
    max_per_run: int = Field(300, ge=10)
    bound_V: float = Field(0.1, gt=0)
    seed: int = 0
    output: str = "residual.json"
    cache_dir: str | None = None


def training_jobs(cfg):
    """(Profile, temperature) pairs of a training config."""
    from continuum.battery_data import cc_profile, drive_cycle_profile, pulse_profile

    profiles = ([cc_profile(c) for c in cfg.cc_c_rates]
                + [pulse_profile(c) for c in cfg.pulse_c_rates]
                + [drive_cycle_profile(s) for s in cfg.drive_cycle_seeds]
                + [drive_cycle_profile(s, regen_rests=True) for s in cfg.regen_drive_cycle_seeds])
    return [(p, T) for p in profiles for T in cfg.temperatures]


def load_config(path):
    """Read and validate a TOML training config; InputError names the bad key."""
    import tomllib

    from pydantic import ValidationError

    from .errors import InputError

    from foundation.reading import reading

    with reading(path, "training config", InputError) as p:   # folder, not UTF-8, bad TOML: one line
        data = tomllib.loads(p.read_bytes().decode("utf-8"))
    try:
        return TrainingConfig(**data)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e.get('input')!r}: {e['msg']}"
                         for e in exc.errors())
        raise InputError(f"config {path}: {msgs}") from exc


def train_from_config(path, progress=True):
    """Generate (cached) paired runs, train, save the residual; returns (output path, report dict)."""
    from pathlib import Path

    from continuum.battery_data import generate

    cfg = load_config(path)
    base = Path(path).resolve().parent
    cache = (base / cfg.cache_dir) if cfg.cache_dir else None
    runs = generate(training_jobs(cfg), cache_dir=cache, progress=progress)
    res, _ = train_residual(runs, cfg.parameter_set, tuple(cfg.hidden), cfg.seed, cfg.epochs,
                            cfg.lr, cfg.bound_V, cfg.max_per_run, cfg.lbfgs_steps,
                            progress=progress)
    out = base / cfg.output
    res.save(out)
    X, y, w, dropped = training_arrays(runs, cfg.bound_V, cfg.max_per_run)
    e = y - res.correction_numpy(X)
    return out, {"runs": len(runs), "samples": len(y), "dropped_samples": dropped,
                 "train_rmse_mV": 1e3 * float(np.sqrt(np.sum(w * e**2)))}
