"""Fit decoded model JSON to a Python type before the package converter structures it.

Structured outputs and tool arguments both hand the converter JSON that a model wrote
against a schema from ``_schema``. Two things in it do not map one-to-one onto attrs
classes, and ``normalize`` removes them (recursively, through lists, dicts and optional
types):

- ``null`` for a field that has a default (or a TypedDict key that is not required): strict
  schemas make such fields nullable, so the model sends ``null`` to mean "the default".
  The null is dropped so the default applies, unless the field's type itself accepts
  ``None`` (then ``null`` is a value).
- keys the class has no field for: strict schemas forbid them, lax models still send them,
  and a user's class has nowhere to keep them. They are dropped.

Record classes are attrs classes, dataclasses and TypedDicts (``_fields``); pydantic models
validate their own data and are left alone. Pure (stdlib and attrs); the converter's own
behaviour for response models is unchanged.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from ._fields import is_record_class, record_fields

__all__ = ["Slot", "normalize", "normalize_fields", "slot"]


class Slot(NamedTuple):
    """What normalizing needs to know of a field or parameter."""

    tp: Any
    has_default: bool
    nullable: bool  # the type itself accepts None, so null is a value, not "the default"


def slot(tp: Any, has_default: bool) -> Slot:
    """The ``Slot`` of a field or parameter of type ``tp``."""
    return Slot(tp, has_default, _accepts_none(tp))


_SEQUENCES = frozenset({list, tuple, set, frozenset, Sequence, Iterable, typing.AbstractSet})
_MAPPINGS = frozenset({dict, Mapping, typing.MutableMapping})
_UNIONS = (typing.Union, types.UnionType)


def normalize(value: Any, tp: Any) -> Any:
    """Prepare decoded JSON for structuring into ``tp``, recursively through containers.

    In every record (attrs, dataclass, TypedDict) object: keys the class has no field for
    are dropped (strict schemas forbid them, and the class has nowhere to keep them), and
    ``null`` for a field that has a default but whose type does not accept ``None`` is
    dropped, so the default applies.
    """
    tp, origin, args = _unpack(tp)
    if origin in _UNIONS:
        members = [arg for arg in args if arg is not type(None)]
        # With several members, which one applies is the converter's call, not ours.
        return normalize(value, members[0]) if len(members) == 1 else value
    if isinstance(value, dict):
        if is_record_class(tp):
            return normalize_fields(value, _slots(tp))
        if origin in _MAPPINGS and len(args) == 2:
            return {key: normalize(item, args[1]) for key, item in value.items()}
    elif isinstance(value, list) and origin in _SEQUENCES and args:
        if origin is tuple and args[-1] is not Ellipsis:
            return [normalize(item, arg) for item, arg in zip(value, args, strict=False)]
        return [normalize(item, args[0]) for item in value]
    return value


def normalize_fields(data: Mapping[str, Any], slots: Mapping[str, Slot]) -> dict[str, Any]:
    """Normalize a JSON object against its slots: unknown keys and default-nulls go."""
    out = {}
    for key, value in data.items():
        info = slots.get(key)
        if info is None or (value is None and info.has_default and not info.nullable):
            continue
        out[key] = normalize(value, info.tp)
    return out


@functools.lru_cache(maxsize=512)
def _slots(cls: type) -> Mapping[str, Slot]:
    try:
        fields = record_fields(cls)
    except NameError:  # unresolvable hints: structuring reports them; nothing to recurse into
        return {}
    return {field.name: slot(field.tp, field.default is not attrs.NOTHING) for field in fields}


def _unpack(tp: Any) -> tuple[Any, Any, tuple[Any, ...]]:
    """``(type, origin, args)`` with ``Annotated`` and ``NewType`` seen through."""
    while True:
        if isinstance(tp, typing.NewType):
            tp = tp.__supertype__
        elif typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        else:
            return tp, typing.get_origin(tp) or tp, typing.get_args(tp)


def _accepts_none(tp: Any) -> bool:
    tp, origin, args = _unpack(tp)
    if tp is Any or tp is None or tp is type(None):
        return True
    if origin in _UNIONS:
        return any(_accepts_none(arg) for arg in args)
    return origin is typing.Literal and None in args
