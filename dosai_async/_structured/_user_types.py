"""The one place that decides what kind of user type a class is, and how to use it.

Structured outputs (``parse``, ``stream_parse``), tool definitions (``tool()``,
``pydantic_function_tool``) and tool-call arguments take the user's own classes. Each is
one of four kinds; ``user_type(cls)`` recognises it and returns a ``UserType`` that gives
its strict JSON schema and validates decoded JSON into an instance:

- pydantic v2 models, duck-typed (``model_json_schema`` / ``model_validate`` / ``model_dump``;
  pydantic is never imported): the model's own schema made strict as the OpenAI SDK does
  (``_strict``), validated by ``model_validate_json`` on the raw text, as the OpenAI SDK does;
- attrs classes, dataclasses and TypedDicts: the schema from ``_schema``, the JSON fitted
  by ``normalize`` and structured by the package's converter (cattrs).

Any other type (``int``, ``dict``, a plain class) raises ``TypeError`` naming the four kinds.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import attrs

from dosai_async._core._exceptions import ResponseValidationError
from dosai_async._models import _converter
from dosai_async._models._converter import is_pydantic_model

from ._fields import is_record_class
from ._normalize import normalize
from ._schema import json_schema
from ._schema_nodes import Schema, SchemaError

__all__ = ["KINDS", "UserType", "is_user_type", "user_type"]

T = TypeVar("T")

#: What the error for an unsupported type lists.
KINDS = "a pydantic model, a dataclass, a TypedDict or an attrs class"


@attrs.frozen
class UserType(Generic[T]):
    """A user's class: its strict JSON schema, and a validator from JSON to an instance."""

    cls: type[T]
    pydantic: bool

    @property
    def name(self) -> str:
        """The class name: the default name of the schema or tool, and the root of error paths."""
        return self.cls.__name__

    def schema(self, *, strict: bool = True) -> Schema:
        """The JSON schema of an instance (an object, in strict mode)."""
        schema = json_schema(self.cls, strict=strict)
        if strict and schema.get("type") != "object":
            raise SchemaError(f"{self.name}: strict mode needs an object at the root")
        return schema

    def validate(self, data: Any, text: str | None = None) -> T:
        """An instance from decoded JSON ``data`` (``text``: the same JSON, undecoded).

        Raises ``ResponseValidationError`` whose ``errors`` read ``"<what> @ <path>"``.
        """
        if not self.pydantic:
            return _converter.structure(normalize(data, self.cls), self.cls)
        try:
            if text is not None:
                # JSON mode, as the OpenAI SDK validates: a date or an enum is read from a
                # JSON string even when the model is strict.
                return self.cls.model_validate_json(text)  # type: ignore[attr-defined, no-any-return]
            return self.cls.model_validate(data)  # type: ignore[attr-defined, no-any-return]
        except ValueError as exc:
            errors = tuple(_converter.pydantic_errors(exc, self.name))
            if not errors:
                raise
            message = f"response does not fit {self.name}: {'; '.join(errors)}"
            raise ResponseValidationError(message, body=data, errors=errors) from None


def is_user_type(tp: Any) -> bool:
    """A pydantic model, dataclass, TypedDict or attrs class (a class ``user_type`` takes)."""
    return is_pydantic_model(tp) or is_record_class(tp)


def user_type(tp: type[T], role: str = "response_format") -> UserType[T]:
    """The ``UserType`` of ``tp``; ``TypeError`` (naming ``role``) for any other type."""
    if not is_user_type(tp):
        raise TypeError(f"{role} must be {KINDS}, not {tp!r}")
    return UserType(tp, is_pydantic_model(tp))
