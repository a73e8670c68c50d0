"""JSON Schema generation: types, classes, strict-mode rules, descriptions, tools, errors."""

from __future__ import annotations

import collections.abc
import datetime
import enum
import functools
import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, NewType, Optional, Union

import attrs
import pytest

from dosai_async._structured._schema import (
    FunctionSpec,
    SchemaError,
    function_spec,
    json_schema,
    response_format_for,
)

# --- a tiny validator: jsonschema is not installed, and only this subset is ever produced ---


def conforms(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> bool:
    """Whether `instance` fits `schema`, for the keywords this module emits."""
    root = root if root is not None else schema
    if "$ref" in schema:
        return conforms(instance, root["$defs"][schema["$ref"].removeprefix("#/$defs/")], root)
    if "anyOf" in schema and not any(conforms(instance, s, root) for s in schema["anyOf"]):
        return False
    checks = [
        "type" not in schema or _json_type(instance) in _as_list(schema["type"]),
        "enum" not in schema or instance in schema["enum"],
        "const" not in schema or instance == schema["const"],
    ]
    if isinstance(instance, list) and "items" in schema:
        checks += [conforms(item, schema["items"], root) for item in instance]
    if isinstance(instance, dict):
        checks += _object_checks(instance, schema, root)
    return all(checks)


def _object_checks(instance: dict[str, Any], schema: dict[str, Any], root: Any) -> list[bool]:
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    return [
        *(name in instance for name in schema.get("required", [])),
        *(conforms(v, props[k], root) if k in props else _extra_ok(v, extra, root)
          for k, v in instance.items()),
    ]  # fmt: skip


def _extra_ok(value: Any, extra: Any, root: Any) -> bool:
    return extra if isinstance(extra, bool) else conforms(value, extra, root)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}
    return kinds.get(type(value), "object")


def _as_list(json_type: str | list[str]) -> list[str]:
    kinds = [json_type] if isinstance(json_type, str) else json_type
    return [*kinds, "integer"] if "number" in kinds else kinds


def objects_in(schema: Any) -> list[dict[str, Any]]:
    """Every object schema anywhere in the document, `$defs` included."""
    if isinstance(schema, list):
        return [o for item in schema for o in objects_in(item)]
    if not isinstance(schema, dict):
        return []
    own = [schema] if schema.get("type") == "object" else []
    return own + [o for value in schema.values() for o in objects_in(value)]


# --- model classes used by several tests ---


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.frozen
class Point:
    x: int
    y: int


@attrs.frozen
class Day:
    """One day of the forecast."""

    summary: str
    high: float
    color: Color = Color.RED


@attrs.frozen
class Weather:
    """A weather report.

    Attributes:
        city: Name of the city,
            in English.
        forecast: The coming days.
    """

    city: str
    forecast: list[Day]
    today: Day | None = None
    unit: Literal["c", "f"] = attrs.field(default="c", metadata={"description": "Unit."})


@attrs.frozen
class Tree:
    """A node of a tree."""

    value: int
    children: list[Tree] = attrs.Factory(list)


@attrs.frozen
class Ping:
    pong: Pong | None


@attrs.frozen
class Pong:
    ping: Ping | None


@attrs.frozen
class Segment:
    start: Point
    end: Point


@attrs.frozen
class Event:
    when: datetime.datetime


@attrs.frozen
class Calendar:
    events: list[Event]


class Doc:
    """Stands in for `typing_extensions.Doc`: any metadata with a `.documentation` string."""

    def __init__(self, documentation: str) -> None:
        self.documentation = documentation


# --- scalar and container types ---


@pytest.mark.parametrize(
    ("tp", "json_type"),
    [(str, "string"), (int, "integer"), (float, "number"), (bool, "boolean"), (None, "null")],
)
def test_scalars_map_to_json_types(tp: Any, json_type: str) -> None:
    """str, int, float, bool and None map to their JSON types."""
    assert json_schema(tp) == {"type": json_type}


def test_none_type_is_null() -> None:
    """`type(None)` is the same as `None`."""
    assert json_schema(type(None)) == {"type": "null"}


