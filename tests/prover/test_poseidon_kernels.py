"""numba Poseidon against the pure-Python reference: vectors, random inputs, Merkle paths."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import poseidon as ref
from protocol.errors import PrimitiveError
from prover.fields import curve_order as r
from prover.kernels import poseidon_scalar as fast
from prover.kernels.ifma import HAVE_IFMA
from tests.hash_paths import PATHS, hash_path

fr = st.integers(min_value=0, max_value=r - 1)


@pytest.mark.parametrize("ifma", PATHS)
def test_vectors(load_vectors, ifma: bool) -> None:
    data = load_vectors("poseidon_circomlibjs.json")
    with hash_path(ifma):
        for v in data["vectors"]:
            assert fast.poseidon_hash_fast([int(x) for x in v["inputs"]]) == int(v["output"])
        case = data["with_init_state"]
        inputs = [int(x) for x in case["inputs"]]
        assert fast.poseidon_hash_fast(inputs, init_state=int(case["init_state"])) == int(
            case["output"]
        )


@pytest.mark.parametrize("ifma", PATHS)
@settings(max_examples=40, deadline=None)
@given(st.lists(fr, min_size=1, max_size=16), fr)
def test_hash_matches_reference(ifma: bool, inputs: list[int], init: int) -> None:
    with hash_path(ifma):
        assert fast.poseidon_hash_fast(inputs) == ref.poseidon_hash(inputs)
        assert fast.poseidon_hash_fast(inputs, init_state=init) == ref.poseidon_hash(
            inputs, init_state=init
        )
        edge = [r - 1] * len(inputs)
        assert fast.poseidon_hash_fast(edge) == ref.poseidon_hash(edge)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [([], "1..16 inputs"), (list(range(17)), "1..16 inputs"), ([r], "canonical"), ([1.0], "int")],
)
def test_hash_rejects_like_reference(inputs, message: str) -> None:
    with pytest.raises(PrimitiveError, match=message):
        fast.poseidon_hash_fast(inputs)
    with pytest.raises(PrimitiveError, match=message):
        ref.poseidon_hash(inputs)


@settings(max_examples=25, deadline=None)
@given(fr, st.data(), st.lists(fr, min_size=0, max_size=20))
def test_merkle_path_matches_reference(leaf: int, data, siblings: list[int]) -> None:
    index = data.draw(st.integers(min_value=0, max_value=(1 << len(siblings)) - 1))
    nodes = fast.merkle_path_nodes(leaf, index, siblings)
    assert nodes == ref.merkle_path_nodes(leaf, index, siblings)
    assert fast.merkle_path_root(leaf, index, siblings) == ref.merkle_path_root(
        leaf, index, siblings
    )
    if siblings:
        tampered = [(siblings[0] + 1) % r, *siblings[1:]]
        assert fast.merkle_path_root(leaf, index, tampered) != nodes[-1]


@pytest.mark.parametrize(("index", "siblings"), [(4, [1, 2]), (-1, [1]), (0, [r])])
def test_merkle_path_rejects_like_reference(index: int, siblings: list[int]) -> None:
    with pytest.raises(PrimitiveError):
        fast.merkle_path_root(7, index, siblings)
    with pytest.raises(PrimitiveError):
        ref.merkle_path_root(7, index, siblings)


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


def _outcome(call, *args, **kwargs):
    try:
        return ("value", call(*args, **kwargs))
    except PrimitiveError as error:
        return ("error", str(error))


@settings(max_examples=40, deadline=None)
@given(st.lists(anything, min_size=0, max_size=17), anything, st.booleans())
def test_validation_fast_path_agrees_with_reference(values, init, as_tuple: bool) -> None:
    """Same values and the same error messages as the reference, on valid and invalid input."""
    seq = tuple(values) if as_tuple else values
    assert _outcome(fast.poseidon_hash_fast, seq) == _outcome(ref.poseidon_hash, seq)
    assert _outcome(fast.poseidon_hash_fast, seq, init_state=init) == _outcome(
        ref.poseidon_hash, seq, init_state=init
    )
    leaf, siblings = init, seq[:6]
    for index in (0, 1, 5, -1, 1 << len(siblings), True):
        assert _outcome(fast.merkle_path_nodes, leaf, index, siblings) == _outcome(
            ref.merkle_path_nodes, leaf, index, siblings
        )


def test_primitives_package_does_not_import_numba() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import protocol.eddsa, protocol.poseidon; "
        "sys.exit(1 if 'numba' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("ifma", PATHS)
@settings(max_examples=20, deadline=None)
@given(
    st.integers(1, 16).flatmap(lambda k: st.lists(st.lists(fr, min_size=k, max_size=k), max_size=6))
)
def test_poseidon_many_matches_reference(ifma: bool, rows: list[list[int]]) -> None:
    expected = [ref.poseidon_hash(x) for x in rows]
    assert ref.poseidon_many(rows) == expected
    with hash_path(ifma):
        assert fast.poseidon_many(rows, threads=1) == fast.poseidon_many(rows) == expected
        assert fast.poseidon_many(rows * 3, threads=2) == expected * 3  # split over two threads
        assert fast.poseidon_many([[r - 1, 0]]) == [ref.poseidon_hash([r - 1, 0])]  # edge value


@pytest.mark.parametrize("ifma", PATHS)
@pytest.mark.parametrize("k", range(1, 17))
def test_poseidon_many_every_width_across_groups(ifma: bool, k: int) -> None:
    """17 rows (two full groups of eight lanes and one of a single row) of edge and mixed values,
    every width t = 2..17; one changed input changes only its row's hash."""
    rows = [[(r - 1 - i - j) if (i + j) % 3 else i * j for j in range(k)] for i in range(17)]
    expected = [ref.poseidon_hash(x) for x in rows]
    with hash_path(ifma):
        assert fast.poseidon_many(rows, threads=2) == expected
        tampered = [list(x) for x in rows]
        tampered[9][k - 1] = (tampered[9][k - 1] + 1) % r
        got = fast.poseidon_many(tampered, threads=2)
    assert got[9] != expected[9] and got[:9] == expected[:9] and got[10:] == expected[10:]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[1, 2], [3]], "rows of one length, got 2 and 1"),
        ([[]], "1..16 inputs, got 0"),
        ([list(range(17))], "1..16 inputs, got 17"),
        ([[1, 2], [3, r]], "canonical"),
        ([[1, 2], [3, True]], "int"),
    ],
)
def test_poseidon_many_rejects_like_reference(rows, message: str) -> None:
    with pytest.raises(PrimitiveError, match=message):
        fast.poseidon_many(rows)
    with pytest.raises(PrimitiveError, match=message):
        ref.poseidon_many(rows)


