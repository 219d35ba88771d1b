"""Groth16 keys: the ``ProvingKey`` / ``VerifyingKey`` data and the proving key's on-disk format.

Names follow Groth 2016 ("On the Size of Pairing-based Non-interactive Arguments", §3.2) and
arkworks' ``ProvingKey``: for wires j (u_j, v_j, w_j the QAP polynomials, see :mod:`prover.qap`),

    a_g1[k] = u_j(τ)·G1                                        for j = a_wires[k]
    b_g1[k] = v_j(τ)·G1,  b_g2[k] = v_j(τ)·G2                  for j = b_wires[k]
    l_g1[j] = (β u_j(τ) + α v_j(τ) + w_j(τ))/δ · G1           for private wires j > ℓ
    h_g1[i] = L^{(2N)}_{2i+1}(τ)/δ · G1                        for i = 0 … N − 1
    vk.gamma_abc_g1[j] = (β u_j(τ) + α v_j(τ) + w_j(τ))/γ · G1  for public wires j ≤ ℓ ("IC")

plus α·G1, β·G1, β·G2, γ·G2, δ·G1, δ·G2, and the matrices the prover evaluates (``qap``: A with
the binding rows and B, as in a snarkjs zkey). h_g1 is snarkjs's H query: the Lagrange basis of
the 2N-th roots of unity at the odd points (:func:`prover.qap.quotient_evaluations`), so a key
made here and a snarkjs ``.zkey`` (:mod:`prover.zkey`) hold the same arrays.
The A and B queries use only the wires whose u_j(τ) (resp. v_j(τ)) is not zero (``a_wires``,
``b_wires``): a wire absent from B costs nothing in the G2 MSM. Our keys store just those rows; a
key read from a ``.zkey`` keeps the file's sections whole, one row per wire (``by_wire``), and the
MSMs pick the rows in place.

On disk a proving key is a directory:

- ``header.json``: format name and version, ``insecure_single_party``, the R1CS digest
  (``R1CS.digest()``), sizes, the individual points (decimal strings), and for every array its
  shape and SHA-256; the header carries a SHA-256 of its own canonical JSON;
- one ``.npy`` per array (point arrays in the kernels' affine Montgomery layout, matrices as CSR),
  memory-mapped by ``load_proving_key``;
- ``verification_key.json`` in snarkjs's form (:mod:`prover.artifacts`).

Format version 2 (the H query above); a version-1 directory (H as τ^i Z_H(τ)/δ) is refused with a
one-line ``FormatError`` asking to run the setup again.

A missing, truncated or altered file is a ``FormatError``; a key for another circuit is a
``KeyMismatchError`` — each with one line naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from protocol import jsonio
from prover.engine import G1Int, G2Int, get_engine
from prover.errors import FormatError, KeyMismatchError
from prover.fields import Q
from prover.qap import ConstraintMatrices, Csr, QapMatrices, qap_matrices
from prover.r1cs import R1CS

FORMAT = "zkrollup-groth16-proving-key"
VERSION = 2
HEADER = "header.json"
POINT_ARRAYS = ("a_g1", "b_g1", "b_g2", "l_g1", "h_g1")
INDEX_ARRAYS = ("a_wires", "b_wires")
MATRIX_ARRAYS = tuple(f"{m}_{part}" for m in "abc" for part in ("indptr", "indices", "coeffs"))


@dataclass(frozen=True)
class VerifyingKey:
    """α·G1, β·G2, γ·G2, δ·G2 and ``gamma_abc_g1`` = snarkjs's IC_0 … IC_ℓ (affine ints; None is
    the point at infinity). The names are ``verifier.groth16.VerifyingKey``'s."""

    alpha_g1: G1Int
    beta_g2: G2Int
    gamma_g2: G2Int
    delta_g2: G2Int
    gamma_abc_g1: tuple[G1Int, ...]

    @property
    def ic(self) -> tuple[G1Int, ...]:
        """snarkjs's name for ``gamma_abc_g1``."""
        return self.gamma_abc_g1

    @property
    def n_public(self) -> int:
        return len(self.gamma_abc_g1) - 1


