"""``zkr`` CLI: each verb's success and its negative twins (exit 1 invalid, 2 malformed, one line).

Runs in-process with click's CliRunner, plus real ``zkr`` subprocesses to show no traceback escapes.
Setup and prove use the shipped poseidon2_tiny circuit (240 constraints) with a fixed ``--seed``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import InputError, run_benchmark, zkr

R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583


@pytest.fixture(scope="module")
def tiny(groth16_vectors: Path) -> Path:
    return groth16_vectors / "poseidon2_tiny"


@pytest.fixture(scope="module")
def keydir(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A proving key for poseidon2_tiny made by ``zkr groth16 setup`` (shared by prove tests)."""
    out = tmp_path_factory.mktemp("key") / "key"
    result = CliRunner().invoke(
        zkr, ["groth16", "setup", str(tiny / "circuit.r1cs"), str(out), "--seed", "7"]
    )
    assert result.exit_code == 0, result.output
    assert "INSECURE single-party setup" in result.stderr
    assert "setup" in result.stderr  # the progress display's label (non-tty: label only)
    return out


def run(*args: str):
    return CliRunner().invoke(zkr, list(args))


def one_line_error(result, code: int, fragment: str) -> None:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert fragment in lines[0], lines[0]


def write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


# --- verify -------------------------------------------------------------------------------------


def test_verify_snarkjs_proof_ok(tiny: Path) -> None:
    result = run("groth16", "verify", *(str(tiny / f) for f in VERIFY_FILES))
    assert result.exit_code == 0 and result.stdout == "OK\n"


VERIFY_FILES = ("verification_key.json", "public.json", "proof.json")


def test_verify_wrong_public_input_invalid(tiny: Path, tmp_path: Path) -> None:
    x = int(json.loads((tiny / "public.json").read_text())[0])
    public = write(tmp_path / "public.json", [str((x + 1) % R)])
    result = run(
        "groth16", "verify", str(tiny / VERIFY_FILES[0]), str(public), str(tiny / "proof.json")
    )
    assert result.exit_code == 1 and result.stdout == "INVALID\n"


def test_verify_missing_file_exit_2(tiny: Path, tmp_path: Path) -> None:
    result = run(
        "groth16",
        "verify",
        str(tiny / VERIFY_FILES[0]),
        str(tiny / "public.json"),
        str(tmp_path / "no.json"),
    )
    one_line_error(result, 2, "no.json: cannot read (No such file or directory)")


def test_verify_point_off_curve_exit_2(tiny: Path, tmp_path: Path) -> None:
    proof = json.loads((tiny / "proof.json").read_text())
    proof["pi_c"][1] = str(int(proof["pi_c"][1]) + 1)
    path = write(tmp_path / "proof.json", proof)
    result = run(
        "groth16", "verify", str(tiny / VERIFY_FILES[0]), str(tiny / "public.json"), str(path)
    )
    one_line_error(result, 2, "c (pi_c) is not on the curve")


def test_verify_non_canonical_element_exit_2(tiny: Path, tmp_path: Path) -> None:
    proof = json.loads((tiny / "proof.json").read_text())
    proof["pi_b"][0][1] = str(int(proof["pi_b"][0][1]) + Q)
    path = write(tmp_path / "proof.json", proof)
    result = run(
        "groth16", "verify", str(tiny / VERIFY_FILES[0]), str(tiny / "public.json"), str(path)
    )
    one_line_error(result, 2, "pi_b[0][1]")
    x = int(json.loads((tiny / "public.json").read_text())[0])
    public = write(tmp_path / "public.json", [str(x + R)])
    result = run(
        "groth16", "verify", str(tiny / VERIFY_FILES[0]), str(public), str(tiny / "proof.json")
    )
    one_line_error(result, 2, "is not a canonical Fr element")


def test_verify_usage_error_exit_2(tiny: Path) -> None:
    result = run("groth16", "verify", str(tiny / VERIFY_FILES[0]))
    assert result.exit_code == 2 and "Missing argument" in result.stderr


# --- setup / prove ------------------------------------------------------------------------------


