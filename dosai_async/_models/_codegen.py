"""Generated structure hooks for the response models: the streaming hot path.

Why not cattrs' own generated hooks here: they are general (any attrs class, renames,
converters), and for our flat wire models that generality costs about 3.5 µs per stream
chunk: a kwargs dict per object, a hook call per field even for ``str | None``. The DESIGN
budget is a few microseconds for the whole client path per chunk.

Plan: for an attrs class whose fields are all of a few wire shapes (``str``/``int``/
``float``/``bool``, optional or not; nested attrs classes; ``list`` of those; open
``dict[str, Any]``), generate one function that reads each key with ``dict.get``, checks
primitives by class identity (JSON already produced Python types: check, don't convert),
and calls ``__init__`` positionally. Any other field type falls back to the converter's own
hook for that type, so nothing is lost for rare fields. ``_converter`` registers these hooks
on its fast converter only, as a cattrs hook factory; the detailed converter (used after a
failure, to name the field path) stays plain cattrs, and so does everything else.

The generated code raises plain ``TypeError``/``KeyError`` on a body that does not fit;
``_converter.structurer`` turns that into ``ResponseValidationError`` with the path.
"""

from __future__ import annotations

import linecache
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Union, get_args, get_origin

import attrs

from dosai_async._core._error_bodies import MAX_DEPTH, value_too_deep

Hook = Callable[[Any], Any]
HookFor = Callable[[Any], Callable[[Any, Any], Any]]

_PRIMITIVE_CLASSES: Mapping[type, str] = {
    str: "(str,)",
    int: "(int,)",
    float: "(float, int)",
    bool: "(bool,)",
}
# The generated check that a JSON value has the wrong class (identity where one will do).
_PRIMITIVE_TESTS: Mapping[type, str] = {
    str: "is not str",
    int: "is not int",
    float: "not in (float, int)",
    bool: "is not bool",
}
_MISSING = object()


def _split_optional(tp: Any) -> tuple[Any, bool]:
    args = get_args(tp)
    if get_origin(tp) in (types.UnionType, Union) and len(args) == 2 and type(None) in args:
        return (args[0] if args[1] is type(None) else args[1]), True
    return tp, False


class _Builder:
    """Accumulates the source lines and the globals of one generated function."""

    def __init__(self, cls: type, hook_for: HookFor) -> None:
        self.hook_for = hook_for
        self.lines: list[str] = []
        self.globs: dict[str, Any] = {"__cls": cls, "__MISSING": _MISSING}

    def field(self, field: attrs.Attribute[Any], tp: Any) -> str:
        """Emit the lines that read and check one field; return its variable name."""
        key, name = field.name, f"v_{field.name}"
        convert = self._convert(key, name, *_split_optional(tp))
        default = field.default
        if default is attrs.NOTHING:
            self._emit([f"{name} = o[{key!r}]", *convert])
            return name
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            self.globs[f"d_{key}"] = default.factory  # type: ignore[union-attr]
            fallback = f"d_{key}()"
        else:
            self.globs[f"d_{key}"] = default
            fallback = f"d_{key}"
            if default is None or default.__class__ in _PRIMITIVE_CLASSES:
                # Passes its own field's check unchanged: one dict lookup, no branch.
                self._emit([f"{name} = get({key!r}, d_{key})", *convert])
                return name
        # Other defaults are used as is: never through the hooks meant for JSON values.
        head = [f"{name} = get({key!r}, __MISSING)", f"if {name} is __MISSING:"]
        self._emit([*head, f"    {name} = {fallback}", "else:", *_indent(convert)])
        return name

    def _emit(self, lines: list[str]) -> None:
        self.lines.extend("    " + line for line in lines)

    def _convert(self, key: str, name: str, tp: Any, optional: bool) -> list[str]:
        guard = f"{name} is not None and " if optional else ""
        if tp in _PRIMITIVE_CLASSES:
            test = f"if {guard}{name}.__class__ {_PRIMITIVE_TESTS[tp]}:"
            return [test, f"    raise TypeError({key!r})"]
        if get_origin(tp) is list and attrs.has(get_args(tp)[0]):
            self.globs[f"h_{key}"] = self._hook(get_args(tp)[0])
            check = [f"if {guard}{name}.__class__ is not list:", f"    raise TypeError({key!r})"]
            # One item (a chunk's one choice) without the comprehension: in 3.11 it is a
            # function object and a frame of its own, a third of building the item itself.
            items = f"[h_{key}({name}[0])] if len({name}) == 1 else [h_{key}(x) for x in {name}]"
            return [*check, *_maybe(optional, name, items)]
        self.globs[f"h_{key}"] = self._hook(tp)
        return _maybe(optional, name, f"h_{key}({name})")

    def _hook(self, tp: Any) -> Hook:
        hook = self.hook_for(tp)
        fast: Hook | None = getattr(hook, "fast", None)
        if fast is not None:
            return fast  # a generated hook: call it directly, one frame less per object
        return lambda value: hook(value, tp)


