"""The fields of a user's record class: attrs classes, dataclasses and TypedDicts alike.

The schema builder (``_schema``) and the JSON fitter (``_normalize``) both walk a class's
fields; this module is the one place that knows how each kind of class lists them. Pydantic
models are not records here: they describe and validate themselves (``_strict``).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ._docstrings import parse_docstring
from ._schema_nodes import SchemaError

__all__ = ["UNSTATED_DEFAULT", "Field", "is_record_class", "record_doc", "record_fields"]

#: The default of a field that may be left out but has no value worth stating (a
#: ``default_factory``, a ``NotRequired`` TypedDict key): a factory, which schemas leave unstated.
UNSTATED_DEFAULT: Final = attrs.Factory(type(None))
_REQUIRED_MARKERS = (typing.Required, typing.NotRequired)


@attrs.frozen
class Field:
    """One field: its name, its annotation (``Annotated`` kept), default and descriptions.

    ``description`` comes from the field's ``metadata``, ``documented`` from the class
    docstring (``Attributes:``); a description in ``Annotated`` ranks between the two.
    """

    name: str
    tp: Any
    default: Any  # attrs.NOTHING when the field is required
    description: str | None
    documented: str | None


def is_record_class(tp: Any) -> bool:
    """An attrs class, a dataclass or a TypedDict: a class whose fields ``record_fields`` lists."""
    return isinstance(tp, type) and (
        attrs.has(tp) or dataclasses.is_dataclass(tp) or typing.is_typeddict(tp)
    )


def record_doc(cls: type) -> str | None:
    """The class docstring, minus the signature ``dataclass`` writes when there is none."""
    doc = cls.__doc__
    if doc and dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}("):
        return None
    return doc


@functools.lru_cache(maxsize=512)
def record_fields(cls: type) -> tuple[Field, ...]:
    """The fields that JSON can set, in declaration order; raises ``NameError`` for bad hints.

    attrs and dataclass fields outside ``__init__`` are left out (JSON cannot set them).
    """
    hints = typing.get_type_hints(cls, include_extras=True)
    described = parse_docstring(record_doc(cls)).params
    if typing.is_typeddict(cls):
        return tuple(_key(cls, name, tp, described) for name, tp in hints.items())
    if dataclasses.is_dataclass(cls):
        fields = (f for f in dataclasses.fields(cls) if f.init)
        return tuple(_dataclass_field(f, hints.get(f.name, f.type), described) for f in fields)
    return tuple(
        _attrs_field(f, hints.get(f.name, f.type), described) for f in attrs.fields(cls) if f.init
    )


def _attrs_field(field: attrs.Attribute[Any], tp: Any, described: Mapping[str, str]) -> Field:
    description = field.metadata.get("description")
    return Field(field.name, tp, field.default, description, described.get(field.name))


def _dataclass_field(field: dataclasses.Field[Any], tp: Any, described: Mapping[str, str]) -> Field:
    if field.default is not dataclasses.MISSING:
        default = field.default
    elif field.default_factory is not dataclasses.MISSING:
        default = UNSTATED_DEFAULT
    else:
        default = attrs.NOTHING
    description = field.metadata.get("description")
    return Field(field.name, tp, default, description, described.get(field.name))


def _key(cls: Any, name: str, tp: Any, described: Mapping[str, str]) -> Field:
    required = name in cls.__required_keys__
    while typing.get_origin(tp) in _REQUIRED_MARKERS:
        if required != (typing.get_origin(tp) is typing.Required):
            # Python 3.11 reads Required/NotRequired only from real annotations; from strings
            # it cannot, and would then require (or drop) a key the schema calls optional.
            raise SchemaError(
                f"{cls.__name__}.{name}: Python cannot see {typing.get_origin(tp).__name__} "
                "in string annotations (from __future__ import annotations); define the "
                "TypedDict in a module without that import, or with TypedDict(name, {...})"
            )
        tp = typing.get_args(tp)[0]
    default = attrs.NOTHING if required else UNSTATED_DEFAULT
    return Field(name, tp, default, None, described.get(name))
