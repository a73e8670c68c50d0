"""Pydantic models' own JSON schemas, made strict the way the OpenAI SDK makes them.

Pydantic is never imported: a model class (``is_pydantic_model``) describes itself through
``model_json_schema()``. ``to_strict_json_schema`` then applies the structured-outputs rules
exactly as ``openai.lib._pydantic.to_strict_json_schema`` does, so moving a model from
``openai`` sends the same schema:

- every object gets ``"additionalProperties": false`` (unless it sets it) and lists every
  property in ``required``; pydantic already writes ``Optional`` fields as ``anyOf`` with null;
- the walk follows ``$defs``/``definitions``, ``properties``, ``items``, ``anyOf`` and
  ``allOf`` (a one-member ``allOf`` is merged into its parent);
- ``"default": null`` is dropped (the field is nullable anyway);
- a ``$ref`` with sibling keywords (a description, say) is replaced by what it points to,
  because strict servers reject keywords beside ``$ref``.

Unlike the schemas of attrs classes, dataclasses and TypedDicts, a pydantic field with a
default is not made nullable: the model must send a value, as with ``openai``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._schema_nodes import Schema, SchemaError

__all__ = ["pydantic_schema", "relocate_defs", "to_strict_json_schema"]


def pydantic_schema(cls: type, *, strict: bool = True) -> Schema:
    """The JSON schema of a pydantic model class; strict as the OpenAI SDK makes it."""
    schema: Schema = cls.model_json_schema()  # type: ignore[attr-defined]  # a pydantic model
    return to_strict_json_schema(schema) if strict else schema


def to_strict_json_schema(schema: Mapping[str, Any]) -> Schema:
    """A strict copy of ``schema`` (the OpenAI SDK's rules; the input is left as it was)."""
    root = copy.deepcopy(dict(schema))
    return _strict(root, path=(), root=root)


def _strict(schema: Any, *, path: tuple[str, ...], root: Schema) -> Schema:
    if not isinstance(schema, dict):
        raise SchemaError(f"{'/'.join(path) or '$'}: expected a schema object, not {schema!r}")
    for key in ("$defs", "definitions"):
        defs = schema.get(key)
        if isinstance(defs, dict):
            for name, definition in defs.items():
                _strict(definition, path=(*path, key, name), root=root)
    if schema.get("type") == "object" and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    properties = schema.get("properties")
    if isinstance(properties, dict):
        schema["required"] = list(properties)
        schema["properties"] = {
            name: _strict(prop, path=(*path, "properties", name), root=root)
            for name, prop in properties.items()
        }
    if isinstance(schema.get("items"), dict):
        schema["items"] = _strict(schema["items"], path=(*path, "items"), root=root)
    _strict_members(schema, path, root)
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    ref = schema.get("$ref")
    if ref and len(schema) > 1:
        # Keywords beside $ref are not allowed: inline the target; the schema's own keys win.
        target = _resolve(root, ref)
        schema.update({**target, **schema})
        del schema["$ref"]
        return _strict(schema, path=path, root=root)
    return schema


def _strict_members(schema: Schema, path: tuple[str, ...], root: Schema) -> None:
    """``anyOf`` members made strict; a one-member ``allOf`` merged into ``schema``."""
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        schema["anyOf"] = [
            _strict(member, path=(*path, "anyOf", str(i)), root=root)
            for i, member in enumerate(any_of)
        ]
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        schema.update(_strict(all_of[0], path=(*path, "allOf", "0"), root=root))
        schema.pop("allOf")
    elif isinstance(all_of, list):
        schema["allOf"] = [
            _strict(member, path=(*path, "allOf", str(i)), root=root)
            for i, member in enumerate(all_of)
        ]


def _resolve(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#/"):
        raise SchemaError(f"{ref}: only local references (#/...) can be resolved")
    target: Any = root
    for key in ref[2:].split("/"):
        target = target.get(key) if isinstance(target, dict) else None
    if not isinstance(target, dict):
        raise SchemaError(f"{ref}: the reference does not point to a schema object")
    return target


def relocate_defs(schema: Schema, renames: Mapping[str, str]) -> Schema:
    """``schema`` with every ``#/$defs/<old>`` reference pointing to ``#/$defs/<new>``."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: walk(value) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = "#/$defs/" + renames.get(ref[8:], ref[8:])
        return out

    result: Schema = walk(schema)
    return result
