"""Float vs base64 embeddings: one request of 256 texts x 2560 dimensions over loopback.

Why: ``client.embeddings`` must pick a default ``encoding_format``. The server is a raw
asyncio socket server that answers with pre-built bytes, so only the client's work (read
the body, parse JSON, decode the vectors into ``list[float]``) and loopback are timed, not
the emulator computing vectors. Run: ``python benchmarks/embeddings_encoding.py``.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import orjson

from dosai_async import AsyncDosAI
from dosai_async.testing._embeddings import EmbeddingRequest, embedding_body

TEXTS = tuple(f"text number {i}" for i in range(256))
ROUNDS = 15


def body(base64: bool) -> bytes:
    """The emulator's answer for 256 texts, rendered once."""
    request = EmbeddingRequest("qwen3-embedding-4b", TEXTS, base64, 2560)
    return orjson.dumps(embedding_body(request))


async def serve(payloads: dict[bytes, bytes]) -> asyncio.Server:
    """A keep-alive HTTP/1.1 server answering each request with the payload its body names."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await answer(reader, writer)
        except asyncio.IncompleteReadError:  # the client closed its connection
            writer.close()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            request = await reader.readexactly(length)
            data = payloads[b"base64" if b'"base64"' in request else b"float"]
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%b" % (len(data), data)
            )
            await writer.drain()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def main() -> None:
    payloads = {b"float": body(False), b"base64": body(True)}
    server = await serve(payloads)
    port = server.sockets[0].getsockname()[1]
    async with server, AsyncDosAI(api_key="k", base_url=f"http://127.0.0.1:{port}/v1") as client:
        for fmt in ("float", "base64"):
            assert fmt in ("float", "base64")
            times = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                answer = await client.embeddings.create(input=list(TEXTS), encoding_format=fmt)
                times.append(time.perf_counter() - start)
            size = len(payloads[fmt.encode()])
            vectors = len(answer.data), len(answer.data[0].embedding)
            median = statistics.median(times) * 1e3
            print(
                f"{fmt:>6}: {size / 1e6:5.1f} MB body, median {median:6.1f} ms per request", end=""
            )
            print(f" ({vectors[0]} x {vectors[1]})")
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
