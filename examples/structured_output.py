"""Structured outputs: give ``parse()`` an attrs class and get an instance of it back.

``client.chat.completions.parse(response_format=Weather)`` turns the class into a strict
JSON schema (its docstring and ``Attributes:`` become descriptions), sends it as the
``response_format``, and returns the completion with ``choices[0].message.parsed`` as a
``Weather``: nested classes, enums and lists included. ``parsed`` is ``None`` when the model
refuses (``message.refusal`` says why); JSON that does not fit raises
``StructuredOutputError`` with the raw content and the field path. ``stream_parse()``
shows the JSON as it arrives and parses it at the end. Offline, the local emulator answers
with JSON that fits the schema.
"""

from __future__ import annotations

import asyncio
import enum

import attrs
from _local import dos_client

MESSAGES = [
    {"role": "system", "content": "You are a weather service. Answer in JSON."},
    {"role": "user", "content": "What is the weather in Paris this week?"},
]


class Sky(enum.Enum):
    """What the sky looks like."""

    SUNNY = "sunny"
    CLOUDY = "cloudy"
    RAIN = "rain"


@attrs.frozen
class Day:
    """One day of the forecast."""

    weekday: str
    high_celsius: float
    sky: Sky


@attrs.frozen
class Weather:
    """Current weather and a short forecast for a city.

    Attributes:
        city: The city, as the user named it.
        celsius: The temperature now, in degrees Celsius.
        forecast: The coming days, in order.
        advice: One sentence of advice, if there is any to give.
    """

    city: str
    celsius: float
    sky: Sky
    forecast: list[Day]
    advice: str | None = None


def show(weather: Weather) -> None:
    print(f"{type(weather).__name__} for {weather.city}: {weather.celsius} C, {weather.sky.value}")
    for day in weather.forecast:
        print(f"  {day.weekday}: up to {day.high_celsius} C, {day.sky.value}")
    if weather.advice:
        print(f"  advice: {weather.advice}")


async def main() -> None:
    async with dos_client(ttft=0.1, token_interval=0.005) as client:
        done = await client.chat.completions.parse(
            messages=MESSAGES, response_format=Weather, temperature=0
        )
        message = done.choices[0].message
        if message.parsed is None:  # a refusal is not an error: check before using parsed
            print(f"The model refused: {message.refusal}")
            return
        show(message.parsed)

        print("\nThe same request, streamed:")
        async with client.chat.completions.stream_parse(
            messages=MESSAGES, response_format=Weather, temperature=0
        ) as stream:
            async for piece in stream.text():
                print(piece, end="", flush=True)
            weather = await stream.final_parsed()
        print(f"\nparsed: {weather!r}")


if __name__ == "__main__":
    asyncio.run(main())
