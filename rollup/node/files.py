"""The files of one rollup directory: atomic writes, checksummed JSON, the directory lock.

Layout::

    rollup.json       shape (params), settlement config, key directory — written last by init
    sequencer.db      rollup.store.Store (tree, accounts, mempool, batches, proofs; SQLite WAL)
    settlement.db     verifier.settlement.Settlement (vault, root, queue, published pubdata)
    keystore.json     DEVELOPMENT keystore, UNENCRYPTED: account keys and the oracle key
    orders.json       resting signed orders (rollup.node.orders)
    lock              flock(2) target: one writer at a time (``DirectoryLock``)
    keys/<digest>/    proving key per circuit shape (rollup.node.pipeline) unless given elsewhere

Every file is written by ``atomic_write``: a temporary file in the same directory, fsync, rename
over the target, fsync of the directory — a process killed at any instant leaves either the old
file or the new one, never a torn or empty one. The JSON files are an envelope
``{"kind", "version", "sha256", "body"}`` where ``sha256`` is the digest of the body's canonical
JSON (sorted keys, no spaces), so a bit flip is reported (``CorruptFile``) instead of, say, a
flipped private key silently signing for another account. Integers in the bodies are decimal
strings, so 254-bit field elements stay exact for every reader.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from protocol import jsonio
from rollup.node.errors import Busy, CorruptFile, NodeError

__all__ = [
    "DirectoryLock",
    "atomic_write",
    "ints",
    "read_envelope",
    "strs",
    "write_envelope",
    "write_export",
]

ENVELOPE_VERSION = 1
NODE_HOLDER = "zkr node"  #: how a running node names itself in the lock file


def fsync_dir(directory: Path) -> None:
    """Make a rename or creation in ``directory`` durable (POSIX: fsync the directory)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically and durably (temp file, fsync, rename, fsync dir).

    The temporary file is ``.<name>.<pid>.tmp`` beside the target (same file system, so the rename
    is atomic); it is removed if anything fails before the rename.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def _digest(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def write_envelope(path: str | Path, kind: str, body: Any, mode: int = 0o644) -> None:
    """Write ``body`` as a checksummed JSON envelope of ``kind``, atomically."""
    envelope = {"kind": kind, "version": ENVELOPE_VERSION, "sha256": _digest(body), "body": body}
    atomic_write(path, (json.dumps(envelope, indent=1) + "\n").encode(), mode)


def read_envelope(path: str | Path, kind: str, recover: str) -> Any:
    """The body of the ``kind`` envelope at ``path``; ``CorruptFile`` (ending with ``recover``,
    what the user can do) if it is missing, not JSON, of another kind or fails its checksum."""
    path = Path(path)
    try:
        text = path.read_bytes().decode()
    except FileNotFoundError:
        raise CorruptFile(path=path, detail=f"missing; {recover}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CorruptFile(path=path, detail=f"unreadable ({e}); {recover}") from None
    try:
        envelope = jsonio.loads(text)
    except json.JSONDecodeError as e:
        raise CorruptFile(
            path=path, detail=f"not JSON ({e.msg} at line {e.lineno}); {recover}"
        ) from None
    except ValueError as e:  # nested too deep, or an integer literal too long
        raise CorruptFile(path=path, detail=f"not JSON ({e}); {recover}") from None
    if not isinstance(envelope, dict) or envelope.get("kind") != kind or "body" not in envelope:
        raise CorruptFile(path=path, detail=f"not a zkrollup {kind} file; {recover}")
    if envelope.get("version") != ENVELOPE_VERSION:
        raise CorruptFile(
            path=path, detail=f"unknown version {envelope.get('version')!r}; {recover}"
        )
    if envelope.get("sha256") != _digest(envelope["body"]):
        raise CorruptFile(path=path, detail=f"checksum mismatch (the file was altered); {recover}")
    return envelope["body"]


def sweep_temporaries(directory: Path) -> list[Path]:
    """Remove the ``atomic_write`` temporaries (``.<name>.<pid>.tmp``) in ``directory`` whose
    writer is gone (a process killed between writing and renaming); returns them. Those of a
    live process are kept: it may be about to rename one."""
    gone = []
    for tmp in directory.glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            gone.append(tmp)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


class DirectoryLock:
    """An exclusive ``flock`` on ``<dir>/lock``: one writing process per rollup directory.

    ``acquire`` waits up to ``wait`` seconds (polling, so a signal still interrupts it) and then
    raises ``Busy`` naming the holder, which each holder writes into the lock file. A running
    ``zkr node`` holds the lock for its lifetime, so others fail at once (``NODE_HOLDER``) and are
    pointed to its HTTP API; the kernel drops a lock when its holder dies, so
    a killed process never leaves the directory locked. Whoever takes the lock removes the
    temporaries a killed writer left behind (``sweep_temporaries``).
    """

    POLL_SECONDS = 0.05

    def __init__(self, directory: str | Path, holder: str, wait: float = 30.0) -> None:
        self.path = Path(directory) / "lock"
        self.holder = holder
        self.wait = wait
        self._fd: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        if self._depth:
            self._depth += 1
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                other = _read_holder(fd)
                if other.startswith(NODE_HOLDER):
                    os.close(fd)
                    raise Busy(
                        detail=f"{self.path.parent} is served by a running node ({other}): "
                        "send requests to its HTTP API, or stop it first"
                    ) from None
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise Busy(
                        detail=f"{self.path.parent} is busy: {other} holds its lock "
                        f"(waited {self.wait:g} s); try again when it has finished"
                    ) from None
                time.sleep(self.POLL_SECONDS)
        self._fd, self._depth = fd, 1
        self.relabel(self.holder)
        sweep_temporaries(self.path.parent)

    def relabel(self, holder: str) -> None:
        """Say who holds the lock (e.g. the node's URL once it listens); the lock must be held."""
        if self._fd is None:
            raise RuntimeError("relabel() needs the lock held")
        self.holder = holder
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{holder} (pid {os.getpid()})\n".encode(), 0)

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DirectoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
        if text:
            return text
    return "another process"


@contextlib.contextmanager
def locked(lock: DirectoryLock) -> Iterator[None]:
    """``with locked(lock):`` — re-entrant use of ``lock`` inside one process."""
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


# -- exported batches ----------------------------------------------------------------------------
def write_export(
    out: str | Path, verifying_key: Any, proof: Any, public: tuple[int, int, int]
) -> list[Path]:
    """Write verification_key.json, proof.json, public.json (snarkjs) into ``out``."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NodeError(
            detail=f"{out}: cannot create the export directory ({e.strerror})"
        ) from None
    files = {
        "verification_key.json": verifying_key,
        "proof.json": proof,
        "public.json": [str(v) for v in public],
    }
    for name, obj in files.items():
        atomic_write(out / name, (json.dumps(obj, indent=1) + "\n").encode())
    return [out / name for name in files]


# -- JSON integers -------------------------------------------------------------------------------
def strs(obj: Any) -> Any:
    """Integers as decimal strings (JSON keeps 254-bit values exact for every reader)."""
    if isinstance(obj, (list, tuple)):
        return [strs(v) for v in obj]
    return str(obj) if isinstance(obj, int) and not isinstance(obj, bool) else obj


def ints(obj: Any) -> Any:
    """The inverse of ``strs`` on lists: decimal strings back to integers."""
    if isinstance(obj, list):
        return [ints(v) for v in obj]
    return int(obj) if isinstance(obj, str) else obj
