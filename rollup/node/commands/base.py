"""The command line's shared machinery: exit codes, one-line errors, progress bars, options.

Every verb runs inside ``mapped_errors`` (through ``ZkrGroup``): each package's errors become
one line on stderr with the documented exit code (``EXIT_CODES``; the table is in ``cli``'s
docstring and README). Importing this module imports click and the standard library only, so
``zkr groth16 prove`` starts fast.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

EXIT_INVALID = 1
EXIT_MALFORMED = 2
EXIT_REFUSED = 3
EXIT_L1_REFUSED = 4
EXIT_CORRUPT = 5
EXIT_BUSY = 6
EXIT_INTERNAL = 70
SETUP_WARNING = (
    "WARNING: INSECURE single-party setup — whoever ran it could forge proofs. "
    "For development and tests only."
)


#: Set by verbs whose process should end without the interpreter's teardown once their outputs
#: are written (``main`` only; in-process callers are unaffected): freeing numba's compiled code
#: and a proving key's arrays object by object takes 0.5–2 s, a third of a whole ``prove`` here.
SKIP_TEARDOWN: list[bool] = []


class InputError(click.ClickException):
    """Malformed or missing input: one line on stderr, exit code 2."""

    exit_code = EXIT_MALFORMED


class Failure(click.ClickException):
    """A mapped failure: one line on stderr with its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


#: the exit code of each kind of failure (``rollup.node.errors.classify``)
EXIT_CODES: dict[str, int] = {
    "malformed": EXIT_MALFORMED,
    "refused": EXIT_REFUSED,
    "l1_refused": EXIT_L1_REFUSED,
    "corrupt": EXIT_CORRUPT,
    "busy": EXIT_BUSY,
}


def exit_code_of(error: BaseException) -> int | None:
    """The exit code of an error of one of the packages (``EXIT_CODES``), None for others."""
    from rollup.node.errors import classify

    kind = classify(error)
    return None if kind is None else EXIT_CODES[kind]


def message_of(error: BaseException) -> str:
    """One line: the error's message, with the refusal's kind where the message lacks it."""
    from rollup.errors import TransactionError
    from verifier.settlement import SettlementError

    if isinstance(error, OSError):
        return f"{error.filename or ''}: {error.strerror or error}".lstrip(": ")
    describe = click.get_current_context(silent=True)
    describe = describe.meta.get("zkr.describe") if describe is not None else None
    text = describe(error) if describe is not None else str(error)
    if isinstance(error, (TransactionError, SettlementError)) or type(error).__name__ in (
        "MempoolRejected",
        "BatchError",
    ):
        text = f"{type(error).__name__}: {text}"
    return " ".join(text.split())


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Every package's errors as one-line ``Failure``s with the documented exit codes."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
        raise
    except Exception as e:
        code = exit_code_of(e)
        if code is None:
            if os.environ.get("ZKR_DEBUG"):
                raise
            raise Failure(
                f"internal error: {type(e).__name__}: {e} (ZKR_DEBUG=1 shows the traceback)",
                EXIT_INTERNAL,
            ) from None
        raise Failure(message_of(e), code) from None


class ZkrGroup(click.Group):
    """The top-level group: every subcommand runs inside ``mapped_errors``."""

    def invoke(self, ctx: click.Context) -> Any:
        with mapped_errors():
            return super().invoke(ctx)


@contextmanager
def progress_bar(quiet: bool, label: str) -> Iterator[Callable[[str, int, int], None] | None]:
    """A ``progress(step, done, total)`` callback drawing click progress bars on stderr.

    A new bar starts whenever the API starts a new sequence of steps (``done`` goes back or
    ``total`` changes), e.g. setup then prove in the demo.
    """
    if quiet:
        yield None
        return
    bars: list = []

    def finish() -> None:
        if bars:
            bar = bars.pop()
            bar.update(bar.length - bar.pos, current_item="done")
            bar.__exit__(None, None, None)

    def progress(step: str, done: int, total: int) -> None:
        if bars and (done < bars[-1].pos or total != bars[-1].length):
            finish()
        if not bars:
            bar = click.progressbar(
                length=max(total, 1),
                label=label,
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda item: item,
            )
            bar.__enter__()
            bars.append(bar)
        bars[-1].update(max(0, done - bars[-1].pos), current_item=step)

    try:
        yield progress
    finally:
        finish()


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (loading numba's cached kernels allocates many
    small objects and triggers full collections: ~5–10 % of a short ``prove``); restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress display.")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON.")
