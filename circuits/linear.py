"""Symbolic linear combinations over Fr: the values a circuit definition manipulates.

A ``Variable`` is a linear combination  v = Σ_w c_w · z_w  over the witness z (wire 0 is the
constant 1, so a constant c is ``{0: c}``). Addition, subtraction, negation and scaling by a
constant stay symbolic and cost **no constraint** — like circom's ``--O2`` linear substitution —
so only multiplications of two non-constant values become R1CS rows. Multiplying two Variables
with ``*`` is refused: that needs ``api.mul`` (one constraint).

Coefficients are canonical residues in [0, r); zero terms are dropped. Variables are immutable
by convention (every operation returns a new one) and hashable through ``key()``.
"""

from __future__ import annotations

from prover.fields import R

__all__ = ["Value", "Variable", "as_variable", "linear_sum"]


class Variable:
    """A linear combination Σ c_w · z_w of wires (wire 0 = the constant 1)."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[int, int]) -> None:
        self.terms = terms

    @classmethod
    def constant(cls, value: int) -> Variable:
        """The constant ``value mod r`` (no wire)."""
        v = value % R
        return cls({0: v} if v else {})

    @classmethod
    def wire(cls, index: int) -> Variable:
        """The single wire ``z_index`` with coefficient 1."""
        return cls({index: 1})

    # -- inspection -------------------------------------------------------------------------
    @property
    def is_constant(self) -> bool:
        t = self.terms
        return not t or (len(t) == 1 and 0 in t)

    @property
    def constant_value(self) -> int | None:
        """The value if this is a constant, else None."""
        t = self.terms
        if not t:
            return 0
        if len(t) == 1 and 0 in t:
            return t[0]
        return None

    @property
    def single_wire(self) -> int | None:
        """The wire index if this is exactly ``1 · z_w`` (w ≠ 0), else None."""
        if len(self.terms) == 1:
            ((w, c),) = self.terms.items()
            if w != 0 and c == 1:
                return w
        return None

    def key(self) -> tuple[tuple[int, int], ...]:
        """A hashable canonical form (sorted terms)."""
        return tuple(sorted(self.terms.items()))

    def evaluate(self, z: list[int]) -> int:
        """The value Σ c_w · z_w mod r for a witness z."""
        return sum(z[w] * c for w, c in self.terms.items()) % R

    # -- linear algebra (free) --------------------------------------------------------------
    def __add__(self, other: Value) -> Variable:
        o = as_variable(other)
        terms = dict(self.terms)
        for w, c in o.terms.items():
            s = (terms.get(w, 0) + c) % R
            if s:
                terms[w] = s
            else:
                terms.pop(w, None)
        return Variable(terms)

    __radd__ = __add__

    def __neg__(self) -> Variable:
        return Variable({w: R - c for w, c in self.terms.items()})

    def __sub__(self, other: Value) -> Variable:
        return self + (-as_variable(other))

    def __rsub__(self, other: Value) -> Variable:
        return as_variable(other) + (-self)

    def __mul__(self, k: int) -> Variable:
        if isinstance(k, Variable):
            if k.is_constant:
                return self * (k.constant_value or 0)
            if self.is_constant:
                return k * (self.constant_value or 0)
            raise TypeError("Variable * Variable is not linear: use api.mul (one constraint)")
        if not isinstance(k, int):
            return NotImplemented
        k %= R
        if k == 0:
            return Variable({})
        if k == 1:
            return self
        return Variable({w: c * k % R for w, c in self.terms.items()})

    __rmul__ = __mul__

    def __repr__(self) -> str:
        parts = [f"{c}" if w == 0 else f"{c}·z{w}" for w, c in sorted(self.terms.items())]
        return "Variable(" + (" + ".join(parts) or "0") + ")"


#: Anything the API accepts as a value: a Variable or a Python int (a constant).
Value = Variable | int


def as_variable(x: Value) -> Variable:
    """Coerce an int constant to a Variable; Variables pass through."""
    if isinstance(x, Variable):
        return x
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"expected a Variable or an int, got {type(x).__name__}")
    return Variable.constant(x)


def linear_sum(items: list[tuple[int, Variable]]) -> Variable:
    """Σ k_i · v_i in one pass (faster than chaining ``+`` for long sums)."""
    terms: dict[int, int] = {}
    get = terms.get
    for k, v in items:
        for w, c in v.terms.items():
            terms[w] = get(w, 0) + k * c
    out: dict[int, int] = {}
    for w, c in terms.items():
        c %= R
        if c:
            out[w] = c
    return Variable(out)
