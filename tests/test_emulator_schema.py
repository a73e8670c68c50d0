"""The emulator's JSON-schema value generator and tokenizer (pure functions, no server).

Generated values are checked by a small hand-written validator (the project has no
jsonschema dependency) over hand-picked schemas and over random ones from Hypothesis.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosai_async.testing._schema import sample
from dosai_async.testing._words import tokens

_CHECKS = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def resolve(schema: Any, root: Any) -> Any:
    """Follow local `$ref`s."""
    while isinstance(schema, Mapping) and "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def valid(value: Any, schema: Any, root: Any) -> bool:
    """True if `value` satisfies `schema` (the subset of keywords the generator supports)."""
    try:
        check(value, schema, root)
    except AssertionError:
        return False
    return True


def check(value: Any, schema: Any, root: Any) -> None:
    """Assert that `value` satisfies `schema`."""
    schema = resolve(schema, root)
    if not isinstance(schema, Mapping):
        return
    if "const" in schema:
        assert value == schema["const"]
    if "enum" in schema:
        assert value in schema["enum"]
    if "anyOf" in schema:
        assert any(valid(value, s, root) for s in schema["anyOf"])
    if "oneOf" in schema:
        assert sum(valid(value, s, root) for s in schema["oneOf"]) == 1
    for part in schema.get("allOf", []):
        check(value, part, root)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        assert any(_CHECKS[k](value) for k in kinds), (value, kinds)
    if isinstance(value, dict):
        check_object(value, schema, root)
    if isinstance(value, list):
        check_array(value, schema, root)
    if isinstance(value, str):
        assert schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        check_number(value, schema)


def check_object(value: dict[str, Any], schema: Mapping[str, Any], root: Any) -> None:
    """Properties, required names, additionalProperties false."""
    props = schema.get("properties", {})
    assert set(schema.get("required", [])) <= set(value)
    if schema.get("additionalProperties") is False:
        assert set(value) <= set(props)
    for key, item in value.items():
        check(item, props.get(key, {}), root)


def check_array(value: list[Any], schema: Mapping[str, Any], root: Any) -> None:
    """Items, prefixItems, length bounds, uniqueness."""
    assert schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value))
    prefix = schema.get("prefixItems", [])
    for index, item in enumerate(value):
        check(item, prefix[index] if index < len(prefix) else schema.get("items", {}), root)
    if schema.get("uniqueItems"):
        assert len({json.dumps(v, sort_keys=True) for v in value}) == len(value)


def check_number(value: float, schema: Mapping[str, Any]) -> None:
    """Bounds (draft 4 and later) and multipleOf."""
    low, high = schema.get("minimum"), schema.get("maximum")
    assert low is None or value >= low
    assert high is None or value <= high
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(above, bool):
        above = low if above else None
    if isinstance(below, bool):
        below = high if below else None
    assert above is None or value > above
    assert below is None or value < below
    step = schema.get("multipleOf")
    assert step is None or abs(value / step - round(value / step)) < 1e-9


ADDRESS = {
    "type": "object",
    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
    "required": ["street", "city"],
    "additionalProperties": False,
}
SCHEMAS: Sequence[dict[str, Any]] = [
    {"type": "object", "properties": {}},
    ADDRESS,
    {
        "$defs": {"Address": ADDRESS},
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/Address"},
            "work": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]},
        },
        "required": ["home", "work"],
        "additionalProperties": False,
    },
    {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                },
                "required": ["name", "children"],
            }
        },
        "$ref": "#/$defs/Node",
    },
    {
        "allOf": [
            {
                "type": "object",
                "properties": {"street": {"type": "string"}},
                "required": ["street"],
            },
            {"properties": {"zip": {"type": "string"}}, "required": ["zip"]},
        ]
    },
    {"oneOf": [{"type": "integer"}, {"type": "string", "format": "date"}]},
    {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}], "minItems": 2},
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 5},
        "minItems": 4,
        "uniqueItems": True,
    },
    {"type": "integer", "minimum": 10, "maximum": 100, "multipleOf": 7},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    {"type": "number", "minimum": 5, "exclusiveMinimum": True, "maximum": 6},
    {"type": ["string", "null"], "minLength": 12, "maxLength": 15},
    {"type": "string", "enum": ["celsius", "fahrenheit"]},
    {"const": {"fixed": [1, 2]}},
    {"type": "array", "items": {"type": "string"}, "maxItems": 0},
]


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("seed", range(5))
def test_samples_are_valid_against_their_schema(schema: dict[str, Any], seed: int) -> None:
    """Each hand-picked schema yields valid values for several seeds."""
    check(sample(schema, random.Random(seed)), schema, schema)


@pytest.mark.parametrize(
    ("fmt", "pattern"),
    [
        ("date-time", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"),
        ("date", r"\d{4}-\d\d-\d\d"),
        ("email", r"[^@\s]+@[^@\s]+\.\w+"),
        ("uuid", r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
        ("uri", r"https://\S+"),
    ],
)
def test_string_formats_look_right(fmt: str, pattern: str) -> None:
    """Formatted strings match their format."""
    assert re.fullmatch(pattern, sample({"type": "string", "format": fmt}, random.Random(1)))


def test_property_names_give_plausible_strings() -> None:
    """A `city` property gets a city name."""
    value = sample(ADDRESS, random.Random(0))
    assert value["city"] in ("Paris", "Tokyo", "Hanoi", "Lisbon")


def test_samples_depend_only_on_the_seed() -> None:
    """The same seed gives the same value; the generator keeps no state."""
    assert sample(SCHEMAS[2], random.Random(9)) == sample(SCHEMAS[2], random.Random(9))


_NAMES = st.text("abcdefgh_", min_size=1, max_size=6)
_LEAVES = st.one_of(
    st.just({"type": "string"}),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.builds(
        lambda low, span: {"type": "integer", "minimum": low, "maximum": low + span},
        st.integers(-50, 50),
        st.integers(0, 20),
    ),
    st.builds(
        lambda low, span: {"type": "string", "minLength": low, "maxLength": low + span},
        st.integers(0, 10),
        st.integers(0, 10),
    ),
    st.lists(_NAMES, min_size=1, max_size=4, unique=True).map(lambda names: {"enum": names}),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Objects (strict), arrays and nullable unions built from smaller schemas."""
    strict_object = st.dictionaries(_NAMES, children, max_size=4).map(
        lambda props: {
            "type": "object",
            "properties": props,
            "required": list(props),
            "additionalProperties": False,
        }
    )
    array = st.builds(
        lambda items, low: {"type": "array", "items": items, "minItems": low},
        children,
        st.integers(0, 3),
    )
    nullable = children.map(lambda schema: {"anyOf": [schema, {"type": "null"}]})
    return st.one_of(strict_object, array, nullable)


@given(st.recursive(_LEAVES, _containers, max_leaves=12), st.integers(0, 2**32))
def test_random_schemas_get_valid_samples(schema: dict[str, Any], seed: int) -> None:
    """Any schema built from the supported keywords yields a valid value."""
    check(sample(schema, random.Random(seed)), schema, schema)


@given(st.text())
def test_tokens_join_back_to_the_text(text: str) -> None:
    """Tokenizing loses nothing: the tokens concatenate to the original text."""
    assert "".join(tokens(text)) == text
