"""snarkjs's Groth16 ``.zkey``: read one to prove with, write our setup as one.

The layout is snarkjs 0.7's (``src/zkey_new.js``, ``src/zkey_utils.js``; read the same way by
rapidsnark ``src/zkey_utils.cpp`` and ``src/groth16.cpp``), an iden3 binfile (magic ``zkey``,
version 1, ten sections; see :mod:`prover.iden3` for the container). All integers are
little-endian; field elements are 32 bytes in Montgomery form (x·2^256 mod p, "LEM"); points are
affine (x, y) with the point at infinity as all zeros, a G2 coordinate as c0 then c1:

====  ==========================================================================================
 1    protocol: u32 = 1 (Groth16)
 2    n8q, q, n8r, r, nVars, nPublic, domainSize (u32 each but the primes), then α·G1, β·G1,
      β·G2, γ·G2, δ·G1, δ·G2
 3    IC: (nPublic + 1) G1 points — ``gamma_abc_g1``
 4    nCoefs: u32, then records (matrix u32: 0 = A, 1 = B; constraint u32; signal u32; value
      c·R² mod r, 32 bytes): A with the binding rows m + i (wire i, coefficient 1), and B
 5    A: nVars G1 points u_j(τ)·G1 (infinity where u_j(τ) = 0)
 6    B1: nVars G1 points v_j(τ)·G1;  7  B2: nVars G2 points v_j(τ)·G2
 8    C: nVars − nPublic − 1 G1 points (β u_j(τ) + α v_j(τ) + w_j(τ))/δ·G1 — ``l_g1``
 9    H: domainSize G1 points L^{(2N)}_{2i+1}(τ)/δ·G1 (:func:`prover.qap.quotient_evaluations`)
10    contributions: a 64-byte hash, u32 count, then the phase-2 contributions
====  ==========================================================================================

Since our kernels hold points and Fr elements in the same Montgomery limbs, ``read_zkey`` maps the
file and hands its point sections and coefficient records (:mod:`prover.kernels.coefs`) to the
prover as read-only views, without conversion. Every
size is checked against the header and the file length before anything is allocated; a file that
does not fit raises ``FormatError`` with one line. The bulk points are not checked to be on the
curve (as snarkjs and rapidsnark do not); the header and IC points are.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
from pathlib import Path

import numpy as np

from prover.engine import (
    G1Int,
    G2Int,
    g1_from_ints,
    g1_to_ints,
    g2_from_ints,
    g2_to_ints,
    get_engine,
)
from prover.errors import FormatError
from prover.fields import N8, Q, R
from prover.iden3 import binfile_sections, section_bytes
from prover.keys import ProvingKey, VerifyingKey
from prover.qap import QapMatrices
from prover.r1cs import limbs_below

MAGIC = b"zkey"
VERSION = 1
GROTH16 = 1
G1_BYTES, G2_BYTES = 2 * N8, 4 * N8
HEADER_BYTES = 4 + N8 + 4 + N8 + 12 + 3 * G1_BYTES + 3 * G2_BYTES
COEF_BYTES = 12 + N8
#: Sections 5–9 in file order: (section, key field, G2?).
POINT_SECTIONS = ((5, "a_g1", False), (6, "b_g1", False), (7, "b_g2", True), (8, "l_g1", False))


# ------------------------------------------------------------------ reading


def _map(path: Path) -> mmap.mmap:
    try:
        with path.open("rb") as f:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except ValueError:  # an empty file cannot be mapped
        raise FormatError(f"{path}: file is empty, not a zkey") from None


def _on_curve_g1(p: G1Int) -> bool:
    return p is None or (p[1] * p[1] - p[0] ** 3 - 3) % Q == 0


def _on_curve_g2(p: G2Int) -> bool:
    """y² = x³ + 3/(9 + u) over Fq2 = Fq[u]/(u² + 1), with b' = 3/(9 + u) written out."""
    if p is None:
        return True
    (x0, x1), (y0, y1) = p
    b0, b1 = 3 * 9 * pow(82, -1, Q) % Q, -3 * pow(82, -1, Q) % Q  # 3/(9+u) = 3(9−u)/82
    xx0, xx1 = (x0 * x0 - x1 * x1) % Q, 2 * x0 * x1 % Q
    xxx0, xxx1 = (xx0 * x0 - xx1 * x1) % Q, (xx0 * x1 + xx1 * x0) % Q
    yy0, yy1 = (y0 * y0 - y1 * y1) % Q, 2 * y0 * y1 % Q
    return (yy0 - xxx0 - b0) % Q == 0 and (yy1 - xxx1 - b1) % Q == 0


def _points(buf, off: int, count: int, g2: bool) -> np.ndarray:
    shape = (count, 2, 2, 4) if g2 else (count, 2, 4)
    return np.frombuffer(buf, dtype="<u8", count=count * (16 if g2 else 8), offset=off).reshape(
        shape
    )


