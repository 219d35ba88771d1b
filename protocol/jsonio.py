"""JSON text read with a bound on its nesting, for every file a person hands in.

py_ecc raises Python's recursion limit to 100,000 when imported; ``json.loads`` on text nested
that deep then overflows the C stack and the process dies with SIGSEGV instead of an error.
The nesting is measured first, on the text with its strings removed, without parsing it.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: snarkjs's files nest four deep (vk_alphabeta_12); the node's files fewer than ten
MAX_JSON_DEPTH = 16
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def json_depth(text: str) -> int:
    """The deepest nesting of [ and { in JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for ch in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def loads(text: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` of text nested at most ``max_depth`` deep. ValueError otherwise, and for
    any text json refuses (``json.JSONDecodeError`` is one)."""
    depth = json_depth(text)
    if depth > max_depth:
        raise ValueError(f"JSON nested {depth} deep (at most {max_depth})")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(
            f"JSON nested too deep for this interpreter (at most {max_depth})"
        ) from None
