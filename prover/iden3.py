"""Readers and writers of the iden3 binary formats: circom's ``.r1cs`` and snarkjs's ``.wtns``.

Both are iden3 "binfile" containers (iden3/binfileutils): a 4-byte magic, a u32 version, a u32
section count, then sections, each a u32 type, a u64 byte size and its payload. Sections may come
in any order. All integers are little-endian; field elements are ``n8`` bytes, little-endian, in
standard (not Montgomery) form.

``.r1cs`` (iden3/r1csfile, ``doc/r1cs_bin_format.md``; magic ``r1cs``, version 1):
  section 1, header: n8 u32, prime n8 bytes, nWires u32, nPubOut u32, nPubIn u32, nPrvIn u32,
  nLabels u64, mConstraints u32.
  section 2, constraints: per constraint the linear combinations A, B, C, each a u32 term count
  then (wireId u32, coefficient n8 bytes) per term.
  section 3, wire → label map: nWires u64 label ids. Other sections (custom gates) are skipped.

``.wtns`` (snarkjs ``src/wtns_utils.js``; magic ``wtns``, version 2):
  section 1, header: n8 u32, prime n8 bytes, nWitness u32; section 2: nWitness values.

Every malformed input raises ``FormatError`` naming the file and what is wrong in one line.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from prover.errors import FormatError, R1CSError
from prover.fields import N8, R
from prover.r1cs import R1CS, SparseMatrix, ints_to_limbs, limbs_below, limbs_to_ints

R1CS_MAGIC = b"r1cs"
WTNS_MAGIC = b"wtns"
R1CS_VERSION = 1
WTNS_VERSION = 2
_R_BYTES = R.to_bytes(N8, "little")


def binfile_sections(
    data: bytes, magic: bytes, versions: tuple[int, ...], name: str
) -> dict[int, tuple[int, int]]:
    """Parse the binfile container: section type → (payload offset, payload size).

    ``data`` is anything sliceable with a length (bytes, an mmap); every section must fit in it.
    """
    if len(data) < 12:
        raise FormatError(f"{name}: file is {len(data)} bytes, too short for an iden3 header")
    if data[:4] != magic:
        raise FormatError(f"{name}: wrong magic {data[:4]!r}, expected {magic!r}")
    version, n_sections = struct.unpack_from("<II", data, 4)
    if version not in versions:
        raise FormatError(f"{name}: unsupported {magic.decode()} version {version}")
    sections: dict[int, tuple[int, int]] = {}
    off = 12
    for k in range(n_sections):
        if off + 12 > len(data):
            raise FormatError(f"{name}: truncated at section {k + 1} of {n_sections} header")
        stype, size = struct.unpack_from("<IQ", data, off)
        off += 12
        if off + size > len(data):
            raise FormatError(
                f"{name}: truncated: section {stype} needs {size} bytes, {len(data) - off} left"
            )
        if stype in sections:
            raise FormatError(f"{name}: section type {stype} appears twice")
        sections[stype] = (off, size)
        off += size
    if off != len(data):
        raise FormatError(f"{name}: {len(data) - off} trailing bytes after the last section")
    return sections


def section_bytes(
    sections: dict[int, tuple[int, int]], stype: int, what: str, name: str
) -> tuple[int, int]:
    if stype not in sections:
        raise FormatError(f"{name}: missing section {stype} ({what})")
    return sections[stype]


def _check_field(data: bytes, off: int, name: str) -> int:
    """Check n8 and the prime at ``off``; return the offset just after them."""
    (n8,) = struct.unpack_from("<I", data, off)
    if n8 != N8:
        raise FormatError(f"{name}: field elements are {n8} bytes, expected {N8} (BN254)")
    if data[off + 4 : off + 4 + N8] != _R_BYTES:
        prime = int.from_bytes(data[off + 4 : off + 4 + N8], "little")
        raise FormatError(f"{name}: prime {prime} is not the BN254 scalar field order")
    return off + 4 + N8


def _field_values(raw: bytes, name: str, what: str) -> tuple[np.ndarray, list[int]]:
    """Bytes of consecutive n8-byte elements → (limbs, ints), rejecting values ≥ r."""
    limbs = np.frombuffer(raw, dtype="<u8").reshape(-1, 4).astype(np.uint64)
    values = limbs_to_ints(limbs)
    for i, v in enumerate(values):
        if v >= R:
            raise FormatError(f"{name}: {what} {i} is {v}, not a canonical field element (< r)")
    return limbs, values


def _parse_constraints(
    data: bytes, off: int, size: int, m: int, n_wires: int, name: str
) -> tuple[SparseMatrix, SparseMatrix, SparseMatrix]:
    """Section 2 → CSR matrices A, B, C. One Python step per linear combination, numpy per term."""
    end = off + size
    term = 4 + N8
    if 3 * 4 * m > size:  # each of the 3m linear combinations takes at least its 4-byte count
        raise FormatError(
            f"{name}: the header's {m} constraints need at least {12 * m} bytes, the constraints "
            f"section has {size}"
        )
    starts = np.empty(3 * m, dtype=np.int64)
    counts = np.empty(3 * m, dtype=np.int64)
    unpack = struct.Struct("<I").unpack_from
    pos = off
    for k in range(3 * m):
        if pos + 4 > end:
            raise FormatError(f"{name}: constraints section ends inside constraint {k // 3}")
        (n,) = unpack(data, pos)
        starts[k] = pos + 4
        counts[k] = n
        pos += 4 + n * term
        if pos > end:
            raise FormatError(f"{name}: constraints section ends inside constraint {k // 3}")
    if pos != end:
        raise FormatError(
            f"{name}: constraints section has {end - pos} bytes after {m} constraints"
        )
    buf = np.frombuffer(data, dtype=np.uint8)
    mats = []
    for which in range(3):
        c = counts[which::3]
        s = starts[which::3]
        indptr = np.zeros(m + 1, dtype=np.int64)
        np.cumsum(c, out=indptr[1:])
        nnz = int(indptr[-1])
        # offset of term t of row i = starts[i] + (t - indptr[i]) * term
        term_off = np.repeat(s - indptr[:-1] * term, c) + np.arange(nnz, dtype=np.int64) * term
        wires = buf[term_off[:, None] + np.arange(4)].copy().view("<u4").reshape(nnz)
        raw = buf[term_off[:, None] + np.arange(4, term)].tobytes()
        _, coeffs = _field_values(raw, name, "coefficient")
        indices = wires.astype(np.int64)
        if nnz and int(indices.max()) >= n_wires:
            raise FormatError(
                f"{name}: a constraint refers to wire {int(indices.max())} ≥ nWires {n_wires}"
            )
        mats.append(SparseMatrix(indptr, indices, tuple(coeffs)))
    return mats[0], mats[1], mats[2]


def read_r1cs(path: str | Path) -> R1CS:
    """Read a circom ``.r1cs`` file (BN254 only) into an ``R1CS``."""
    name = str(path)
    data = Path(path).read_bytes()
    sections = binfile_sections(data, R1CS_MAGIC, (R1CS_VERSION,), name)
    hoff, hsize = section_bytes(sections, 1, "header", name)
    if hsize != 4 + N8 + 4 * 4 + 8 + 4:
        raise FormatError(f"{name}: header section is {hsize} bytes, expected {4 + N8 + 28}")
    pos = _check_field(data, hoff, name)
    n_wires, n_pub_out, n_pub_in, n_prv_in, n_labels, m = struct.unpack_from("<IIIIQI", data, pos)
    coff, csize = section_bytes(sections, 2, "constraints", name)
    a, b, c = _parse_constraints(data, coff, csize, m, n_wires, name)
    if 3 in sections and sections[3][1] != 8 * n_wires:
        raise FormatError(
            f"{name}: wire map section is {sections[3][1]} bytes, expected {8 * n_wires}"
        )
    try:
        return R1CS(n_wires, n_pub_out, n_pub_in, n_prv_in, a, b, c, n_labels=n_labels)
    except R1CSError as exc:
        raise FormatError(f"{name}: {exc}") from None


def _section(stype: int, payload: bytes) -> bytes:
    return struct.pack("<IQ", stype, len(payload)) + payload


def _lc_bytes(mat: SparseMatrix, limbs: np.ndarray, i: int) -> bytes:
    lo, hi = int(mat.indptr[i]), int(mat.indptr[i + 1])
    rec = np.zeros(hi - lo, dtype=[("w", "<u4"), ("c", "<u8", (4,))])
    rec["w"] = mat.indices[lo:hi]
    rec["c"] = limbs[lo:hi]
    return struct.pack("<I", hi - lo) + rec.tobytes()


def write_r1cs(r1cs: R1CS, path: str | Path) -> None:
    """Write ``r1cs`` as a circom ``.r1cs`` file (sections 1, 2 and an identity wire map 3)."""
    n_labels = max(r1cs.n_labels, r1cs.n_wires)
    header = (
        struct.pack("<I", N8)
        + _R_BYTES
        + struct.pack(
            "<IIIIQI",
            r1cs.n_wires,
            r1cs.n_pub_out,
            r1cs.n_pub_in,
            r1cs.n_prv_in,
            n_labels,
            r1cs.n_constraints,
        )
    )
    mats = (r1cs.a, r1cs.b, r1cs.c)
    limbs = [mat.coeff_limbs() for mat in mats]
    body = b"".join(
        _lc_bytes(mat, lim, i)
        for i in range(r1cs.n_constraints)
        for mat, lim in zip(mats, limbs, strict=True)
    )
    wire_map = np.arange(r1cs.n_wires, dtype="<u8").tobytes()
    out = R1CS_MAGIC + struct.pack("<II", R1CS_VERSION, 3)
    out += _section(1, header) + _section(2, body) + _section(3, wire_map)
    Path(path).write_bytes(out)


def read_wtns(path: str | Path) -> list[int]:
    """Read a snarkjs ``.wtns`` file (BN254 only) into the list of wire values."""
    return limbs_to_ints(read_wtns_limbs(path))


def read_wtns_limbs(path: str | Path) -> np.ndarray:
    """Read a snarkjs ``.wtns`` file as canonical (n, 4) uint64 limbs (no Python ints: the
    prover's fast path). Same checks and errors as ``read_wtns``."""
    name = str(path)
    data = Path(path).read_bytes()
    sections = binfile_sections(data, WTNS_MAGIC, (1, WTNS_VERSION), name)
    hoff, hsize = section_bytes(sections, 1, "header", name)
    if hsize != 4 + N8 + 4:
        raise FormatError(f"{name}: header section is {hsize} bytes, expected {4 + N8 + 4}")
    pos = _check_field(data, hoff, name)
    (n_witness,) = struct.unpack_from("<I", data, pos)
    woff, wsize = section_bytes(sections, 2, "witness values", name)
    if wsize != n_witness * N8:
        raise FormatError(
            f"{name}: witness section is {wsize} bytes, header says {n_witness} values × {N8}"
        )
    limbs = np.frombuffer(data, dtype="<u8", count=4 * n_witness, offset=woff)
    limbs = limbs.reshape(n_witness, 4).astype(np.uint64)
    bad = np.flatnonzero(~limbs_below(limbs, R))
    if bad.size:
        i = int(bad[0])
        raise FormatError(
            f"{name}: witness value {i} is {limbs_to_ints(limbs[i : i + 1])[0]}, "
            "not a canonical field element (< r)"
        )
    return limbs


def write_wtns(witness: Sequence[int], path: str | Path) -> None:
    """Write wire values as a snarkjs ``.wtns`` file (version 2)."""
    values = [int(v) for v in witness]
    for i, v in enumerate(values):
        if not 0 <= v < R:
            raise FormatError(f"{path}: witness value {i} is {v}, not in [0, r)")
    header = struct.pack("<I", N8) + _R_BYTES + struct.pack("<I", len(values))
    body = ints_to_limbs(values).astype("<u8").tobytes() if values else b""
    out = WTNS_MAGIC + struct.pack("<II", WTNS_VERSION, 2) + _section(1, header) + _section(2, body)
    Path(path).write_bytes(out)
