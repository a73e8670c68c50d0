"""Tools: functions as tools, typed arguments, and the run_tools loop on real servers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Literal

import attrs
import pytest

from dosai_async import AsyncDosAI, BadRequestError
from dosai_async._structured._schema import function_spec
from dosai_async._structured._tools import (
    FunctionToolSpec,
    ToolArgumentsError,
    ToolCallError,
    ToolRoundLimitError,
    tool,
)
from dosai_async.testing import DosAIEmulator

from .conftest import COMPLETION, Scripted

USER = [{"role": "user", "content": "Plan my trip to Paris."}]


@attrs.frozen
class Trip:
    """A trip."""

    city: str
    nights: int = 1


def get_weather(city: str, unit: Literal["c", "f"] = "c") -> dict[str, Any]:
    """Current weather in a city.

    Args:
        city: The city name.
        unit: Temperature unit.
    """
    return {"city": city, "temp": 21, "unit": unit}


async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def failing(x: int) -> int:
    """Always fails."""
    raise ValueError("boom")


def book(trip: Trip) -> Trip:
    """Book a trip."""
    return trip


def nothing() -> str:
    """Takes no arguments."""
    return "done"


# --- fixtures and helpers ----------------------------------------------------------------


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A tool call as the wire has it."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def calls_reply(*calls: dict[str, Any]) -> dict[str, Any]:
    """A completion whose message makes these tool calls."""
    message = {"role": "assistant", "content": None, "tool_calls": list(calls)}
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
    return {**COMPLETION, "choices": [choice]}


def tool_results(server: Scripted, request: int = 1) -> list[str]:
    """The contents of the tool messages sent with the given request."""
    messages = server.requests[request]["json"]["messages"]
    return [m["content"] for m in messages if m["role"] == "tool"]


# --- the loop against the emulator -------------------------------------------------------


async def test_one_tool_completes_in_two_rounds(dos: AsyncDosAI) -> None:
    """One tool: the model calls it, gets the result, then answers."""
    result = await dos.chat.completions.run_tools(messages=USER, tools=[get_weather])
    assert result.rounds == 2
    assert result.content is not None
    assert result.content.startswith("Based on the tool result")


async def test_result_messages_hold_the_whole_conversation(dos: AsyncDosAI) -> None:
    """messages: the user's, the assistant's calls, the tool result, the final answer."""
    result = await dos.chat.completions.run_tools(messages=USER, tools=[get_weather])
    roles = [m["role"] if isinstance(m, dict) else m.role for m in result.messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert result.messages[-1] is result.completion.choices[0].message


async def test_several_tools_are_called_in_one_round(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """Two tools called in parallel: both results go back, in the order of the calls."""
    result = await dos.chat.completions.run_tools(messages=USER, tools=[get_weather, add])
    sent = emu.requests[1].body["messages"]
    ids = [c["id"] for c in sent[1]["tool_calls"]]
    assert [m["tool_call_id"] for m in sent[2:]] == ids
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert result.rounds == 2


async def test_every_round_sends_the_tools(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """The tools entries built from the functions are sent with every request."""
    await dos.chat.completions.run_tools(messages=USER, tools=[get_weather, add])
    expected = [function_spec(get_weather).to_tool(), function_spec(add).to_tool()]
    assert [r.body["tools"] for r in emu.requests] == [expected, expected]


async def test_parallel_calls_run_concurrently(dos: AsyncDosAI) -> None:
    """The calls of one round overlap: each waits for the other to have started."""
    barrier = asyncio.Barrier(2)

    async def first(x: int) -> str:
        """First."""
        await barrier.wait()
        return "one"

    async def second(y: int) -> str:
        """Second."""
        await barrier.wait()
        return "two"

    async with asyncio.timeout(5):
        result = await dos.chat.completions.run_tools(messages=USER, tools=[first, second])
    assert result.rounds == 2


async def test_parallel_tool_calls_false_passes_through(
    dos: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """parallel_tool_calls=False reaches the server, which then calls one tool."""
    await dos.chat.completions.run_tools(
        messages=USER, tools=[get_weather, add], parallel_tool_calls=False
    )
    assert emu.requests[0].body["parallel_tool_calls"] is False
    assert len(emu.requests[0].body["tools"]) == 2
    assert [m["role"] for m in emu.requests[1].body["messages"]] == ["user", "assistant", "tool"]


async def test_named_tool_choice_forces_only_the_first_round(
    dos: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """A named tool_choice is sent first, then "auto", so the model can answer."""
    forced = {"type": "function", "function": {"name": "add"}}
    result = await dos.chat.completions.run_tools(
        messages=USER, tools=[get_weather, add], tool_choice=forced
    )
    assert [r.body["tool_choice"] for r in emu.requests] == [forced, "auto"]
    assert result.rounds == 2


async def test_required_tool_choice_forces_only_the_first_round(
    dos: AsyncDosAI, emu: DosAIEmulator
) -> None:
    """tool_choice="required" is sent first, then "auto"."""
    await dos.chat.completions.run_tools(messages=USER, tools=[add], tool_choice="required")
    assert [r.body["tool_choice"] for r in emu.requests] == ["required", "auto"]


async def test_tool_choice_none_answers_at_once(dos: AsyncDosAI, emu: DosAIEmulator) -> None:
    """tool_choice="none" passes through and the model answers without calling tools."""
    result = await dos.chat.completions.run_tools(
        messages=USER, tools=[get_weather], tool_choice="none"
    )
    assert result.rounds == 1
    assert emu.requests[0].body["tool_choice"] == "none"


async def test_round_limit_raises_with_the_messages_so_far(dos: AsyncDosAI) -> None:
    """A model still calling tools at max_rounds raises ToolRoundLimitError."""
    with pytest.raises(ToolRoundLimitError, match="max_rounds=1") as caught:
        await dos.chat.completions.run_tools(messages=USER, tools=[get_weather], max_rounds=1)
    assert caught.value.messages == USER
    assert caught.value.completion.choices[0].message.tool_calls


async def test_attrs_parameter_arrives_as_an_instance(dos: AsyncDosAI) -> None:
    """A parameter annotated with an attrs class is structured into that class."""
    seen: list[object] = []

    def record(trip: Trip) -> str:
        """Record a trip."""
        seen.append(trip)
        return "ok"

    await dos.chat.completions.run_tools(messages=USER, tools=[record])
    assert len(seen) == 1
    assert isinstance(seen[0], Trip)


async def test_sync_tools_run_in_a_worker_thread(dos: AsyncDosAI) -> None:
    """A plain function runs off the event loop's thread."""
    threads: list[int] = []

    def where(city: str) -> str:
        """Report the thread."""
        threads.append(threading.get_ident())
        return city

    await dos.chat.completions.run_tools(messages=USER, tools=[where])
    assert threads != [threading.get_ident()]


