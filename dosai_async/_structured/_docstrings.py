"""Docstrings: enough of Google, reST and NumPy style to find the prose and the parameters.

Used by ``_schema`` to describe objects, properties and function parameters. Plan: find the
lines where sections start (``Args:``, an underlined ``Parameters``, a run of ``:param x:``
fields), then read each section's ``{name: description}`` entries; the prose is everything
before the first section. Anything unrecognised is simply not a parameter description.
"""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Iterator, Mapping
from typing import Final

import attrs

__all__ = ["Docstring", "parse_docstring"]

_PARAM_SECTIONS: Final = frozenset(
    {"args", "arguments", "parameters", "params", "attributes", "keyword args",
     "keyword arguments", "other parameters"}
)  # fmt: skip
_SECTIONS: Final = _PARAM_SECTIONS | {
    "returns", "return", "yields", "yield", "raises", "examples", "example", "notes", "note",
    "see also", "warnings", "warning", "todo", "references", "methods",
}  # fmt: skip
_GOOGLE_ENTRY: Final = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)")
_NUMPY_ENTRY: Final = re.compile(r"\*{0,2}(\w+)\s*(?::.*)?")
_REST_FIELD: Final = re.compile(
    r":(?:param|parameter|arg|argument|key|keyword|ivar|var)\s+(?:[^:]*\s)?\*{0,2}(\w+)\s*:\s*(.*)"
)


@attrs.frozen
class Docstring:
    """A docstring's prose (the text before its first section) and parameter texts."""

    prose: str
    params: Mapping[str, str]


def parse_docstring(doc: str | None) -> Docstring:
    """Split a docstring into its prose and the descriptions of its parameters."""
    lines = inspect.cleandoc(doc or "").splitlines()
    starts = [i for i in range(len(lines)) if _section_style(lines, i)]
    params: dict[str, str] = {}
    for start, end in itertools.pairwise([*starts, len(lines)]):
        params |= _section_params(_section_style(lines, start), lines[start:end])
    prose = "\n".join(lines[: starts[0] if starts else len(lines)]).strip()
    return Docstring(prose, params)


def _section_style(lines: list[str], i: int) -> str:
    """Which kind of section starts at line ``i``: "google", "numpy", "rest" or ""."""
    line = lines[i]
    title = line.strip().lower()
    if line and not line[0].isspace() and title.endswith(":") and title[:-1] in _SECTIONS:
        return "google"
    underlined = i + 1 < len(lines) and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]) is not None
    if underlined and title in _SECTIONS:
        return "numpy"
    # reST fields are one block, so only the first of a run starts a section.
    if line.startswith(":") and (i == 0 or not lines[i - 1].startswith((":", " "))):
        return "rest"
    return ""


def _section_params(style: str, lines: list[str]) -> dict[str, str]:
    """The ``{name: description}`` entries of one section, if it lists parameters."""
    if style == "rest":
        return _rest_params(lines)
    if lines[0].strip().lower().rstrip(":") not in _PARAM_SECTIONS:
        return {}
    return _google_params(lines[1:]) if style == "google" else _numpy_params(lines[2:])


def _google_params(lines: list[str]) -> dict[str, str]:
    """``name (type): text`` heads, the text going on in the indented lines below."""
    entries = ((_GOOGLE_ENTRY.fullmatch(head), rest) for head, rest in _entries(lines))
    return {m[1]: " ".join([m[2], *rest]).strip() for m, rest in entries if m}


def _numpy_params(lines: list[str]) -> dict[str, str]:
    """``name : type`` heads, the text in the indented lines below."""
    entries = ((_NUMPY_ENTRY.fullmatch(head), rest) for head, rest in _entries(lines))
    return {m[1]: " ".join(rest) for m, rest in entries if m}


def _rest_params(lines: list[str]) -> dict[str, str]:
    """``:param [type] name: text`` fields, which may go on in indented lines."""
    fields = (_REST_FIELD.fullmatch(" ".join([head, *rest])) for head, rest in _entries(lines))
    return {m[1]: m[2] for m in fields if m}


def _entries(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Group lines into (head, continuation lines): heads sit at the least indentation."""
    base = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    head: str | None = None
    rest: list[str] = []
    for line in lines:
        if line.strip() and len(line) - len(line.lstrip()) == base:
            if head is not None:
                yield head, rest
            head, rest = line.strip(), []
        elif line.strip() and head is not None:
            rest.append(line.strip())
    if head is not None:
        yield head, rest
