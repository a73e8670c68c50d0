"""JSON Schema from Python types, for structured outputs and tool definitions.

A pure layer (stdlib and attrs only): it turns type hints into the schema dialect that
OpenAI-style servers accept, and knows nothing of requests or JSON engines.

Plan: ``_Builder.schema()`` walks a type and dispatches on its origin (``list``, ``dict``,
``Literal``, ``Union``, ...) through ``_BY_ORIGIN``; record classes (attrs classes, dataclasses,
TypedDicts: ``_fields``) are built once into ``$defs`` and referred to by ``$ref``, which is
what makes recursive classes finite. A pydantic model brings its own schema (``_strict``),
whose ``$defs`` join the document's. ``json_schema()``
then inlines the root class, because strict servers want an object at the root.

Strict mode follows the structured-outputs rules: every object has
``"additionalProperties": false`` and lists every property in ``required``; a field that may be
left out (it has a default) becomes nullable instead, so the model sends ``null`` for it.
"""

from __future__ import annotations

import collections.abc as abc
import copy
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Annotated, Any, Final, Literal, Union

import attrs

from dosai_async._models._converter import is_pydantic_model

from ._docstrings import Docstring, parse_docstring
from ._fields import Field, is_record_class, record_doc, record_fields
from ._schema_nodes import (
    _JSON_TYPES,
    Schema,
    SchemaError,
    _any_of,
    _description_in,
    _enum_of,
    _enum_schema,
    _nullable,
    _peel_annotated,
    _type_hints,
    _with_default,
    _with_description,
)
from ._strict import pydantic_schema, relocate_defs

__all__ = ["FunctionSpec", "SchemaError", "function_spec", "json_schema", "response_format_for"]


def json_schema(tp: Any, *, strict: bool = True) -> Schema:
    """Return the JSON Schema for the type ``tp``.

    Supported: attrs classes, dataclasses and TypedDicts (nested ones go to ``$defs``, so
    recursion works), pydantic v2 models (their own schema, made strict as the OpenAI SDK
    does: see ``_strict``), ``list[T]``,
    ``tuple[T, ...]``, ``set[T]`` / ``frozenset[T]``, ``dict[str, T]``, ``Literal[...]``, ``Enum``
    subclasses, ``str``, ``int``, ``float``, ``bool``, ``None``, ``T | None``, unions, `Annotated[T,
    "description"]`, `NewType`s and ``Any``. Property names are the attrs field names
    (``field.name``, not the ``__init__`` alias); fields with ``init=False`` are left out.

    Descriptions: a class's docstring prose describes its object; a field is described by
    ``attrs.field(metadata={"description": ...})``, else by a string (or ``Doc("...")``) in its
    ``Annotated`` metadata, else by the class docstring's ``Attributes:`` section.

    With ``strict=True`` (the default) the schema follows the structured-outputs rules: closed
    objects, every property required, defaulted fields nullable. Types that strict mode cannot
    express (``dict[str, T]``, ``Any``, bare ``list``, fixed-length tuples) raise ``SchemaError``.
    """
    if is_pydantic_model(tp):
        return pydantic_schema(tp, strict=strict)
    builder = _Builder(strict)
    path = tp.__name__ if is_record_class(tp) else "$"
    return builder.finish(builder.schema(tp, path))


def response_format_for(cls: type, *, name: str | None = None, strict: bool = True) -> Schema:
    """Return the ``response_format`` that asks the model for a JSON instance of ``cls``."""
    schema = json_schema(cls, strict=strict)
    if strict and schema.get("type") != "object":
        raise SchemaError(f"$: strict structured outputs need an object at the root, not {cls!r}")
    return {
        "type": "json_schema",
        "json_schema": {"name": name or cls.__name__, "strict": strict, "schema": schema},
    }


@attrs.frozen
class FunctionSpec:
    """A function described for the model: a tool definition without the wire wrapping."""

    name: str
    description: str | None
    parameters: Schema  #: JSON Schema of the arguments object.
    strict: bool

    def to_tool(self) -> Schema:
        """Return the ``tools`` entry: ``{"type": "function", "function": {...}}``."""
        function: Schema = {"name": self.name}
        if self.description is not None:
            function["description"] = self.description
        function["parameters"] = self.parameters
        if self.strict:
            function["strict"] = True
        return {"type": "function", "function": function}