def _header_point(buf, off: int, g2: bool, what: str, name: str):
    arr = _points(buf, off, 1, g2)
    if not np.all(limbs_below(arr.reshape(-1, 4), Q)):
        raise FormatError(f"{name}: {what} has a coordinate ≥ q")
    p = (g2_to_ints if g2 else g1_to_ints)(np.ascontiguousarray(arr, dtype=np.uint64))[0]
    if not (_on_curve_g2 if g2 else _on_curve_g1)(p):
        raise FormatError(f"{name}: {what} is not on the curve")
    return p


def _check_size(sections: dict, stype: int, expected: int, what: str, name: str) -> int:
    off, size = section_bytes(sections, stype, what, name)
    if size != expected:
        raise FormatError(f"{name}: section {stype} ({what}) is {size} bytes, expected {expected}")
    return off


def _records(buf, off: int, size: int, n_rows: int, n_wires: int, name: str) -> np.ndarray:
    """Section 4 as an (nCoefs, 11) uint32 view of the file, every record checked (one pass in
    the engine): matrix 0/1, row < domainSize, signal < nVars, coefficient < r."""
    if size < 4:
        raise FormatError(f"{name}: section 4 is {size} bytes, too short for its count")
    (n_coefs,) = struct.unpack_from("<I", buf, off)
    if size != 4 + n_coefs * COEF_BYTES:
        raise FormatError(
            f"{name}: section 4 is {size} bytes, {n_coefs} coefficients need "
            f"{4 + n_coefs * COEF_BYTES}"
        )
    rec = np.frombuffer(buf, dtype="<u4", count=11 * n_coefs, offset=off + 4).reshape(n_coefs, 11)
    bad = get_engine().check_records(rec, n_rows, n_wires)
    if bad >= 0:
        m, row, wire = (int(x) for x in rec[bad, :3])
        raise FormatError(
            f"{name}: coefficient {bad} (matrix {m}, row {row}, signal {wire}) is not for A/B, a "
            f"row < {n_rows} and a signal < {n_wires}, or not a canonical Fr element"
        )
    return rec


def read_zkey(path: str | Path) -> ProvingKey:
    """The proving key in a snarkjs Groth16 ``.zkey`` (BN254), points mapped from the file.

    ``insecure_single_party`` is True when the file records no phase-2 contribution (snarkjs's
    ``zkey new`` output, or ours): then δ is known to whoever made it.
    """
    path = Path(path)
    name = str(path)
    buf = _map(path)
    sections = binfile_sections(buf, MAGIC, (VERSION,), name)
    off = _check_size(sections, 1, 4, "protocol", name)
    (protocol,) = struct.unpack_from("<I", buf, off)
    if protocol != GROTH16:
        raise FormatError(f"{name}: not a Groth16 zkey (protocol {protocol})")
    hoff = _check_size(sections, 2, HEADER_BYTES, "Groth16 header", name)
    n8q, n8r = struct.unpack_from("<I", buf, hoff)[0], struct.unpack_from("<I", buf, hoff + 36)[0]
    q = int.from_bytes(buf[hoff + 4 : hoff + 36], "little")
    r = int.from_bytes(buf[hoff + 40 : hoff + 72], "little")
    if (n8q, q, n8r, r) != (N8, Q, N8, R):
        raise FormatError(f"{name}: the zkey is not for BN254 (bn128): n8q={n8q}, n8r={n8r}")
    n_wires, n_public, domain = struct.unpack_from("<III", buf, hoff + 72)
    log_n = domain.bit_length() - 1
    if domain < 2 or domain != 1 << log_n or log_n > 27:
        raise FormatError(f"{name}: domainSize {domain} is not a power of two in [2, 2^27]")
    if n_wires < n_public + 1:
        raise FormatError(f"{name}: {n_wires} signals cannot hold 1 + {n_public} public ones")
    pos = hoff + 84
    pts = []
    for what, g2 in (("alpha_g1", 0), ("beta_g1", 0), ("beta_g2", 1), ("gamma_g2", 1),
                     ("delta_g1", 0), ("delta_g2", 1)):  # fmt: skip
        pts.append(_header_point(buf, pos, bool(g2), what, name))
        pos += G2_BYTES if g2 else G1_BYTES
    alpha_g1, beta_g1, beta_g2, gamma_g2, delta_g1, delta_g2 = pts
    ic_off = _check_size(sections, 3, (n_public + 1) * G1_BYTES, "IC", name)
    ic = tuple(
        _header_point(buf, ic_off + i * G1_BYTES, False, f"IC[{i}]", name)
        for i in range(n_public + 1)
    )
    counts = {5: n_wires, 6: n_wires, 7: n_wires, 8: n_wires - n_public - 1, 9: domain}
    arrays: dict[str, np.ndarray] = {}
    for stype, field, g2 in (*POINT_SECTIONS, (9, "h_g1", False)):
        size = counts[stype] * (G2_BYTES if g2 else G1_BYTES)
        off = _check_size(sections, stype, size, field, name)
        arrays[field] = _points(buf, off, counts[stype], g2)
    coff, csize = section_bytes(sections, 4, "coefficients", name)
    records = _records(buf, coff, csize, domain, n_wires, name)
    contributions = 0
    if 10 in sections and sections[10][1] >= 68:
        contributions = struct.unpack_from("<I", buf, sections[10][0] + 64)[0]
    # The wires with a point (u_j(τ) ≠ 0, v_j(τ) ≠ 0), as our setup keeps; the sections stay
    # whole (by_wire) and the MSMs take these rows of them.
    a_wires = np.flatnonzero(arrays["a_g1"].reshape(n_wires, -1).any(axis=1))
    b_wires = np.flatnonzero(arrays["b_g2"].reshape(n_wires, -1).any(axis=1))
    return ProvingKey(
        VerifyingKey(alpha_g1, beta_g2, gamma_g2, delta_g2, ic),
        beta_g1,
        delta_g1,
        a_g1=arrays["a_g1"],
        b_g1=arrays["b_g1"],
        b_g2=arrays["b_g2"],
        l_g1=arrays["l_g1"],
        h_g1=arrays["h_g1"],
        a_wires=a_wires.astype(np.int64),
        b_wires=b_wires.astype(np.int64),
        qap=QapMatrices(n_wires, n_public, log_n, records),
        insecure_single_party=contributions == 0,
        by_wire=True,
    )


