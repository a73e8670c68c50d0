"""An async web service: an aiohttp.web app relaying a DOS AI stream to the browser as SSE.

One ``AsyncDosAI`` is created when the app starts (``cleanup_ctx``), shared by every request
and closed on shutdown. ``GET /`` is a tiny page whose ``EventSource`` reads
``GET /chat?q=...``; that handler relays the model's thinking (``event: reasoning``) and
its answer (plain ``data:`` events), and an error as ``event: failure``, which the page
shows in red.

Leaving the page is noticed even while nothing is being written: the runner is made with
``handler_cancellation=True``, so aiohttp cancels the handler as soon as the browser's
connection closes, and leaving ``async with ...stream(...)`` closes the upstream request
at once: DOS AI stops generating tokens nobody will read.

    python examples/web_service.py                 # plays the browser against itself, exits
    python examples/web_service.py --serve         # serves http://127.0.0.1:8080 until Ctrl-C
    python examples/web_service.py --serve --port 9000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from _local import dos_client
from aiohttp import ClientSession, web

from dosai_async import AsyncDosAI, DosAIError

CLIENT = web.AppKey("client", AsyncDosAI)
PAGE = """<!doctype html><meta charset="utf-8"><title>DOS AI</title>
<form><input name="q" size="60" value="What is the capital of France?"> <button>Ask</button></form>
<p id="thinking" style="color:#888;font-style:italic"></p>
<p id="answer"></p>
<p id="failure" style="color:#b00;font-weight:bold" role="alert"></p>
<script>
document.forms[0].onsubmit = (event) => {
  event.preventDefault();
  const [thinking, answer, failure] = ["thinking", "answer", "failure"].map(
    (id) => document.getElementById(id));
  thinking.textContent = answer.textContent = failure.textContent = "";
  const source = new EventSource("/chat?q=" + encodeURIComponent(event.target.q.value));
  source.addEventListener("reasoning", (e) => { thinking.textContent += JSON.parse(e.data); });
  source.onmessage = (e) => { answer.textContent += JSON.parse(e.data); };
  source.addEventListener("failure", (e) => {
    failure.textContent = "Error: " + JSON.parse(e.data);
    source.close();
  });
  source.addEventListener("done", () => source.close());  // else EventSource reconnects
  source.onerror = () => {
    failure.textContent = "Error: the connection to the server was lost.";
    source.close();
  };
};
</script>"""


async def dos(app: web.Application) -> AsyncIterator[None]:
    async with dos_client(reasoning=True) as client:  # one client (one pool) for the app
        app[CLIENT] = client
        yield


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


def sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


async def chat(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    messages = [{"role": "user", "content": request.query.get("q", "Hello!")}]
    try:
        async with request.app[CLIENT].chat.completions.stream(messages=messages) as stream:
            async for chunk in stream:
                for choice in chunk.choices:
                    if thought := choice.delta.reasoning or choice.delta.reasoning_content:
                        await response.write(sse(thought, "reasoning"))
                    if choice.delta.content:
                        await response.write(sse(choice.delta.content))
    except asyncio.CancelledError:  # the browser left (handler_cancellation=True)
        print("\n[server] the browser went away: upstream stream closed")
        raise  # `async with` above has closed the DOS stream already
    except ConnectionResetError:  # a write raced the browser's departure
        print("\n[server] the browser went away: upstream stream closed")
        return response
    except DosAIError as exc:
        await response.write(sse(str(exc), "failure"))  # the page shows it in red
    await response.write(sse({}, "done"))
    return response


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/chat", chat)
    app.cleanup_ctx.append(dos)
    return app


async def browse(url: str) -> None:
    """Play the browser: read one whole answer, then leave a second one while it thinks."""
    async with ClientSession() as session:
        async with session.get(f"{url}/chat", params={"q": "What is the capital of France?"}) as r:
            event = "message"
            async for line in r.content:
                if line.startswith(b"event: "):
                    event = line[7:].strip().decode()
                elif line.startswith(b"data: ") and event == "message":
                    print(json.loads(line[6:]), end="", flush=True)
                elif line == b"\n":
                    if event == "done":
                        break
                    event = "message"
            print("\n[browser] event: done")
        async with session.get(f"{url}/chat", params={"q": "Tell me a joke"}) as r:
            print("[browser]", (await r.content.readuntil(b"\n\n")).decode().split("\n")[0])
        # Leaving `async with` dropped the connection, as closing a browser tab does.
        await asyncio.sleep(0.5)  # time for the server to notice and say so


async def main(serve: bool, port: int) -> None:
    runner = web.AppRunner(make_app(), handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port if serve else 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        if serve:
            print(f"Open {url} (Ctrl-C to stop)")
            await asyncio.Event().wait()
        else:
            await browse(url)
    finally:
        await runner.cleanup()  # waits for the handlers, then closes the shared client


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve until Ctrl-C")
    parser.add_argument("--port", type=int, default=8080, help="with --serve (default: 8080)")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be from 0 to 65535, not {args.port}")
    return args


if __name__ == "__main__":
    options = arguments()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main(options.serve, options.port))
    except OSError as exc:  # the port is taken, or not ours to bind
        raise SystemExit(f"error: cannot serve on 127.0.0.1:{options.port}: {exc.strerror}")
