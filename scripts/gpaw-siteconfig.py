"""GPAW build configuration used by scripts/setup-env.sh (via GPAW_CONFIG).

Links GPAW's C extension against the OpenBLAS and MPICH that the FEniCSx
wheel (dolfinx-solver-real) ships, so that GPAW and dolfinx can be imported
into one process in either order. See ../README.md ("Why GPAW is built
from source").
"""
import os

_lib = os.environ["MULTISCALE_SOLVER_LIB"]  # <site-packages>/dolfinx_solver/lib

compiler = "mpicxx"  # GPAW 26 compiles C++17 sources; mpicc cannot
mpi = True
fftw = False
scalapack = False
# The wheel ships only the versioned libopenblas.so.0, so name it exactly
# (GNU ld's -l:FILE); the runtime path then resolves to that same file.
libraries = ["xc", ":libopenblas.so.0"]
# Fail the build rather than silently compile GPAW without BLAS or libxc.
noblas = False
nolibxc = False
library_dirs = [_lib]
runtime_library_dirs = [_lib]