# ------------------------------------------------------------------ writing


def _section(stype: int, payload: bytes) -> bytes:
    return struct.pack("<IQ", stype, len(payload)) + payload


def _full(pk: ProvingKey, name: str, n: int) -> np.ndarray:
    """The query ``name`` with one row per wire (infinity where the wire has no point)."""
    points = getattr(pk, name)
    if pk.by_wire:
        return np.ascontiguousarray(points, dtype="<u8")
    wires = pk.a_wires if name == "a_g1" else pk.b_wires
    out = np.zeros((n, *points.shape[1:]), dtype="<u8")
    out[wires] = points
    return out


def write_zkey(pk: ProvingKey, path: str | Path) -> None:
    """Write ``pk`` as a snarkjs Groth16 ``.zkey`` that snarkjs and rapidsnark prove with.

    Section 10 records no contribution; its hash is a BLAKE2b-512 of sections 2–9 as written (not
    snarkjs's circuit hash, which needs the key before phase 2), so ``snarkjs zkey verify`` does
    not apply to it. The key is the local setup's: insecure unless made by a ceremony.
    """
    qap, vk = pk.qap, pk.vk
    n, ell, domain = qap.n_wires, qap.n_public, 1 << qap.log_domain
    header = b"".join(
        (
            struct.pack("<I", N8), Q.to_bytes(N8, "little"),
            struct.pack("<I", N8), R.to_bytes(N8, "little"),
            struct.pack("<III", n, ell, domain),
            g1_from_ints([vk.alpha_g1, pk.beta_g1]).astype("<u8").tobytes(),
            g2_from_ints([vk.beta_g2, vk.gamma_g2]).astype("<u8").tobytes(),
            g1_from_ints([pk.delta_g1]).astype("<u8").tobytes(),
            g2_from_ints([vk.delta_g2]).astype("<u8").tobytes(),
        )
    )  # fmt: skip
    body = [
        (2, header),
        (3, g1_from_ints(list(vk.gamma_abc_g1)).astype("<u8").tobytes()),
        (
            4,
            struct.pack("<I", qap.coefs.shape[0])
            + np.ascontiguousarray(qap.coefs, "<u4").tobytes(),
        ),
        (5, _full(pk, "a_g1", n).tobytes()),
        (6, _full(pk, "b_g1", n).tobytes()),
        (7, _full(pk, "b_g2", n).tobytes()),
        (8, np.ascontiguousarray(pk.l_g1, dtype="<u8").tobytes()),
        (9, np.ascontiguousarray(pk.h_g1, dtype="<u8").tobytes()),
    ]
    digest = hashlib.blake2b(digest_size=64)
    for _, payload in body:
        digest.update(payload)
    contributions = digest.digest() + struct.pack("<I", 0)
    sections = [(1, struct.pack("<I", GROTH16)), *body, (10, contributions)]
    with Path(path).open("wb") as f:
        f.write(MAGIC + struct.pack("<II", VERSION, len(sections)))
        for stype, payload in sections:
            f.write(_section(stype, payload))


def load_key(path: str | Path) -> ProvingKey:
    """A proving key from ``path``: a snarkjs ``.zkey`` file, or one of our key directories."""
    path = Path(path)
    if path.is_file():
        return read_zkey(path)
    from prover.keys import load_proving_key

    return load_proving_key(path)