async def test_in_thread_false_runs_inline(dos: AsyncDosAI) -> None:
    """tool(f, in_thread=False) runs a cheap sync function on the loop's thread."""
    threads: list[int] = []

    def where(city: str) -> str:
        """Report the thread."""
        threads.append(threading.get_ident())
        return city

    await dos.chat.completions.run_tools(messages=USER, tools=[tool(where, in_thread=False)])
    assert threads == [threading.get_ident()]


async def test_callers_messages_are_not_mutated(dos: AsyncDosAI) -> None:
    """The list passed as messages is copied, not appended to."""
    messages = list(USER)
    await dos.chat.completions.run_tools(messages=messages, tools=[get_weather])
    assert messages == USER


# --- exact messages and failures against scripted replies --------------------------------


async def test_exact_messages_sent_in_the_second_round(
    client: AsyncDosAI, server: Scripted
) -> None:
    """Round 2 sends the user message, the assistant's calls and one tool message per call."""
    first = call("call_1", "get_weather", '{"city": "Paris"}')
    second = call("call_2", "add", '{"a": 2, "b": 3}')
    server.reply(body=calls_reply(first, second)).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[get_weather, add])
    assert server.requests[1]["json"]["messages"] == [
        *USER,
        {"role": "assistant", "tool_calls": [first, second]},
        {
            "role": "tool",
            "tool_call_id": "call_1",
            "content": '{"city":"Paris","temp":21,"unit":"c"}',
        },
        {"role": "tool", "tool_call_id": "call_2", "content": "5"},
    ]


