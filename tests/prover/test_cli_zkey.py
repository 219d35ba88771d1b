"""``zkr groth16 setup --zkey`` / ``zkr groth16 prove KEY.zkey``: a drop-in for ``snarkjs groth16
prove`` and rapidsnark. Each success has its negative twin (exit 1 INVALID, exit 2 malformed, one
line), and ``prove`` imports only what it uses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import zkr

REPO = Path(__file__).resolve().parents[2]
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def run(*args: str):
    return CliRunner().invoke(zkr, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny(groth16_vectors: Path) -> Path:
    return groth16_vectors / "poseidon2_tiny"


def _prove_and_verify(key: Path, vk: Path, wtns: Path, out: Path) -> None:
    proof, public = out / "proof.json", out / "public.json"
    result = run("groth16", "prove", key, wtns, "--proof", proof, "--public", public, "-q")
    assert result.exit_code == 0, result.output
    assert run("groth16", "verify", vk, public, proof).output.strip() == "OK"
    values = json.loads(public.read_text())
    values[0] = str((int(values[0]) + 1) % R)
    public.write_text(json.dumps(values))
    bad = run("groth16", "verify", vk, public, proof)
    assert bad.exit_code == 1 and bad.output.strip() == "INVALID"


def test_prove_with_the_shipped_zkey(tiny: Path, tmp_path: Path) -> None:
    _prove_and_verify(
        tiny / "circuit_final.zkey", tiny / "verification_key.json", tiny / "witness.wtns", tmp_path
    )


def test_setup_writes_a_zkey_we_prove_with(tiny: Path, tmp_path: Path) -> None:
    zkey = tmp_path / "ours.zkey"
    result = run("groth16", "setup", tiny / "circuit.r1cs", "--zkey", zkey, "--seed", "3", "-q")
    assert result.exit_code == 0, result.output
    assert "INSECURE" in result.stderr
    assert (tmp_path / "verification_key.json").is_file()
    _prove_and_verify(zkey, tmp_path / "verification_key.json", tiny / "witness.wtns", tmp_path)


def test_setup_needs_an_output(tiny: Path) -> None:
    result = run("groth16", "setup", tiny / "circuit.r1cs")
    assert result.exit_code == 2 and "give KEYDIR, --zkey PATH or both" in result.output


def test_corrupt_zkey_exits_2_with_one_line(tiny: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zkey"
    bad.write_bytes((tiny / "circuit_final.zkey").read_bytes()[:5000])
    result = run("groth16", "prove", bad, tiny / "witness.wtns", "--proof", tmp_path / "p.json")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "truncated" in lines[0], result.stderr
    assert not (tmp_path / "p.json").exists()


def test_witness_of_another_circuit_exits_2(groth16_vectors: Path, tiny: Path) -> None:
    other = groth16_vectors / "merkle_n1_d16" / "witness.wtns"
    result = run("groth16", "prove", tiny / "circuit_final.zkey", other, "-q")
    assert result.exit_code == 2 and "witness has" in result.stderr


HEAVY = (
    "rollup",
    "circuits",
    "matplotlib",
    "galois",
    "dask",
    "scipy.linalg",
    "verifier.settlement",
)


def test_prove_imports_nothing_heavy(tiny: Path, tmp_path: Path) -> None:
    """``zkr groth16 prove`` loads numpy, numba and the prover, nothing of the rollup but the
    command-line modules of ``rollup.node.commands`` (click and the standard library)."""
    code = (
        "import atexit, sys\n"
        f"heavy = {HEAVY!r}\n"
        "cli_only = ('rollup', 'rollup.node', 'rollup.node.commands')\n"
        "atexit.register(lambda: print('LOADED', sorted(m for m in sys.modules "
        "if m.startswith(heavy) and m not in cli_only "
        "and not m.startswith('rollup.node.commands.'))))\n"
        "from cli import main\n"
        "main(sys.argv[1:])\n"
    )
    args = ["groth16", "prove", str(tiny / "circuit_final.zkey"), str(tiny / "witness.wtns")]
    args += ["--proof", str(tmp_path / "p.json"), "--public", str(tmp_path / "q.json"), "-q"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout, out.stdout


#: run at exit of a process: the numba dispatchers of ``prover.kernels`` with more than one
#: compiled signature, and how many have one
_SPECIALISATIONS = (
    "import atexit, sys\n"
    "def _report():\n"
    "    from numba.core.registry import CPUDispatcher\n"
    "    seen, multi = set(), []\n"
    "    for name, mod in list(sys.modules.items()):\n"
    "        if not name.startswith('prover.kernels'):\n"
    "            continue\n"
    "        for attr, obj in vars(mod).items():\n"
    "            if isinstance(obj, CPUDispatcher) and id(obj) not in seen:\n"
    "                seen.add(id(obj))\n"
    "                if len(obj.signatures) > 1:\n"
    "                    multi.append(f'{name}.{attr}')\n"
    "    one = sum(1 for m in list(sys.modules.values()) for o in vars(m).values()\n"
    "              if isinstance(o, CPUDispatcher) and len(o.signatures) == 1)\n"
    "    print('MULTI', sorted(multi), 'ONE', one)\n"
    "atexit.register(_report)\n"
)


def test_prove_compiles_each_kernel_once(groth16_vectors: Path, tmp_path: Path) -> None:
    """After a whole ``zkr groth16 prove`` no kernel of ``prover.kernels`` holds two compiled
    specialisations (each costs a compile on a cold cache and a load on a warm one); the
    negative twin: the same report names a dispatcher called with two argument types."""
    vec = groth16_vectors / "merkle_n1_d16"
    args = ["groth16", "prove", str(vec / "circuit_final.zkey"), str(vec / "witness.wtns")]
    args += ["--proof", str(tmp_path / "p.json"), "--public", str(tmp_path / "q.json"), "-q"]
    code = _SPECIALISATIONS + "from cli import main\nmain(sys.argv[1:])\n"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr
    report = out.stdout.strip().splitlines()[-1]
    assert report.startswith("MULTI [] ONE "), report
    assert int(report.split()[-1]) >= 10, report  # the report did see the prover's kernels
    twin = (
        _SPECIALISATIONS
        + "import numpy as np\nfrom prover.kernels import ntt\n"
        + "ntt._bit_reverse(np.zeros((4, 4), np.uint64), 2)\n"
        + "ntt._bit_reverse(np.zeros((4, 4), np.uint64), np.int32(2))\n"
    )
    out = subprocess.run([sys.executable, "-c", twin], capture_output=True, text=True, env=env,
                         timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "MULTI ['prover.kernels.ntt._bit_reverse']" in out.stdout, out.stdout
