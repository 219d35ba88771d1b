"""BN254 field constants as the prover uses them (the moduli are ``protocol.fields``')."""

from __future__ import annotations

from protocol.fields import (
    FR_GENERATOR,
    TWO_ADICITY,
    Q,
    R,
    curve_order,
    field_modulus,
    root_of_unity,
)

__all__ = [
    "FR_GENERATOR",
    "LIMBS",
    "N8",
    "TWO_ADICITY",
    "Q",
    "R",
    "curve_order",
    "field_modulus",
    "root_of_unity",
]

#: Bytes of one field element in iden3 binary formats (n8).
N8: int = 32
#: 64-bit limbs per element.
LIMBS: int = 4
