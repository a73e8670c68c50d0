"""The scenarios, and the worker processes that run them one client at a time.

Each client runs in its own long-lived worker process (``python _scenarios.py worker KEY
URL``) that imports only that client's library. The orchestrator (``run.py``) sends one JSON
command per line on the worker's stdin and reads one JSON result per line from its stdout;
only one worker runs at a time, so the clients never compete with each other for the
cores. Each command runs in a fresh event loop with a fresh client, warmed up first (its
connections open, its lazy imports and generated hooks done), and measures:

- wall time with ``time.perf_counter``;
- client CPU with ``time.process_time`` (the server is another process: its work never
  counts);
- S3, and the scaling mode's streams and batches, in a fresh process per run (``python
  _scenarios.py fresh KEY URL SCENARIO PARAMS_JSON``), so peak RSS (``ru_maxrss``) belongs
  to that one client and that one run.

Every process runs its event loops on the loop named by the ``BENCH_LOOP`` environment
variable: ``default`` (asyncio's own) or ``uvloop``; ``run.py`` sets it for its children.

``python _scenarios.py profile KEY URL SCENARIO PARAMS_JSON TOOL OUT`` runs one scenario
under a profiler (``cprofile`` or ``pyinstrument``, written to the file ``OUT`` unless it is
``-``; ``none`` for no profiler inside, when py-spy samples the process from outside).
``run.py --profile`` starts the server and calls it.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from _clients import IMPORTS, MESSAGES, MODEL, Client, DosAI, open_client, split_options
from _server import raise_fd_limit

Metrics = dict[str, Any]
LOOP_ENV = "BENCH_LOOP"
LOOPS = ("default", "uvloop")
T = TypeVar("T")


# -- the event loop --------------------------------------------------------------------------


def loop_name() -> str:
    """The event loop this process runs on: ``BENCH_LOOP``, ``default`` when unset."""
    name = os.environ.get(LOOP_ENV) or "default"
    if name not in LOOPS:
        raise SystemExit(f"{LOOP_ENV}={name!r}: choose from {', '.join(LOOPS)}")
    return name


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the loop of ``loop_name()`` (a fresh loop every call)."""
    factory = None
    if loop_name() == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        if factory is not None and not isinstance(runner.get_loop(), uvloop.Loop):
            raise RuntimeError(f"asked for uvloop, got {type(runner.get_loop())}")
        return runner.run(main)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[rank]


# -- S1: non-streaming requests/s and latency ----------------------------------------------


async def s1_requests(client: Client, *, concurrency: int, duration: float) -> Metrics:
    """Closed loop: ``concurrency`` workers send requests back to back for ``duration`` s."""
    # Every pooled connection opened, everything lazy loaded.
    await asyncio.gather(*(client.complete() for _ in range(concurrency)))
    latencies: list[float] = []
    stop_at = time.perf_counter() + duration

    async def worker() -> None:
        while (started := time.perf_counter()) < stop_at:
            await client.complete()
            latencies.append(time.perf_counter() - started)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not latencies:
        raise AssertionError(
            f"no request started within the {duration:g} s window (the event loop was busy "
            "for all of it): too short a window for this client at this concurrency"
        )
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 0.50) * 1e3,
        "p99_ms": percentile(latencies, 0.99) * 1e3,
        "cpu_us_per_request": cpu / len(latencies) * 1e6,
    }


# -- S2: one long stream ------------------------------------------------------------------


async def s2_stream(client: Client, *, chunks: int) -> Metrics:
    """One stream of ``chunks`` chunks sent as fast as the client reads them."""
    await client.stream(min(chunks, 2_000))
    cpu, wall = time.process_time(), time.perf_counter()
    count = await client.stream(chunks)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if count != chunks + 1:  # the content chunks and the finish_reason chunk
        raise AssertionError(f"expected {chunks + 1} chunks, parsed {count}")
    return {
        "chunks_per_s": count / wall,
        "cpu_ms_per_1000": cpu / count * 1e6,  # ms per 1,000 chunks = µs per chunk
    }


# -- S3: many slow concurrent streams ------------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


