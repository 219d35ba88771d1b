"""Export a compiled circuit and its witness to the iden3 files snarkjs reads.

- ``.r1cs`` (iden3/r1csfile ``doc/r1cs_bin_format.md``) and ``.wtns`` (snarkjs ``wtns_utils``)
  are written by the prover's writers ``prover.iden3.write_r1cs`` / ``write_wtns`` — this module
  adds no second binary writer.
- ``.sym`` (circom's symbol file: one line ``labelIdx,varIdx,componentIdx,name`` per wire) maps
  each wire to its namespaced name, so ``snarkjs r1cs print … circuit.sym`` shows our names.
  The wire map of our ``.r1cs`` is the identity, so label and wire indices coincide.

The exported pair is checked by ``snarkjs r1cs info`` and ``snarkjs wtns check`` in
``tests/interop``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from circuits.compiled import CompiledCircuit
from prover.iden3 import write_r1cs, write_wtns

__all__ = ["export_circuit", "export_r1cs", "export_sym", "export_wtns"]


def export_r1cs(compiled: CompiledCircuit, path: str | Path) -> None:
    """Write the circuit's R1CS as a circom ``.r1cs`` file."""
    write_r1cs(compiled.r1cs, path)


def export_wtns(compiled: CompiledCircuit, witness: Sequence[int], path: str | Path) -> None:
    """Check the witness (``UnsatisfiedConstraint`` if it fails), then write ``.wtns``."""
    compiled.check(witness)
    write_wtns(witness, path)


def export_sym(compiled: CompiledCircuit, path: str | Path) -> None:
    """Write circom's ``.sym`` text file: ``labelIdx,varIdx,componentIdx,main.<name>`` per wire."""
    lines = [
        f"{i},{i},0,main.{name.replace('/', '.')}"
        for i, name in enumerate(compiled.wire_names)
        if i
    ]
    Path(path).write_text("\n".join(lines) + "\n")


def export_circuit(
    compiled: CompiledCircuit, witness: Sequence[int] | None, directory: str | Path, stem: str
) -> dict[str, Path]:
    """Write ``stem.r1cs``, ``stem.sym`` and (given a witness) ``stem.wtns``; return paths."""
    if witness is not None:
        compiled.check(witness)  # before writing anything: a bad witness leaves no files
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"r1cs": out / f"{stem}.r1cs", "sym": out / f"{stem}.sym"}
    export_r1cs(compiled, paths["r1cs"])
    export_sym(compiled, paths["sym"])
    if witness is not None:
        paths["wtns"] = out / f"{stem}.wtns"
        write_wtns(witness, paths["wtns"])
    return paths
