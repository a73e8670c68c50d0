"""Function calling: Python functions as tools, and the async loop that runs them.

Plan: ``FunctionToolSpec`` wraps a function once: its ``FunctionSpec`` (the JSON schema the
model sees) and an attrs class generated from its signature, through which the package
converter turns the model's ``arguments`` JSON into typed values (an attrs-typed parameter
arrives as an instance, with paths such as ``get_weather.city`` in errors). ``run_tools``
is then a short loop over a ``create`` callable: ask, run the requested calls, append
the results, repeat.

Decisions:

- Sync functions run in a worker thread (``asyncio.to_thread``) so a slow one cannot stall
  the event loop; ``tool(fn, in_thread=False)`` calls cheap ones inline. Async functions
  are awaited.
- The calls of one round run concurrently in an ``asyncio.TaskGroup``; their ``tool``
  messages follow the assistant message in the order of its ``tool_calls``.
- A failed call (unknown tool, arguments that are not JSON or do not fit, a tool that
  raises, a result that is not JSON-serializable) is reported to the model as the tool's
  result by default, so it can correct itself; ``on_tool_error="raise"`` raises
  ``ToolCallError`` instead (after the round's other calls finished), and a callable
  formats the reported text.
- A forced ``tool_choice`` (``"required"`` or a named function) applies to the first round
  only; later rounds send ``"auto"``, or the model could never answer. ``"auto"`` and
  ``"none"``, like ``parallel_tool_calls``, are sent every round.
- The loop follows ``choices[0]``. Hitting ``max_rounds`` with calls still pending raises
  ``ToolRoundLimitError`` (a silent stop would look like an answer); it carries the
  messages so far, which are valid to send again.
- Results: a ``str`` is sent as is, anything else as JSON (attrs instances unstructured).
- Reported failures are also logged (WARNING, with the traceback) on the ``dosai_async``
  logger, so a bug in a tool does not only show up in what the model says.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import (
    Any,
    Generic,
    ParamSpec,
    TypeVar,
    Unpack,
    overload,
)

import attrs

from dosai_async._core._exceptions import ResponseValidationError
from dosai_async._models import _converter
from dosai_async._models._params import CreateFn, ToolRunParams
from dosai_async._models._types import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    MessageParam,
    ToolMessage,
)

from ._normalize import Slot, normalize_fields, slot
from ._schema import FunctionSpec, function_spec
from ._tool_results import (
    ToolArgumentsError,
    ToolCallError,
    ToolErrorMode,
    ToolRoundLimitError,
    ToolRunResult,
)

__all__ = [
    "FunctionToolSpec",
    "ToolArgumentsError",
    "ToolCallError",
    "ToolErrorMode",
    "ToolRoundLimitError",
    "ToolRunParams",
    "ToolRunResult",
    "run_tools",
    "tool",
]

logger = logging.getLogger("dosai_async")

P = ParamSpec("P")
R = TypeVar("R")

# What the OpenAI-style APIs accept as a function name.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- tools -------------------------------------------------------------------------------


class FunctionToolSpec(Generic[P, R]):
    """A Python function (sync or async) the model may call, and how to call it.

    Calling the spec calls the function, so ``@tool`` leaves it usable as before.
    ``to_tool()`` is its ``tools`` entry; ``parse_arguments()`` turns a call's ``arguments``
    JSON into keyword arguments; ``invoke()`` parses, runs and awaits. Build with ``tool()``.
    """

    def __init__(
        self,
        function: Callable[P, R],
        *,
        name: str | None = None,
        strict: bool = False,
        in_thread: bool = True,
    ) -> None:
        self.function = function
        self.spec: FunctionSpec = function_spec(function, name=name, strict=strict)
        self.in_thread = in_thread
        # Objects with an async __call__ are not detected here; they run in a thread that
        # returns their coroutine at once, which `invoke` then awaits.
        self.is_async = inspect.iscoroutinefunction(function)
        if not _NAME.fullmatch(self.spec.name):
            raise ValueError(
                f"tool name {self.spec.name!r} must be 1-64 letters, digits, _ or -; pass name=..."
            )
        self._slots = _slots(function)
        self._arguments = _arguments_class(self._slots, self.spec.name)

    @property
    def name(self) -> str:
        """The name the model calls the tool by."""
        return self.spec.name

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<FunctionToolSpec {self.name} -> {self.function!r}>"

    def to_tool(self) -> dict[str, Any]:
        """The ``tools`` entry: ``{"type": "function", "function": {...}}``."""
        return self.spec.to_tool()

    def parse_arguments(self, arguments: str) -> dict[str, Any]:
        """Keyword arguments from the model's JSON; raises ``ToolArgumentsError``.

        Empty text means no arguments. Unknown names are an error; ``null`` for a parameter
        with a default (strict tools send that) means the default.
        """
        data = self._decode(arguments)
        unknown = sorted(set(data) - set(self._slots))
        if unknown:
            expected = ", ".join(self._slots) or "none"
            raise self._bad(f"unexpected argument(s) {', '.join(unknown)}; expected: {expected}")
        given = normalize_fields(data, self._slots)
        try:
            values: Any = _converter.structure(given, self._arguments)
        except ResponseValidationError as exc:
            raise self._bad(exc.message.removeprefix(f"response does not fit {self.name}: "))
        # Only what the model gave is passed: Python applies the function's own defaults.
        return {name: getattr(values, name) for name in given}

    async def invoke(self, arguments: str) -> Any:
        """Parse ``arguments``, call the function (in a thread if sync) and await it."""
        kwargs = self.parse_arguments(arguments)
        function: Callable[..., Any] = self.function
        if self.is_async:
            result = await function(**kwargs)
        elif self.in_thread:
            result = await asyncio.to_thread(function, **kwargs)
        else:
            result = function(**kwargs)
        # A sync wrapper may hand back a coroutine (e.g. a partial of an async function).
        return await result if inspect.isawaitable(result) else result

    def _decode(self, arguments: str) -> dict[str, Any]:
        if not arguments.strip():
            return {}
        try:
            data = _converter.loads(arguments)
        except _converter.JSONDecodeError as exc:
            raise self._bad(f"arguments are not valid JSON ({exc}): {arguments[:200]!r}")
        if not isinstance(data, dict):
            raise self._bad(f"arguments must be a JSON object, not {type(data).__name__}")
        return data

    def _bad(self, problem: str) -> ToolArgumentsError:
        return ToolArgumentsError(f"invalid arguments for {self.name}: {problem}", name=self.name)


@overload
def tool(function: Callable[P, R], /) -> FunctionToolSpec[P, R]: ...


@overload
def tool(
    *, name: str | None = None, strict: bool = False, in_thread: bool = True
) -> Callable[[Callable[P, R]], FunctionToolSpec[P, R]]: ...


def tool(
    function: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    strict: bool = False,
    in_thread: bool = True,
) -> FunctionToolSpec[P, R] | Callable[[Callable[P, R]], FunctionToolSpec[P, R]]:
    """Make ``function`` a tool: ``tool(f)``, ``@tool`` or ``@tool(name=..., strict=True)``.

    The schema comes from the signature and docstring (see ``function_spec``). ``strict``
    asks the server to keep arguments to the schema exactly; ``in_thread=False`` runs a sync
    function inline on the event loop (only for cheap ones).

    On vLLM (DOS AI's engine), forcing a call with ``tool_choice`` (``"required"`` or a
    named function) makes the model call a tool, but only a ``strict`` tool has its
    arguments held to the schema; without ``strict`` they may still not fit, and
    ``parse_arguments`` raises ``ToolArgumentsError``.
    """

    def wrap(fn: Callable[P, R]) -> FunctionToolSpec[P, R]:
        return FunctionToolSpec(fn, name=name, strict=strict, in_thread=in_thread)

    return wrap if function is None else wrap(function)


def _slots(function: Callable[..., Any]) -> dict[str, Slot]:
    """The parameters' types and whether they have defaults, in signature order."""
    hints = typing.get_type_hints(inspect.unwrap(function))
    params = inspect.signature(function).parameters.values()
    return {p.name: slot(hints[p.name], p.default is not p.empty) for p in params}