def function_spec(
    fn: Callable[..., Any], *, name: str | None = None, strict: bool = False
) -> FunctionSpec:
    """Describe a plain (sync or async) function from its signature and docstring.

    Each parameter becomes a property of the arguments object, typed from its annotation
    (anything ``json_schema()`` supports). Parameters without defaults are required; in strict
    mode all are, and the defaulted ones become nullable. The description is the docstring's
    prose (the text before its first section). A parameter is described by a string in its
    ``Annotated`` metadata, else by a Google-style ``Args:`` section, reST ``:param x:`` fields or a
    NumPy ``Parameters`` section. Decorators that use ``functools.wraps`` are seen through.
    ``*args``, ``**kwargs``, positional-only and unannotated parameters raise ``SchemaError``.
    """
    fn_name = getattr(fn, "__name__", repr(fn))
    doc = parse_docstring(inspect.getdoc(fn))
    hints = _type_hints(inspect.unwrap(fn), fn_name)
    params = inspect.signature(fn).parameters.values()
    slots = [_param_slot(param, hints, doc, f"{fn_name}.{param.name}") for param in params]
    builder = _Builder(strict)
    parameters = builder.finish(builder.object_schema(slots, fn_name, description=None))
    return FunctionSpec(name or fn_name, doc.prose or None, parameters, strict)


@attrs.frozen
class _Slot:
    """A named place for a value: an attrs field or a function parameter."""

    name: str
    tp: Any  # with any outer Annotated peeled off into `doc`
    default: Any  # attrs.NOTHING when there is none
    doc: str | None


def _param_slot(
    param: inspect.Parameter, hints: Mapping[str, Any], doc: Docstring, path: str
) -> _Slot:
    """The slot of a parameter the model can pass by name, or a SchemaError."""
    if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
        raise SchemaError(f"{path}: *args and **kwargs have no fixed names to describe")
    if param.kind is param.POSITIONAL_ONLY:
        raise SchemaError(f"{path}: positional-only, so it cannot be passed as a named argument")
    if param.name not in hints:
        raise SchemaError(f"{path}: parameter has no type annotation")
    default = attrs.NOTHING if param.default is param.empty else param.default
    tp, annotated_doc = _peel_annotated(hints[param.name])
    return _Slot(param.name, tp, default, annotated_doc or doc.params.get(param.name))


def _field_slots(cls: type, path: str) -> list[_Slot]:
    """The slots of a record class's fields (those JSON can set: see ``record_fields``)."""
    _type_hints(cls, path)  # an unresolvable hint becomes a SchemaError naming the class
    return [_field_slot(field) for field in record_fields(cls)]


def _field_slot(field: Field) -> _Slot:
    """A field's slot, described by its metadata, else ``Annotated``, else the class docstring."""
    tp, annotated_doc = _peel_annotated(field.tp)
    description = field.description or annotated_doc or field.documented
    return _Slot(field.name, tp, field.default, description)


