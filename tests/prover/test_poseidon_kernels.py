"""Every Poseidon backend this machine runs against REFERENCE (the plain-Python twin): vectors,
random inputs, Merkle paths, the sponge, many-row hashing; refusal of the same input with the
same message; the choice of backend by name and by capability."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import poseidon as ref
from protocol.errors import PrimitiveError
from prover.fields import curve_order as r
from prover.poseidon_engine import (
    REFERENCE,
    BackendUnavailableError,
    PoseidonBackend,
    available_backends,
    get_backend,
)
from tests.hash_paths import ALL, FAST

fr = st.integers(min_value=0, max_value=r - 1)


@pytest.mark.parametrize("name", ALL)
def test_vectors(load_vectors, name: str) -> None:
    backend = get_backend(name)
    data = load_vectors("poseidon_circomlibjs.json")
    for v in data["vectors"]:
        assert backend.hash([int(x) for x in v["inputs"]]) == int(v["output"])
    case = data["with_init_state"]
    inputs = [int(x) for x in case["inputs"]]
    assert backend.hash(inputs, init_state=int(case["init_state"])) == int(case["output"])


@pytest.mark.parametrize("name", FAST)
@settings(max_examples=40, deadline=None)
@given(st.lists(fr, min_size=1, max_size=16), fr)
def test_hash_matches_reference(name: str, inputs: list[int], init: int) -> None:
    fast = get_backend(name)
    assert fast.hash(inputs) == ref.poseidon_hash(inputs)
    assert fast.hash(inputs, init_state=init) == ref.poseidon_hash(inputs, init_state=init)
    edge = [r - 1] * len(inputs)
    assert fast.hash(edge) == ref.poseidon_hash(edge)
    assert fast.pair(inputs[0], init) == ref.poseidon_hash([inputs[0], init])


@pytest.mark.parametrize("name", FAST)
@settings(max_examples=15, deadline=None)
@given(st.lists(fr, max_size=40))
def test_sponge_matches_reference(name: str, elements: list[int]) -> None:
    assert get_backend(name).sponge(elements) == ref.poseidon_sponge(elements)


@pytest.mark.parametrize("name", FAST)
@settings(max_examples=25, deadline=None)
@given(fr, st.data(), st.lists(fr, min_size=0, max_size=20))
def test_merkle_path_matches_reference(name: str, leaf: int, data, siblings: list[int]) -> None:
    fast = get_backend(name)
    index = data.draw(st.integers(min_value=0, max_value=(1 << len(siblings)) - 1))
    nodes = fast.path_nodes(leaf, index, siblings)
    assert nodes == ref.merkle_path_nodes(leaf, index, siblings)
    assert fast.path_root(leaf, index, siblings) == ref.merkle_path_root(leaf, index, siblings)
    if siblings:  # negative twin: another sibling, another root
        tampered = [(siblings[0] + 1) % r, *siblings[1:]]
        assert fast.path_root(leaf, index, tampered) != nodes[-1]


@pytest.mark.parametrize("name", FAST)
@settings(max_examples=20, deadline=None)
@given(
    st.integers(1, 16).flatmap(lambda k: st.lists(st.lists(fr, min_size=k, max_size=k), max_size=6))
)
def test_many_matches_reference(name: str, rows: list[list[int]]) -> None:
    fast = get_backend(name)
    expected = [ref.poseidon_hash(x) for x in rows]
    assert ref.poseidon_many(rows) == expected
    assert fast.many(rows, threads=1) == fast.many(rows) == expected
    assert fast.many(rows * 3, threads=2) == expected * 3  # split over two threads
    assert fast.many([[r - 1, 0]]) == [ref.poseidon_hash([r - 1, 0])]  # edge value


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("k", range(1, 17))
def test_many_every_width_across_groups(name: str, k: int) -> None:
    """17 rows (two full groups of eight lanes and one of a single row) of edge and mixed values,
    every width t = 2..17; one changed input changes only its row's hash."""
    fast = get_backend(name)
    rows = [[(r - 1 - i - j) if (i + j) % 3 else i * j for j in range(k)] for i in range(17)]
    expected = [ref.poseidon_hash(x) for x in rows]
    assert fast.many(rows, threads=2) == expected
    tampered = [list(x) for x in rows]
    tampered[9][k - 1] = (tampered[9][k - 1] + 1) % r
    got = fast.many(tampered, threads=2)
    assert got[9] != expected[9] and got[:9] == expected[:9] and got[10:] == expected[10:]


@pytest.mark.parametrize("name", FAST)
@settings(max_examples=15, deadline=None)
@given(
    st.tuples(st.integers(1, 16), st.integers(1, 15), st.integers(0, 7)).flatmap(
        lambda kkn: st.tuples(
            st.lists(
                st.lists(fr, min_size=kkn[0], max_size=kkn[0]), min_size=kkn[2], max_size=kkn[2]
            ),
            st.lists(
                st.lists(fr, min_size=kkn[1], max_size=kkn[1]), min_size=kkn[2], max_size=kkn[2]
            ),
        )
    )
)
def test_many_nested_matches_reference(name: str, rows: tuple[list, list]) -> None:
    fast = get_backend(name)
    inner, outer = rows
    expected = [
        ref.poseidon_hash([*o, ref.poseidon_hash(i)]) for i, o in zip(inner, outer, strict=True)
    ]
    assert ref.poseidon_many_nested(inner, outer) == expected
    assert fast.many_nested(inner, outer, threads=1) == expected
    assert fast.many_nested(inner * 3, outer * 3, threads=2) == expected * 3