def test_list_is_array_of_items() -> None:
    """list[T] is an array whose items are T."""
    assert json_schema(list[int]) == {"type": "array", "items": {"type": "integer"}}


def test_homogeneous_tuple_is_array() -> None:
    """tuple[T, ...] is an array of T."""
    assert json_schema(tuple[str, ...]) == {"type": "array", "items": {"type": "string"}}


@pytest.mark.parametrize("tp", [set[int], frozenset[int], collections.abc.Set[int]])
def test_set_is_plain_array_in_strict_mode(tp: Any) -> None:
    """Sets are arrays; strict mode leaves out uniqueItems, which strict servers reject."""
    assert json_schema(tp) == {"type": "array", "items": {"type": "integer"}}


def test_set_has_unique_items_when_not_strict() -> None:
    """Outside strict mode a set says its items are unique."""
    schema = json_schema(frozenset[str], strict=False)
    assert schema == {"type": "array", "items": {"type": "string"}, "uniqueItems": True}


def test_fixed_tuple_uses_prefix_items_when_not_strict() -> None:
    """tuple[A, B] is an array of exactly those items outside strict mode."""
    assert json_schema(tuple[int, str], strict=False) == {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string"}],
        "minItems": 2,
        "maxItems": 2,
    }


def test_abstract_sequence_is_array() -> None:
    """collections.abc.Sequence[T] is an array like list[T]."""
    schema = json_schema(collections.abc.Sequence[bool])
    assert schema == {"type": "array", "items": {"type": "boolean"}}


def test_dict_is_object_with_additional_properties_when_not_strict() -> None:
    """dict[str, T] is an object whose values are T."""
    schema = json_schema(dict[str, float], strict=False)
    assert schema == {"type": "object", "additionalProperties": {"type": "number"}}


def test_abstract_mapping_is_object_when_not_strict() -> None:
    """collections.abc.Mapping[str, T] is an object like dict[str, T]."""
    schema = json_schema(collections.abc.Mapping[str, int], strict=False)
    assert schema == {"type": "object", "additionalProperties": {"type": "integer"}}


def test_bare_containers_have_no_item_type_when_not_strict() -> None:
    """Bare list and dict are an unconstrained array and object outside strict mode."""
    assert json_schema(list, strict=False) == {"type": "array"}
    assert json_schema(dict, strict=False) == {"type": "object"}


def test_any_is_unconstrained_when_not_strict() -> None:
    """Any is the empty schema outside strict mode."""
    assert json_schema(Any, strict=False) == {}


def test_optional_any_is_unconstrained_when_not_strict() -> None:
    """Optional[Any] already allows null, so it stays the empty schema."""
    assert json_schema(Optional[Any], strict=False) == {}  # noqa: UP045


def test_newtype_is_its_supertype() -> None:
    """A NewType has the schema of the type it wraps."""
    user_id = NewType("user_id", str)
    assert json_schema(user_id) == {"type": "string"}


# --- unions ---


def test_optional_simple_type_is_type_list() -> None:
    """Optional of a plain type is `"type": [T, "null"]`."""
    assert json_schema(Optional[int]) == {"type": ["integer", "null"]}  # noqa: UP045


def test_pipe_none_matches_optional() -> None:
    """`T | None` and `Optional[T]` give the same schema."""
    assert json_schema(str | None) == json_schema(Optional[str])  # noqa: UP045


def test_optional_class_is_any_of_with_null() -> None:
    """Optional of a class is anyOf its reference and null."""
    schema = json_schema(Point | None)
    assert schema["anyOf"] == [{"$ref": "#/$defs/Point"}, {"type": "null"}]


def test_union_of_several_is_any_of() -> None:
    """A union of several types is anyOf them in order."""
    schema = json_schema(Union[int, str, None])  # noqa: UP007
    assert schema == {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}


def test_nested_unions_are_flattened() -> None:
    """A union inside an optional gives one flat anyOf."""
    schema = json_schema(Optional[Union[int, list[int]]])  # noqa: UP007, UP045
    assert schema == {
        "anyOf": [
            {"type": "integer"},
            {"type": "array", "items": {"type": "integer"}},
            {"type": "null"},
        ]
    }


