"""A FastAPI relay as dosai_async users write it: one shared client, a stream relayed as SSE
(each chunk as ``model_dump_json()``), a plain answer returned as ``model_dump()``.

Starts uvicorn on a free port in this process, calls both endpoints, prints what came back.
"""

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from dosai_async import AsyncDosAI

QUESTION = "What is the capital of France?"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.client = AsyncDosAI(
        base_url=os.environ["DOS_AI_BASE_URL"], api_key=os.environ["DOS_AI_API_KEY"]
    )
    yield
    await app.state.client.close()


app = FastAPI(lifespan=lifespan)


@app.get("/chat")
async def chat(q: str) -> dict:
    completion = await app.state.client.chat.completions.create(
        model="dos-ai", messages=[{"role": "user", "content": q}], seed=3
    )
    return completion.model_dump()


@app.get("/chat/stream")
async def chat_stream(q: str) -> StreamingResponse:
    client = app.state.client.with_options(timeout=20, max_retries=1)
    stream = await client.chat.completions.create(
        model="dos-ai",
        messages=[{"role": "user", "content": q}],
        seed=3,
        stream=True,
        stream_options={"include_usage": True},
    )

    async def events() -> AsyncIterator[str]:
        async with stream:
            async for chunk in stream:
                yield f"data: {chunk.model_dump_json()}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def main() -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/chat", params={"q": QUESTION}) as response:
            done = await response.json()
        chunks = []
        async with http.get(f"{base}/chat/stream", params={"q": QUESTION}) as response:
            print("stream content-type:", response.headers["content-type"])
            async for line in response.content:
                if line.startswith(b"data: ") and line.strip() != b"data: [DONE]":
                    chunks.append(json.loads(line[6:]))
    server.should_exit = True
    await serving
    message = done["choices"][0]["message"]
    print("plain:", done["object"], done["choices"][0]["finish_reason"], message["content"])
    print("plain usage:", done["usage"]["prompt_tokens"], done["usage"]["completion_tokens"])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    print("stream:", len(chunks), "chunks,", chunks[0]["object"], text)
    print("stream usage:", chunks[-1]["usage"]["completion_tokens"])
    print("same text:", text == message["content"])


asyncio.run(main())
