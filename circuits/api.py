"""The constraint-building API handed to ``Circuit.define(api)`` (gnark ``frontend.API`` style).

Every method's docstring states what it constrains and its cost in R1CS rows. Linear operations
(``add``, ``sub``, ``neg``, ``scale``, ``sum``, and ``+ - *int`` on ``Variable``) are free: they
stay symbolic linear combinations and are folded into the rows that use them (circom ``--O2``).

Integers: a value is an element of Fr. Methods with a bit width ``n`` (``to_bits``,
``range_check``, ``less_than``) enforce that the *canonical* value lies in [0, 2^n) (or in
[−2^(n−1), 2^(n−1)) for signed comparisons, a negative v represented as r − |v|), so nothing
fits only by wrapping mod r. Bounds a constraint already proves are remembered
(``known_bits``) and not paid twice.

References: gnark ``frontend/api.go`` (method set), circomlib ``comparators.circom``
(IsZero, LessThan), ``bitify.circom`` (Num2Bits, Num2Bits_strict/AliasCheck), bellman
``Boolean::enforce_in_field`` (the bit-wise comparison with a constant behind
``to_bits(x, 254)``).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.builder import INTERNAL, PRV_IN, PUB_IN, PUB_OUT, Builder, HintFn, field_division
from circuits.errors import DefinitionError
from circuits.linear import Value, Variable, as_variable, linear_sum
from protocol.fields import inverse_or_zero
from prover.fields import R

__all__ = ["API", "MAX_COMPARE_BITS", "MAX_RANGE_BITS"]

#: Widest range check with a unique decomposition (2^253 < r).
MAX_RANGE_BITS = 253
#: Widest comparison: a − b + 2^n must fit MAX_RANGE_BITS bits.
MAX_COMPARE_BITS = 252
_INV2 = [pow(2, -i, R) for i in range(256)]


def _bits_hint(n: int) -> HintFn:
    def bits(v: int) -> list[int]:
        return [(v >> i) & 1 for i in range(n)]

    return bits


@field_division
def _inverse_hint(v: int) -> list[int]:
    return [inverse_or_zero(v)]


def _identity_hint(v: int) -> list[int]:
    return [v]


class API(Builder):
    """Constraint-building methods; see the module docstring for the cost conventions."""

    # -- inputs and outputs -----------------------------------------------------------------
    def public_input(self, name: str, n: int | None = None) -> Variable | list[Variable]:
        """Declare a public input (or an array of n). 0 constraints."""
        return self._declare(PUB_IN, name, n)

    def private_input(self, name: str, n: int | None = None) -> Variable | list[Variable]:
        """Declare a private input (or an array of n). 0 constraints."""
        return self._declare(PRV_IN, name, n)

    def public_output(self, name: str, x: Value) -> Variable:
        """Expose x as a public output. 0 constraints if x is a fresh internal wire, else 1."""
        if not name or name in self.inputs or name in self.outputs:
            raise DefinitionError(f"output name {name!r} is empty or declared twice")
        x = as_variable(x)
        w = x.single_wire
        if w is not None and self.wire_kinds[w] == INTERNAL and w not in self.auxiliary:
            self.wire_kinds[w] = PUB_OUT
            self.wire_names[w] = name
        else:
            (out,) = self._hint(_identity_hint, [x], 1, name)
            w = out.single_wire
            self.wire_kinds[w] = PUB_OUT
            self.wire_names[w] = name
            self._assert(x, 1, out, f"output:{name}")
        self.outputs[name] = w
        return Variable.wire(w)

    def hint(
        self, fn: HintFn, inputs: Sequence[Value], n_out: int, name: str = "hint"
    ) -> list[Variable]:
        """n_out new private wires computed by ``fn(*input values) -> ints``. 0 constraints:
        the caller must constrain them (``circuits.soundness`` finds forgotten ones)."""
        return self._hint(fn, inputs, n_out, name)

    # -- field arithmetic -------------------------------------------------------------------
    def constant(self, value: int) -> Variable:
        """The constant value mod r. 0 constraints."""
        return Variable.constant(value)

    def add(self, *xs: Value) -> Variable:
        """x_1 + ... + x_k. 0 constraints."""
        return linear_sum([(1, as_variable(x)) for x in xs])

    def sub(self, a: Value, b: Value) -> Variable:
        """a − b. 0 constraints."""
        return as_variable(a) - b

    def neg(self, a: Value) -> Variable:
        """−a. 0 constraints."""
        return -as_variable(a)

    def scale(self, a: Value, k: int) -> Variable:
        """k·a for a constant k. 0 constraints."""
        return as_variable(a) * k

    def sum(self, xs: Sequence[Value], coeffs: Sequence[int] | None = None) -> Variable:
        """Σ coeffs_i · x_i (coeffs default to 1). 0 constraints."""
        ks = [1] * len(xs) if coeffs is None else list(coeffs)
        if len(ks) != len(xs):
            raise DefinitionError(f"sum of {len(xs)} values with {len(ks)} coefficients")
        return linear_sum([(k, as_variable(x)) for k, x in zip(ks, xs, strict=True)])

    def mul(self, a: Value, b: Value, *more: Value, name: str = "mul") -> Variable:
        """a·b·… as a new wire. 1 constraint per non-constant product (a·b = w)."""
        out = self._mul(a, b, name)
        for c in more:
            out = self._mul(out, c, name)
        return out

    def square(self, a: Value, name: str = "square") -> Variable:
        """a². 1 constraint."""
        return self._mul(a, a, name)

    def inverse(self, a: Value, name: str = "inverse") -> Variable:
        """1/a; enforces a ≠ 0 (a·inv = 1). 1 constraint."""
        a = as_variable(a)
        k = a.constant_value
        if k is not None:
            if k == 0:
                raise DefinitionError(f"inverse of the constant 0 in '{self._prefix}{name}'")
            return Variable.constant(pow(k, -1, R))
        (inv,) = self._hint(_inverse_hint, [a], 1, name)
        self._assert(a, inv, 1, name)
        return inv

    def div(self, a: Value, b: Value, name: str = "div") -> Variable:
        """a/b in Fr; enforces b ≠ 0. 2 constraints (b·inv = 1, a·inv = q); 1 if a is constant."""
        return self._mul(a, self.inverse(b, name + ":inv"), name)

    # -- assertions -------------------------------------------------------------------------
    def assert_equal(self, a: Value, b: Value, name: str = "assert_equal") -> None:
        """a = b. 1 constraint ((a − b)·1 = 0); 0 if both are constants (which must agree)."""
        self._assert(as_variable(a) - b, 1, 0, name)

    def assert_nonzero(self, a: Value, name: str = "assert_nonzero") -> None:
        """a ≠ 0. 1 constraint (a·inv = 1)."""
        self.inverse(a, name)

    def assert_product(self, a: Value, b: Value, c: Value, name: str = "assert_product") -> None:
        """a·b = c for existing values: one raw R1CS row (0 if it is trivially 0 = 0; a
        ``DefinitionError`` if all three are constants that disagree). Use it for conditional
        checks such as enabled·(x − y) = 0."""
        self._assert(a, b, c, name)

    def assert_not_equal(self, a: Value, b: Value, name: str = "assert_not_equal") -> None:
        """a ≠ b. 1 constraint ((a − b)·inv = 1)."""
        self.inverse(as_variable(a) - b, name)

    def assert_boolean(self, a: Value, name: str = "assert_boolean") -> None:
        """a ∈ {0, 1}. 1 constraint (a·(a − 1) = 0); 0 if already known boolean."""
        a = as_variable(a)
        if self.known_bits(a) is not None and self.known_bits(a) <= 1:
            return
        self._assert(a, a - 1, 0, name)
        self._set_bits(a, 1)

    # -- booleans and selection -------------------------------------------------------------
    def select(self, c: Value, a: Value, b: Value, name: str = "select") -> Variable:
        """c ? a : b = b + c·(a − b). 1 constraint, +1 if c is not already known boolean."""
        self.assert_boolean(c, name + ":bool")
        out = as_variable(b) + self._mul(c, as_variable(a) - b, name)
        bits_a, bits_b = self.known_bits(a), self.known_bits(b)
        if bits_a is not None and bits_b is not None:
            self._set_bits(out, max(bits_a, bits_b))
        return out

    def mux(self, bits: Sequence[Value], values: Sequence[Value], name: str = "mux") -> Variable:
        """values[Σ 2^i·bits_i] for 2^len(bits) values (bits LSB first, checked boolean unless
        known). A tree of selects: at most 2^k − 1 constraints; levels whose inputs are all
        constants are linear and free (so a table of constants costs 2^(k−1) − 1 rows)."""
        if len(values) != 1 << len(bits):
            raise DefinitionError(
                f"mux of {len(values)} values needs {len(values).bit_length() - 1} bits"
            )
        level = [as_variable(v) for v in values]
        with self.namespace(name):
            for i, bit in enumerate(bits):
                level = [
                    self.select(bit, level[j + 1], level[j], f"level{i}")
                    for j in range(0, len(level), 2)
                ]
        return level[0]

    def and_(self, a: Value, b: Value, name: str = "and") -> Variable:
        """a ∧ b for booleans (checked unless known). 1 constraint (a·b)."""
        self.assert_boolean(a, name + ":bool")
        self.assert_boolean(b, name + ":bool")
        out = self._mul(a, b, name)
        self._set_bits(out, 1)
        return out

    def or_(self, a: Value, b: Value, name: str = "or") -> Variable:
        """a ∨ b = a + b − a·b for booleans (checked unless known). 1 constraint."""
        out = as_variable(a) + b - self.and_(a, b, name)
        self._set_bits(out, 1)
        return out

    def xor(self, a: Value, b: Value, name: str = "xor") -> Variable:
        """a ⊕ b = a + b − 2·a·b for booleans (checked unless known). 1 constraint."""
        out = as_variable(a) + b - self.and_(a, b, name) * 2
        self._set_bits(out, 1)
        return out

    def not_(self, a: Value, name: str = "not") -> Variable:
        """1 − a for a boolean (checked unless known). 0 constraints."""
        self.assert_boolean(a, name + ":bool")
        out = 1 - as_variable(a)
        self._set_bits(out, 1)
        return out

    # -- bits and ranges --------------------------------------------------------------------
    def to_bits(self, x: Value, n: int, name: str = "to_bits") -> list[Variable]:
        """The n bits of x, least significant first, enforcing x = Σ 2^i·b_i, b_i ∈ {0,1}.

        n ≤ 253: x < 2^n as an integer; n constraints (bit n−1 is the linear combination
        (x − Σ_{i<n−1} 2^i b_i)/2^(n−1), so no recomposition row is needed).
        n = 254: the canonical bits of any x (Num2Bits_strict): 254 + ~253 constraints for the
        check Σ 2^i b_i ≤ r − 1 that forbids the alias x + r.
        """
        if not 1 <= n <= 254:
            raise DefinitionError(f"to_bits width {n} outside 1..254")
        x = as_variable(x)
        k = x.constant_value
        if k is not None:
            if k >> n:
                raise DefinitionError(
                    f"constant {k} does not fit {n} bits in '{self._prefix}{name}'"
                )
            return [Variable.constant((k >> i) & 1) for i in range(n)]
        with self.namespace(name):
            low = self._hint(_bits_hint(n - 1), [x], n - 1, "bit") if n > 1 else []
            for i, b in enumerate(low):
                self._assert(b, b - 1, 0, f"bit{i}")
                self._set_bits(b, 1)
            top = (x - linear_sum([(1 << i, b) for i, b in enumerate(low)])) * _INV2[n - 1]
            self._assert(top, top - 1, 0, f"bit{n - 1}")
            self._set_bits(top, 1)
            bits = [*low, top]
            if n == 254:
                self._assert_bits_le(bits, R - 1, "alias")
            else:
                self._set_bits(x, n)
        return bits

    def assert_bits_le(
        self, bits: Sequence[Value], c: int, name: str = "bits_le", enabled: Value = 1
    ) -> None:
        """Σ 2^i·b_i ≤ c as integers (if ``enabled``), for bits already boolean, c constant.

        bellman ``enforce_in_field``: scanning from the most significant bit, ``eq`` = "enabled
        and all higher bits equal c's"; a 1-bit of c updates eq ← eq·b (1 row, free while eq is
        the constant 1), a 0-bit of c forbids eq = b = 1 (eq·b = 0, 1 row). About len(bits)
        rows; ``enabled`` (a known boolean) switches the check off when 0.
        """
        if c < 0 or c >> len(bits):
            raise DefinitionError(f"constant {c} is not a {len(bits)}-bit bound")
        self._assert_bits_le([as_variable(b) for b in bits], c, name, as_variable(enabled))

    def _assert_bits_le(
        self, bits: list[Variable], c: int, label: str, enabled: Variable | None = None
    ) -> None:
        eq: Variable = Variable.constant(1) if enabled is None else enabled
        for i in range(len(bits) - 1, -1, -1):
            if (c >> i) & 1:
                eq = self._mul(eq, bits[i], f"{label}:eq{i}")
            else:
                self._assert(eq, bits[i], 0, f"{label}:le{i}")

    def from_bits(self, bits: Sequence[Value], name: str = "from_bits") -> Variable:
        """Σ 2^i·b_i (least significant first); asserts each b_i boolean unless known.
        0 constraints for known-boolean bits, else 1 per bit."""
        if len(bits) > MAX_RANGE_BITS:
            raise DefinitionError(
                f"from_bits of {len(bits)} > {MAX_RANGE_BITS} bits would wrap mod r"
            )
        for b in bits:
            self.assert_boolean(b, name + ":bool")
        out = linear_sum([(1 << i, as_variable(b)) for i, b in enumerate(bits)])
        self._set_bits(out, len(bits))
        return out

    def range_check(self, x: Value, bits: int, name: str = "range_check") -> None:
        """0 ≤ x < 2^bits as an integer (bits ≤ 253). ``bits`` constraints; 0 if already known."""
        if not 0 <= bits <= MAX_RANGE_BITS:
            raise DefinitionError(f"range_check width {bits} outside 0..{MAX_RANGE_BITS}")
        known = self.known_bits(x)
        if known is not None and known <= bits:
            return
        if bits == 0:
            self.assert_equal(x, 0, name)
            return
        self.to_bits(x, bits, name)

    # -- comparisons ------------------------------------------------------------------------
    def is_zero(self, x: Value, name: str = "is_zero") -> Variable:
        """1 if x = 0 else 0 (circomlib IsZero). 2 constraints: x·inv = 1 − out, x·out = 0."""
        x = as_variable(x)
        k = x.constant_value
        if k is not None:
            return Variable.constant(int(k == 0))
        (inv,) = self._hint(_inverse_hint, [x], 1, name + ":inv", auxiliary=True)
        out = 1 - self._mul(x, inv, name)
        self._assert(x, out, 0, name + ":x_out")
        self._set_bits(out, 1)
        return out

    def is_equal(self, a: Value, b: Value, name: str = "is_equal") -> Variable:
        """1 if a = b else 0. 2 constraints (is_zero(a − b))."""
        return self.is_zero(as_variable(a) - b, name)

    def less_than(
        self, a: Value, b: Value, n: int, *, signed: bool = False, name: str = "less_than"
    ) -> Variable:
        """1 if a < b else 0 for n-bit integers (n ≤ 252).

        Unsigned: a, b ∈ [0, 2^n) are enforced (n constraints each unless already known), then
        a − b + 2^n ∈ [1, 2^(n+1)) is decomposed into n+1 bits and the result is 1 − its top bit
        (circomlib LessThan): n+1 constraints.
        Signed: a, b ∈ [−2^(n−1), 2^(n−1)) are enforced by range-checking a + 2^(n−1) and
        b + 2^(n−1) to n bits, which are then compared unsigned.
        """
        if not 1 <= n <= MAX_COMPARE_BITS:
            raise DefinitionError(f"less_than width {n} outside 1..{MAX_COMPARE_BITS}")
        a, b = as_variable(a), as_variable(b)
        if signed:
            a, b = a + (1 << (n - 1)), b + (1 << (n - 1))
        with self.namespace(name):
            self.range_check(a, n, "range_a")
            self.range_check(b, n, "range_b")
            top = self.to_bits(a - b + (1 << n), n + 1, "diff")[n]
        out = 1 - top
        self._set_bits(out, 1)
        return out
