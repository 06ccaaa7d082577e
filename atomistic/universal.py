"""A universal potential as a tool: CHGNet, whose weights ship inside its wheel.

``universal_calculator()`` is an ASE calculator that loads offline (CHGNet
0.3.0, trained on the Materials Project trajectories, PBE/PBE+U, 89 elements).
It is for work where DFT is too slow and any plausible physics will do:

- generating candidate configurations for DFT labelling (MD of water, ions
  and electrodes that does not fly apart, unlike an untrained committee);
- a cheap, realistic reference in tests of code paths;
- a low level or a prior.

It is judged against GPAW, never the other way round: an accuracy claim about
a learned potential is made against DFT labels, not against CHGNet.

Why CHGNet and not SevenNet-0: SevenNet needs e3nn >= 0.5 while the MACE peer
of the benchmarks (``[bench]`` extra) pins e3nn 0.4.4, and CHGNet needs no e3nn,
so the universal potential and the MACE comparison share one environment.
Installed by the ``universal`` extra (part of ``all``).
"""
from __future__ import annotations

import warnings

from ._engines import import_engine
from .errors import InputError

__all__ = ["UNIVERSAL_MODELS", "universal_calculator"]

#: model name -> the CHGNet version whose weights are in the wheel
UNIVERSAL_MODELS = {"chgnet-0.3.0": "0.3.0", "chgnet-0.2.0": "0.2.0"}

_CACHE: dict = {}


def universal_calculator(model: str = "chgnet-0.3.0", device: str = "cpu"):
    """An ASE calculator for the universal potential ``model`` (energy, forces, stress).

    The network is loaded once per process and shared by the calculators returned.
    """
    if model not in UNIVERSAL_MODELS:
        raise InputError(f"model: {model!r}: expected one of {sorted(UNIVERSAL_MODELS)}")
    if device not in ("cpu", "cuda"):
        raise InputError(f"device: {device!r}: expected 'cpu' or 'cuda'")
    with warnings.catch_warnings():  # chgnet's nvidia_smi has invalid string escapes
        warnings.simplefilter("ignore", SyntaxWarning)
        import_engine("chgnet")
        from chgnet.model import CHGNet
        from chgnet.model.dynamics import CHGNetCalculator

    key = (model, device)
    if key not in _CACHE:
        _CACHE[key] = CHGNet.load(model_name=UNIVERSAL_MODELS[model], use_device=device,
                                  verbose=False)
    return CHGNetCalculator(model=_CACHE[key], use_device=device)