# --- Literal and Enum ---


def test_literal_strings_are_string_enum() -> None:
    """Literal of strings is an enum of type string."""
    assert json_schema(Literal["a", "b"]) == {"type": "string", "enum": ["a", "b"]}


def test_literal_ints_are_integer_enum() -> None:
    """Literal of ints is an enum of type integer."""
    assert json_schema(Literal[1, 2, 3]) == {"type": "integer", "enum": [1, 2, 3]}


def test_single_literal_is_const() -> None:
    """A one-value Literal is a const with its JSON type."""
    assert json_schema(Literal[True]) == {"type": "boolean", "const": True}


def test_mixed_literal_lists_each_json_type() -> None:
    """Literal values of several types list each JSON type once, in order."""
    schema = json_schema(Literal["auto", 0, None, "none"])
    assert schema == {"type": ["string", "integer", "null"], "enum": ["auto", 0, None, "none"]}


def test_literal_of_enum_members_uses_values() -> None:
    """Enum members inside a Literal appear as their values."""
    assert json_schema(Literal[Color.RED]) == {"type": "string", "const": "red"}


def test_str_enum_is_enum_of_values() -> None:
    """An Enum of strings is an enum of its values."""
    assert json_schema(Color) == {"type": "string", "enum": ["red", "blue"]}


def test_int_enum_is_integer_enum() -> None:
    """An IntEnum is an enum of integers."""
    assert json_schema(Level) == {"type": "integer", "enum": [1, 2]}


def test_enum_docstring_is_description() -> None:
    """An Enum's own docstring becomes its description."""

    class Mood(enum.Enum):
        """How it feels."""

        GOOD = "good"

    assert json_schema(Mood)["description"] == "How it feels."


# --- attrs classes ---


def test_class_is_object_with_properties_in_field_order() -> None:
    """An attrs class is an object whose properties follow the field order."""
    assert json_schema(Point) == {
        "type": "object",
        "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
        "required": ["x", "y"],
        "additionalProperties": False,
    }


def test_nested_class_goes_to_defs() -> None:
    """A nested class is defined in $defs and referred to by $ref."""
    schema = json_schema(Weather)
    assert schema["properties"]["forecast"]["items"] == {"$ref": "#/$defs/Day"}
    assert list(schema["$defs"]) == ["Day"]
    assert schema["$defs"]["Day"]["properties"]["summary"] == {"type": "string"}


def test_class_used_twice_is_defined_once() -> None:
    """Two fields of the same class share one definition."""
    schema = json_schema(Segment)
    assert schema["properties"]["start"] == schema["properties"]["end"] == {"$ref": "#/$defs/Point"}
    assert list(schema["$defs"]) == ["Point"]


def test_recursive_root_keeps_its_definition() -> None:
    """A self-referencing root class is inlined and also kept in $defs for its references."""
    schema = json_schema(Tree)
    assert schema["type"] == "object"
    items = schema["$defs"]["Tree"]["properties"]["children"]["anyOf"][0]["items"]
    assert items == {"$ref": "#/$defs/Tree"}


def test_mutually_recursive_classes() -> None:
    """Classes that refer to each other end in finite $defs."""
    schema = json_schema(Ping)
    assert schema["properties"]["pong"]["anyOf"][0] == {"$ref": "#/$defs/Pong"}
    pong = schema["$defs"]["Pong"]["properties"]["ping"]
    assert pong["anyOf"][0] == {"$ref": "#/$defs/Ping"}


def test_non_recursive_root_has_no_defs() -> None:
    """A root class without nested classes produces no $defs."""
    assert "$defs" not in json_schema(Point)


def test_same_named_classes_get_distinct_defs() -> None:
    """Two different classes with one name are kept apart in $defs."""
    other_point = attrs.make_class("Point", {"label": attrs.field(type=str)})
    pair = attrs.make_class(
        "Pair", {"a": attrs.field(type=Point), "b": attrs.field(type=other_point)}
    )
    schema = json_schema(pair)
    assert [p["$ref"] for p in schema["properties"].values()] == [
        "#/$defs/Point",
        "#/$defs/Point2",
    ]


