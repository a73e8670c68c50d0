"""Small pieces of JSON schema that ``_schema``'s builder assembles: enums, ``anyOf``,
nullability, defaults and descriptions, and the type introspection they rest on.

Pure functions of schemas (``dict``) and Python types; split from ``_schema`` to keep both
modules within the size budget.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Annotated, Any, Final

import attrs

from dosai_async._core._exceptions import PUBLIC_MODULE, DosAIError

from ._docstrings import parse_docstring

Schema = dict[str, Any]

_JSON_TYPES: Final[Mapping[type, str]] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}
_NOT_JSON: Final = object()
# attrs types `Factory` as an overloaded function, but at runtime it is the class we test for.
_FACTORY: Final = typing.cast(type, attrs.Factory)


class SchemaError(DosAIError, TypeError):
    """A type that has no JSON Schema (or none that strict mode accepts).

    The message starts with the path to the offending spot: the class or function name, then
    ``.field`` for attributes and parameters, ``[]`` for items of a list, tuple or set, and ``{}``
    for values of a dict, e.g. `Weather.forecast[].when: unsupported type <class
    'datetime.datetime'>`. A type given directly to ``json_schema()`` is called ``$``.
    """

    __module__ = PUBLIC_MODULE


def _class_doc(cls: type) -> str | None:
    return parse_docstring(cls.__doc__).prose or None


def _type_hints(obj: Any, path: str) -> dict[str, Any]:
    """Resolved annotations, keeping ``Annotated``; unresolvable names become a SchemaError."""
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except NameError as exc:
        raise SchemaError(f"{path}: cannot resolve type hints ({exc})") from exc


def _enum_schema(cls: type[Enum], path: str) -> Schema:
    schema = _enum_of([member.value for member in cls], f"{path} ({cls.__name__})")
    return _with_description(schema, _class_doc(cls))


def _enum_of(values: list[Any], path: str) -> Schema:
    """``const`` or ``enum`` for the values, with their JSON type(s) in first-seen order."""
    json_types = [_JSON_TYPES.get(type(value)) for value in values]
    if None in json_types:
        bad = values[json_types.index(None)]
        raise SchemaError(f"{path}: {bad!r} is not a JSON string, number, boolean or null")
    distinct = list(dict.fromkeys(json_types))
    schema: Schema = {"type": distinct[0] if len(distinct) == 1 else distinct}
    return schema | ({"const": values[0]} if len(values) == 1 else {"enum": values})


def _any_of(schemas: list[Schema]) -> Schema:
    """``anyOf`` the schemas, flattening members that are bare `anyOf`s themselves."""
    flat = [s for schema in schemas for s in (_bare_any_of(schema) or [schema])]
    return {"anyOf": flat}


def _bare_any_of(schema: Schema) -> list[Schema] | None:
    return schema["anyOf"] if schema.keys() == {"anyOf"} else None


def _nullable(schema: Schema) -> Schema:
    """The schema that also allows null: ``"type": [T, "null"]`` when plain, else ``anyOf``."""
    if _allows_null(schema):
        return schema
    json_type = schema.get("type")
    if isinstance(json_type, str) and schema.keys() <= {"type", "description"}:
        return schema | {"type": [json_type, "null"]}
    return _any_of([schema, {"type": "null"}])


def _allows_null(schema: Schema) -> bool:
    if not schema:
        return True  # no constraint at all
    json_type = schema.get("type")
    if json_type == "null" or (isinstance(json_type, list) and "null" in json_type):
        return True
    return any(_allows_null(member) for member in schema.get("anyOf", ()))


def _with_default(schema: Schema, default: Any) -> Schema:
    # Factories are not called (they may have side effects); their defaults go unstated.
    value = _NOT_JSON if isinstance(default, _FACTORY) else _as_json(default)
    return schema if value is _NOT_JSON else schema | {"default": value}


def _as_json(value: Any) -> Any:
    """A JSON copy of ``value``, or ``_NOT_JSON`` when it has no faithful one."""
    try:
        return json.loads(json.dumps(value, allow_nan=False, default=_enum_value))
    except (TypeError, ValueError):
        return _NOT_JSON


def _enum_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value)!r} is not JSON")


def _with_description(schema: Schema, description: str | None) -> Schema:
    if not description:
        return schema
    # Strict servers reject keywords beside `$ref`; a one-member anyOf carries it instead.
    if "$ref" in schema:
        return {"anyOf": [schema], "description": description}
    return schema | {"description": description}


def _peel_annotated(tp: Any) -> tuple[Any, str | None]:
    """``(T, description)`` from ``Annotated[T, ...]``; ``(tp, None)`` for anything else."""
    if typing.get_origin(tp) is not Annotated:
        return tp, None
    return tp.__origin__, _description_in(tp.__metadata__)


def _description_in(metadata: Iterable[Any]) -> str | None:
    """The first plain string, or ``Doc("...")``-like ``.documentation``, in Annotated metadata."""
    for item in metadata:
        text = item if isinstance(item, str) else getattr(item, "documentation", None)
        if isinstance(text, str):
            return text
    return None
