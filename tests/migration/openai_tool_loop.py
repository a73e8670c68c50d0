"""A tool loop as openai users write it: pydantic tool arguments, parse(), a typed answer.

The model calls the tools, the loop runs them from ``parsed_arguments`` and sends the results
back, until the final answer is parsed into ``TripPlan``. Prints every step.
"""

import asyncio
import os

import openai
from openai import AsyncOpenAI
from pydantic import BaseModel, Field


class GetWeather(BaseModel):
    """Current weather in a city."""

    city: str
    unit: str = Field(description="celsius or fahrenheit")


class FindHotel(BaseModel):
    """A hotel in a city for some nights."""

    city: str
    nights: int


class TripPlan(BaseModel):
    city: str
    days: int
    packing: list[str]


def get_weather(args: GetWeather) -> str:
    return f"{len(args.city) + 10} degrees {args.unit}, clear"


def find_hotel(args: FindHotel) -> str:
    return f"Hotel {args.city.title()[:12]}: {args.nights * 90} EUR in total"


TOOLS = {"GetWeather": get_weather, "FindHotel": find_hotel}


async def main() -> None:
    client = AsyncOpenAI(
        base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ["OPENAI_API_KEY"]
    )
    messages = [
        {"role": "system", "content": "You plan trips. Use the tools, then answer."},
        {"role": "user", "content": "Plan three days in Lisbon for me."},
    ]
    tools = [openai.pydantic_function_tool(GetWeather), openai.pydantic_function_tool(FindHotel)]
    for round_ in range(1, 5):
        completion = await client.chat.completions.parse(
            model="dos-ai", messages=messages, tools=tools, response_format=TripPlan, seed=11
        )
        message = completion.choices[0].message
        if not message.tool_calls:
            plan = message.parsed
            print(f"round {round_}: answer {type(plan).__name__} {plan.model_dump()}")
            break
        messages.append(message)
        for call in message.tool_calls:
            args = call.function.parsed_arguments
            result = TOOLS[call.function.name](args)
            print(f"round {round_}: {call.function.name}({args.model_dump()}) -> {result}")
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    print(f"{len(messages)} messages")
    await client.close()


asyncio.run(main())
