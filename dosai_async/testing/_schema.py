"""Generate a JSON value that is valid against a JSON schema, deterministically from an RNG.

Used for tool-call arguments and for ``response_format`` replies. Supported: ``type`` (also
as a list), ``const``, ``enum``, ``properties``/``required`` (every property is emitted, so
``strict`` schemas and ``additionalProperties: false`` hold), ``items``/``prefixItems``/
``minItems``/``maxItems``/``uniqueItems``, ``$ref`` into ``$defs``/``definitions``,
``anyOf``/``oneOf`` (the first branch that is not null), ``allOf`` of objects, string
``format`` values (date-time, date, time, email, uri, uuid, ipv4, hostname),
``minLength``/``maxLength``, and numeric bounds with
``multipleOf``. Not supported: ``pattern``, ``not``, ``if``/``then``, ``dependentSchemas``.

Values are meant to look plausible in a demo: strings come from the property name ("city"
-> "Paris"), numbers are small, enums pick a member by the seed.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._words import sentence

__all__ = ["sample"]

# Recursive schemas stop growing optional parts here, and give up entirely at _MAX_DEPTH.
_SHALLOW = 4
_MAX_DEPTH = 32

_BY_NAME: Sequence[tuple[str, Sequence[str]]] = (
    ("email", ("ada@example.com", "grace@example.org")),
    ("city", ("Paris", "Tokyo", "Hanoi", "Lisbon")),
    ("location", ("Paris, France", "Tokyo, Japan", "Hanoi, Vietnam")),
    ("country", ("France", "Japan", "Vietnam", "Portugal")),
    ("name", ("Ada Lovelace", "Grace Hopper", "Alan Turing")),
    ("unit", ("celsius", "fahrenheit")),
    ("currency", ("USD", "EUR", "VND")),
    ("language", ("English", "French", "Vietnamese")),
    ("query", ("latest release notes", "weather this weekend")),
    ("title", ("A short title", "Weekly summary")),
    ("url", ("https://example.com/docs",)),
    ("date", ("2025-01-15",)),
)
_FORMATS: Mapping[str, Callable[[random.Random], str]] = {
    "date-time": lambda rng: f"2025-01-{rng.randint(10, 28)}T09:30:00Z",
    "date": lambda rng: f"2025-01-{rng.randint(10, 28)}",
    "time": lambda rng: f"{rng.randint(10, 23)}:30:00",
    "email": lambda rng: rng.choice(("ada@example.com", "grace@example.org")),
    "uri": lambda rng: f"https://example.com/item/{rng.randint(1, 999)}",
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "ipv4": lambda rng: f"192.0.2.{rng.randint(1, 254)}",
    "hostname": lambda rng: "api.example.com",
}


def sample(schema: Any, rng: random.Random, name: str = "value") -> Any:
    """A value valid against ``schema`` (a dict, or ``True``), chosen by ``rng``."""
    return _Sampler(schema, rng).value(schema, name, 0)


class _Sampler:
    """Walks one schema; holds the root so `$ref`s can be resolved."""

    def __init__(self, root: Any, rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def value(self, schema: Any, name: str, depth: int) -> Any:
        """Dispatch on the schema's keywords, most specific first."""
        schema = self.resolve(schema)
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return self.string({}, name)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return self.value(self.branch(schema[key]), name, depth)
        if schema.get("allOf"):
            return self.value(self.merge(schema), name, depth)
        return self.typed(schema, name, depth)

    def typed(self, schema: Mapping[str, Any], name: str, depth: int) -> Any:
        """The value for a schema's (first non-null) ``type``."""
        kind = _type_of(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind in ("integer", "number"):
            return self.number(schema, kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        return None if kind == "null" else self.string(schema, name)

    def resolve(self, schema: Any) -> Any:
        """Follow `$ref`s (JSON pointers into the root); sibling keywords win over the target."""
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
            target = _pointer(self.root, schema["$ref"])
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def branch(self, options: Sequence[Any]) -> Any:
        """The first ``anyOf``/``oneOf`` branch that is not plain null (nulls make dull demos)."""
        for option in options:
            if _type_of(self.resolve(option)) != "null":
                return option
        return options[0]

    def merge(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """``allOf`` folded into one schema: properties and ``required`` are unioned."""
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in map(self.resolve, schema["allOf"]):
            props = {**merged.get("properties", {}), **part.get("properties", {})}
            required = [*merged.get("required", []), *part.get("required", [])]
            merged = {**merged, **part, "properties": props, "required": required}
        return merged

    def object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        """Every declared property (only required ones once deep in a recursive schema)."""
        props: Mapping[str, Any] = schema.get("properties") or {}
        required = list(schema.get("required") or [])
        names = required if depth >= _SHALLOW else list(dict.fromkeys([*props, *required]))
        return {key: self.value(props.get(key, {}), key, depth + 1) for key in names}

    def array(self, schema: Mapping[str, Any], name: str, depth: int) -> list[Any]:
        """``prefixItems`` first, then items up to a small length within the bounds."""
        prefix = [self.value(s, name, depth + 1) for s in schema.get("prefixItems") or []]
        usual = 2 if depth < _SHALLOW else 0
        low = int(schema.get("minItems", 0))
        count = max(low, min(usual, int(schema.get("maxItems", usual)))) - len(prefix)
        items = schema.get("items", {})
        out = prefix + [self.value(items, name, depth + 1) for _ in range(count)]
        if schema.get("uniqueItems"):
            out = _unique(out, lambda: self.value(items, name, depth + 1))
        return out

    def number(self, schema: Mapping[str, Any], integer: bool) -> float | int:
        """A small number within the bounds, honouring ``multipleOf``."""
        low, high = _bounds(schema, integer)
        step = schema.get("multipleOf")
        if step:
            first = math.ceil(low / step)
            count = max(0, math.floor(high / step) - first)
            value = (first + self.rng.randint(0, count)) * step
            return int(value) if integer else value
        if integer:
            return self.rng.randint(math.ceil(low), math.floor(high))
        return round(self.rng.uniform(low, high), 2) if high - low > 0.02 else low

    def string(self, schema: Mapping[str, Any], name: str) -> str:
        """A string suited to the format or property name, padded or cut to its length."""
        make = _FORMATS.get(schema.get("format", ""))
        text = make(self.rng) if make else self.by_name(name)
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        text = text + "x" * max(0, low - len(text))
        return text if high is None else text[: int(high)]

    def by_name(self, name: str) -> str:
        """A value that fits a property called ``name`` ("city" -> a city)."""
        key = name.lower()
        for word, values in _BY_NAME:
            if word in key:
                return self.rng.choice(values)
        return sentence(self.rng).rstrip(".")


def _type_of(schema: Any) -> str:
    """The schema's type: the first non-null one if a list, else guessed from keywords."""
    if not isinstance(schema, Mapping):
        return "string"
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"] or ["null"]
        return str(kinds[0])
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    return "array" if "items" in schema or "prefixItems" in schema else "string"


def _bounds(schema: Mapping[str, Any], integer: bool) -> tuple[float, float]:
    """Inclusive [low, high] from minimum/maximum and their exclusive forms (both drafts)."""
    nudge = 1 if integer else 0.01
    low, high = schema.get("minimum"), schema.get("maximum")
    exclusive_low, exclusive_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(exclusive_low, bool):  # draft 4: a flag on `minimum`
        exclusive_low = low if exclusive_low else None
    if isinstance(exclusive_high, bool):
        exclusive_high = high if exclusive_high else None
    if exclusive_low is not None:
        low = exclusive_low + nudge if low is None else max(low, exclusive_low + nudge)
    if exclusive_high is not None:
        high = exclusive_high - nudge if high is None else min(high, exclusive_high - nudge)
    if low is None:
        low = 1 if high is None or high >= 1 else high - 9
    return low, (low + 9 if high is None else max(low, high))


def _pointer(root: Any, ref: str) -> Any:
    """Resolve a local JSON pointer such as ``#/$defs/Address``; anything else is ``{}``."""
    if not ref.startswith("#"):
        return {}
    node = root
    for part in filter(None, ref[1:].split("/")):
        key = part.replace("~1", "/").replace("~0", "~")
        node = node.get(key, {}) if isinstance(node, Mapping) else {}
    return node


def _unique(items: list[Any], more: Callable[[], Any]) -> list[Any]:
    """Replace duplicates with fresh samples (a few tries each) for ``uniqueItems``."""
    out: list[Any] = []
    for item in items:
        for _ in range(8):
            if item not in out:
                break
            item = more()
        if item not in out:
            out.append(item)
    return out
