"""A straight-line program of products and assertions over Fr, run on numba: the witness solver's
inner loop (``circuits.solver_fast`` encodes a circuit's program into these arrays).

Values are Fr elements in the Montgomery form of :mod:`prover.kernels.field`, one row of z per
wire.  A *linear combination* (LC) l is the terms ``lc_ptr[l] .. lc_ptr[l + 1] − 1``, term t
being ``coefs[lc_coef[t]]·z[lc_wire[t]]``: ``coefs`` holds each distinct coefficient once, row 0
being 1 (an addition) and row 1 being −1 (a subtraction), any other row a product.  Op i is
``kind[i]``:

    MUL    z[out[i]] = ⟨a⟩·⟨b⟩                        (b = a: a square, its LC evaluated once)
    CHECK  ⟨a⟩·⟨b⟩ = ⟨c⟩, else stop: out[i] is the failing row
    DIV    z[out[i]] = ⟨a⟩·⟨b⟩⁻¹, 0 when ⟨b⟩ = 0   (a division hint; Fermat, ~7 µs)
    BREAK  stop and hand op i to the caller (a hint: ``circuits.solver_fast`` runs it in Python)

An LC's last value is kept by its id (a shared LC, the S-box input x of x·x and x⁴·x, costs one
evaluation).  ``run_ops(…, z, start)`` runs from op ``start`` to the first BREAK, failed CHECK or
the end and returns (op index, failing row or −1).  Plain twin: ``circuits.solver.run_program``
on Python ints (tests/circuits/test_solver_fast.py compares them).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.kernels.field import (
    FR_ZERO,
    fr_add,
    fr_eq,
    fr_from_mont,
    fr_inverse,
    fr_mul,
    fr_sub,
    fr_to_mont,
    load,
    store,
    u4,
)

__all__ = ["BREAK", "CHECK", "DIV", "MUL", "eval_lcs", "run_ops", "store_values"]

MUL, CHECK, BREAK, DIV = 0, 1, 2, 3
_INLINE = {"cache": True, "inline": "always"}


@njit(**_INLINE)
def _lc(lc, lc_ptr, lc_wire, lc_coef, coefs, z):
    acc = u4(FR_ZERO)
    for t in range(lc_ptr[lc], lc_ptr[lc + 1]):
        v = load(z, lc_wire[t])
        k = lc_coef[t]
        if k == 0:
            acc = fr_add(acc, v)
        elif k == 1:
            acc = fr_sub(acc, v)
        else:
            acc = fr_add(acc, fr_mul(v, load(coefs, k)))
    return acc


@njit(cache=True, nogil=True)
def run_ops(kind, out, a, b, c, lc_ptr, lc_wire, lc_coef, coefs, z, start):
    """Run ops from ``start`` (module docstring); returns (stop index, failing row or −1)."""
    last_id = np.int64(-1)
    last = u4(FR_ZERO)
    for i in range(start, kind.shape[0]):
        k = kind[i]
        if k == BREAK:
            return i, np.int64(-1)
        ia, ib = a[i], b[i]
        if ia == last_id:
            va = last
        else:
            va = _lc(ia, lc_ptr, lc_wire, lc_coef, coefs, z)
            last_id, last = ia, va
        if ib == ia:
            vb = va
        elif ib == last_id:
            vb = last
        else:
            vb = _lc(ib, lc_ptr, lc_wire, lc_coef, coefs, z)
            last_id, last = ib, vb
        if k == DIV:
            store(z, out[i], fr_mul(va, fr_inverse(vb)))
            continue
        prod = fr_mul(va, vb)
        if k == MUL:
            store(z, out[i], prod)
        else:
            vc = _lc(c[i], lc_ptr, lc_wire, lc_coef, coefs, z)
            if not fr_eq(prod, vc):
                return i, np.int64(out[i])
    return np.int64(kind.shape[0]), np.int64(-1)


@njit(cache=True, nogil=True)
def eval_lcs(ids, lc_ptr, lc_wire, lc_coef, coefs, z, out):
    """out[k] = ⟨ids[k]⟩, canonical limbs (a hint's arguments)."""
    for k in range(ids.shape[0]):
        store(out, k, fr_from_mont(_lc(ids[k], lc_ptr, lc_wire, lc_coef, coefs, z)))


@njit(cache=True, nogil=True)
def store_values(wires, values, z):
    """z[wires[k]] = values[k] (canonical limbs < r, into Montgomery form): a hint's outputs."""
    for k in range(wires.shape[0]):
        store(z, wires[k], fr_to_mont(load(values, k)))
