"""BN254 (alt_bn128) field constants: the base field q of the curve and the scalar field r.

References: EIP-196/197 (the curve Ethereum's precompiles use); py_ecc ``bn128``;
iden3 ``ffjavascript`` (``bn128``). Names follow py_ecc: ``field_modulus`` (q, base field of the
curve) and ``curve_order`` (r, the scalar field, which is the circuit field).

Constants are checked at import: both moduli are odd primes of the expected size and the
2-adicity of r - 1 is 28 (so radix-2 NTT domains up to 2^28 exist). A failure raises ValueError.
"""

from __future__ import annotations

#: q — modulus of the base field Fq over which G1 / G2 coordinates live.
field_modulus: int = 21888242871839275222246405745257275088696311157297823662689037894645226208583
#: r — order of G1/G2 and modulus of the scalar field Fr (the circuit field).
curve_order: int = 21888242871839275222246405745257275088548364400416034343698204186575808495617

#: Aliases used in protocol code.
Q = field_modulus
R = curve_order

#: 2-adicity of r - 1 and the generator of Fr* that snarkjs / ffjavascript use (5).
TWO_ADICITY: int = 28
FR_GENERATOR: int = 5


def _is_probable_prime(n: int) -> bool:
    """Deterministic Miller–Rabin for the bases below (enough for a load-time sanity check)."""
    if n < 2:
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def inverse_or_zero(x: int) -> int:
    """x⁻¹ mod r, and 0 for x ≡ 0 — the value of Fermat's x^(r−2) mod r, computed by CPython's
    extended Euclid in ``pow(x, -1, r)`` (~13 µs instead of ~115 µs for a 254-bit x)."""
    x %= R
    return pow(x, -1, R) if x else 0


def root_of_unity(log_n: int) -> int:
    """A primitive 2^log_n-th root of unity in Fr: 5^((r-1)/2^log_n) (ffjavascript's choice)."""
    if not 0 <= log_n <= TWO_ADICITY:
        raise ValueError(f"no 2^{log_n}-th root of unity in Fr (2-adicity is {TWO_ADICITY})")
    return pow(FR_GENERATOR, (R - 1) >> log_n, R)


def _check() -> None:
    for name, p in (("field_modulus", Q), ("curve_order", R)):
        if p.bit_length() != 254 or not _is_probable_prime(p):
            raise ValueError(f"{name} is not a 254-bit prime")
    if (R - 1) % (1 << TWO_ADICITY) or ((R - 1) >> TWO_ADICITY) % 2 == 0:
        raise ValueError("2-adicity of curve_order - 1 is not 28")
    w = root_of_unity(TWO_ADICITY)
    if pow(w, 1 << (TWO_ADICITY - 1), R) != R - 1:
        raise ValueError("5 does not generate the 2^28 roots of unity of Fr")


_check()