@dataclass(frozen=True, eq=False)
class ProvingKey:
    """Everything ``prove`` needs; arrays may be read-only memory maps (see module docstring).

    ``matrices`` (A, B, C of the R1CS) and ``r1cs_digest`` are known for keys made by our setup;
    a snarkjs ``.zkey`` has neither (it holds A and B only, in ``qap``).
    """

    vk: VerifyingKey
    beta_g1: G1Int
    delta_g1: G1Int
    a_g1: np.ndarray
    b_g1: np.ndarray
    b_g2: np.ndarray
    l_g1: np.ndarray
    h_g1: np.ndarray
    a_wires: np.ndarray  # int64: the wire of each row of a_g1 (of each point used, if by_wire)
    b_wires: np.ndarray  # int64: the wire of each row of b_g1 / b_g2 (likewise)
    qap: QapMatrices
    matrices: ConstraintMatrices | None = None
    r1cs_digest: str | None = None
    #: Made by a single party (our local setup, or a zkey with no phase-2 contribution): whoever
    #: made it knows the toxic waste. Never use it for real value.
    insecure_single_party: bool = True
    #: a_g1, b_g1 and b_g2 hold one row per wire, infinity where the wire has no term (a
    #: ``.zkey``'s sections, used as mapped), instead of one row per a_wires / b_wires entry;
    #: ``prove`` then picks the rows with the MSM's ``rows`` instead of copying them.
    by_wire: bool = False

    def wire_points(self, name: str) -> np.ndarray:
        """The points of ``name`` ("a_g1", "b_g1" or "b_g2") for a_wires / b_wires in order,
        whatever the layout (a copy when ``by_wire``)."""
        points = getattr(self, name)
        return points[self.a_wires if name == "a_g1" else self.b_wires] if self.by_wire else points

    @property
    def n_wires(self) -> int:
        return self.qap.n_wires

    @property
    def n_public(self) -> int:
        return self.qap.n_public

    def check_circuit(self, r1cs: R1CS) -> None:
        """Raise ``KeyMismatchError`` unless this key was made for ``r1cs`` (by digest when the key
        has one, else by the sizes a zkey records)."""
        if self.r1cs_digest is None:
            if (r1cs.n_wires, r1cs.n_public) != (self.n_wires, self.n_public) or (
                r1cs.n_constraints + r1cs.n_public + 1 > 1 << self.qap.log_domain
            ):
                raise KeyMismatchError(
                    f"proving key has {self.n_wires} wires and {self.n_public} public signals, "
                    f"the circuit {r1cs.n_wires} and {r1cs.n_public}"
                )
            return
        digest = r1cs.digest()
        if digest != self.r1cs_digest:
            raise KeyMismatchError(
                f"proving key is for circuit {self.r1cs_digest[:16]}…, not {digest[:16]}…"
            )


# ------------------------------------------------------------------ JSON forms of single points


def _g1_json(p: G1Int) -> list[str] | None:
    return None if p is None else [str(p[0]), str(p[1])]


def _g2_json(p: G2Int) -> list[list[str]] | None:
    return None if p is None else [[str(c) for c in p[0]], [str(c) for c in p[1]]]


def _coord(v: Any, what: str) -> int:
    if not isinstance(v, str) or not v.isdigit() or int(v) >= Q:
        raise FormatError(f"{what}: {v!r} is not a canonical Fq element in decimal")
    return int(v)


def _g1_parse(v: Any, what: str) -> G1Int:
    if v is None:
        return None
    if not isinstance(v, list) or len(v) != 2:
        raise FormatError(f"{what}: expected [x, y]")
    return (_coord(v[0], what), _coord(v[1], what))


def _g2_parse(v: Any, what: str) -> G2Int:
    if v is None:
        return None
    if (
        not isinstance(v, list)
        or len(v) != 2
        or any(not isinstance(c, list) or len(c) != 2 for c in v)
    ):
        raise FormatError(f"{what}: expected [[x0, x1], [y0, y1]]")
    return (
        (_coord(v[0][0], what), _coord(v[0][1], what)),
        (_coord(v[1][0], what), _coord(v[1][1], what)),
    )