def test_init_false_fields_are_left_out() -> None:
    """Fields that __init__ does not take are not part of the schema."""

    @attrs.frozen
    class Counted:
        name: str
        count: int = attrs.field(init=False, default=0)

    assert list(json_schema(Counted)["properties"]) == ["name"]


def test_private_field_keeps_its_name() -> None:
    """A private field is named by `field.name`, underscore included."""

    @attrs.define
    class Secret:
        _token: str

    assert list(json_schema(Secret)["properties"]) == ["_token"]


def test_field_type_from_attrs_field_without_annotation() -> None:
    """A field declared with `attrs.field(type=...)` uses that type."""
    cls = attrs.make_class("Made", {"n": attrs.field(type=int)})
    assert json_schema(cls)["properties"] == {"n": {"type": "integer"}}


# --- strict mode vs non-strict ---


def test_strict_closes_every_object_including_defs() -> None:
    """In strict mode every object, in $defs too, has additionalProperties false."""
    objects = objects_in(json_schema(Weather))
    assert len(objects) == 2
    assert all(o["additionalProperties"] is False for o in objects)


def test_strict_requires_every_property() -> None:
    """In strict mode every property of every object is required."""
    for obj in objects_in(json_schema(Weather)):
        assert obj["required"] == list(obj["properties"])


def test_strict_defaulted_field_is_nullable_without_default() -> None:
    """In strict mode a field with a default is nullable and states no default."""
    color = json_schema(Day)["properties"]["color"]
    assert color == {"anyOf": [{"type": "string", "enum": ["red", "blue"]}, {"type": "null"}]}


def test_strict_defaulted_plain_field_uses_type_list() -> None:
    """In strict mode a defaulted plain field becomes `"type": [T, "null"]`."""

    @attrs.frozen
    class Opts:
        n: int = 3

    assert json_schema(Opts)["properties"]["n"] == {"type": ["integer", "null"]}


def test_strict_optional_field_is_not_doubly_nullable() -> None:
    """A defaulted field that is already Optional gets no second null."""
    today = json_schema(Weather)["properties"]["today"]
    assert today == {"anyOf": [{"$ref": "#/$defs/Day"}, {"type": "null"}]}


def test_non_strict_defaulted_fields_are_not_required() -> None:
    """Outside strict mode only fields without defaults are required."""
    assert json_schema(Weather, strict=False)["required"] == ["city", "forecast"]


def test_non_strict_objects_are_open() -> None:
    """Outside strict mode objects do not forbid extra properties."""
    assert all(
        "additionalProperties" not in o for o in objects_in(json_schema(Weather, strict=False))
    )


def test_non_strict_emits_json_defaults() -> None:
    """Outside strict mode JSON-serialisable defaults appear as `default`."""
    unit = json_schema(Weather, strict=False)["properties"]["unit"]
    assert unit["default"] == "c"


def test_non_strict_enum_default_is_its_value() -> None:
    """An Enum default is stated as its value."""
    color = json_schema(Day, strict=False)["properties"]["color"]
    assert color["default"] == "red"


def test_non_strict_tuple_default_becomes_list() -> None:
    """A tuple default is stated as a JSON array."""

    @attrs.frozen
    class Tags:
        tags: tuple[str, ...] = ("a",)

    assert json_schema(Tags, strict=False)["properties"]["tags"]["default"] == ["a"]


def test_non_strict_factory_default_is_left_out() -> None:
    """A factory is not called to state a default: it may have side effects."""
    assert "default" not in json_schema(Tree, strict=False)["properties"]["children"]


def test_non_strict_unserialisable_default_is_left_out() -> None:
    """A default with no JSON form is not stated."""

    @attrs.frozen
    class Spot:
        at: Point = Point(1, 2)

    assert "default" not in json_schema(Spot, strict=False)["properties"]["at"]


def test_non_strict_non_finite_float_default_is_left_out() -> None:
    """NaN is not JSON, so a NaN default is not stated."""

    @attrs.frozen
    class Reading:
        v: float = float("nan")

    assert json_schema(Reading, strict=False)["properties"]["v"] == {"type": "number"}