def _arguments_class(slots: Mapping[str, Slot], name: str) -> type:
    """An attrs class with a field per parameter, named after the tool (for error paths).

    Parameters with defaults become optional fields defaulting to ``None``: which of them
    the model gave is read from the data, so their real defaults never pass through the
    converter (and a sentinel default could not: its hooks check defaults too).
    """
    fields = {}
    for key, info in slots.items():
        if info.has_default:
            optional: Any = info.tp | None
            fields[key] = attrs.field(type=optional, default=None, kw_only=True, alias=key)
        else:
            fields[key] = attrs.field(type=info.tp, kw_only=True, alias=key)
    return attrs.make_class(name, fields, frozen=True, slots=True)


def _toolbox(tools: Iterable[Callable[..., Any]]) -> dict[str, FunctionToolSpec[..., Any]]:
    """Tools by name; plain functions are wrapped with ``tool()``. Names must be unique."""
    specs: dict[str, FunctionToolSpec[..., Any]] = {}
    for item in tools:
        if isinstance(item, Mapping) or not callable(item):
            raise TypeError(f"tools must be Python functions or tool(...) specs, not {item!r}")
        spec = item if isinstance(item, FunctionToolSpec) else tool(item)
        if spec.name in specs:
            raise ValueError(f"two tools are named {spec.name!r}; pass tool(f, name=...)")
        specs[spec.name] = spec
    return specs


