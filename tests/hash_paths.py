"""The Poseidon backends, as pytest parameters: each fast backend this machine runs (the others
skip with the reason), and REFERENCE, the twin they are compared with.

    @pytest.mark.parametrize("name", FAST)
    def test_x(name): fast = get_backend(name); ...
"""

from __future__ import annotations

import pytest

from prover.poseidon_engine import available_backends

#: every numba backend the code knows, fastest first
FAST_NAMES = ("ifma", "avx2", "scalar")


def _param(name: str) -> object:
    runs = name in available_backends()
    reason = f"this machine cannot run the {name} backend"
    return pytest.param(name, id=name, marks=pytest.mark.skipif(not runs, reason=reason))


#: the fast backends (skipped where the CPU lacks their instructions)
FAST = [_param(name) for name in FAST_NAMES]
#: every backend, REFERENCE included
ALL = [*FAST, pytest.param("reference", id="reference")]