def test_setup_prove_verify_round_trip(keydir: Path, tiny: Path, tmp_path: Path) -> None:
    proof, public = tmp_path / "proof.json", tmp_path / "public.json"
    result = run("groth16", "prove", str(keydir), str(tiny / "witness.wtns"),
                 "--proof", str(proof), "--public", str(public), "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # --quiet: no progress, no chatter
    assert json.loads(public.read_text()) == json.loads((tiny / "public.json").read_text())
    ok = run("groth16", "verify", str(keydir / "verification_key.json"), str(public), str(proof))
    assert ok.exit_code == 0 and ok.stdout == "OK\n"
    # Negative twin: our proof against snarkjs's key for the same circuit is INVALID.
    other = run("groth16", "verify", str(tiny / "verification_key.json"), str(public), str(proof))
    assert other.exit_code == 1 and other.stdout == "INVALID\n"


def test_setup_truncated_r1cs_exit_2(tiny: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "circuit.r1cs"
    truncated.write_bytes((tiny / "circuit.r1cs").read_bytes()[:1000])
    result = run("groth16", "setup", str(truncated), str(tmp_path / "key"), "--quiet")
    one_line_error_after_warning(result, "circuit.r1cs")
    assert not (tmp_path / "key").exists()


def test_setup_missing_r1cs_exit_2(tmp_path: Path) -> None:
    result = run("groth16", "setup", str(tmp_path / "none.r1cs"), str(tmp_path / "key"), "-q")
    one_line_error_after_warning(result, "none.r1cs")


def one_line_error_after_warning(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("WARNING: INSECURE") and len(lines) == 2, result.stderr
    assert lines[1].startswith("Error: ") and fragment in lines[1], lines[1]


def test_prove_wrong_witness_exit_2(keydir: Path, groth16_vectors: Path, tmp_path: Path) -> None:
    witness = groth16_vectors / "merkle_n1_d16" / "witness.wtns"
    result = run("groth16", "prove", str(keydir), str(witness), "--proof", str(tmp_path / "p.json"),
                 "--public", str(tmp_path / "x.json"), "-q")  # fmt: skip
    one_line_error(result, 2, "witness")
    assert not (tmp_path / "p.json").exists()


def test_prove_corrupt_or_missing_key_exit_2(keydir: Path, tiny: Path, tmp_path: Path) -> None:
    broken = tmp_path / "key"
    shutil.copytree(keydir, broken)
    victim = sorted(broken.glob("*.npy"))[0]
    victim.write_bytes(victim.read_bytes()[:-64])
    args = ["--proof", str(tmp_path / "p.json"), "--public", str(tmp_path / "x.json"), "-q"]
    result = run("groth16", "prove", str(broken), str(tiny / "witness.wtns"), *args)
    one_line_error(result, 2, victim.name)
    result = run("groth16", "prove", str(tmp_path / "nokey"), str(tiny / "witness.wtns"), *args)
    one_line_error(result, 2, "nokey")


# --- demo, bench, real processes ----------------------------------------------------------------


def test_demo(tmp_path: Path) -> None:
    result = run("groth16", "demo", "--quiet", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    for line in ("our proof verifies:              yes", "tampered public input rejected:  yes",
                 "snarkjs's proof verifies:        yes"):  # fmt: skip
        assert line in result.stdout
    assert (tmp_path / "proof.json").is_file() and (
        tmp_path / "key" / "verification_key.json"
    ).is_file()


def test_bench_groth16_passes_arguments_to_the_benchmark() -> None:
    result = run("bench", "groth16", "--help")
    assert result.exit_code == 0 and "usage: python -m benchmarks.groth16" in result.stdout
    bad = run("bench", "groth16", "--no-such-option")
    assert bad.exit_code == 2 and "unrecognized arguments: --no-such-option" in bad.stderr


def test_bench_missing_module_is_one_line() -> None:
    with pytest.raises(InputError, match=r"benchmarks\.no_such_bench is not available"):
        run_benchmark("benchmarks.no_such_bench", ())


def _zkr(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from cli import main; sys.argv = ['zkr', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300
    )


def test_real_process_ok_and_malformed_without_traceback(tiny: Path, tmp_path: Path) -> None:
    ok = _zkr("groth16", "verify", *(str(tiny / f) for f in VERIFY_FILES))
    assert ok.returncode == 0 and ok.stdout == "OK\n"
    bad = write(
        tmp_path / "vk.json",
        {**json.loads((tiny / VERIFY_FILES[0]).read_text()), "vk_alpha_1": ["1", "1", "1"]},
    )
    out = _zkr("groth16", "verify", str(bad), str(tiny / "public.json"), str(tiny / "proof.json"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"Error: {bad}: verifying key: alpha_g1 (vk_alpha_1) is not on the curve y^2 = x^3 + 3 (G1)"
    ]
    assert (
        shutil.which("zkr") is None
        or subprocess.run(["zkr", "--help"], capture_output=True).returncode == 0
    )


def test_bench_writes_into_the_current_directory(tmp_path: Path, monkeypatch) -> None:
    """``zkr bench`` output lands in ./bench_out of the caller (or --out), never beside the
    installed sources."""
    import benchmarks.common as common

    repo_out = Path(common.__file__).resolve().parents[1] / "bench_out"
    existed = repo_out.exists()
    monkeypatch.chdir(tmp_path)
    small = ("--sizes", "8", "--threads", "1", "--batch-log", "6", "--repeat", "1")
    run_benchmark("benchmarks.kernels", small)
    assert (tmp_path / "bench_out" / "kernels.json").is_file()
    run_benchmark("benchmarks.kernels", (*small, "--out", str(tmp_path / "elsewhere")))
    assert (tmp_path / "elsewhere" / "kernels.json").is_file()
    assert repo_out.exists() == existed