# --- descriptions ---


def test_class_docstring_is_object_description() -> None:
    """The class docstring's prose describes the object."""
    assert json_schema(Weather)["description"] == "A weather report."


def test_attributes_section_describes_fields() -> None:
    """A Google-style `Attributes:` section describes the fields, continuation lines joined."""
    props = json_schema(Weather)["properties"]
    assert props["city"]["description"] == "Name of the city, in English."


def test_metadata_description() -> None:
    """`attrs.field(metadata={"description": ...})` describes the field."""
    assert json_schema(Weather)["properties"]["unit"]["description"] == "Unit."


def test_annotated_string_description() -> None:
    """A plain string in Annotated metadata describes the field."""

    @attrs.frozen
    class Temp:
        c: Annotated[float, "In Celsius."]

    assert json_schema(Temp)["properties"]["c"] == {"type": "number", "description": "In Celsius."}


def test_annotated_doc_object_description() -> None:
    """A `Doc("...")`-like object in Annotated metadata describes the field."""

    @attrs.frozen
    class Temp:
        c: Annotated[float, Doc("Celsius.")]

    assert json_schema(Temp)["properties"]["c"]["description"] == "Celsius."


def test_metadata_description_wins_over_annotated() -> None:
    """Field metadata is more specific than Annotated, so it wins."""

    @attrs.frozen
    class Both:
        n: Annotated[int, "from Annotated"] = attrs.field(metadata={"description": "meta"})

    assert json_schema(Both)["properties"]["n"]["description"] == "meta"


def test_annotated_description_wins_over_docstring() -> None:
    """Annotated sits next to the type, so it wins over the class docstring."""

    @attrs.frozen
    class Reading:
        """A reading.

        Attributes:
            value: from the docstring
        """

        value: Annotated[float, "from Annotated"]

    assert json_schema(Reading)["properties"]["value"]["description"] == "from Annotated"


def test_annotated_description_on_nullable_field_sits_outside() -> None:
    """A defaulted Annotated field in strict mode carries its description on the outer schema."""

    @attrs.frozen
    class Count:
        n: Annotated[int, "Count."] = 0

    assert json_schema(Count)["properties"]["n"] == {
        "type": ["integer", "null"],
        "description": "Count.",
    }


def test_description_of_reference_is_wrapped() -> None:
    """A described class-typed field wraps the $ref, which strict servers want alone."""

    @attrs.frozen
    class Line:
        a: Annotated[Point, "Start."]

    assert json_schema(Line)["properties"]["a"] == {
        "anyOf": [{"$ref": "#/$defs/Point"}],
        "description": "Start.",
    }


def test_annotated_metadata_that_is_not_text_is_ignored() -> None:
    """Annotated metadata other than text (validators, bounds) adds no description."""
    assert json_schema(Annotated[int, 5, Doc]) == {"type": "integer"}


def test_annotated_inside_list_describes_items() -> None:
    """Annotated on an item type describes the items."""
    schema = json_schema(list[Annotated[str, "A tag."]])
    assert schema["items"] == {"type": "string", "description": "A tag."}


# --- function_spec ---


def get_weather(city: str, days: int = 3, unit: Literal["c", "f"] = "c") -> str:
    """Get the weather forecast.

    Use it when the user asks about the weather.

    Args:
        city: City name,
            such as Paris.
        days (int): How many days ahead.

    Returns:
        The forecast as text.
    """
    return city


async def aget_weather(city: str, days: int = 3) -> str:
    """Get the weather forecast, asynchronously.

    Args:
        city: City name.
        days: How many days ahead.
    """
    return city


def test_function_spec_sync_function() -> None:
    """A sync function's parameters, defaults and Google-style docs become the spec."""
    spec = function_spec(get_weather)
    assert spec == FunctionSpec(
        name="get_weather",
        description="Get the weather forecast.\n\nUse it when the user asks about the weather.",
        parameters={
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, such as Paris."},
                "days": {"type": "integer", "default": 3, "description": "How many days ahead."},
                "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
            },
            "required": ["city"],
        },
        strict=False,
    )


