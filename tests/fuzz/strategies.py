"""Hypothesis strategies for hostile input: text PostgreSQL refuses, ids past BIGINT, JSON of every shape."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

SPECIAL_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff",
    "x" * 500,
    "1" * 40,
    "-1",
    "0",
    "²",
    "١٢٣",
    "=HYPERLINK(1)",
    "{{firstName}}",
    "+254712345678",
    "0712345678",
    "1e400",
    "'; DROP TABLE messages; --",
)
SPECIAL_INTS = (0, -1, 1, 2**31, 2**53, 2**63 - 1, 2**63, -(2**63) - 1, 10**30)

text = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(SPECIAL_TEXT)), max_size=3).map("".join)
"""Mostly ordinary text, often with a NUL, a lone surrogate, an over-long run or digits in it."""

wire_text = text.map(lambda s: s.encode("utf-8", "replace").decode("utf-8"))
"""Text that can travel in a form or header at all (no surrogates: they have no UTF-8 form)."""

integers = st.one_of(st.integers(), st.sampled_from(SPECIAL_INTS))
ids = st.one_of(st.integers(min_value=1, max_value=50), integers, text, st.none(), st.booleans(), st.floats())

scalars = st.one_of(st.none(), st.booleans(), integers, st.floats(allow_nan=False, allow_infinity=False), text)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(text, children, max_size=3)),
    max_leaves=8,
)


def objects(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of these fields (each of its own kind or of any JSON kind) and now and then a stray one."""
    chosen = {name: st.one_of(strategy, json_values) for name, strategy in fields.items()}
    return st.fixed_dictionaries({}, optional=chosen).flatmap(
        lambda d: st.dictionaries(text, json_values, max_size=1).map(lambda extra: extra | d)
    )


header_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
    st.sampled_from(["default\x00", "x" * 500, "-1"]),
)
"""What a header can carry through an HTTP client: printable ASCII (and the odd NUL a careless proxy lets by)."""