def _canonical(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------ save / load


def _arrays(pk: ProvingKey) -> dict[str, np.ndarray]:
    out = {name: getattr(pk, name) for name in (*POINT_ARRAYS, *INDEX_ARRAYS)}
    for m in "abc":
        csr: Csr = getattr(pk.matrices, m)
        out[f"{m}_indptr"], out[f"{m}_indices"], out[f"{m}_coeffs"] = (
            csr.indptr,
            csr.indices,
            csr.coeffs,
        )
    return out


def save_proving_key(pk: ProvingKey, keydir: str | Path) -> None:
    """Write ``pk`` to the directory ``keydir`` (created if needed), plus verification_key.json.

    Only keys made by our setup (with ``matrices`` and ``r1cs_digest``) have this form; a zkey's
    key is written back with ``prover.zkey.write_zkey``."""
    from prover.artifacts import vk_to_json, write_json

    if pk.matrices is None or pk.r1cs_digest is None:
        raise KeyMismatchError("this key has no R1CS matrices (a zkey's): write it as a .zkey")
    keydir = Path(keydir)
    keydir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, arr in _arrays(pk).items():
        path = keydir / f"{name}.npy"
        np.save(path, np.ascontiguousarray(arr))
        files[name] = {"shape": list(arr.shape), "sha256": _file_sha256(path)}
    mats = pk.matrices
    vk = pk.vk
    header = {
        "format": FORMAT,
        "version": VERSION,
        "insecure_single_party": pk.insecure_single_party,
        "r1cs_digest": pk.r1cs_digest,
        "n_wires": mats.n_wires,
        "n_pub_out": mats.n_pub_out,
        "n_pub_in": mats.n_pub_in,
        "n_prv_in": mats.n_prv_in,
        "n_constraints": mats.n_constraints,
        "bind_public": mats.bind_public,
        "log_domain": mats.log_domain,
        "points": {
            "alpha_g1": _g1_json(vk.alpha_g1),
            "beta_g1": _g1_json(pk.beta_g1),
            "delta_g1": _g1_json(pk.delta_g1),
            "beta_g2": _g2_json(vk.beta_g2),
            "gamma_g2": _g2_json(vk.gamma_g2),
            "delta_g2": _g2_json(vk.delta_g2),
            "ic": [_g1_json(p) for p in vk.gamma_abc_g1],
        },
        "files": files,
    }
    header["checksum"] = hashlib.sha256(_canonical(header)).hexdigest()
    (keydir / HEADER).write_text(json.dumps(header, indent=1))
    write_json(vk_to_json(vk), keydir / "verification_key.json")


def _read_header(keydir: Path) -> dict:
    path = keydir / HEADER
    if not keydir.exists():
        raise FormatError(f"{keydir}: no such file or directory (give a .zkey or a key directory)")
    if not path.is_file():
        raise FormatError(f"{keydir}: not a proving key directory (no {HEADER})")
    try:
        header = jsonio.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise FormatError(f"{path}: not a {FORMAT} header")
    if header.get("version") != VERSION:
        raise FormatError(
            f"{path}: key format version {header.get('version')!r}, this prover reads "
            f"{VERSION}: run the setup again"
        )
    claimed = header.pop("checksum", None)
    if claimed != hashlib.sha256(_canonical(header)).hexdigest():
        raise FormatError(f"{path}: header checksum mismatch (the header was altered)")
    return header


def _load_array(keydir: Path, name: str, meta: Any, verify: bool) -> np.ndarray:
    path = keydir / f"{name}.npy"
    if not isinstance(meta, dict) or "shape" not in meta or "sha256" not in meta:
        raise FormatError(f"{keydir / HEADER}: no entry for {name}.npy")
    if not path.is_file():
        raise FormatError(f"{path}: missing")
    try:
        arr = np.load(
            path, mmap_mode="c", allow_pickle=False
        )  # copy-on-write: never changes the file
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"{path}: unreadable or truncated ({exc})") from None
    if list(arr.shape) != meta["shape"]:
        raise FormatError(f"{path}: shape {list(arr.shape)}, header says {meta['shape']}")
    if verify and _file_sha256(path) != meta["sha256"]:
        raise FormatError(f"{path}: SHA-256 mismatch (the file is corrupt)")
    return arr


