"""The one cattrs converter (and orjson, its JSON engine): the only importer of both.

Plan:

- ``cattrs.preconf.orjson`` converters, configured once by ``_configure``. Two instances share
  the configuration: a fast one (no detailed validation) on every hot path, and a detailed one
  used only after the fast one failed, to say *where* a body did not fit
  (``choices.0.message.content: ...``). Happy paths never pay for error bookkeeping.
- Response models keep unknown fields in ``extra``: the generated structure function ignores
  them, and a thin wrapper collects them only when the payload has keys the class does not
  know (one ``issuperset`` check, no allocation, on the common path).
- Request models unstructure without the fields left at ``None``, so unset means unsent.
- Enums (``StrEnum``, ``IntEnum``, ``(str, Enum)``...) structure to their members, and only
  from a JSON value of the member's own type (``true`` is not ``IntEnum`` 1); a value that is
  no member names the allowed ones.
- Pydantic v2 models (a user's structured-output class, or a tool parameter's type) are
  duck-typed, never imported: they structure through their own ``model_validate`` and
  unstructure through ``model_dump(mode="json")``, wherever they are nested.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.orjson import make_converter
from cattrs.v import format_exception

from dosai_async._core._exceptions import ResponseValidationError
from dosai_async._core._meta import ResponseMeta

from ._codegen import NO_EXTRA, check_nesting, make_fast_structure, set_extra
from ._vectors import BadVector, decode_vector

T = TypeVar("T")

JSONDecodeError = orjson.JSONDecodeError

# Fields of this package's models that are ours, not the wire's: never read from a
# payload, never written to one. Users' classes (structured outputs, tool arguments) may
# use these names for real fields, so the rule applies to our own classes only.
LOCAL_FIELDS = frozenset({"extra", "response", "parsed", "parsed_arguments"})


def _local_fields(cls: type) -> frozenset[str]:
    return LOCAL_FIELDS if cls.__module__.startswith("dosai_async.") else frozenset()


def _has_extra(cls: type) -> bool:
    # attrs.fields, not fields_dict: it also takes a parametrised generic such as
    # ``ParsedChoice[T]`` (what cattrs dispatches on for a parsed completion's fields).
    return "extra" in _local_fields(cls) and any(f.name == "extra" for f in attrs.fields(cls))


def _structure_factory(converter: cattrs.Converter, detailed: bool) -> Callable[[type], Any]:
    def factory(cls: type) -> Callable[[Any, type], Any]:
        if not detailed:
            fast = make_fast_structure(cls, converter.get_structure_hook, _local_fields(cls))

            def hook(data: Any, _: type) -> Any:
                return fast(data)

            hook.fast = fast  # type: ignore[attr-defined]  # nested generated hooks call it
            return hook
        skip = _local_fields(cls)
        local: dict[str, Any] = {
            f.name: override(omit=True) for f in attrs.fields(cls) if f.name in skip
        }
        base: Callable[[Any, type], Any] = make_dict_structure_fn(
            cls, converter, _cattrs_detailed_validation=detailed, **local
        )
        if not _has_extra(cls):
            return base
        known = frozenset(f.name for f in attrs.fields(cls) if f.name not in skip)
        return _with_extra(base, known)

    return factory


def _with_extra(base: Callable[[Any, type], T], known: frozenset[str]) -> Callable[[Any, type], T]:
    def structure(data: Any, cls: type) -> T:
        obj = base(data, cls)
        if not known.issuperset(data):
            set_extra(obj, data, known)
        return obj

    return structure


def _unstructure_factory(converter: cattrs.Converter) -> Callable[[type], Any]:
    def factory(cls: type) -> Callable[[Any], dict[str, Any]]:
        skip = _local_fields(cls)
        overrides: dict[str, Any] = {
            f.name: override(omit=True) if f.name in skip else _field_override(f)
            for f in attrs.fields(cls)
        }
        base: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(
            cls, converter, **overrides
        )
        if not _has_extra(cls):
            return base

        def unstructure(obj: Any) -> dict[str, Any]:
            data = base(obj)
            if obj.extra is not NO_EXTRA:
                data.update(obj.extra)
            return data

        return unstructure

    return factory


def _field_override(field: attrs.Attribute[Any]) -> Any:
    # Optional wire fields are omitted while unset; fields with real defaults (``role``,
    # ``type``) are always written because the server needs them.
    return override(omit_if_default=field.default is None)


# JSON already gives Python types: check them instead of converting. ``str(None)`` would
# silently turn a null ``role`` into "None"; an identity check is also the cheapest hook.
_PRIMITIVES: Mapping[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (float, int),
    bool: (bool,),
}


def _primitive_hook(tp: Any) -> Callable[[Any, Any], Any]:
    optional = _optional_of(tp)
    allowed = _PRIMITIVES[optional if optional is not None else tp]
    expected = allowed[0].__name__

    def structure(value: Any, target: Any) -> Any:
        if target is not tp and _is_enum(target):
            # cattrs dispatches classes by MRO, so ``class Color(str, Enum)`` lands on the
            # ``str`` hook; one identity check sends it on to the enum's own hook.
            return _enum_hook(target)(value, target)
        if value.__class__ in allowed or (optional is not None and value is None):
            return value
        raise TypeError(f"expected {expected}, got {type(value).__name__}")

    return structure


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


class _NotAMember(ValueError):
    """A JSON value that is none of an enum's values; its message lists the allowed ones."""


