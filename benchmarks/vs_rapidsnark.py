"""zkr beside rapidsnark, snarkjs and groth16py (arkworks): the same ``.zkey`` and ``.wtns``.

    python -m benchmarks.vs_rapidsnark [--circuit merkle_n16_d16] [--zkey K --wtns W]
        [--rounds 5] [--rapidsnark PATH] [--snarkjs] [--in-process 3] [--out bench_out]
    python -m benchmarks.vs_rapidsnark --export-batch DIR [--slots 8]   # batch r1cs + wtns + zkey

Whole processes, interleaved round by round (zkr, rapidsnark, groth16py, snarkjs, zkr, …), so a
change in the machine's load hits every prover alike; the ratios zkr / other are computed per
round and their median reported with ``os.getloadavg()`` before and after, with each prover's
peak RSS (``wait4``'s ``ru_maxrss``, mapped files included). ``zkr`` is
``python -m cli groth16 prove KEY.zkey W.wtns`` (a fresh process: imports, numba cache, key
mapping, witness, proof, JSON), rapidsnark its ``prover`` binary, snarkjs ``groth16 prove``,
groth16py ``import_zkey`` + ``prove_wtns`` in a fresh Python. ``floor`` is a process that only
starts Python, imports the CLI and the kernels and runs one cached kernel: the start-up every
``zkr`` process pays before any proving (``floor_over_rapidsnark``: that alone as a fraction of
rapidsnark's whole job). In-process: our ``prove`` after one warm-up call, interleaved with
groth16py's ``prove_wtns`` in this process.

The rapidsnark binary is ``--rapidsnark``, else ``$RAPIDSNARK``, else
``~/.cache/zkr-anchors/rapidsnark-prover``; without it the benchmark prints one line and exits 0.
JSON (every sample) and PNG go to ``--out`` (default ``bench_out``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    OUT_DIR,
    REPO,
    find_snarkjs,
    groth16_vector,
    plot,
    write_json,
)

DEFAULT_RAPIDSNARK = Path.home() / ".cache" / "zkr-anchors" / "rapidsnark-prover"
#: What every ``zkr groth16 prove`` process does before any proving work: start Python, import
#: the CLI and the kernels (numba), run one cached kernel (numba's target initialisation), exit
#: as the CLI does. Its time is the floor under our whole-process figure.
FLOOR = (
    "import os, numpy as np, cli; from prover.kernels import field; "
    "field.fr_mul_array(np.zeros((1, 4), np.uint64), np.zeros((1, 4), np.uint64)); os._exit(0)"
)
GROTH16PY = (
    "import sys, groth16py; pk, vk = groth16py.import_zkey(sys.argv[1]); "
    "groth16py.prove_wtns(pk, sys.argv[2])"
)


def find_rapidsnark(arg: str | None) -> Path | None:
    """The rapidsnark prover binary: ``--rapidsnark``, ``$RAPIDSNARK``, the default cache."""
    for candidate in (arg, os.environ.get("RAPIDSNARK"), str(DEFAULT_RAPIDSNARK)):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def _commands(zkey: Path, wtns: Path, tmp: Path, rapidsnark: Path, snarkjs: bool) -> dict:
    out = [str(tmp / "proof.json"), str(tmp / "public.json")]
    cmds = {
        "zkr": [sys.executable, "-m", "cli", "groth16", "prove", str(zkey), str(wtns), "-q",
                "--proof", out[0], "--public", out[1]],
        "rapidsnark": [str(rapidsnark), str(zkey), str(wtns), *out],
        "floor": [sys.executable, "-c", FLOOR],
    }  # fmt: skip
    try:
        import groth16py  # noqa: F401

        cmds["groth16py"] = [sys.executable, "-c", GROTH16PY, str(zkey), str(wtns)]
    except ImportError:
        print("groth16py not installed (pip install groth16py): left out", file=sys.stderr)
    node = find_snarkjs() if snarkjs else None
    if node:
        cmds["snarkjs"] = [*node, "groth16", "prove", str(zkey), str(wtns), *out]
    return cmds


def _run(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds user + system, peak RSS in MiB: the process's resident pages at
    their most, mapped files included) of one process run to completion."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(
            f"{cmd[0]} failed: {proc.stderr.read().decode()[-300:] if proc.stderr else ''}"
        )
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # Linux: KiB


def _ratios(samples: dict[str, list[float]]) -> dict[str, float]:
    return {
        name: statistics.median(z / o for z, o in zip(samples["zkr"], xs, strict=True))
        for name, xs in samples.items()
        if name not in ("zkr", "floor")
    }


def whole_process(zkey: Path, wtns: Path, rounds: int, rapidsnark: Path, snarkjs: bool) -> dict:
    """Interleaved whole-process runs: every sample (wall and CPU), medians, per-round ratios."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    rss: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cmds = _commands(zkey, wtns, Path(tmp), rapidsnark, snarkjs)
        for cmd in cmds.values():  # one untimed run each: page cache, numba cache
            _run(cmd, env)
        for _ in range(rounds):
            for name, cmd in cmds.items():
                w, c, m = _run(cmd, env)
                wall.setdefault(name, []).append(w)
                cpu.setdefault(name, []).append(c)
                rss.setdefault(name, []).append(m)
    return {
        "samples_s": wall,
        "cpu_samples_s": cpu,
        "median_s": {k: statistics.median(v) for k, v in wall.items()},
        "median_cpu_s": {k: statistics.median(v) for k, v in cpu.items()},
        "peak_rss_mib": {k: max(v) for k, v in rss.items()},
        "zkr_over": _ratios(wall),
        "zkr_over_cpu": _ratios(cpu),
        #: the start-up floor over rapidsnark's whole process, per round (median)
        "floor_over_rapidsnark": statistics.median(
            f / o for f, o in zip(wall["floor"], wall["rapidsnark"], strict=True)
        ),
    }


