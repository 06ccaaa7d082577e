"""Training the SPMe -> DFN residual MLP in torch (float64)."""

from __future__ import annotations

import numpy as np

from couplers.battery import Residual


def train_residual(runs, parameter_set="Chen2020", hidden=(16, 16), seed=0,
                   epochs=1500, lr=3e-3, bound_V=0.05):
    """Fit tanh MLP to DFN - SPMe voltage over all samples of ``runs``.

    runs: list of run dicts from continuum.battery_data.run_pair (split by
    whole experiment beforehand). Returns a Residual with training ranges.
    """
    import torch

    torch.manual_seed(seed)
    X = np.concatenate([r["features"] for r in runs])
    y = np.concatenate([r["residual"] for r in runs])
    mean, scale = X.mean(0), X.std(0)
    scale[scale < 1e-12] = 1.0  # constant feature (one temperature): no scaling
    out_scale = float(np.abs(y).max()) or 1e-3
    Xt = torch.tensor((X - mean) / scale, dtype=torch.float64)
    yt = torch.tensor(y / out_scale, dtype=torch.float64)
    sizes = [X.shape[1], *hidden, 1]
    layers = []
    for k in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[k], sizes[k + 1], dtype=torch.float64))
        if k < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.mean((net(Xt)[:, 0] - yt) ** 2)
        loss.backward()
        opt.step()
        sched.step()
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    return Residual([m.weight.detach().numpy().copy() for m in lin],
                    [m.bias.detach().numpy().copy() for m in lin],
                    mean, scale, X.min(0), X.max(0), parameter_set,
                    out_scale, bound_V), net