async def test_exact_body_of_the_first_round(client: AsyncDosAI, server: Scripted) -> None:
    """Round 1 sends model, messages, tools and the pass-through parameters, nothing else."""
    await client.chat.completions.run_tools(messages=USER, tools=[add], temperature=0.0)
    assert server.requests[0]["json"] == {
        "model": "dos-ai",
        "messages": USER,
        "tools": [function_spec(add).to_tool()],
        "temperature": 0.0,
    }


async def test_three_rounds_accumulate_in_order(client: AsyncDosAI, server: Scripted) -> None:
    """Each round appends its assistant message and tool results after the previous ones."""
    server.reply(body=calls_reply(call("c1", "add", '{"a": 1, "b": 1}')))
    server.reply(body=calls_reply(call("c2", "add", '{"a": 2, "b": 2}'))).reply()
    result = await client.chat.completions.run_tools(messages=USER, tools=[add])
    sent = server.requests[2]["json"]["messages"]
    assert [(m["role"], m.get("tool_call_id"), m.get("content")) for m in sent] == [
        ("user", None, USER[0]["content"]),
        ("assistant", None, None),
        ("tool", "c1", "2"),
        ("assistant", None, None),
        ("tool", "c2", "4"),
    ]
    assert result.rounds == 3


async def test_failing_tool_is_reported_to_the_model(client: AsyncDosAI, server: Scripted) -> None:
    """A tool that raises becomes an error result and the loop goes on."""
    server.reply(body=calls_reply(call("c1", "failing", '{"x": 1}'))).reply()
    result = await client.chat.completions.run_tools(messages=USER, tools=[failing])
    assert tool_results(server) == ["Error: failing raised ValueError: boom"]
    assert result.content == "Paris."


async def test_reported_failures_are_logged(
    client: AsyncDosAI, server: Scripted, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure reported to the model is also logged, with the tool's traceback."""
    server.reply(body=calls_reply(call("c1", "failing", '{"x": 1}'))).reply()
    with caplog.at_level("WARNING", logger="dosai_async"):
        await client.chat.completions.run_tools(messages=USER, tools=[failing])
    (record,) = caplog.records
    assert "failing raised ValueError: boom" in record.getMessage()
    assert record.exc_info is not None


async def test_failing_tool_raises_when_asked(client: AsyncDosAI, server: Scripted) -> None:
    """on_tool_error="raise" raises ToolCallError from the tool's exception."""
    server.reply(body=calls_reply(call("c1", "failing", '{"x": 1}')))
    with pytest.raises(ToolCallError, match="boom") as caught:
        await client.chat.completions.run_tools(
            messages=USER, tools=[failing], on_tool_error="raise"
        )
    assert isinstance(caught.value.__cause__, ValueError)
    assert caught.value.tool_call is not None
    assert caught.value.tool_call.id == "c1"


async def test_raise_mode_lets_the_other_calls_finish(client: AsyncDosAI, server: Scripted) -> None:
    """In raise mode a failing call does not cancel its siblings in the same round."""
    finished: list[str] = []

    async def slow() -> str:
        """Slow."""
        await asyncio.sleep(0.05)
        finished.append("slow")
        return "ok"

    server.reply(body=calls_reply(call("c1", "failing", '{"x": 1}'), call("c2", "slow", "{}")))
    with pytest.raises(ToolCallError):
        await client.chat.completions.run_tools(
            messages=USER, tools=[failing, tool(slow)], on_tool_error="raise"
        )
    assert finished == ["slow"]


async def test_invalid_json_arguments_are_reported(client: AsyncDosAI, server: Scripted) -> None:
    """Arguments that are not JSON are reported back as an error result."""
    server.reply(body=calls_reply(call("c1", "add", '{"a": 1, "b":'))).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[add])
    (content,) = tool_results(server)
    assert content.startswith("Error: invalid arguments for add: arguments are not valid JSON")