def _maybe(optional: bool, name: str, expression: str) -> list[str]:
    if optional:
        return [f"if {name} is not None:", f"    {name} = {expression}"]
    return [f"{name} = {expression}"]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def make_fast_structure(cls: type, hook_for: HookFor, local: frozenset[str]) -> Hook:
    """A generated ``structure(data) -> cls`` for ``cls``; fields in ``local`` are skipped.

    ``hook_for(type)`` gives the converter's hook for nested and unusual field types.
    Unknown keys are collected into ``extra`` only when there are any.
    """
    # Postponed annotations are resolved without touching the class (it may be a user's).
    hints = typing.get_type_hints(cls)
    builder = _Builder(cls, hook_for)
    builder.lines.append("    if o.__class__ is not dict:")
    builder.lines.append("        raise TypeError('expected a JSON object')")
    fields = [f for f in attrs.fields(cls) if f.init and f.name not in local]
    if (set_dict := _dict_setter(cls)) is not None:
        builder.globs.update(__new=object.__new__, __set_dict=set_dict)
        _text_shortcut(builder, cls, hints)
    builder.lines.append("    get = o.get")
    names = [builder.field(f, hints.get(f.name, f.type)) for f in fields]
    read = {f.name: n for f, n in zip(fields, names, strict=True)}
    if set_dict is not None:
        _construct_by_dict(builder, cls, read)
    elif (slots := _slot_setters(cls)) is not None:
        _construct_by_slots(builder, cls, slots, read)
    else:
        builder.lines.append(f"    obj = __cls({_init_arguments(cls, fields, names)})")
    _collect_extra(builder, cls, local)
    builder.lines.append("    return obj")
    return _compile(cls, builder)


def _init_arguments(cls: type, fields: list[attrs.Attribute[Any]], names: list[str]) -> str:
    """Positional arguments (the cheaper call) while they line up with ``__init__``."""
    wanted = [f for f in attrs.fields(cls) if f.init]
    args, in_order = [], True
    for position, (field, name) in enumerate(zip(fields, names, strict=True)):
        in_order = in_order and not field.kw_only and wanted[position] is field
        args.append(name if in_order else f"{field.alias or field.name}={name}")
    return ", ".join(args)


def _plain_model(cls: type) -> bool:
    """Whether building ``cls`` without its ``__init__`` is safe.

    Safe means: one of this package's own models (we know their ``__init__`` only stores
    values), with no validators, converters or init hooks. The instance is as frozen as ever
    once it is returned: only its construction skips ``object.__setattr__`` per field.
    """
    if not cls.__module__.startswith("dosai_async."):
        return False
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        return False
    return all(f.validator is None and f.converter is None for f in attrs.fields(cls))


def _dict_setter(cls: type) -> Any | None:
    """The ``__dict__`` setter of a plain model without slots (the stream chunks), else None.

    One dict display and one store build the whole instance: for the nine fields of a
    chunk that is half the cost of nine slot stores, and a chunk is built per event.
    """
    if not _plain_model(cls) or "__slots__" in vars(cls):
        return None
    slot = next((k.__dict__["__dict__"] for k in cls.__mro__ if "__dict__" in k.__dict__), None)
    return slot.__set__ if isinstance(slot, types.GetSetDescriptorType) else None


def _construct_by_dict(builder: _Builder, cls: type, read: dict[str, str]) -> None:
    items = ", ".join(
        f"{field.name!r}: {read.get(field.name) or _default_expression(builder, field)}"
        for field in attrs.fields(cls)
    )
    builder.lines.append("    obj = __new(__cls)")
    builder.lines.append(f"    __set_dict(obj, {{{items}}})")