def load_proving_key(
    keydir: str | Path, r1cs: R1CS | None = None, *, verify: bool = True
) -> ProvingKey:
    """Memory-map the proving key in ``keydir``; check files (SHA-256 unless ``verify=False``) and,
    if ``r1cs`` is given, that the key belongs to it (else ``KeyMismatchError``)."""
    keydir = Path(keydir)
    header = _read_header(keydir)
    files = header.get("files", {})
    arrs = {
        name: _load_array(keydir, name, files.get(name), verify)
        for name in (*POINT_ARRAYS, *INDEX_ARRAYS, *MATRIX_ARRAYS)
    }
    try:
        mats = ConstraintMatrices(
            int(header["n_wires"]),
            int(header["n_pub_out"]),
            int(header["n_pub_in"]),
            int(header["n_prv_in"]),
            *(Csr(arrs[f"{m}_indptr"], arrs[f"{m}_indices"], arrs[f"{m}_coeffs"]) for m in "abc"),
            bind_public=bool(header["bind_public"]),
        )
        pts = header["points"]
        vk = VerifyingKey(
            _g1_parse(pts["alpha_g1"], "alpha_g1"),
            _g2_parse(pts["beta_g2"], "beta_g2"),
            _g2_parse(pts["gamma_g2"], "gamma_g2"),
            _g2_parse(pts["delta_g2"], "delta_g2"),
            tuple(_g1_parse(p, f"ic[{i}]") for i, p in enumerate(pts["ic"])),
        )
        pk = ProvingKey(
            vk,
            _g1_parse(pts["beta_g1"], "beta_g1"),
            _g1_parse(pts["delta_g1"], "delta_g1"),
            *(arrs[name] for name in (*POINT_ARRAYS, *INDEX_ARRAYS)),
            qap=qap_matrices(get_engine(), mats),
            matrices=mats,
            r1cs_digest=str(header["r1cs_digest"]),
            insecure_single_party=bool(header["insecure_single_party"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{keydir / HEADER}: malformed field {exc}") from None
    _check_shapes(pk, keydir)
    if r1cs is not None:
        pk.check_circuit(r1cs)
    return pk


def _check_shapes(pk: ProvingKey, keydir: Path) -> None:
    mats = pk.matrices
    n, ell, big_n = mats.n_wires, mats.n_public, 1 << mats.log_domain
    n_a, n_b = pk.a_wires.shape[0], pk.b_wires.shape[0]
    for name in INDEX_ARRAYS:
        idx = getattr(pk, name)
        if idx.ndim != 1 or (idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n)):
            raise FormatError(f"{keydir / name}.npy: wire indices outside 0..{n - 1}")
    expected = {
        "a_g1": (n_a, 2, 4),
        "b_g1": (n_b, 2, 4),
        "b_g2": (n_b, 2, 2, 4),
        "l_g1": (n - ell - 1, 2, 4),
        "h_g1": (big_n, 2, 4),
    }
    for name, shape in expected.items():
        if getattr(pk, name).shape != shape:
            raise FormatError(
                f"{keydir / name}.npy: shape {getattr(pk, name).shape}, expected {shape}"
            )
    if len(pk.vk.gamma_abc_g1) != ell + 1:
        raise FormatError(
            f"{keydir / HEADER}: {len(pk.vk.gamma_abc_g1)} IC points for {ell} public signals"
        )
    for m in "abc":
        csr: Csr = getattr(mats, m)
        nnz = csr.indices.shape[0]
        if (
            csr.indptr.shape != (mats.n_constraints + 1,)
            or int(csr.indptr[-1]) != nnz
            or csr.coeffs.shape != (nnz, 4)
        ):
            raise FormatError(f"{keydir}: matrix {m.upper()} arrays are inconsistent")
    if mats.digest() != pk.r1cs_digest:
        raise FormatError(f"{keydir}: constraint matrices do not match the header's r1cs_digest")
