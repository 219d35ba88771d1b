"""Start numba without importing SciPy's linear algebra: a third of a second off every process.

The first time numba compiles or loads a cached function it imports its array-math registry,
``numba.np.arraymath``, which probes for BLAS by importing ``scipy.linalg.cython_blas``. With SciPy
installed that import pulls in ``scipy.linalg`` and, through SciPy's array-API layer,
``numpy.f2py``: 0.15–0.35 s measured here, in a prover whose whole proof of a 2^16 circuit takes
about a second. No kernel here (nor in this repository) uses ``np.dot`` / ``np.linalg`` in numba
code, so :func:`load_array_math` imports the registry with ``scipy.linalg`` hidden: numba records
that no BLAS is available (``_HAVE_BLAS = False``; njit code calling ``np.dot`` would then fail to
compile with numba's "scipy 0.16+ is required" error) and SciPy stays importable as usual for
everyone else. Nothing happens when SciPy's linear algebra or the registry is already loaded, or
when ``ZKR_NUMBA_BLAS=1`` asks for numba's usual probe.

Reference: numba ``numba/np/arraymath.py`` (``_check_blas``), ``numba/np/linalg.py``
(``ensure_blas``).
"""

from __future__ import annotations

import importlib.abc
import os
import sys

HIDDEN = "scipy.linalg"
ENV_BLAS = "ZKR_NUMBA_BLAS"


class _Hide(importlib.abc.MetaPathFinder):
    """A finder that makes ``scipy.linalg`` (and its submodules) fail to import."""

    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        if fullname == HIDDEN or fullname.startswith(HIDDEN + "."):
            raise ImportError(f"{fullname} hidden while numba starts (prover.kernels.numba_start)")
        return None


def load_array_math() -> bool:
    """Import ``numba.np.arraymath`` with ``scipy.linalg`` hidden; True if it was done here."""
    if os.environ.get(ENV_BLAS) == "1":
        return False
    if "numba.np.arraymath" in sys.modules or HIDDEN in sys.modules:
        return False
    finder = _Hide()
    sys.meta_path.insert(0, finder)
    try:
        importlib.import_module("numba.np.arraymath")
    finally:
        sys.meta_path.remove(finder)
    return True
