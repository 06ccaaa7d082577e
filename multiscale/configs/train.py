"""Training from a TOML file: what ``multiscale train CONFIG`` runs.

Example config (paths relative to the config file)::

    output = "cu.mlip.pt"          # the potential file to write
    [data]
    train = ["cu_train.extxyz"]    # one or more extxyz / ASE db files
    valid = "cu_valid.extxyz"      # optional; else settings.valid_fraction is split off
    [settings]                     # any field of atomistic.mlip.training.TrainSettings
    n_members = 4
    epochs = 200
    [dask]                         # optional: train members in parallel
    workers = 2                    # local worker processes, or
    # scheduler = "tcp://host:8786"

Errors name the key (``config.toml: settings.epoch: unknown key; did you mean 'epochs'?``).
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from atomistic.mlip.training import TrainSettings

from ..config import load_toml


class DataSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    train: list[str] | str
    valid: list[str] | str | None = None


class DaskSection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workers: int = Field(2, ge=1)
    scheduler: str | None = None


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    output: str = "potential.mlip.pt"
    data: DataSection
    settings: TrainSettings = Field(default_factory=TrainSettings)
    dask: DaskSection | None = None


def load_train_config(path: str | Path) -> TrainConfig:
    """Parse and validate a training config; ``ConfigError`` lines name each bad key."""
    return load_toml(path, TrainConfig)


def train_from_config(path: str | Path, progress: bool = True) -> Path:
    """Train the committee a config describes; returns the written potential file."""
    from atomistic.mlip.dataset import read_frames
    from atomistic.mlip.training import train_committee

    path = Path(path)
    cfg = load_train_config(path)
    here = path.resolve().parent

    def frames(spec):
        files = [spec] if isinstance(spec, str) else list(spec)
        return [a for f in files for a in read_frames(here / f)]

    train = frames(cfg.data.train)
    valid = frames(cfg.data.valid) if cfg.data.valid else None
    out = here / cfg.output
    executor = None
    if cfg.dask is not None:
        from foundation.executor import Executor

        executor = Executor(scheduler=cfg.dask.scheduler, workers=cfg.dask.workers, quiet=not progress)
    try:
        train_committee(train, cfg.settings, out, valid_frames=valid, progress=progress,
                        executor=executor)
    finally:
        if executor is not None:
            executor.close()
    return out
