"""Tools: let the model call two Python functions; ``run_tools()`` runs the whole loop.

Plain functions are the tools: their type hints and docstrings become the JSON schemas the
model sees, and the model's arguments arrive as typed values. ``run_tools()`` asks the
model, runs the calls it makes (sync functions in a worker thread, async ones awaited, the
calls of one round concurrently), sends each result back as a ``tool`` message, and repeats
until the model answers, at most ``max_rounds`` times. A tool that raises is reported to the
model as its result (``on_tool_error="raise"`` raises instead). ``result.messages`` holds
the whole conversation, so a follow-up question continues it. Offline, the local emulator
calls every tool with arguments that fit its schema, then answers from the results.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import attrs
from _local import dos_client

RATES = {"USD": 1.0, "EUR": 0.92, "VND": 25_400.0}


@attrs.frozen
class Conditions:
    """What a weather station reports."""

    city: str
    temperature: float
    unit: str


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> Conditions:
    """Get the current weather in a city.

    Args:
        city: The city name, e.g. "Paris".
        unit: The temperature unit.
    """
    celsius = 18.5  # a real tool would call a weather service here
    temperature = celsius if unit == "celsius" else celsius * 9 / 5 + 32
    return Conditions(city, temperature, unit)


async def convert_currency(amount: float, from_currency: str, to_currency: str) -> float:
    """Convert an amount of money between currencies.

    Args:
        amount: How much money.
        from_currency: ISO code of the currency to convert from, e.g. "USD".
        to_currency: ISO code of the currency to convert to, e.g. "EUR".
    """
    await asyncio.sleep(0.01)  # a real tool would await an exchange-rate API here
    for code in (from_currency, to_currency):
        if code not in RATES:  # reported to the model, which can try again
            raise ValueError(f"unknown currency {code}; known: {', '.join(RATES)}")
    return round(amount / RATES[from_currency] * RATES[to_currency], 2)


def show(message: Any) -> None:
    """One line per message, whatever its class (dicts, ChatCompletionMessage, ToolMessage)."""
    data = message if isinstance(message, dict) else attrs.asdict(message, recurse=False)
    for call in data.get("tool_calls") or []:
        print(f"  assistant -> {call.function.name}({call.function.arguments})")
    if data.get("content"):
        print(f"  {data['role']}: {data['content']}")


async def main() -> None:
    tools = [get_weather, convert_currency]
    question = "I'm flying to Paris with 200 USD. What's the weather, and how much is it in EUR?"
    messages: list[Any] = [{"role": "user", "content": question}]
    async with dos_client(ttft=0.05, token_interval=0.002) as client:
        result = await client.chat.completions.run_tools(messages=messages, tools=tools)
        print(f"First question, answered after {result.rounds} rounds:")
        for message in result.messages:
            show(message)

        follow_up = {"role": "user", "content": "And the weather in Tokyo, in fahrenheit?"}
        so_far = [*result.messages, follow_up]
        result = await client.chat.completions.run_tools(messages=so_far, tools=tools, max_rounds=4)
        print(f"\nFollow-up, answered after {result.rounds} more rounds:")
        for message in result.messages[len(so_far) - 1 :]:
            show(message)
        print(f"\n{len(result.messages)} messages in the conversation.")


if __name__ == "__main__":
    asyncio.run(main())
