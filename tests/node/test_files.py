"""The directory's files: atomic writes, checksummed envelopes, the lock — and the corruption
matrix: each file kind damaged in each way gives one line with exit code 5 (missing rollup.json:
2), names the file, says how to recover, and changes nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import EXIT_CORRUPT, EXIT_MALFORMED, zkr
from rollup.node.errors import Busy, CorruptFile
from rollup.node.files import DirectoryLock, atomic_write, read_envelope, write_envelope
from rollup.node.keystore import Keystore


def run(*args: object):
    return CliRunner().invoke(zkr, [str(a) for a in args])


def snapshot(d: Path) -> dict[str, bytes]:
    """Every file's bytes — not the lock's holder text, SQLite's shared-memory index (-shm) or an
    empty write-ahead log (-wal), which hold no data."""

    def data(p: Path) -> bool:
        side = p.name.endswith("-shm") or (p.name.endswith("-wal") and p.stat().st_size == 0)
        return p.is_file() and p.name != "lock" and "keys" not in p.parts and not side

    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if data(p)}


def one_line(result, code: int, *fragments: str) -> str:
    assert result.exit_code == code, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# -- the primitives --------------------------------------------------------------------------------
def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    atomic_write(target, b"old")
    atomic_write(target, b"new", mode=0o600)
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "f.json"
    atomic_write(target, b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_the_lock_sweeps_temporaries_of_killed_writers_only(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    left = tmp_path / f".keystore.json.{dead}.tmp"  # a writer killed before its rename
    live = tmp_path / f".orders.json.{os.getpid()}.tmp"  # a writer that is still running
    other = tmp_path / ".notes.tmp"  # not ours: no pid
    for p in (left, live, other):
        p.write_bytes(b"partial")
    with DirectoryLock(tmp_path, "test"):
        pass
    assert not left.exists()
    # negative twin: a live writer's temporary and files of other shapes are kept
    assert live.read_bytes() == b"partial" and other.read_bytes() == b"partial"


def test_envelope_round_trip_and_every_kind_of_damage(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    write_envelope(path, "keystore", {"a": ["1", "2"]})
    assert read_envelope(path, "keystore", "restore it") == {"a": ["1", "2"]}
    text = path.read_text()
    damaged = {
        "missing": None,
        "truncated": text[: len(text) // 2],
        "empty": "",
        "flipped": text.replace('"1"', '"3"'),
        "list": "[]",
        "other kind": text.replace('"keystore"', '"orders"'),
        "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,  # json would overflow the C stack
    }
    for what, content in damaged.items():
        if content is None:
            path.unlink()
        else:
            path.write_text(content)
        with pytest.raises(CorruptFile, match=r"restore it$") as e:
            read_envelope(path, "keystore", "restore it")
        assert str(path) in str(e.value), what


def test_lock_excludes_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    first = DirectoryLock(tmp_path, "zkr settle", wait=0)
    first.acquire()
    with pytest.raises(Busy, match=r"zkr settle \(pid \d+\) holds its lock"):
        DirectoryLock(tmp_path, "zkr order", wait=0.2).acquire()
    first.relabel("zkr node http://127.0.0.1:1")
    with pytest.raises(Busy, match=r"served by a running node .* HTTP API"):
        DirectoryLock(tmp_path, "zkr order", wait=30).acquire()  # at once, not after 30 s
    first.release()
    with DirectoryLock(tmp_path, "zkr order", wait=0) as second:  # positive twin
        assert second.held


# -- the corruption matrix -------------------------------------------------------------------------
def damage(path: Path, how: str) -> None:
    data = path.read_bytes() if path.exists() else b""
    if how == "missing":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":  # a byte in use: in SQLite files the schema's text (read on every
        # open; the middle of the file may be a page's free space), in JSON files the middle
        sqlite = data.startswith(b"SQLite format 3")
        i = data.index(b"CREATE TABLE") + 7 if sqlite else len(data) // 2
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :])
    elif how == "list":
        path.write_text("[]")


JSON_VERBS = {  # file → (verb words, arguments after --dir)
    "keystore.json": (["account", "new"], []),
    "orders.json": (["order"], [0, 0, "buy", "0.01", "29000"]),
    "oracle.json": (["oracle"], ["30000"]),
    "rollup.json": (["status"], []),
}


@pytest.mark.parametrize("name", sorted(JSON_VERBS))
@pytest.mark.parametrize("how", ["missing", "empty", "truncated", "flipped", "list"])
def test_damaged_json_file(rollup_dir: Path, name: str, how: str) -> None:
    words, rest = JSON_VERBS[name]
    args = [*words, "--dir", rollup_dir, *rest]
    assert run(*args).exit_code == 0  # positive twin
    damage(rollup_dir / name, how)
    before = snapshot(rollup_dir)
    result = run(*args)
    if name == "rollup.json" and how == "missing":
        one_line(result, EXIT_MALFORMED, "is not a rollup directory")
    else:
        one_line(result, EXIT_CORRUPT, name, "restore")
    assert snapshot(rollup_dir) == before


@pytest.mark.parametrize("name", ["sequencer.db", "settlement.db"])
@pytest.mark.parametrize("how", ["missing", "empty", "truncated", "flipped"])
def test_damaged_database(rollup_dir: Path, name: str, how: str) -> None:
    for db in ("sequencer.db", "settlement.db"):  # all in the main files: no WAL to fall back on
        con = sqlite3.connect(rollup_dir / db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
    damage(rollup_dir / name, how)
    before = snapshot(rollup_dir)
    result = run("batch", "--dir", rollup_dir)
    line = one_line(result, EXIT_CORRUPT, name)
    if name == "sequencer.db":
        assert "zkr rebuild" in line
    assert snapshot(rollup_dir) == before


def test_damaged_proof_row_names_the_batch(rollup_dir: Path) -> None:
    from rollup.node import Rollup

    with Rollup(rollup_dir) as node:
        node.seq.store.put_proof(0, {"pi_a": ["1", "2", "1"]})
    con = sqlite3.connect(rollup_dir / "sequencer.db")
    (blob,) = con.execute("SELECT proof FROM proofs WHERE number = 0").fetchone()
    damaged = blob[:-1] + bytes([blob[-1] ^ 1])  # a flipped bit
    con.execute("UPDATE proofs SET proof = ? WHERE number = 0", (damaged,))
    con.commit()
    con.close()
    before = snapshot(rollup_dir)
    one_line(run("settle", "--dir", rollup_dir), EXIT_CORRUPT, "batch 0's proof fails its checksum")
    one_line(
        run("export", "--dir", rollup_dir, 0, "--out", rollup_dir / "x"), EXIT_CORRUPT, "batch 0"
    )
    assert snapshot(rollup_dir) == before


def test_keystore_is_never_left_empty(rollup_dir: Path) -> None:
    """Positive twin of the kill tests: the keystore after many additions parses and holds all."""
    store = Keystore(rollup_dir)
    for _ in range(2):
        store.add(4)
    assert store.accounts() == [0, 1, 2, 3]
    with pytest.raises(Exception, match="full"):
        store.add(4)
    body = json.loads((rollup_dir / "keystore.json").read_text())
    assert body["kind"] == "keystore" and len(body["sha256"]) == 64


def test_a_settlement_store_of_another_format_is_named_not_called_damaged(rollup_dir: Path) -> None:
    """A settlement.db of the previous format (2) is refused with its format and what to do, not
    with the advice for a damaged file."""
    from protocol.codec import pack
    from verifier.l1_store import checksum

    con = sqlite3.connect(rollup_dir / "settlement.db")
    blob = pack(2)
    with con:
        sql = "UPDATE meta SET value = ? WHERE key = 'format'"
        con.execute(sql, (blob + checksum(b"format", blob),))
    con.close()
    before = snapshot(rollup_dir)
    line = one_line(run("status", "--dir", rollup_dir), EXIT_CORRUPT, "settlement.db")
    assert "is a settlement store of format 2, this zkrollup reads format 3" in line
    assert "start a new rollup with 'zkr init'" in line and "backup" not in line
    assert snapshot(rollup_dir) == before
