"""Validate a chat-completions request body and reduce it to what the reply depends on.

Checks follow vLLM and the DOS docs: a 400 in DOS's error shape for a body that is not an
object, missing or empty ``messages``, wrong types, an unknown forced tool, ``stream_options``
without ``stream``. Unknown keys are ignored, as the real API ignores them.

Which tools get called is decided here, so replies only generate: with ``tools`` given,
``tool_choice`` not "none" and the last message not a ``tool`` result, the named tool is called
if ``tool_choice`` names one; otherwise ("auto" and "required" alike, so the emulator is
deterministic) every distinct tool is called once, in the order given, when
``parallel_tool_calls`` is not false and there are several, else just the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._plan import Plan, error_body, error_plan

__all__ = ["ChatRequest", "RequestError", "Tool", "invalid", "parse_chat_request"]

_MAX_N = 128
# `json_object` has no schema; this one makes the reply a small, readable object.
_JSON_OBJECT_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["answer", "confidence"],
}


class RequestError(Exception):
    """A request the real API would refuse; ``plan`` is the error response.

    ``status`` and ``body`` (DOS's error object) are the same answer as data, for a batch line.
    """

    def __init__(
        self,
        status: int,
        message: str | None,
        code: str | None,
        param: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message or f"HTTP {status}")
        self.status = status
        self.body: dict[str, Any] = error_body(status, message, code, param)
        plan = error_plan(status, message, code, param)
        self.plan: Plan = attrs.evolve(plan, headers=headers)


@attrs.frozen
class Tool:
    """A function the model may call, with its JSON-schema ``parameters``."""

    name: str
    parameters: Mapping[str, Any]


@attrs.frozen
class ChatRequest:
    """The parts of a valid chat request that shape the reply."""

    model: str
    prompt: str
    conversation: str
    tool_result: str | None = None
    stream: bool = False
    include_usage: bool = False
    n: int = 1
    seed: int | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    calls: tuple[Tool, ...] = ()
    schema: Mapping[str, Any] | None = None
    thinking: bool | None = None


def invalid(message: str, code: str, param: str | None = None) -> RequestError:
    """A 400 in DOS's shape."""
    return RequestError(400, message, code, param)


_invalid = invalid


def parse_chat_request(body: Any, default_model: str) -> ChatRequest:
    """Validate ``body`` (parsed JSON) or raise RequestError carrying DOS's 400 response."""
    if not isinstance(body, dict):
        raise _invalid("Request body must be a JSON object", "invalid_request")
    messages = _messages(body.get("messages"))
    stream = _typed(body, "stream", bool, False)
    _check_ranges(body)
    return ChatRequest(
        model=_typed(body, "model", str, default_model),
        prompt=_prompt(messages),
        conversation="\n".join(_text(m.get("content")) for m in messages),
        tool_result=_text(messages[-1].get("content")) if messages[-1]["role"] == "tool" else None,
        stream=stream,
        include_usage=_include_usage(body, stream),
        n=_bounded(body, "n", 1, _MAX_N) or 1,
        seed=_typed(body, "seed", int, None),
        max_tokens=_bounded(body, "max_completion_tokens", 1, None)
        or _bounded(body, "max_tokens", 1, None),
        stop=_stop(body.get("stop")),
        calls=_calls(body, messages),
        schema=_schema(body.get("response_format")),
        thinking=_thinking(body.get("chat_template_kwargs")),
    )


# The sampling ranges the DOS docs give; vLLM answers a value outside them with a 400 that
# names the parameter (tests/data/peers/vllm/error_400_temperature.json).
_RANGES = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}


def _check_ranges(body: Mapping[str, Any]) -> None:
    for key, (low, high) in _RANGES.items():
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(f"'{key}' must be a number", "invalid_type", key)
        if not low <= value <= high:
            message = f"{key} must be between {low:g} and {high:g}, got {value}."
            raise _invalid(f"{message} (parameter={key}, value={value})", "invalid_value", key)


def _messages(value: Any) -> list[dict[str, Any]]:
    """``messages`` must be a non-empty list of objects that each have a string ``role``."""
    if not isinstance(value, list) or not value:
        raise _invalid(
            "'messages' is required and must be a non-empty array",
            "missing_required_parameter",
            "messages",
        )
    for index, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise _invalid(
                f"messages[{index}] must be an object with a string 'role'",
                "invalid_value",
                f"messages[{index}]",
            )
    return value