async def test_invalid_json_arguments_raise_when_asked(
    client: AsyncDosAI, server: Scripted
) -> None:
    """With on_tool_error="raise", bad arguments raise ToolArgumentsError."""
    server.reply(body=calls_reply(call("c1", "add", "not json")))
    with pytest.raises(ToolArgumentsError, match="not valid JSON"):
        await client.chat.completions.run_tools(messages=USER, tools=[add], on_tool_error="raise")


async def test_wrong_argument_type_names_the_parameter(
    client: AsyncDosAI, server: Scripted
) -> None:
    """An argument of the wrong type is reported with its path, e.g. add.a."""
    server.reply(body=calls_reply(call("c1", "add", '{"a": "one", "b": 2}'))).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[add])
    (content,) = tool_results(server)
    assert "@ add.a" in content


async def test_missing_argument_is_reported(client: AsyncDosAI, server: Scripted) -> None:
    """A required argument the model left out is reported by name."""
    server.reply(body=calls_reply(call("c1", "add", '{"a": 1}'))).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[add])
    (content,) = tool_results(server)
    assert "required field missing @ add.b" in content


async def test_unexpected_argument_is_reported(client: AsyncDosAI, server: Scripted) -> None:
    """An argument the function does not take is reported with the expected names."""
    server.reply(body=calls_reply(call("c1", "add", '{"a": 1, "b": 2, "c": 3}'))).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[add])
    (content,) = tool_results(server)
    assert content == "Error: invalid arguments for add: unexpected argument(s) c; expected: a, b"


async def test_unknown_tool_is_reported(client: AsyncDosAI, server: Scripted) -> None:
    """A call to a tool that was not given is reported back, naming the real tools."""
    server.reply(body=calls_reply(call("c1", "search", "{}"))).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[add, get_weather])
    assert tool_results(server) == ["Error: unknown tool 'search'; tools: add, get_weather"]


async def test_error_formatter_shapes_the_report(client: AsyncDosAI, server: Scripted) -> None:
    """A callable on_tool_error writes the text the model gets for a failed call."""
    server.reply(body=calls_reply(call("c1", "failing", '{"x": 1}'))).reply()
    await client.chat.completions.run_tools(
        messages=USER, tools=[failing], on_tool_error=lambda e: f"{e.name} is down"
    )
    assert tool_results(server) == ["failing is down"]


async def test_attrs_results_are_sent_as_json(client: AsyncDosAI, server: Scripted) -> None:
    """A returned attrs instance is unstructured and JSON-encoded."""
    server.reply(body=calls_reply(call("c1", "book", '{"trip": {"city": "Nice"}}'))).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[book])
    assert tool_results(server) == ['{"city":"Nice","nights":1}']


async def test_string_results_are_sent_as_is(client: AsyncDosAI, server: Scripted) -> None:
    """A str result is the tool message's content unchanged (not JSON-quoted)."""
    server.reply(body=calls_reply(call("c1", "nothing", ""))).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[nothing])
    assert tool_results(server) == ["done"]


async def test_unserializable_result_is_reported(client: AsyncDosAI, server: Scripted) -> None:
    """A result that is not JSON-serializable is reported instead of crashing the loop."""

    def opaque() -> object:
        """Returns something JSON cannot hold."""
        return object()

    server.reply(body=calls_reply(call("c1", "opaque", "{}"))).reply()
    await client.chat.completions.run_tools(messages=USER, tools=[opaque])
    (content,) = tool_results(server)
    assert content.startswith("Error: opaque returned a value that is not JSON")


