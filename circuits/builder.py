"""The kernel under ``circuits.api.API``: wires, named constraints, the witness program.

Everything a circuit does reduces to three recorded primitives (all other API methods are built
from them):

- ``_mul(a, b)``: a new wire w with the *defining* constraint  A·z = a, B·z = b, C·z = w
  (a·b = w); the witness program computes w = a·b.  Free when a or b is constant.
- ``_assert(a, b, c)``: the constraint a·b = c on existing values; the witness program checks it
  and raises ``UnsatisfiedConstraint`` (its name and namespace) if it fails.
- ``_hint(fn, inputs, n)``: n new wires computed by the plain function ``fn`` (bits, inverses,
  quotients).  A hint adds **no** constraint: the caller must constrain its outputs (the
  soundness helper ``circuits.soundness`` finds any it forgot).

Wires get raw ids in creation order with a kind (public output, public input, private input,
internal); ``circuits.compiled.compile_builder`` renumbers them into the iden3 layout
(0 = one, outputs, public inputs, private inputs, internal).  Constraint and wire names carry
the namespace path, halo2-style (``merkle/level3/hash/full0/sbox1:x2``).

The builder also tracks proven bit bounds (``known_bits``): a value produced by ``to_bits``,
``range_check``, a boolean assertion or a comparison is known to be < 2^n, so comparators do
not range-check it twice.  A bound is recorded only when a constraint enforces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from circuits.errors import DefinitionError
from circuits.linear import Value, Variable, as_variable
from prover.fields import R

#: Wire kinds, in iden3 layout order.
ONE, PUB_OUT, PUB_IN, PRV_IN, INTERNAL = 0, 1, 2, 3, 4

#: Witness-program opcodes (raw wire ids at define time, final ids after compile).
OP_MUL, OP_HINT, OP_CHECK = 0, 1, 2


def field_division(fn: Callable[..., list[int]]) -> Callable[..., list[int]]:
    """Mark a hint as a field division: fn(num, den) = [num · den⁻¹ mod r] (0 when den = 0), or
    fn(v) = [v⁻¹] (0 for 0) with one argument — the numba solver then computes it itself
    (``circuits.solver_fast``) instead of calling Python; fn stays the reference."""
    fn.field_division = True  # type: ignore[attr-defined]
    return fn


HintFn = Callable[..., Sequence[int]]


class Builder:
    """Records wires, named R1CS rows and the witness program while ``define(api)`` runs."""

    def __init__(self) -> None:
        self.wire_kinds: list[int] = [ONE]
        self.wire_names: list[str] = ["one"]
        self.auxiliary: set[int] = set()
        self.rows: list[tuple[dict[int, int], dict[int, int], dict[int, int]]] = []
        self.row_names: list[str] = []
        self.ops: list[tuple] = []
        self.inputs: dict[str, tuple[int, list[int], bool]] = {}  # name -> (kind, wires, is_array)
        self.outputs: dict[str, int] = {}
        self._path: list[str] = []
        self._prefix = ""
        self._bounds: dict[tuple[tuple[int, int], ...], int] = {}

    # -- naming -----------------------------------------------------------------------------
    @contextmanager
    def namespace(self, name: str) -> Iterator[None]:
        """Prefix every constraint and wire created inside the block with ``name/``."""
        if not name or "/" in name:
            raise DefinitionError(f"namespace name {name!r} must be non-empty and contain no '/'")
        self._path.append(name)
        self._prefix = "/".join(self._path) + "/"
        try:
            yield
        finally:
            self._path.pop()
            self._prefix = "/".join(self._path) + "/" if self._path else ""

    # -- wires ------------------------------------------------------------------------------
    def _new_wire(self, kind: int, name: str) -> int:
        self.wire_kinds.append(kind)
        self.wire_names.append(name)
        return len(self.wire_kinds) - 1

    def _declare(self, kind: int, name: str, n: int | None) -> Variable | list[Variable]:
        if not name or name in self.inputs or name in self.outputs:
            raise DefinitionError(f"input name {name!r} is empty or declared twice")
        if n is None:
            w = self._new_wire(kind, name)
            self.inputs[name] = (kind, [w], False)
            return Variable.wire(w)
        if n < 0:
            raise DefinitionError(f"input array {name!r} has negative length {n}")
        ws = [self._new_wire(kind, f"{name}[{i}]") for i in range(n)]
        self.inputs[name] = (kind, ws, True)
        return [Variable.wire(w) for w in ws]

    # -- the three primitives ---------------------------------------------------------------
    def _mul(self, a: Value, b: Value, label: str = "mul") -> Variable:
        """a·b as a new wire w with the defining constraint a·b = w (free if a or b is constant)."""
        a, b = as_variable(a), as_variable(b)
        ka, kb = a.constant_value, b.constant_value
        if ka is not None:
            return b * ka
        if kb is not None:
            return a * kb
        name = self._prefix + label
        w = self._new_wire(INTERNAL, name)
        self.rows.append((a.terms, b.terms, {w: 1}))
        self.row_names.append(name)
        self.ops.append((OP_MUL, w, a.terms, b.terms))
        return Variable.wire(w)

    def _assert(self, a: Value, b: Value, c: Value, label: str) -> None:
        """Record the constraint a·b = c (checked by the witness program)."""
        a, b, c = as_variable(a), as_variable(b), as_variable(c)
        name = self._prefix + label
        ka, kb, kc = a.constant_value, b.constant_value, c.constant_value
        if ka is not None and kb is not None and kc is not None:
            if ka * kb % R != kc:
                raise DefinitionError(f"constraint '{name}' fails for every witness (constants)")
            return
        if (ka == 0 or kb == 0) and kc == 0:
            return  # 0 = 0
        self.ops.append((OP_CHECK, len(self.rows), a.terms, b.terms, c.terms))
        self.rows.append((a.terms, b.terms, c.terms))
        self.row_names.append(name)

    def _hint(
        self,
        fn: HintFn,
        inputs: Sequence[Value],
        n_out: int,
        label: str = "hint",
        *,
        auxiliary: bool = False,
    ) -> list[Variable]:
        """n_out new wires set to ``fn(*input values)`` by the solver; adds no constraint.

        ``auxiliary=True`` marks wires that may legitimately be free at some witnesses without
        affecting anything else (the inverse in ``is_zero`` when x = 0); the soundness helper
        reports them apart.
        """
        ins = [as_variable(x).terms for x in inputs]
        outs = [
            self._new_wire(
                INTERNAL, f"{self._prefix}{label}[{i}]" if n_out > 1 else self._prefix + label
            )
            for i in range(n_out)
        ]
        if auxiliary:
            self.auxiliary.update(outs)
        self.ops.append((OP_HINT, fn, ins, outs))
        return [Variable.wire(w) for w in outs]

    # -- proven bounds ----------------------------------------------------------------------
    def known_bits(self, x: Value) -> int | None:
        """n if the constraints so far prove 0 ≤ x < 2^n as an integer (None if unknown)."""
        x = as_variable(x)
        k = x.constant_value
        if k is not None:
            return k.bit_length()
        return self._bounds.get(x.key())

    def _set_bits(self, x: Variable, n: int) -> None:
        key = x.key()
        old = self._bounds.get(key)
        if old is None or n < old:
            self._bounds[key] = n