def _text_shortcut(builder: _Builder, cls: type, hints: Mapping[str, Any]) -> None:
    """A first test for the usual payload of a model of optional strings (a stream delta is
    ``{"content": " the"}``): when every key names an optional ``str`` field and every value
    is a ``str`` or ``None``, two set operations in C check it all, and one dict merge builds
    the instance from the defaults. Other payloads go on to the field-by-field code."""
    texts = frozenset(
        f.name
        for f in attrs.fields(cls)
        if _split_optional(hints.get(f.name, f.type)) == (str, True)
    )
    defaults = {f.name: f.default for f in attrs.fields(cls)}
    if len(texts) < 2 or any(
        d is attrs.NOTHING or isinstance(d, attrs.Factory)  # type: ignore[arg-type]
        for d in defaults.values()
    ):
        return  # a shared default must be immutable: no factories here
    builder.globs.update(
        __texts=texts,
        __text_classes=frozenset({str, type(None)}),
        __defaults=defaults,
    )
    builder.lines.append(
        "    if __texts.issuperset(o) and __text_classes.issuperset(map(type, o.values())):"
    )
    builder.lines.append("        obj = __new(__cls)")
    builder.lines.append("        __set_dict(obj, {**__defaults, **o})")
    builder.lines.append("        return obj")


def _slot_setters(cls: type) -> dict[str, Any] | None:
    """Each field's slot setter, when building without ``__init__`` is safe, else None.

    Setting slots directly costs a third of a frozen ``__init__``, which stores every field
    through ``object.__setattr__``.
    """
    if not _plain_model(cls):
        return None
    setters: dict[str, Any] = {}
    for field in attrs.fields(cls):
        slot = next((k.__dict__[field.name] for k in cls.__mro__ if field.name in k.__dict__), None)
        if not isinstance(slot, types.MemberDescriptorType):
            return None
        setters[field.name] = slot.__set__
    return setters


def _construct_by_slots(
    builder: _Builder,
    cls: type,
    setters: dict[str, Any],
    read: dict[str, str],
) -> None:
    builder.globs["__new"] = object.__new__
    builder.lines.append("    obj = __new(__cls)")
    for field in attrs.fields(cls):
        builder.globs[f"s_{field.name}"] = setters[field.name]
        value = read.get(field.name) or _default_expression(builder, field)
        builder.lines.append(f"    s_{field.name}(obj, {value})")


def _default_expression(builder: _Builder, field: attrs.Attribute[Any]) -> str:
    """The default of a field that is not read from the payload (ours, or init=False)."""
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        builder.globs[f"d_{field.name}"] = default.factory  # type: ignore[union-attr]
        return f"d_{field.name}()"
    builder.globs[f"d_{field.name}"] = default
    return f"d_{field.name}"


def _collect_extra(builder: _Builder, cls: type, local: frozenset[str]) -> None:
    if "extra" not in attrs.fields_dict(cls):
        return
    builder.globs["__known"] = frozenset(f.name for f in attrs.fields(cls) if f.name not in local)
    builder.globs["__extra"] = set_extra
    builder.lines.append("    if not __known.issuperset(o):")
    builder.lines.append("        __extra(obj, o, __known)")


#: Shared immutable default for ``extra``: no allocation per object on the hot path.
NO_EXTRA: Mapping[str, Any] = types.MappingProxyType({})


def set_extra(obj: Any, data: Mapping[str, Any], known: frozenset[str]) -> None:
    """Keep the keys of ``data`` outside ``known`` in ``obj.extra`` (the one collector)."""
    unknown = {k: v for k, v in data.items() if k not in known}
    check_nesting(unknown)
    # A frozen instance: set the one field attrs' own __init__ would have set, only for the
    # rare payload with unknown keys, so the common path builds nothing extra.
    object.__setattr__(obj, "extra", types.MappingProxyType(unknown))


def check_nesting(value: object) -> None:
    """Refuse values nested deeper than ``MAX_DEPTH``: a hostile body's unknown fields would
    otherwise reach users' ``repr`` and ``to_dict`` as a ``RecursionError``."""
    if value_too_deep(value):
        raise TypeError(f"a value nested deeper than {MAX_DEPTH} levels")


def _compile(cls: type, builder: _Builder) -> Hook:
    name = f"fast_structure_{cls.__name__}"
    source = f"def {name}(o):\n" + "\n".join(builder.lines) + "\n"
    filename = f"<dosai_async generated structure {cls.__module__}.{cls.__qualname__}>"
    # Registered with linecache so tracebacks and profilers show the generated source.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = dict(builder.globs)
    exec(compile(source, filename, "exec"), namespace)  # our own template, no user input
    function: Hook = namespace[name]
    return function