async def test_http_errors_pass_through(client: AsyncDosAI, server: Scripted) -> None:
    """A 400 during the loop is raised as BadRequestError."""
    server.reply(400, {"error": {"message": "bad tools", "type": "invalid_request_error"}})
    with pytest.raises(BadRequestError, match="bad tools"):
        await client.chat.completions.run_tools(messages=USER, tools=[add])


async def test_max_rounds_below_one_is_refused(client: AsyncDosAI, server: Scripted) -> None:
    """max_rounds=0 raises ValueError before any request."""
    with pytest.raises(ValueError, match="max_rounds"):
        await client.chat.completions.run_tools(messages=USER, tools=[add], max_rounds=0)
    assert server.requests == []


async def test_duplicate_tool_names_are_refused(client: AsyncDosAI) -> None:
    """Two tools with one name raise ValueError."""
    with pytest.raises(ValueError, match="two tools are named 'add'"):
        await client.chat.completions.run_tools(messages=USER, tools=[add, tool(add)])


async def test_wire_tool_dicts_are_refused(client: AsyncDosAI) -> None:
    """run_tools needs Python functions; a tools dict raises TypeError."""
    spec = function_spec(add).to_tool()
    with pytest.raises(TypeError, match="Python functions"):
        await client.chat.completions.run_tools(messages=USER, tools=[spec])  # type: ignore[list-item]


async def test_bad_on_tool_error_is_refused(client: AsyncDosAI) -> None:
    """An unknown on_tool_error mode raises ValueError."""
    with pytest.raises(ValueError, match="on_tool_error"):
        await client.chat.completions.run_tools(
            messages=USER,
            tools=[add],
            on_tool_error="ignore",  # type: ignore[arg-type]
        )


# --- tool() and parse_arguments ----------------------------------------------------------


def test_tool_keeps_the_function_callable() -> None:
    """@tool leaves the function callable as before."""
    assert tool(get_weather)("Paris") == {"city": "Paris", "temp": 21, "unit": "c"}


def test_tool_decorator_with_options() -> None:
    """@tool(name=..., strict=True) renames the tool and marks it strict."""
    spec = tool(name="weather", strict=True)(get_weather)
    entry = spec.to_tool()
    assert (entry["function"]["name"], entry["function"]["strict"]) == ("weather", True)


def test_tool_name_must_be_valid() -> None:
    """A lambda's name is not a valid tool name: ValueError suggests name=."""
    with pytest.raises(ValueError, match="name="):
        tool(lambda: None)


def test_parse_arguments_gives_typed_values() -> None:
    """Arguments JSON becomes keyword arguments of the annotated types."""
    spec: FunctionToolSpec[..., Any] = tool(book)
    assert spec.parse_arguments('{"trip": {"city": "Nice", "nights": 3}}') == {
        "trip": Trip("Nice", 3)
    }


def test_null_for_a_defaulted_parameter_means_its_default() -> None:
    """Strict tools send null for defaulted parameters; the Python default then applies."""
    spec = tool(get_weather, strict=True)
    assert spec.parse_arguments('{"city": "Paris", "unit": null}') == {"city": "Paris"}


def test_empty_arguments_mean_no_arguments() -> None:
    """An empty arguments string is an empty object."""
    assert tool(nothing).parse_arguments("") == {}


def test_arguments_must_be_an_object() -> None:
    """A JSON array is not an arguments object."""
    with pytest.raises(ToolArgumentsError, match="must be a JSON object"):
        tool(add).parse_arguments("[1, 2]")


async def test_invoke_awaits_async_functions() -> None:
    """invoke() parses the arguments and awaits an async tool."""
    assert await tool(add).invoke('{"a": 2, "b": 5}') == 7