def in_process(zkey: Path, wtns: Path, repeat: int) -> dict:
    """Our prove (key mapped, witness read, one warm-up) against groth16py's, interleaved."""
    from prover.iden3 import read_wtns_limbs
    from prover.prove import prove
    from prover.zkey import read_zkey

    pk, z = read_zkey(zkey), read_wtns_limbs(wtns)
    prove(pk, z)
    runners = {"zkr": lambda: prove(pk, z)}
    try:
        import groth16py

        gpk, _ = groth16py.import_zkey(str(zkey))
        groth16py.prove_wtns(gpk, str(wtns))
        runners["groth16py"] = lambda: groth16py.prove_wtns(gpk, str(wtns))
    except ImportError:
        pass
    samples: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(repeat):
        for name, fn in runners.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    out: dict[str, Any] = {
        "samples_s": samples,
        "median_s": {k: statistics.median(v) for k, v in samples.items()},
    }
    if "groth16py" in samples:
        out["zkr_over_groth16py"] = statistics.median(
            a / b for a, b in zip(samples["zkr"], samples["groth16py"], strict=True)
        )
    return out


def export_batch(directory: Path, slots: int) -> dict[str, Path]:
    """The B-slot batch circuit (D = 16, M = 4) with one trade batch's witness, as circuit.r1cs,
    witness.wtns, and circuit.zkey from our setup (what rapidsnark and snarkjs prove with)."""
    from benchmarks.batch import _trade_batches
    from circuits.batch import BatchShape, compile_batch
    from circuits.export import export_circuit
    from prover.setup import SeededRandom, setup
    from prover.zkey import write_zkey
    from rollup.circuit_input import batch_assignment

    shape = BatchShape(slots, 16, 4)
    compiled = compile_batch(shape)
    with tempfile.TemporaryDirectory() as tmp:
        batch = _trade_batches(16, slots, 4, Path(tmp))[0]
    witness = compiled.solve(batch_assignment(batch, shape))
    paths = export_circuit(compiled, witness, directory, "circuit")
    paths["wtns"] = paths["wtns"].rename(directory / "witness.wtns")
    paths["zkey"] = directory / "circuit.zkey"
    write_zkey(setup(compiled.r1cs, SeededRandom(1)), paths["zkey"])
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--circuit", default="merkle_n16_d16", help="a folder of the groth16 test vectors"
    )
    ap.add_argument("--zkey", type=Path, help="prove this .zkey (with --wtns) instead")
    ap.add_argument("--wtns", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--in-process", type=int, default=3, help="in-process repeats (0: skip)")
    ap.add_argument("--rapidsnark", help="rapidsnark prover binary")
    ap.add_argument("--snarkjs", action="store_true", help="also time snarkjs (slow)")
    ap.add_argument("--export-batch", type=Path, help="write the batch circuit's files here")
    ap.add_argument("--slots", type=int, default=8)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    if args.export_batch:
        for kind, path in export_batch(args.export_batch, args.slots).items():
            print(f"{kind}: {path}")
        return 0
    rapidsnark = find_rapidsnark(args.rapidsnark)
    if rapidsnark is None:
        print("rapidsnark binary not found (--rapidsnark, $RAPIDSNARK): skipped")
        return 0
    if args.zkey:
        zkey, wtns, label = args.zkey.resolve(), args.wtns.resolve(), args.zkey.parent.name
    else:
        try:
            d = groth16_vector(args.circuit)
        except FileNotFoundError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        zkey, wtns, label = d / "circuit_final.zkey", d / "witness.wtns", args.circuit
    load_before = os.getloadavg()
    result: dict[str, Any] = {"circuit": label, "zkey": str(zkey), "rapidsnark": str(rapidsnark)}
    result["whole_process"] = whole_process(zkey, wtns, args.rounds, rapidsnark, args.snarkjs)
    if args.in_process:
        result["in_process"] = in_process(zkey, wtns, args.in_process)
    result["loadavg_before_after"] = [load_before, os.getloadavg()]
    name = f"vs_rapidsnark_{label}"
    path = write_json(name, result, args.out)
    wp = result["whole_process"]["samples_s"]
    plot(
        name,
        {k: list(enumerate(v, start=1)) for k, v in wp.items()},
        xlabel="round",
        ylabel="whole-process prove (s)",
        title=f"{label}: whole processes, interleaved",
        logx=False,
        out_dir=args.out,
    )
    print(f"{label}: median whole-process s {result['whole_process']['median_s']}")
    print(f"zkr / other (median of per-round ratios): {result['whole_process']['zkr_over']}")
    print(f"the same in CPU seconds (user + system): {result['whole_process']['zkr_over_cpu']}")
    print(f"peak RSS MiB (mapped files included): {result['whole_process']['peak_rss_mib']}")
    print(
        f"zkr's start-up floor (Python, numba, one cached kernel): "
        f"{result['whole_process']['median_s']['floor']:.2f} s = "
        f"{result['whole_process']['floor_over_rapidsnark']:.2f}× rapidsnark's whole process"
    )
    if "in_process" in result:
        print(f"in-process median s {result['in_process']['median_s']}")
    print(f"load {load_before} -> {os.getloadavg()}; JSON {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
