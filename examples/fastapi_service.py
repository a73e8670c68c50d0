"""The web service in FastAPI: one shared client, a DOS AI stream relayed as SSE.

The FastAPI twin of ``web_service.py``. The client is created in the app's ``lifespan``
(one connection pool for every request) and closed on shutdown. ``GET /chat?q=...`` relays
the model's thinking (``event: reasoning``), its answer (plain ``data:`` events) and an
error (``event: failure``); ``GET /answer?q=...`` returns the finished completion as JSON
(``model_dump()``). Starlette closes the response's generator when the browser leaves, and
leaving ``async with ...stream(...)`` then closes the upstream request.

    python examples/fastapi_service.py                 # asks itself once, prints, exits
    python examples/fastapi_service.py --serve         # serves http://127.0.0.1:8080 until Ctrl-C
    python examples/fastapi_service.py --serve --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from _local import dos_client
from aiohttp import ClientSession
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from dosai_async import AsyncDosAI, DosAIError


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with dos_client(reasoning=True) as client:  # one client (one pool) for the app
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


def sse(data: object, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


@app.get("/chat")
async def chat(request: Request, q: str = "Hello!") -> StreamingResponse:
    client: AsyncDosAI = request.app.state.client

    async def events() -> AsyncIterator[str]:
        messages = [{"role": "user", "content": q}]
        try:
            async with client.chat.completions.stream(messages=messages) as stream:
                async for chunk in stream:
                    for choice in chunk.choices:
                        if thought := choice.delta.reasoning or choice.delta.reasoning_content:
                            yield sse(thought, "reasoning")
                        if choice.delta.content:
                            yield sse(choice.delta.content)
        except DosAIError as exc:
            yield sse(str(exc), "failure")
        yield sse({}, "done")

    return StreamingResponse(events(), media_type="text/event-stream")


@app.get("/answer")
async def answer(request: Request, q: str = "Hello!") -> dict[str, Any]:
    client: AsyncDosAI = request.app.state.client
    done = await client.with_options(timeout=30).chat.completions.create(
        messages=[{"role": "user", "content": q}]
    )
    return done.model_dump()


async def main(serve: bool, port: int) -> None:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    if serve:
        print(f"Open http://127.0.0.1:{port} (Ctrl-C to stop)", flush=True)
        await server.serve()
        return
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to await)
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    question = {"q": "What is the capital of France?"}
    async with ClientSession() as browser:
        async with browser.get(f"{url}/chat", params=question) as page:
            events = [event.split("\n") for event in (await page.text()).split("\n\n") if event]
        kinds = [lines[0] if len(lines) == 2 else "data" for lines in events]
        text = "".join(json.loads(lines[0][6:]) for lines in events if len(lines) == 1)
        print(f"GET /chat: {kinds.count('event: reasoning')} reasoning events, then {text!r}")
        print(f"GET /chat ended with {kinds[-1]!r}")
        async with browser.get(f"{url}/answer", params=question) as page:
            print("GET /answer:", (await page.json())["choices"][0]["message"]["content"])
    server.should_exit = True
    await serving


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve until Ctrl-C")
    parser.add_argument("--port", type=int, default=8080, help="with --serve (default: 8080)")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be from 0 to 65535, not {args.port}")
    return args


if __name__ == "__main__":
    args = arguments()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.serve, args.port))