def _outcome(call, *args, **kwargs):
    try:
        return ("value", call(*args, **kwargs))
    except PrimitiveError as error:
        return ("error", str(error))


class _Int(int):
    """An int subclass: the fast validation path must hand it to the reference check."""


#: Any element: canonical, bool, negative, >= r, an int subclass, a float.
anything = st.one_of(
    fr,
    fr,
    st.booleans(),
    st.integers(min_value=-3, max_value=-1),
    st.integers(min_value=r, max_value=r + 3),
    fr.map(_Int),
    st.just(1.0),
)


@pytest.mark.parametrize("name", FAST)
@settings(max_examples=40, deadline=None)
@given(st.lists(anything, min_size=0, max_size=17), anything, st.booleans())
def test_validation_agrees_with_reference(name: str, values, init, as_tuple: bool) -> None:
    """Negative twins: the same values and the same error messages as REFERENCE, on valid and
    invalid input, for every function."""
    fast = get_backend(name)
    seq = tuple(values) if as_tuple else values
    for f in ("hash", "sponge"):
        assert _outcome(getattr(fast, f), seq) == _outcome(getattr(REFERENCE, f), seq)
    assert _outcome(fast.hash, seq, init_state=init) == _outcome(
        REFERENCE.hash, seq, init_state=init
    )
    rows = [seq[: len(seq) // 2], seq[len(seq) // 2 :]]
    for f in ("many", "many_nested"):
        args = (rows,) if f == "many" else (rows[:1], rows[1:])
        assert _outcome(getattr(fast, f), *args) == _outcome(getattr(REFERENCE, f), *args)
    leaf, siblings = init, seq[:6]
    for index in (0, 1, 5, -1, 1 << len(siblings), True):
        assert _outcome(fast.path_nodes, leaf, index, siblings) == _outcome(
            REFERENCE.path_nodes, leaf, index, siblings
        )


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.hash([]), "1..16 inputs"),
        (lambda b: b.hash(list(range(17))), "1..16 inputs"),
        (lambda b: b.hash([r]), "canonical"),
        (lambda b: b.hash([1.0]), "int"),
        (lambda b: b.sponge([1, r]), r"elements\[1\] is not a canonical"),
        (lambda b: b.many([[1, 2], [3]]), "rows of one length, got 2 and 1"),
        (lambda b: b.many([[1, 2], [3, r]]), "canonical"),
        (lambda b: b.many([[1, 2], [3, True]]), "int"),
        (lambda b: b.many_nested([[1, 2]], [[3], [4]]), "as many inner as outer rows"),
        (lambda b: b.many_nested([[1]], [list(range(16))]), "1..16 inputs, got 17"),
        (lambda b: b.many_nested([[True]], [[1]]), "int"),
        (lambda b: b.path_root(7, 4, [1, 2]), r"index must be an int in 0\.\.2\^2 - 1"),
        (lambda b: b.path_root(7, -1, [1]), "index"),
        (lambda b: b.path_root(7, 0, [r]), "canonical"),
    ],
)
def test_every_backend_refuses_like_the_reference(name: str, call, message: str) -> None:
    with pytest.raises(PrimitiveError, match=message):
        call(get_backend(name))


def test_choice_by_name_and_by_capability() -> None:
    names = available_backends()
    assert names[-1] == "reference" and "scalar" in names
    best = get_backend(None)
    assert best is get_backend(names[0]) is get_backend(best) and best.name == names[0]
    assert get_backend("reference") is REFERENCE
    fields = {f.name for f in dataclasses.fields(PoseidonBackend)}
    assert fields == {"name", "hash", "many", "many_nested", "path_nodes", "sponge", "tree_update"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        best.hash = REFERENCE.hash  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown Poseidon backend 'fast'"):
        get_backend("fast")


@pytest.mark.skipif("ifma" in available_backends(), reason="this CPU has AVX-512 IFMA")
def test_asking_for_ifma_without_it_is_a_one_line_error() -> None:
    with pytest.raises(BackendUnavailableError) as error:
        get_backend("ifma")
    message = str(error.value)
    assert "\n" not in message and "needs AVX-512 IFMA" in message and "scalar" in message


@pytest.mark.parametrize("setting", [("NUMBA_CPU_NAME", "generic"), ("NUMBA_ENABLE_AVX", "0")])
def test_no_ifma_where_numba_does_not_compile_for_it(setting: tuple[str, str]) -> None:
    """Negative twin of the choice by capability: numba compiling for NUMBA_CPU_NAME=generic
    (portable caches) or with AVX turned off cannot select IFMA (LLVM would abort the process),
    so the best backend there is another one, and it hashes correctly."""
    import os
    import subprocess
    import sys

    code = (
        "from prover.poseidon_engine import get_backend, available_backends; "
        "from protocol.poseidon import poseidon_hash; "
        "assert 'ifma' not in available_backends(); b = get_backend(None); "
        "assert b.many([[1, 2], [3, 4]]) == [poseidon_hash([1, 2]), poseidon_hash([3, 4])]"
    )
    env = {**os.environ, setting[0]: setting[1]}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_primitives_package_does_not_import_numba() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import protocol.eddsa, protocol.poseidon; "
        "sys.exit(1 if 'numba' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_lane_tables_refuse_other_widths() -> None:
    from prover.kernels import poseidon_ifma, poseidon_wide

    for t in (1, 18):
        with pytest.raises(ValueError, match=f"the wide Poseidon takes t = 2..17, got {t}"):
            poseidon_wide.wide_tables(t)
        with pytest.raises(ValueError, match=f"the eight-lane Poseidon takes t = 2..17, got {t}"):
            poseidon_ifma.tables(t)
