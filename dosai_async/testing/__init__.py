"""A local DOS AI emulator for tests, demos and benchmarks.

``DosAIEmulator`` is a real aiohttp.web server on 127.0.0.1 that speaks the DOS wire format
(chat completions streamed and not, ``n``, ``stop``, ``max_tokens``, seeds, Qwen reasoning, tools,
structured output, models, Bearer auth, DOS error bodies, rate-limit headers), records every
request (keys masked), counts statuses and concurrency, and misbehaves on request.
It also serves embeddings (``qwen3-embedding-4b``), files, the OpenAI-style Batch API (run in
the background by the same chat and embeddings engine, ``batch_interval`` seconds per line),
and DOS's ``GET /v1/key`` and ``GET /v1/user/balance`` (shapes: ``_account``), with a ``balance``
that chat, embeddings and batch lines (half price) spend and a 402 at zero.
The pytest plugin (``dosai_emulator``, ``dosai_emulator_thread`` fixtures) ships with it.

    async with DosAIEmulator() as emu:
        client = AsyncDosAI(base_url=emu.base_url, api_key=emu.api_key)
        emu.enqueue(Fault.status(429, retry_after=1))      # from Python, per route
        # or per request, from any process: header X-Emulator-Fault: status=429; retry-after=1

Faults (Python constructor / ``X-Emulator-Fault`` header / what the client sees):

    Fault.status(429, retry_after=1)    status=429; retry-after=1
        any status; DOS's error body unless ``body=`` (header: ``body=`` last, verbatim)
    Fault.html_502()                    html-502
        a proxy's text/html 502 page
    Fault.stall_before_headers(2)       stall-before-headers=2
        nothing for 2 s, then the normal response
    Fault.stall_mid_stream(3, 2)        stall-mid-stream=2; after=3
        3 events, a 2 s pause, then the rest
    Fault.keepalive_only(0.05, 1)       keepalive-only=1; interval=0.05
        ``: keep-alive`` comments for 1 s, then the body ends (``then-reply=1``: the reply follows)
    Fault.reset_before_headers()        reset-before-headers
        TCP RST before any byte
    Fault.reset_mid_body()              reset-mid-body
        a JSON reply's headers (full Content-Length) and half its body, then RST
    Fault.reset_mid_stream(3)           reset-mid-stream=3
        3 events, then RST
    Fault.stream_error(3, "boom")       stream-error=boom; after=3
        3 events, ``data: {"error": {...}}``, ``[DONE]`` (``event="error"`` / ``event=error``:
        ``event: error`` framing; ``code=``, ``type=`` set the error's fields)
    Fault.malformed_sse(3)              malformed-sse=3
        from event 3 on, no blank lines between events: they merge into one non-JSON event
    Fault.malformed_json(3)             malformed-json=3
        an extra event whose JSON stops mid-value; a JSON reply is cut in half
    Fault.truncate_stream(3)            truncate-stream=3
        3 events, a clean end: no finish_reason, no ``[DONE]``
    Fault.not_sse()                     not-sse
        a stream request answered with a 200 application/json completion

Batch faults, on ``POST /v1/batches`` (``emu.enqueue(..., route="batches")`` or the header);
the create answer is normal, the batch misbehaves:

    Fault.batch_failed("bad input")     batch-failed=bad input
        ``status: failed``, ``errors.data[0].message`` "bad input", no output
    Fault.batch_expired(2)              batch-expired=2
        2 lines run, then ``status: expired``; the rest get ``batch_expired`` in the error file
    Fault.batch_line_errors(3, 429)     batch-line-errors=3; status=429
        every 3rd line answers 429 (DOS's error body) in the error file

Also: ``emu.set_random_faults(Fault.status(429, retry_after=1), rate=0.3, seed=1)``.
Faults that damage a body leave error responses (401, 404...) alone; on a non-streaming
reply their cut point is the middle of the JSON body. Details: ``Fault``'s constructors.

Built on the public wire contract only: nothing here imports the SDK's client.
"""

from ._fault_header import parse_fault_header
from ._faults import Fault
from ._records import EmulatorStats, RecordedRequest
from ._server import DosAIEmulator
from ._threaded import ThreadedEmulator

__all__ = [
    "DosAIEmulator",
    "EmulatorStats",
    "Fault",
    "RecordedRequest",
    "ThreadedEmulator",
    "parse_fault_header",
]