# --- the loop ----------------------------------------------------------------------------


async def run_tools(
    create: CreateFn,
    *,
    messages: Iterable[MessageParam],
    tools: Iterable[Callable[..., Any]],
    model: str,
    max_rounds: int = 8,
    on_tool_error: ToolErrorMode = "report",
    **params: Unpack[ToolRunParams],
) -> ToolRunResult:
    """Ask, run the requested tools, send their results; until the model answers.

    A forced ``tool_choice`` (``"required"`` or a named function) applies to the first
    round only. vLLM holds forced arguments to the tool's schema only when the tool is
    ``strict`` (``tool(f, strict=True)``); arguments that do not fit are reported to the
    model (or raised, with ``on_tool_error="raise"``) like any failed call.
    """
    if max_rounds < 1:
        raise ValueError("max_rounds must be at least 1")
    runner = _Runner(_toolbox(tools), on_tool_error)
    wire = [spec.to_tool() for spec in runner.tools.values()]
    history = list(messages)
    for rounds in range(1, max_rounds + 1):
        completion = await create(messages=history, model=model, tools=wire, **params)
        message = _first_message(completion)
        if not message.tool_calls:
            return ToolRunResult(completion, [*history, message], rounds)
        if rounds == max_rounds:
            break
        history.append(message)
        history += await runner.run(message.tool_calls)
        params = _unforced(params)
    raise ToolRoundLimitError(
        f"the model still asked for tools after max_rounds={max_rounds} requests; "
        "the conversation so far is in .messages",
        messages=history,
        completion=completion,
    )


class _Runner:
    """Runs one round's tool calls and turns their outcomes into ``tool`` messages."""

    def __init__(self, tools: dict[str, FunctionToolSpec[..., Any]], mode: ToolErrorMode):
        if not callable(mode) and mode not in ("report", "raise"):
            raise ValueError(f'on_tool_error must be "report", "raise" or a function: {mode!r}')
        self.tools = tools
        self.mode = mode

    async def run(self, calls: Sequence[ChatCompletionMessageToolCall]) -> list[ToolMessage]:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._outcome(call)) for call in calls]
        outcomes = [task.result() for task in tasks]
        failed = [o for o in outcomes if isinstance(o, ToolCallError)]
        if failed and self.mode == "raise":
            raise failed[0]
        for error in failed:  # reported to the model; the traceback is kept for the developer
            logger.warning("tool call failed, reported to the model: %s", error, exc_info=error)
        return [
            ToolMessage(content=self._content(outcome), tool_call_id=call.id)
            for call, outcome in zip(calls, outcomes, strict=True)
        ]

    async def _outcome(self, call: ChatCompletionMessageToolCall) -> str | ToolCallError:
        """The call's result text, or the error (returned, so the other calls go on)."""
        name = call.function.name
        try:
            spec = self.tools.get(name)
            if spec is None:
                available = ", ".join(self.tools)
                raise ToolArgumentsError(f"unknown tool {name!r}; tools: {available}", name=name)
            return _encode(await spec.invoke(call.function.arguments), name)
        except ToolCallError as exc:
            exc.tool_call = call
            return exc
        except Exception as exc:
            error = ToolCallError(f"{name} raised {type(exc).__name__}: {exc}", name=name)
            error.tool_call, error.__cause__ = call, exc
            return error

    def _content(self, outcome: str | ToolCallError) -> str:
        if isinstance(outcome, str):
            return outcome
        return self.mode(outcome) if callable(self.mode) else f"Error: {outcome.message}"


def _encode(result: Any, name: str) -> str:
    if isinstance(result, str):
        return result
    try:
        return _converter.dumps(result).decode()
    except TypeError as exc:  # orjson's JSONEncodeError is a TypeError
        raise ToolCallError(f"{name} returned a value that is not JSON ({exc})", name=name)


def _first_message(completion: ChatCompletion) -> ChatCompletionMessage:
    if not completion.choices:
        raise ResponseValidationError("the completion has no choices", status_code=200)
    return completion.choices[0].message


def _unforced(params: ToolRunParams) -> ToolRunParams:
    """``params`` for the rounds after the first: a forced ``tool_choice`` becomes "auto"."""
    choice = params.get("tool_choice")
    if choice != "required" and not isinstance(choice, Mapping):
        return params
    relaxed = params.copy()
    relaxed["tool_choice"] = "auto"
    return relaxed
