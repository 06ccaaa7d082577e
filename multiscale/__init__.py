"""multiscale: the user-facing floor of the toolkit.

Run configs, the ``multiscale`` command line, pipelines, run directories,
reports and Dask execution live here. Importing this package is cheap: no
physics engine (GPAW, dolfinx, PyBaMM, torch) is imported until used.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("multiscale")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