async def s3_streams(client: Client, *, streams: int, chunks: int, interval: float) -> Metrics:
    """``streams`` concurrent streams, each ``chunks`` chunks ``interval`` s apart."""
    cpu, wall = time.process_time(), time.perf_counter()
    counts = await asyncio.gather(*(client.stream(chunks, interval) for _ in range(streams)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if any(count != chunks + 1 for count in counts):
        raise AssertionError(f"expected {chunks + 1} chunks per stream, got {set(counts)}")
    return {
        "wall_s": wall,
        "wall_vs_ideal": wall / (chunks * interval),
        "cpu_pct": cpu / wall * 100,
        "cpu_s": cpu,
    }


# -- fresh processes: S3, and the scaling mode's streams and batches -------------------------


async def _warm_up(client: Client, scenario: str, params: dict[str, Any]) -> None:
    """Lazy imports and generated hooks done, a connection open: not counted in RSS growth."""
    if scenario == "S3":
        await client.stream(2, 0.0)
    else:
        await _batch_runner(client, params["mode"])(params["concurrency"], params["concurrency"])


async def _fresh_main(key: str, base_url: str, scenario: str, params: dict[str, Any]) -> Metrics:
    """One run in this (fresh) process, with its peak RSS and RSS growth after warm-up."""
    options, params = split_options(params)
    client = open_client(key, base_url, options)
    try:
        await _warm_up(client, scenario, params)
        gc.collect()
        rss_before = _rss_bytes()
        metrics = await FRESH_SCENARIOS[scenario](client, **params)
    finally:
        await client.aclose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return metrics | {"rss_peak_mb": peak / 2**20, "rss_growth_mb": (peak - rss_before) / 2**20}


def run_fresh(
    key: str,
    base_url: str,
    env: dict[str, str],
    scenario: str,
    params: dict[str, Any],
    limit: float = 900.0,
) -> Metrics:
    """Run ``scenario`` (``S3`` or ``S5``) for one client in a fresh process: its metrics.

    ``params`` may hold the client's ``Options`` (``split_options``). A run that fails, or
    takes over ``limit`` seconds, raises ``RuntimeError`` with the error's last line (the
    traceback goes to stderr).
    """
    argv = [sys.executable, __file__, "fresh", key, base_url, scenario, json.dumps(params)]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{scenario} {key}: still running after {limit:g} s, stopped") from exc
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr, flush=True)
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{scenario} {key} failed: {last}")
    result: Metrics = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- S4: time to the first content delta ---------------------------------------------------


async def s4_first_delta(client: Client, *, requests: int) -> Metrics:
    """``requests`` sequential streams; the time from the call to the first content delta."""
    for _ in range(20):
        await client.first_delta()
    times = [await client.first_delta() for _ in range(requests)]
    return {
        "p50_us": percentile(times, 0.50) * 1e6,
        "p99_us": percentile(times, 0.99) * 1e6,
    }


# -- S5: a batch fan-out -------------------------------------------------------------------


def _batch_runner(client: Client, mode: str) -> Callable[[int, int], Awaitable[int]]:
    if mode == "gather":
        return lambda requests, concurrency: _gather_batch(client, requests, concurrency)
    if not isinstance(client, DosAI) or not hasattr(client.client.chat.completions, "batch"):
        raise NotImplementedError("this client has no chat.completions.batch()")
    sdk = client.client
    return lambda requests, concurrency: _sdk_batch(sdk, requests, concurrency)


async def _gather_batch(client: Client, requests: int, concurrency: int) -> int:
    """The baseline: ``asyncio.gather`` over every request, a semaphore bounding them.

    It keeps what each request parsed, in order, as ``batch()`` must (its results are the
    point of it): a baseline that dropped them would not pay for holding 10,000 results.
    """
    limit = asyncio.Semaphore(concurrency)

    async def one() -> Any:
        async with limit:
            return await client.complete()

    results = await asyncio.gather(*(one() for _ in range(requests)))
    return len(results)


async def _sdk_batch(sdk: Any, requests: int, concurrency: int) -> int:
    """``client.chat.completions.batch(...)`` over a generator of requests, awaited."""
    items = ({"model": MODEL, "messages": MESSAGES} for _ in range(requests))
    results = await sdk.chat.completions.batch(items, concurrency=concurrency)
    failed = [result for result in results if isinstance(result, Exception)]
    if failed:
        raise AssertionError(f"{len(failed)} batch items failed, e.g. {failed[0]!r}")
    return len(results)


async def s5_batch(client: Client, *, requests: int, concurrency: int, mode: str) -> Metrics:
    """``requests`` non-streaming requests at ``concurrency``: SDK batch or gather."""
    run = _batch_runner(client, mode)
    await run(concurrency * 2, concurrency)
    cpu, wall = time.process_time(), time.perf_counter()
    done = await run(requests, concurrency)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "rps": done / wall,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_us_per_request": cpu / done * 1e6,
    }


# -- import time ----------------------------------------------------------------------------


def import_time_ms(modules: tuple[str, ...], env: dict[str, str]) -> float:
    """``python -X importtime -c "import ..."`` in a fresh process: the modules' cumulative ms.

    Only the top-level entries of ``modules`` count (their cumulative time includes
    everything they import), not the interpreter's own start-up imports.
    """
    statement = "import " + ", ".join(modules)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    total_us = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = line[len("import time:") :].split("|")
        if name.startswith(" ") and not name.startswith("  ") and name.strip() in modules:
            total_us += int(cumulative)
    return total_us / 1e3