@functools.cache
def _enum_hook(cls: type[enum.Enum]) -> Callable[[Any, Any], enum.Enum]:
    """The member whose value the JSON value is, of the same JSON type (``true`` is not 1)."""
    by_value = {member.value: member for member in cls}
    allowed = ", ".join(repr(value) for value in by_value)

    def structure(value: Any, _: Any) -> enum.Enum:
        member = by_value.get(value) if value.__hash__ is not None else None
        if member is None or member.value.__class__ is not value.__class__:
            raise _NotAMember(f"{value!r} is not a {cls.__name__} (one of {allowed})")
        return member

    return structure


def _optional_of(tp: Any) -> Any:
    args: tuple[Any, ...] = getattr(tp, "__args__", ())
    if len(args) == 2 and type(None) in args:
        return args[0] if args[1] is type(None) else args[1]
    return None


def _is_primitive(tp: Any) -> bool:
    return bool(tp in _PRIMITIVES or _optional_of(tp) in _PRIMITIVES)


def is_pydantic_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic v2 model class (duck-typed: pydantic is not imported)."""
    return isinstance(tp, type) and all(
        callable(getattr(tp, name, None))
        for name in ("model_json_schema", "model_validate", "model_dump")
    )


def _pydantic_structure(cls: type) -> Callable[[Any, Any], Any]:
    validate = cls.model_validate  # type: ignore[attr-defined]  # checked by is_pydantic_model

    def structure(value: Any, _: Any) -> Any:
        return validate(value)

    return structure


def _pydantic_unstructure(cls: type) -> Callable[[Any], Any]:
    def unstructure(obj: Any) -> Any:
        return obj.model_dump(mode="json")

    return unstructure


def _configure(converter: cattrs.Converter, *, detailed: bool) -> cattrs.Converter:
    converter.register_structure_hook_factory(_is_primitive, _primitive_hook)
    # Enums of str/int values reach ``_enum_hook`` through the primitive hooks (cattrs tries
    # classes by MRO before any factory); this factory serves the others (``class X(Enum)``).
    converter.register_structure_hook_factory(_is_enum, _enum_hook)
    for tp in _PRIMITIVES:  # plain classes dispatch before factories, so register them too
        converter.register_structure_hook(tp, _primitive_hook(tp))
    converter.register_structure_hook_factory(attrs.has, _structure_factory(converter, detailed))
    converter.register_unstructure_hook_factory(attrs.has, _unstructure_factory(converter))
    converter.register_structure_hook_factory(is_pydantic_model, _pydantic_structure)
    converter.register_unstructure_hook_factory(is_pydantic_model, _pydantic_unstructure)
    # Open JSON objects (``pricing``, tool ``parameters``) pass through as parsed.
    converter.register_structure_hook_func(_is_open_object, lambda v, _: _expect_dict(v))
    converter.register_structure_hook_func(_is_vector, lambda v, _: decode_vector(v))
    return converter


def _is_vector(tp: Any) -> bool:
    return bool(tp == list[float])


def _is_open_object(tp: Any) -> bool:
    return bool(tp == dict[str, Any])


def _expect_dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    check_nesting(value)
    return value


_fast = _configure(make_converter(), detailed=False)
_detailed = _configure(make_converter(), detailed=True)


_structurers: dict[type, Callable[[Any], Any]] = {}


def structurer(cls: type[T]) -> Callable[[Any], T]:
    """A function that structures parsed JSON into ``cls``, raising ``ResponseValidationError``.

    Built once per class (cached), so hot loops call the generated hook with no lookup.
    """
    function = _structurers.get(cls)
    if function is None:
        function = _structurers[cls] = _make_structurer(cls)
    return function


def raw_structurer(cls: type[T]) -> Callable[[Any], T]:
    """``structurer`` minus the wrapper (a frame per chunk): it raises plain exceptions, which
    ``validation_error`` turns into the ``ResponseValidationError`` that names the field."""
    hook = _fast.get_structure_hook(cls)
    fast: Callable[[Any], T] = getattr(hook, "fast", None) or (lambda data: hook(data, cls))
    return fast


def _make_structurer(cls: type[T]) -> Callable[[Any], T]:
    fast = raw_structurer(cls)

    def structure(data: Any) -> T:
        try:
            return fast(data)
        except Exception as exc:
            raise validation_error(data, cls, exc) from None

    return structure


@functools.cache
def _has_response_field(cls: type) -> bool:
    return attrs.has(cls) and "response" in attrs.fields_dict(cls)


def structure(data: Any, cls: type[T], response: ResponseMeta | None = None) -> T:
    """Structure parsed JSON into ``cls`` (see ``structurer``), attaching ``response``."""
    obj = structurer(cls)(data)
    if response is not None and _has_response_field(cls):  # type: ignore[arg-type]
        # Part of construction: the object has not escaped yet. evolve() would re-run
        # __init__ for every field just to set this one.
        object.__setattr__(obj, "response", response)
    return obj


def validation_error(data: Any, cls: type, fast_exc: Exception) -> ResponseValidationError:
    """Why ``data`` does not fit ``cls``, field by field (after the fast path failed)."""
    try:
        _detailed.structure(data, cls)
    except Exception as exc:
        errors = tuple(cattrs.transform_error(exc, cls.__name__, _describe))
    else:  # pragma: no cover - the two converters share one configuration
        errors = (f"{fast_exc!r} @ {cls.__name__}",)
    message = f"response does not fit {cls.__name__}: {'; '.join(errors)}"
    return ResponseValidationError(message, body=data, errors=errors)


def _describe(exc: BaseException, tp: type | None) -> str:
    # cattrs words every ValueError alike; ours already says which values were allowed, and
    # a pydantic model's ValidationError lists its own findings.
    if isinstance(exc, (_NotAMember, BadVector)):
        return str(exc)
    findings = _pydantic_findings(exc)
    if findings:  # cattrs appends the path to the model; pydantic's paths go inside it
        return "; ".join(f"{path}: {message}" if path else message for path, message in findings)
    return format_exception(exc, tp)


def pydantic_errors(exc: BaseException, root: str) -> list[str]:
    """A pydantic ``ValidationError``'s findings as ``"message @ root.path"``; ``[]`` for others."""
    findings = _pydantic_findings(exc)
    return [f"{message} @ {'.'.join(filter(None, (root, path)))}" for path, message in findings]


