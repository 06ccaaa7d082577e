"""The size-matched MACE peer of the learned-potential benchmarks (mace-torch, `bench` extra).

``mace_peer(train, folder, n_ours, settings, channels)`` trains a MACE on the same frames
as ours with ``mace_run_train`` (its own CLI, the way MACE users train), at the largest
``num_channels`` in ``channels`` whose parameter count is within 1.5x of ``n_ours``
(probed with one epoch on one frame per element set), max_L 1, 2 layers, correlation 3,
r_max = our cutoff (``extra_args``: more ``mace_run_train`` options, e.g. a narrower
radial MLP), the same validation fraction, epochs, loss weights, batch size and
learning rate as ``settings`` (our training settings). Returns (calculator, parameters,
seconds, channels), or None when mace-torch is not installed.

Used by bench/electrolyte_potential.py and bench/mlip_speed.py. mace-torch pins e3nn
0.4.4 and so lives in lock/bench.txt, outside the main lock (README "Benchmarks").
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path


def write_mace_file(frames, path):
    """Frames as MACE's extxyz: REF_energy / REF_forces keys, nothing else."""
    from ase.io import write

    out = []
    for a in frames:
        b = a.copy()
        b.calc = None
        b.info = {"REF_energy": a.get_potential_energy(), "config_type": "Default"}
        b.arrays = {k: v for k, v in b.arrays.items() if k in ("numbers", "positions")}
        b.arrays["REF_forces"] = a.get_forces()
        out.append(b)
    write(path, out, format="extxyz")


def mace_train(train_file, folder, channels, epochs, name, settings, batch_size=None,
               extra_args=()):
    """Run ``mace_run_train``; returns (model path, parameter count)."""
    exe = Path(sys.executable).with_name("mace_run_train")
    cmd = [str(exe), f"--name={name}", f"--train_file={train_file}",
           f"--valid_fraction={settings['valid_fraction']}", "--model=MACE",
           f"--num_channels={channels}", "--max_L=1", "--correlation=3",
           "--num_interactions=2", f"--r_max={settings['cutoff']}", "--E0s=average",
           "--energy_key=REF_energy", "--forces_key=REF_forces", "--loss=weighted",
           f"--energy_weight={settings['energy_weight']}",
           f"--forces_weight={settings['force_weight']}",
           f"--batch_size={batch_size or settings['batch_size']}",
           f"--max_num_epochs={epochs}", f"--lr={settings['learning_rate']}", "--device=cpu",
           "--default_dtype=float32", "--seed=0", f"--work_dir={folder}", "--restart_latest",
           "--patience=30", "--eval_interval=1", *extra_args]
    log = folder / f"{name}.stdout"
    with open(log, "w") as fh:
        rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=folder).returncode
    model = folder / f"{name}.model"
    if rc != 0 or not model.is_file():
        raise RuntimeError(f"mace_run_train failed (rc {rc}); see {log}")
    import torch

    # counted from the saved model itself (this MACE version prints no parameter count)
    n_par = sum(p.numel() for p in torch.load(model, map_location="cpu",
                                              weights_only=False).parameters())
    return model, n_par


def mace_peer(train, folder, n_ours, settings, channels=(64, 32, 16, 8), extra_args=()):
    """(calculator, params, seconds, channels) of the size-matched MACE, or None."""
    try:
        import mace  # noqa: F401
        from mace.calculators import MACECalculator
    except ImportError:
        return None
    from atomistic.mlip.dataset import dataset_hash

    # a folder per training set: mace_run_train --restart_latest must never resume a
    # run made on other frames (an earlier smoke run, an older campaign snapshot)
    options = ("_" + hashlib.sha1(" ".join(extra_args).encode()).hexdigest()[:6]
               if extra_args else "")
    folder = Path(folder) / f"mace_{dataset_hash(train)[:12]}{options}"
    folder.mkdir(parents=True, exist_ok=True)
    train_file = folder / "mace_train.extxyz"
    write_mace_file(train, train_file)
    # the probe must hold every element (the parameter count grows with them): the
    # first frame of each element set, in dataset order
    probe, seen = [], set()
    for k, a in enumerate(train):
        key = frozenset(a.numbers.tolist())
        if key not in seen:
            seen.add(key)
            probe.append(k)
    # mace_run_train splits off a validation frame: at least two frames
    probe += [k for k in range(len(train)) if k not in probe][:max(0, 2 - len(probe))]
    probe = [train[k] for k in sorted(probe)]
    probe_file = folder / "mace_probe.extxyz"
    write_mace_file(probe, probe_file)
    chosen, sizes = None, {}
    for width in channels:
        _, sizes[width] = mace_train(probe_file, folder, width, 1, f"probe{width}", settings,
                                     batch_size=1, extra_args=extra_args)
        if n_ours / 1.5 <= sizes[width] <= 1.5 * n_ours:
            chosen = width
            break
    if chosen is None:
        raise RuntimeError(f"no MACE width in {channels} within 1.5x of {n_ours} parameters "
                           f"(probed: {sizes})")
    t0 = time.perf_counter()
    model, n_par = mace_train(train_file, folder, chosen, settings["epochs"], "mace_peer",
                              settings, extra_args=extra_args)
    seconds = time.perf_counter() - t0
    calc = MACECalculator(model_paths=str(model), device="cpu", default_dtype="float32")
    return calc, n_par, seconds, chosen