class _Builder:
    """Builds one schema document, collecting the attrs classes it meets into ``$defs``."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.defs: dict[str, Schema] = {}
        self.names: dict[type, str] = {}
        self.ref_counts: dict[str, int] = {}

    def schema(self, tp: Any, path: str) -> Schema:
        """The schema of any supported type; ``path`` names where ``tp`` sits, for errors."""
        tp = type(None) if tp is None else tp
        if isinstance(tp, typing.NewType):
            return self.schema(tp.__supertype__, path)
        if tp is Any:
            return self._any(path)
        if tp in _JSON_TYPES:
            return {"type": _JSON_TYPES[tp]}
        origin = typing.get_origin(tp) or tp
        if origin in _BY_ORIGIN:
            return _BY_ORIGIN[origin](self, typing.get_args(tp), path)
        if isinstance(tp, type) and issubclass(tp, Enum):
            return _enum_schema(tp, path)
        if is_record_class(tp):
            return self._ref(tp, path)
        if is_pydantic_model(tp):
            return self._pydantic_ref(tp)
        raise SchemaError(f"{path}: unsupported type {tp!r}")

    def object_schema(self, slots: list[_Slot], path: str, description: str | None) -> Schema:
        """An object schema; closed in strict mode, where every property is required."""
        schema: Schema = {"type": "object"}
        if description:
            schema["description"] = description
        schema["properties"] = {slot.name: self._property(slot, path) for slot in slots}
        schema["required"] = [s.name for s in slots if self.strict or s.default is attrs.NOTHING]
        if self.strict:
            schema["additionalProperties"] = False
        return schema

    def finish(self, schema: Schema) -> Schema:
        """The document: the root class inlined, and ``$defs`` if anything refers to one."""
        root = schema.get("$ref", "").removeprefix("#/$defs/")
        if root and len(schema) == 1:
            # A recursive root keeps its definition too, for the references inside it.
            recursive = self.ref_counts[root] > 1
            schema = copy.deepcopy(self.defs[root]) if recursive else self.defs.pop(root)
        return schema | {"$defs": self.defs} if self.defs else schema

    def _ref(self, cls: type, path: str) -> Schema:
        """A ``$ref`` to the definition of a record class, building it on first sight."""
        name = self.names.get(cls)
        if name is None:
            name = self.names[cls] = self._free_name(cls.__name__)
            self.defs[name] = {}  # claims the name first, so a recursive field finds it
            description = parse_docstring(record_doc(cls)).prose or None
            self.defs[name] = self.object_schema(_field_slots(cls, path), path, description)
        return self._count(name)

    def _pydantic_ref(self, cls: type) -> Schema:
        """A ``$ref`` to a pydantic model's own schema; its ``$defs`` join the document's."""
        name = self.names.get(cls)
        if name is None:
            name = self.names[cls] = self._free_name(cls.__name__)
            self.defs[name] = {}
            own = pydantic_schema(cls, strict=self.strict)
            inner = own.pop("$defs", {})
            renames = {key: self._free_name(key) for key in inner}
            for key, definition in inner.items():
                self.defs[renames[key]] = relocate_defs(definition, renames)
            self.defs[name] = relocate_defs(own, renames)
        return self._count(name)

    def _count(self, name: str) -> Schema:
        self.ref_counts[name] = self.ref_counts.get(name, 0) + 1
        return {"$ref": f"#/$defs/{name}"}

    def _free_name(self, name: str) -> str:
        """``name``, or ``name2``, ``name3``, ... when a different class already has it."""
        candidate, n = name, 1
        while candidate in self.defs:
            n += 1
            candidate = f"{name}{n}"
        return candidate

    def _property(self, slot: _Slot, path: str) -> Schema:
        """The schema of a slot, with its default and its description."""
        schema = self.schema(slot.tp, f"{path}.{slot.name}")
        if slot.default is not attrs.NOTHING:
            schema = _nullable(schema) if self.strict else _with_default(schema, slot.default)
        return _with_description(schema, slot.doc)

    def _any(self, path: str) -> Schema:
        if self.strict:
            raise SchemaError(f"{path}: Any allows every value; strict mode needs a concrete type")
        return {}

    def _array(self, args: tuple[Any, ...], path: str) -> Schema:
        if not args:
            return self._bare("array", path)
        return {"type": "array", "items": self.schema(args[0], f"{path}[]")}

    def _set(self, args: tuple[Any, ...], path: str) -> Schema:
        # Strict servers reject `uniqueItems`; elsewhere it says what a set means.
        schema = self._array(args, path)
        return schema if self.strict else schema | {"uniqueItems": True}

    def _tuple(self, args: tuple[Any, ...], path: str) -> Schema:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            return self._array(args[:1], path)
        if self.strict:
            raise SchemaError(f"{path}: fixed-length tuples need prefixItems, not in strict mode")
        items = [self.schema(arg, f"{path}[]") for arg in args]
        return {"type": "array", "prefixItems": items, "minItems": len(args), "maxItems": len(args)}

    def _mapping(self, args: tuple[Any, ...], path: str) -> Schema:
        if self.strict:
            raise SchemaError(
                f"{path}: a dict has no fixed properties, which strict mode requires;"
                " use an attrs class, or strict=False"
            )
        if not args:
            return {"type": "object"}
        if args[0] is not str:
            raise SchemaError(f"{path}: JSON object keys are strings, not {args[0]!r}")
        return {"type": "object", "additionalProperties": self.schema(args[1], f"{path}{{}}")}

    def _union(self, args: tuple[Any, ...], path: str) -> Schema:
        schemas = [self.schema(arg, path) for arg in args if arg is not type(None)]
        nullable = len(schemas) < len(args)
        if nullable and len(schemas) == 1:
            return _nullable(schemas[0])
        return _any_of([*schemas, {"type": "null"}] if nullable else schemas)

    def _literal(self, args: tuple[Any, ...], path: str) -> Schema:
        values = [arg.value if isinstance(arg, Enum) else arg for arg in args]
        return _enum_of(values, path)

    def _annotated(self, args: tuple[Any, ...], path: str) -> Schema:
        return _with_description(self.schema(args[0], path), _description_in(args[1:]))

    def _bare(self, json_type: str, path: str) -> Schema:
        if self.strict:
            raise SchemaError(f"{path}: a bare {json_type} needs an item type in strict mode")
        return {"type": json_type}


_Handler = Callable[[_Builder, tuple[Any, ...], str], Schema]
_BY_ORIGIN: Final[Mapping[Any, _Handler]] = {
    list: _Builder._array,
    abc.Sequence: _Builder._array,
    abc.MutableSequence: _Builder._array,
    set: _Builder._set,
    frozenset: _Builder._set,
    abc.Set: _Builder._set,
    abc.MutableSet: _Builder._set,
    tuple: _Builder._tuple,
    dict: _Builder._mapping,
    abc.Mapping: _Builder._mapping,
    abc.MutableMapping: _Builder._mapping,
    Union: _Builder._union,
    types.UnionType: _Builder._union,
    Literal: _Builder._literal,
    Annotated: _Builder._annotated,
}
