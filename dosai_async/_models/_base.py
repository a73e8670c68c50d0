"""``WireModel``: the dump methods every response model shares, over the one converter.

openai's models are pydantic models, and code written for them calls ``to_dict()``,
``to_json()``, ``model_dump()`` and ``model_dump_json()`` everywhere. This base gives our
frozen attrs models the same four methods, with the same defaults, so that code keeps
working after the rename. Methods only: ``__slots__`` is empty, so this base adds no state.
Most models are slotted; ``ChatCompletionChunk`` and ``ChoiceDelta`` have a ``__dict__``
instead, as one dict store builds them faster per event (``_codegen``). They refuse attribute
assignment like the rest; as with any frozen class that has a ``__dict__`` (pydantic's
included), writing into that dict directly goes around it.

Field names are the wire names, so ``use_api_names`` / ``by_alias`` change nothing, and
every value is already JSON-ready, so ``mode="python"`` and ``mode="json"`` agree. What is
"unset" here: a field left at ``None`` (the models do not record which keys the server
sent, so a field it sent as ``null`` counts as unset too).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Literal

import attrs

from . import _converter
from ._codegen import NO_EXTRA

Mode = Literal["python", "json"]


class WireModel:
    """Base of every response model: ``to_dict``/``to_json`` and ``model_dump``/``_json``."""

    __slots__ = ()

    def to_dict(
        self,
        *,
        mode: Mode = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        """The model as the server sent it, as plain data (openai's ``to_dict``).

        By default, fields left unset (``None``) are left out, as ``dosai_async.to_dict()``
        does; ``exclude_unset=False`` writes them as ``None``. Unknown fields are put back.
        """
        return _dump(self, mode, exclude_unset or exclude_none)

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_none: bool = False,
    ) -> str:
        """``to_dict()`` as JSON text, indented by ``indent`` spaces (``None``: compact)."""
        return _converter.dumps_text(_dump(self, "json", exclude_unset or exclude_none), indent)

    def model_dump(
        self,
        *,
        mode: Mode = "python",
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        """pydantic's ``model_dump``: every field, ``None`` included, unless excluded."""
        return _dump(self, mode, exclude_unset or exclude_none)

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_none: bool = False,
    ) -> str:
        """pydantic's ``model_dump_json``: compact JSON text unless ``indent`` is given."""
        return _converter.dumps_text(_dump(self, "json", exclude_unset or exclude_none), indent)

    def __reduce__(self) -> tuple[Any, ...]:
        """``pickle`` and ``copy.deepcopy`` support, as pydantic models have it.

        ``extra`` is a read-only ``mappingproxy``, which pickle refuses: it travels as a
        plain dict and is made read-only again on the other side.
        """
        fields = attrs.fields(type(self))  # type: ignore[arg-type]  # every WireModel is attrs
        values = {f.name: getattr(self, f.name) for f in fields}
        if "extra" in values:
            values["extra"] = dict(values["extra"])
        return (_rebuild, (type(self), values))


def _rebuild(cls: type[Any], values: dict[str, Any]) -> Any:
    """A model from its field values (``WireModel.__reduce__``), frozen as ever."""
    obj = object.__new__(cls)
    if "extra" in values:
        values["extra"] = MappingProxyType(values["extra"]) if values["extra"] else NO_EXTRA
    for name, value in values.items():
        object.__setattr__(obj, name, value)  # construction: the object has not escaped
    return obj


def _dump(model: object, mode: str, drop_unset: bool) -> dict[str, Any]:
    if mode not in ("python", "json"):
        raise ValueError(f"mode must be 'python' or 'json', not {mode!r}")
    data = _converter.to_dict(model)
    return data if drop_unset else _with_nulls(model, data)


def _with_nulls(model: object, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (the converter's dump of ``model``) with the unset fields back, as ``None``,
    in field order, nested models included; unknown fields follow."""
    out: dict[str, Any] = {}
    for field in attrs.fields(type(model)):  # type: ignore[arg-type]  # WireModels are attrs
        if field.name not in _converter.LOCAL_FIELDS:
            out[field.name] = _value_with_nulls(getattr(model, field.name), data.get(field.name))
    out.update((key, value) for key, value in data.items() if key not in out)
    return out


def _value_with_nulls(value: object, dumped: Any) -> Any:
    if attrs.has(type(value)):
        return _with_nulls(value, dumped)
    if isinstance(value, list) and isinstance(dumped, list):
        return [_value_with_nulls(item, raw) for item, raw in zip(value, dumped, strict=True)]
    return dumped