def test_function_spec_async_function() -> None:
    """An async function is described the same way as a sync one."""
    spec = function_spec(aget_weather)
    assert spec.description == "Get the weather forecast, asynchronously."
    assert spec.parameters["properties"]["days"]["description"] == "How many days ahead."
    assert spec.parameters["required"] == ["city"]


def test_function_spec_strict_requires_all_and_nullable_defaults() -> None:
    """In strict mode all parameters are required and defaulted ones are nullable."""
    params = function_spec(get_weather, strict=True).parameters
    assert params["required"] == ["city", "days", "unit"]
    assert params["additionalProperties"] is False
    assert params["properties"]["days"] == {
        "type": ["integer", "null"],
        "description": "How many days ahead.",
    }


def test_function_spec_name_override() -> None:
    """`name=` replaces the function's own name."""
    assert function_spec(get_weather, name="weather").name == "weather"


def test_function_spec_rest_docstring() -> None:
    """reST `:param x:` fields describe parameters."""

    def search(query: str, limit: int) -> None:
        """Search the web.

        :param query: What to look for.
        :param int limit: At most this many
            results.
        :returns: nothing
        """

    props = function_spec(search).parameters["properties"]
    assert props["query"]["description"] == "What to look for."
    assert props["limit"]["description"] == "At most this many results."


def test_function_spec_numpy_docstring() -> None:
    """A NumPy `Parameters` section describes parameters."""

    def search(query: str, limit: int) -> None:
        """Search the web.

        Parameters
        ----------
        query : str
            What to look for.
        limit : int
            At most this many.

        Returns
        -------
        None
        """

    spec = function_spec(search)
    assert spec.description == "Search the web."
    assert spec.parameters["properties"]["limit"]["description"] == "At most this many."


def test_function_spec_class_parameter_uses_defs() -> None:
    """A parameter typed by an attrs class refers into the parameters' own $defs."""

    def draw(segment: Segment) -> None:
        """Draw a segment."""

    params = function_spec(draw).parameters
    assert params["properties"]["segment"] == {"$ref": "#/$defs/Segment"}
    assert list(params["$defs"]) == ["Segment", "Point"]


def test_function_spec_bound_method_skips_self() -> None:
    """A bound method is described without `self`."""

    class Tools:
        def add(self, a: int, b: int) -> int:
            """Add two numbers."""
            return a + b

    assert function_spec(Tools().add).parameters["required"] == ["a", "b"]