def _text(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (p.get("text") for p in content if isinstance(p, dict))
        return " ".join(p for p in parts if isinstance(p, str))
    return ""


def _prompt(messages: Sequence[Mapping[str, Any]]) -> str:
    """The last user message's text (the reply is seeded by it), else the last message's."""
    users = [m for m in messages if m["role"] == "user"]
    return _text((users or list(messages))[-1].get("content")).strip()


def _typed(body: Mapping[str, Any], key: str, kind: type[Any], default: Any) -> Any:
    """``body[key]`` if it has the right type (bools are not ints here), else a 400."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _invalid(f"'{key}' must be of type {kind.__name__}", "invalid_type", key)
    return value


def _bounded(body: Mapping[str, Any], key: str, low: int, high: int | None) -> int | None:
    """An optional integer within [low, high]."""
    value: int | None = _typed(body, key, int, None)
    if value is not None and (value < low or (high is not None and value > high)):
        top = "" if high is None else f" and at most {high}"
        raise _invalid(f"'{key}' must be at least {low}{top}", "invalid_value", key)
    return value


def _include_usage(body: Mapping[str, Any], stream: bool) -> bool:
    """``stream_options.include_usage``; vLLM refuses stream_options on a non-stream request."""
    options = body.get("stream_options")
    if options is None:
        return False
    if not stream or not isinstance(options, dict):
        raise _invalid(
            "Stream options can only be defined when `stream=True`.",
            "invalid_value",
            "stream_options",
        )
    return options.get("include_usage") is True


def _stop(value: Any) -> tuple[str, ...]:
    """``stop`` as a tuple of non-empty strings."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise _invalid("'stop' must be a string or an array of strings", "invalid_type", "stop")
    return tuple(s for s in items if s)


def _tools(value: Any) -> list[Tool]:
    """``tools`` as Tool values; each needs ``function.name``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("'tools' must be an array", "invalid_type", "tools")
    tools = []
    for index, item in enumerate(value):
        function = item.get("function") if isinstance(item, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise _invalid(
                f"tools[{index}].function.name is required", "invalid_value", f"tools[{index}]"
            )
        parameters = function.get("parameters")
        tools.append(Tool(function["name"], parameters if isinstance(parameters, dict) else {}))
    return tools


def _calls(body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]) -> tuple[Tool, ...]:
    """The tools this reply calls (rules in the module docstring)."""
    tools = _tools(body.get("tools"))
    choice = body.get("tool_choice", "auto")
    if isinstance(choice, dict):
        return (_named_tool(tools, choice),)
    if choice not in ("auto", "none", "required"):
        raise _invalid("Invalid 'tool_choice'", "invalid_value", "tool_choice")
    if choice == "required" and not tools:
        raise _invalid("tool_choice 'required' needs tools", "invalid_value", "tools")
    if not tools or choice == "none" or messages[-1]["role"] == "tool":
        return ()
    if body.get("parallel_tool_calls") is False:
        return (tools[0],)
    first: dict[str, Tool] = {}
    for tool in tools:
        first.setdefault(tool.name, tool)
    return tuple(first.values())


def _named_tool(tools: Sequence[Tool], choice: Mapping[str, Any]) -> Tool:
    """The tool that ``tool_choice: {"type": "function", "function": {"name"}}`` forces."""
    function = choice.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    for tool in tools:
        if tool.name == name:
            return tool
    raise _invalid(
        f"Tool {name!r} named in tool_choice is not among 'tools'", "invalid_value", "tool_choice"
    )


def _schema(value: Any) -> Mapping[str, Any] | None:
    """The JSON schema the reply must satisfy, from ``response_format``, if any."""
    kind = value.get("type") if isinstance(value, dict) else None
    if value is None or kind == "text":
        return None
    if kind == "json_object":
        return _JSON_OBJECT_SCHEMA
    spec = value.get("json_schema") if kind == "json_schema" else None
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        raise _invalid(
            "response_format needs type text, json_object, or json_schema "
            "with a 'json_schema.schema' object",
            "invalid_value",
            "response_format",
        )
    return schema


def _thinking(kwargs: Any) -> bool | None:
    """``chat_template_kwargs.enable_thinking`` (Qwen's switch), if the request sets it."""
    flag = kwargs.get("enable_thinking") if isinstance(kwargs, dict) else None
    return flag if isinstance(flag, bool) else None