@pytest.mark.parametrize("ifma", PATHS)
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
def test_poseidon_many_nested_matches_reference(ifma: bool, rows: tuple[list, list]) -> None:
    inner, outer = rows
    expected = [
        ref.poseidon_hash([*o, ref.poseidon_hash(i)]) for i, o in zip(inner, outer, strict=True)
    ]
    assert ref.poseidon_many_nested(inner, outer) == expected
    with hash_path(ifma):
        assert fast.poseidon_many_nested(inner, outer, threads=1) == expected
        assert fast.poseidon_many_nested(inner * 3, outer * 3, threads=2) == expected * 3


@pytest.mark.parametrize(
    ("inner", "outer", "message"),
    [
        ([[1, 2]], [[3], [4]], "as many inner as outer rows, got 1 and 2"),
        ([[1, 2], [3]], [[4], [5]], "rows of one length, got 2 and 1"),
        ([[1]], [list(range(16))], "1..16 inputs, got 17"),
        ([[]], [[1]], "1..16 inputs, got 0"),
        ([[1]], [[r]], "canonical"),
        ([[True]], [[1]], "int"),
    ],
)
def test_poseidon_many_nested_rejects_like_reference(inner, outer, message: str) -> None:
    with pytest.raises(PrimitiveError, match=message):
        fast.poseidon_many_nested(inner, outer)
    with pytest.raises(PrimitiveError, match=message):
        ref.poseidon_many_nested(inner, outer)


@pytest.mark.parametrize("setting", [("NUMBA_CPU_NAME", "generic"), ("NUMBA_ENABLE_AVX", "0")])
def test_no_ifma_where_numba_does_not_compile_for_it(setting: tuple[str, str]) -> None:
    """Negative twin of the dispatch: numba compiling for NUMBA_CPU_NAME=generic (portable
    caches) or with AVX turned off cannot select IFMA (LLVM would abort the process), so
    HAVE_IFMA is False there and many-row hashing stays scalar and correct."""
    import os
    import subprocess
    import sys

    code = (
        "from prover.kernels.ifma import HAVE_IFMA; assert not HAVE_IFMA; "
        "from prover.kernels.poseidon_scalar import poseidon_many; "
        "from protocol.poseidon import poseidon_hash; "
        "assert poseidon_many([[1, 2], [3, 4]]) == [poseidon_hash([1, 2]), poseidon_hash([3, 4])]"
    )
    env = {**os.environ, setting[0]: setting[1]}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.skipif(not HAVE_IFMA, reason="this CPU has no AVX-512 IFMA")
@settings(max_examples=30, deadline=None)
@given(st.lists(fr, min_size=1, max_size=16), fr)
def test_wide_single_hash_every_width(inputs: list[int], init: int) -> None:
    """The lane-spread single hash for every width t = 2..17 (not only those dispatched to it),
    against the reference; a changed input gives another hash."""
    import numpy as np

    from prover.kernels import poseidon_wide

    def wide(values: list[int]) -> int:
        state = np.array([[(v >> (64 * j)) & (2**64 - 1) for j in range(4)] for v in values],
                         dtype=np.uint64)  # fmt: skip
        out = np.empty_like(state)
        poseidon_wide.hash_kernel(state, out, *poseidon_wide.wide_tables(len(values)))
        return sum(int(x) << (64 * j) for j, x in enumerate(out[0]))

    expected = ref.poseidon_hash(inputs, init_state=init)
    assert wide([init, *inputs]) == expected
    assert wide([init, *inputs[:-1], (inputs[-1] + 1) % r]) != expected


def test_lane_tables_refuse_other_widths() -> None:
    from prover.kernels import poseidon_ifma, poseidon_wide

    for t in (1, 18):
        with pytest.raises(ValueError, match=f"the wide Poseidon takes t = 2..17, got {t}"):
            poseidon_wide.wide_tables(t)
        with pytest.raises(ValueError, match=f"the eight-lane Poseidon takes t = 2..17, got {t}"):
            poseidon_ifma.tables(t)