def test_function_spec_sees_through_wraps() -> None:
    """A decorated function is described from the function it wraps."""

    def logged(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return wrapper

    spec = function_spec(logged(get_weather))
    assert spec == function_spec(get_weather)


def test_function_spec_annotated_parameter_description() -> None:
    """A string in a parameter's Annotated metadata describes it."""

    def greet(name: Annotated[str, "Who to greet."]) -> None:
        pass

    props = function_spec(greet).parameters["properties"]
    assert props["name"] == {"type": "string", "description": "Who to greet."}


def test_to_tool_non_strict() -> None:
    """to_tool() wraps the spec as a function tool without a strict flag."""
    spec = FunctionSpec("f", "Does f.", {"type": "object"}, strict=False)
    assert spec.to_tool() == {
        "type": "function",
        "function": {"name": "f", "description": "Does f.", "parameters": {"type": "object"}},
    }


def test_to_tool_strict_and_without_description() -> None:
    """to_tool() adds `strict: true` when strict and leaves out a missing description."""
    spec = FunctionSpec("f", None, {"type": "object"}, strict=True)
    assert spec.to_tool()["function"] == {
        "name": "f",
        "parameters": {"type": "object"},
        "strict": True,
    }


def test_function_without_docstring_has_no_description() -> None:
    """A function without a docstring has description None."""

    def bare(x: int) -> None:
        pass

    assert function_spec(bare).description is None


# --- response_format_for ---


def test_response_format_for_class() -> None:
    """response_format_for wraps the strict schema with the class name."""
    assert response_format_for(Point) == {
        "type": "json_schema",
        "json_schema": {"name": "Point", "strict": True, "schema": json_schema(Point)},
    }


def test_response_format_name_and_non_strict() -> None:
    """`name=` and `strict=False` pass through to the response format."""
    fmt = response_format_for(Weather, name="report", strict=False)["json_schema"]
    assert (fmt["name"], fmt["strict"]) == ("report", False)
    assert fmt["schema"] == json_schema(Weather, strict=False)


def test_response_format_strict_needs_object_root() -> None:
    """Strict structured outputs need an object at the root."""
    with pytest.raises(SchemaError, match=r"^\$: strict structured outputs need an object"):
        response_format_for(Color)


# --- errors name the path ---


@pytest.mark.parametrize(
    ("tp", "message"),
    [
        (Calendar, r"^Calendar\.events\[\]\.when: unsupported type <class 'datetime.datetime'>$"),
        (datetime.date, r"^\$: unsupported type <class 'datetime.date'>$"),
        (list[bytes], r"^\$\[\]: unsupported type <class 'bytes'>$"),
        (Doc, r"^\$: unsupported type <class '.*Doc'>$"),
    ],
)
def test_unsupported_type_names_its_path(tp: Any, message: str) -> None:
    """An unsupported type raises SchemaError naming the path to it."""
    with pytest.raises(SchemaError, match=message):
        json_schema(tp, strict=False)


def test_dict_in_strict_mode_names_field() -> None:
    """A dict field is refused in strict mode, naming the field."""

    @attrs.frozen
    class Bag:
        items: dict[str, int]

    with pytest.raises(SchemaError, match=r"^Bag\.items: a dict has no fixed properties"):
        json_schema(Bag)


def test_any_in_strict_mode_names_field() -> None:
    """An Any field is refused in strict mode, naming the field."""

    @attrs.frozen
    class Loose:
        extra: list[Any]

    with pytest.raises(SchemaError, match=r"^Loose\.extra\[\]: Any allows every value"):
        json_schema(Loose)


def test_bare_list_in_strict_mode_names_field() -> None:
    """A bare list is refused in strict mode, naming the field."""

    @attrs.frozen
    class Loose:
        things: list  # type: ignore[type-arg]

    with pytest.raises(SchemaError, match=r"^Loose\.things: a bare array needs an item type"):
        json_schema(Loose)


def test_fixed_tuple_in_strict_mode_is_refused() -> None:
    """A fixed-length tuple is refused in strict mode."""
    with pytest.raises(SchemaError, match=r"^\$: fixed-length tuples need prefixItems"):
        json_schema(tuple[int, int])


def test_dict_with_non_string_keys_is_refused() -> None:
    """JSON object keys are strings, so dict[int, T] is refused."""
    with pytest.raises(SchemaError, match=r"^\$: JSON object keys are strings"):
        json_schema(dict[int, str], strict=False)


def test_dict_value_path_uses_braces() -> None:
    """An unsupported dict value is named with `{}` in the path."""
    with pytest.raises(SchemaError, match=r"^\$\{\}: unsupported type <class 'bytes'>"):
        json_schema(dict[str, bytes], strict=False)


def test_literal_with_non_json_value_is_refused() -> None:
    """A Literal value that is not a JSON scalar is refused."""
    with pytest.raises(SchemaError, match=r"^\$: b'x' is not a JSON string"):
        json_schema(Literal[b"x"])


def test_enum_with_non_json_values_is_refused() -> None:
    """An Enum whose values are not JSON scalars is refused, naming the Enum."""

    class Shape(enum.Enum):
        SQUARE = (1, 1)

    with pytest.raises(SchemaError, match=r"^\$ \(Shape\): \(1, 1\) is not a JSON string"):
        json_schema(Shape)


def test_unresolvable_forward_reference_names_class() -> None:
    """A string annotation that names nothing is a SchemaError naming the class."""

    @attrs.frozen
    class Dangling:
        other: Missing  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(SchemaError, match=r"^Dangling: cannot resolve type hints"):
        json_schema(Dangling)


def test_function_var_args_are_refused() -> None:
    """*args cannot become named properties."""

    def total(*numbers: int) -> int:
        return sum(numbers)

    with pytest.raises(SchemaError, match=r"^total\.numbers: \*args and \*\*kwargs"):
        function_spec(total)


def test_function_var_kwargs_are_refused() -> None:
    """**kwargs cannot become named properties."""

    def configure(**options: str) -> None:
        pass

    with pytest.raises(SchemaError, match=r"^configure\.options: \*args and \*\*kwargs"):
        function_spec(configure)


def test_function_unannotated_parameter_is_refused() -> None:
    """A parameter without an annotation is a SchemaError naming function and parameter."""

    def greet(name, loud: bool) -> None:  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(SchemaError, match=r"^greet\.name: parameter has no type annotation$"):
        function_spec(greet)


def test_function_positional_only_parameter_is_refused() -> None:
    """A positional-only parameter cannot be passed by name, so it is refused."""

    def square(x: int, /) -> int:
        return x * x

    with pytest.raises(SchemaError, match=r"^square\.x: positional-only"):
        function_spec(square)


def test_function_unsupported_parameter_type_names_it() -> None:
    """An unsupported parameter type names the function and parameter."""

    def remind(at: datetime.datetime) -> None:
        pass

    with pytest.raises(SchemaError, match=r"^remind\.at: unsupported type"):
        function_spec(remind)


def test_schema_error_is_a_type_error() -> None:
    """SchemaError is a TypeError, so generic handlers still catch it."""
    assert issubclass(SchemaError, TypeError)


# --- output properties ---


def test_output_is_json_and_deterministic() -> None:
    """The schema survives a JSON round trip and is the same on every call."""
    first = json.dumps(json_schema(Weather))
    assert json.loads(first) == json_schema(Weather)
    assert first == json.dumps(json_schema(Weather))


def test_results_share_no_state() -> None:
    """Mutating one result does not change the next."""
    json_schema(Optional[Point])["anyOf"][1]["type"] = "mutated"  # noqa: UP045
    tree = json_schema(Tree)
    tree["$defs"]["Tree"]["properties"].clear()
    assert json_schema(Optional[Point])["anyOf"][1] == {"type": "null"}  # noqa: UP045
    assert tree["properties"]


# --- instances checked against the schemas ---


def _instance(obj: Any) -> Any:
    return attrs.asdict(
        obj, value_serializer=lambda _i, _f, v: v.value if isinstance(v, Color) else v
    )


def test_instance_conforms_to_strict_schema() -> None:
    """A full Weather instance, nullable fields included, fits the strict schema."""
    weather = Weather("Paris", [Day("sun", 21.5), Day("rain", 18, Color.BLUE)], today=None)
    assert conforms(_instance(weather), json_schema(Weather))


def test_strict_schema_rejects_missing_and_extra_properties() -> None:
    """The strict schema rejects an instance with a missing or an extra property."""
    instance = _instance(Weather("Paris", []))
    schema = json_schema(Weather)
    assert not conforms({k: v for k, v in instance.items() if k != "unit"}, schema)
    assert not conforms({**instance, "wind": 3}, schema)


def test_schema_rejects_value_outside_enum() -> None:
    """A value outside a Literal or Enum does not fit."""
    instance = _instance(Weather("Paris", [Day("sun", 20, Color.RED)]))
    instance["forecast"][0]["color"] = "green"
    assert not conforms(instance, json_schema(Weather))


def test_recursive_instance_conforms() -> None:
    """A nested Tree fits the recursive schema; a wrongly typed leaf does not."""
    tree = _instance(Tree(1, [Tree(2, [Tree(3)]), Tree(4)]))
    schema = json_schema(Tree)
    assert conforms(tree, schema)
    tree["children"][0]["children"][0]["value"] = "three"
    assert not conforms(tree, schema)


def test_function_arguments_conform() -> None:
    """Arguments the model may send fit the non-strict tool parameters."""
    params = function_spec(get_weather).parameters
    assert conforms({"city": "Oslo"}, params)
    assert conforms({"city": "Oslo", "days": 2, "unit": "f"}, params)
    assert not conforms({"days": 2}, params)
