"""An async web service: an aiohttp.web app relaying a DOS AI stream to the browser as SSE.

One ``AsyncDosAI`` is created when the app starts (``cleanup_ctx``), shared by every request
and closed on shutdown. ``GET /`` is a tiny page whose ``EventSource`` reads
``GET /chat?q=...``; that handler relays each text delta as one SSE event. When the browser
goes away, the next write fails, and leaving ``async with ...stream(...)`` closes the
upstream request at once: DOS AI stops generating tokens nobody will read.

    python examples/web_service.py          # plays the browser once against itself, then exits
    python examples/web_service.py --serve  # serves http://127.0.0.1:8080 until Ctrl-C
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator

from _local import dos_client
from aiohttp import ClientSession, web

from dosai_async import AsyncDosAI, DosAIError

CLIENT = web.AppKey("client", AsyncDosAI)
PAGE = """<!doctype html><meta charset="utf-8"><title>DOS AI</title>
<form><input name="q" size="60" value="What is the capital of France?"> <button>Ask</button></form>
<p id="answer"></p>
<script>
document.forms[0].onsubmit = (event) => {
  event.preventDefault();
  const answer = document.getElementById("answer");
  answer.textContent = "";
  const source = new EventSource("/chat?q=" + encodeURIComponent(event.target.q.value));
  source.onmessage = (e) => { answer.textContent += JSON.parse(e.data); };
  source.addEventListener("done", () => source.close());  // else EventSource reconnects
  source.onerror = () => source.close();
};
</script>"""


async def dos(app: web.Application) -> AsyncIterator[None]:
    async with dos_client() as client:  # one client (one connection pool) for the whole app
        app[CLIENT] = client
        yield


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def chat(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    messages = [{"role": "user", "content": request.query.get("q", "Hello!")}]
    try:
        async with request.app[CLIENT].chat.completions.stream(messages=messages) as stream:
            async for text in stream.text():
                await response.write(f"data: {json.dumps(text)}\n\n".encode())
    except ConnectionResetError:  # the browser left; `async with` has closed the DOS stream
        print("\n[server] the browser went away: upstream stream closed")
        return response
    except DosAIError as exc:
        await response.write(f"event: failure\ndata: {json.dumps(str(exc))}\n\n".encode())
    await response.write(b"event: done\ndata: {}\n\n")
    return response


async def browse(url: str) -> None:
    """Play the browser: read one whole answer, then leave a second one after 3 events."""
    async with ClientSession() as session:
        async with session.get(f"{url}/chat", params={"q": "What is the capital of France?"}) as r:
            async for line in r.content:
                if line == b"event: done\n":
                    break
                if line.startswith(b"data: "):
                    print(json.loads(line[6:]), end="", flush=True)
            print("\n[browser] event: done")
        async with session.get(f"{url}/chat", params={"q": "Tell me a joke"}) as r:
            for _ in range(3):
                print(json.loads((await r.content.readuntil(b"\n\n"))[6:]), end="", flush=True)
        # Leaving `async with` dropped the connection, as closing a browser tab does.


async def main() -> None:
    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/chat", chat)
    app.cleanup_ctx.append(dos)
    runner = web.AppRunner(app)
    await runner.setup()
    serving = "--serve" in sys.argv
    await web.TCPSite(runner, "127.0.0.1", 8080 if serving else 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        if serving:
            print(f"Open {url} (Ctrl-C to stop)")
            await asyncio.Event().wait()
        else:
            await browse(url)
    finally:
        await runner.cleanup()  # waits for the handlers, then closes the shared client


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