SCENARIOS: dict[str, Callable[..., Awaitable[Metrics]]] = {
    "S1": s1_requests,
    "S2": s2_stream,
    "S4": s4_first_delta,
    "S5": s5_batch,
}
FRESH_SCENARIOS: dict[str, Callable[..., Awaitable[Metrics]]] = {
    "S3": s3_streams,
    "S5": s5_batch,
}


# -- worker processes ----------------------------------------------------------------------


async def _run_command(key: str, base_url: str, command: dict[str, Any]) -> Metrics:
    options, params = split_options(command["params"])
    client = open_client(key, base_url, options)
    try:
        return await SCENARIOS[command["scenario"]](client, **params)
    finally:
        await client.aclose()


def _worker(key: str, base_url: str) -> None:
    """Serve commands for one client: a JSON line in, a JSON line out, until EOF."""
    for module in IMPORTS[key]:
        __import__(module)
    print(json.dumps({"ready": key}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        gc.collect()
        try:
            reply: dict[str, Any] = {"metrics": run_async(_run_command(key, base_url, command))}
        except Exception as exc:  # reported to the orchestrator, which says which run failed
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply), flush=True)


class Worker:
    """The orchestrator's handle on one client's worker process."""

    def __init__(self, key: str, base_url: str, env: dict[str, str]) -> None:
        self.key = key
        self.loop = env.get(LOOP_ENV) or "default"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "worker", key, base_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._reply()  # {"ready": key}

    def run(self, scenario: str, **params: Any) -> Metrics:
        """Run one scenario in the worker and return its metrics."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"scenario": scenario, "params": params}) + "\n")
        self.process.stdin.flush()
        reply = self._reply()
        if "error" in reply:
            raise RuntimeError(
                f"{scenario} {params} with {self.key} ({self.loop} loop): {reply['error']}"
            )
        metrics: Metrics = reply["metrics"]
        return metrics

    def _reply(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.key} worker exited (code {self.process.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- profiling (never inside a timed run) ---------------------------------------------------


def _profile(
    key: str, base_url: str, scenario: str, params: dict[str, Any], tool: str, out: str
) -> None:
    """Run one scenario under ``tool``, print the hot spots, write the profile to ``out``.

    The scenario runs once unprofiled first, so that the profile shows the steady state
    (generated hooks compiled, lazy imports done, an SSL context made), not one-off set-up.
    ``tool`` ``none`` runs it bare: py-spy samples this process from outside, and the
    profiled run is the stack under ``profiled_run``.
    """
    command = {"scenario": scenario, "params": params}
    run = functools.partial(_run_command, key, base_url, command)
    run_async(run())
    if tool == "none":
        profiled_run(run)
        return
    if tool == "pyinstrument":
        from pyinstrument import Profiler

        with Profiler(async_mode="disabled", interval=0.0002) as profiler:
            profiled_run(run)
        print(profiler.output_text(unicode=True, show_all=False, short_mode=False))
        if out != "-":
            with open(out, "w") as html:
                html.write(profiler.output_html())
        return
    import cProfile
    import pstats

    with cProfile.Profile() as profile:
        profiled_run(run)
    if out != "-":
        profile.dump_stats(out)  # before strip_dirs: the file keeps full paths
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)


def profiled_run(run: Callable[[], Coroutine[Any, Any, Metrics]]) -> Metrics:
    """The run a profile is about (its own frame: py-spy's summary keeps what is under it)."""
    return run_async(run())


def _settle_malloc() -> None:
    """Free one large block first, in every client process alike.

    asyncio reads a socket into a 256 KiB buffer. Until a process has freed a block that
    large, glibc serves such a buffer by mmap and returns it by munmap on every read (its
    mmap threshold rises only when an mmapped block is freed): +15-18 µs of system CPU per
    request, seen under strace, paid by whichever client happened not to free a big block
    early. A long-running service is past that point; here every client starts there.
    """
    block = bytearray(4 << 20)
    del block


def _main(argv: list[str]) -> None:
    raise_fd_limit()
    _settle_malloc()
    if argv[0] == "worker":
        _worker(argv[1], argv[2])
    elif argv[0] == "profile":
        key, base_url, scenario, params, tool, out = argv[1:7]
        _profile(key, base_url, scenario, json.loads(params), tool, out)
    elif argv[0] == "fresh":
        key, base_url, scenario, params = argv[1:5]
        metrics = run_async(_fresh_main(key, base_url, scenario, json.loads(params)))
        print(json.dumps(metrics), flush=True)
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    _main(sys.argv[1:])