def _pydantic_findings(exc: BaseException) -> list[tuple[str, str]]:
    errors = getattr(exc, "errors", None)
    if not (isinstance(exc, ValueError) and callable(errors)):
        return []
    return [
        (".".join(str(part) for part in error.get("loc", ())), str(error.get("msg", "invalid")))
        for error in errors()
    ]


def unstructure(obj: Any) -> Any:
    """Plain JSON-ready data for a model (or a mapping/list holding models)."""
    return _fast.unstructure(obj)


def to_dict(model: object) -> dict[str, Any]:
    """A model as JSON-ready data: unset (``None``) fields left out, unknown fields put back.

    The inverse of parsing: ``to_dict(completion)`` is what the server sent, minus nulls.
    """
    if not attrs.has(type(model)):
        raise TypeError(f"to_dict() takes a dosai_async model, not {type(model).__name__}")
    data: dict[str, Any] = _fast.unstructure(model)
    return data


#: Parse JSON (orjson); raises ``JSONDecodeError`` (a ``ValueError``). orjson's own function,
#: not a wrapper: a stream calls it once per event.
loads: Callable[[bytes | bytearray | memoryview | str], Any] = orjson.loads


def dumps(obj: Any) -> bytes:
    """Serialize JSON-ready data (orjson; attrs models are unstructured first)."""
    return orjson.dumps(obj, default=_fast.unstructure)


def dumps_text(data: Any, indent: int | None = None) -> str:
    """JSON text of JSON-ready data: compact, or with ``indent`` spaces (pydantic's layout)."""
    if indent is None:
        return orjson.dumps(data).decode()
    if indent == 2:  # the common case (openai's to_json default) stays on orjson
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode()
    return json.dumps(data, indent=indent, ensure_ascii=False)
