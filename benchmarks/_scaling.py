"""``run.py --scaling``: how each client's cost grows with concurrency, streams and batch size.

Three parts, each against the same local server as the suite:

- S1 (worker processes, interleaved, rotated): non-streaming requests/s, latency and client
  CPU per request at concurrency 1, 16, 64, 256, 1,024; floor, dosai-async, openai. Every
  pool holds at most 1,000 connections (each client's default, the floor's setting), so at
  1,024 a few requests wait for a connection in every client alike.

Every client gets a 60 s connect timeout here (``_clients.Options``: the SDKs' defaults are
10 s and 5 s, raw aiohttp has none), and every fresh run is stopped after 150 s: a point
that fails or is stopped is listed under "Not measured", the rest of the run goes on.
- Streams (a fresh process per run, as S3): 100, 1,000 and 5,000 concurrent streams doing the
  **same total work**, 50,000 chunks at 10,000 chunks/s for 5 s: 100 streams of 500 chunks
  every 10 ms, 1,000 of 50 every 100 ms, 5,000 of 10 every 500 ms. What changes is only how
  many streams carry it, so wall / ideal, RSS growth per stream and CPU per chunk show the
  cost of concurrency itself; floor and dosai-async, pools sized to the stream count.
- Batch (a fresh process per run): S5 at 10,000 and 100,000 items, concurrency 64: dosai-
  async ``chat.completions.batch()`` over a generator against the raw floor's ``gather`` +
  semaphore (which creates every task up front); wall, CPU and peak RSS, per item.

Figures derived per run (so their ratios are taken per repetition like the others):
``kb_per_stream``, ``cpu_us_per_chunk``, ``wall_us_per_item``, ``kb_per_item``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from _clients import MAX_CONNECTIONS
from _report import DASH, TIMES, Metric, Record, header, scenario_table, spread

SCALING: dict[str, Any] = {
    "repeat": 3,  # S1
    "fresh_repeat": 1,  # streams and batch: a fresh process per run
    "s1_concurrency": [1, 16, 64, 256, 1024],
    "s1_duration": 0.6,
    "s1_clients": ["floor", "dosai", "openai"],
    "streams": [100, 1_000, 5_000],
    "stream_seconds": 5.0,
    "stream_rate": 10_000,  # chunks/s over all streams together
    "stream_clients": ["floor", "dosai"],
    "batch_items": [10_000, 100_000],
    "batch_concurrency": 64,
    "client_options": {"connect_timeout": 60.0},
    "fresh_limit": 150.0,  # seconds per fresh run
}
SCALING_QUICK: dict[str, Any] = {
    "repeat": 1,
    "s1_duration": 0.3,
    "stream_seconds": 2.0,
    "stream_rate": 5_000,
    "batch_items": [2_000, 20_000],
}
BATCH_ROWS = (("floor-gather", "floor", "gather"), ("dosai-batch", "dosai", "batch"))


class FreshStep(NamedTuple):
    """One run in a fresh process: recorded as ``scenario``/``case``/``row``."""

    scenario: str  # the record's scenario (``S3``, ``scale-streams``, ``scale-batch``)
    case: str
    row: str
    key: str  # the client
    runs: str  # what ``_scenarios.py fresh`` runs: ``S3`` or ``S5``
    params: dict[str, Any]


def stream_params(streams: int, config: dict[str, Any]) -> dict[str, Any]:
    """The same total chunks over ``stream_seconds``, whatever the number of streams."""
    chunks = max(2, round(config["stream_rate"] * config["stream_seconds"] / streams))
    return config["client_options"] | {
        "streams": streams,
        "chunks": chunks,
        "interval": config["stream_seconds"] / chunks,
        "connections": max(MAX_CONNECTIONS, streams),
    }


def fresh_plan(config: dict[str, Any]) -> list[list[FreshStep]]:
    """The streams and batch cases, each a list of one step per client (rotated by the caller)."""
    cases: list[list[FreshStep]] = []
    for streams in config["streams"]:
        params = stream_params(streams, config)
        cases.append([FreshStep("scale-streams", f"{streams:,} streams", key, key, "S3", params)
                      for key in config["stream_clients"]])  # fmt: skip
    for items in config["batch_items"]:
        size = config["client_options"] | {
            "requests": items,
            "concurrency": config["batch_concurrency"],
        }
        case = f"{items:,} items"
        cases.append([FreshStep("scale-batch", case, row, key, "S5", size | {"mode": mode})
                      for row, key, mode in BATCH_ROWS])  # fmt: skip
    return cases


def derived(step: FreshStep, metrics: dict[str, Any]) -> dict[str, Any]:
    """The per-stream and per-item figures of one fresh run."""
    params = step.params
    if step.scenario == "scale-streams":
        chunks = params["streams"] * (params["chunks"] + 1)
        return metrics | {
            "kb_per_stream": metrics["rss_growth_mb"] * 1024 / params["streams"],
            "cpu_us_per_chunk": metrics["cpu_s"] / chunks * 1e6,
        }
    items = params["requests"]
    return metrics | {
        "wall_us_per_item": metrics["wall_s"] / items * 1e6,
        "kb_per_item": metrics["rss_growth_mb"] * 1024 / items,
    }


# -- the report ------------------------------------------------------------------------------

SPECS: dict[str, tuple[str, list[Metric]]] = {
    "S1": (
        "Scaling S1: non-streaming requests, closed loop, by concurrency",
        [
            Metric("rps", "req/s"),
            Metric("p50_ms", "p50 ms"),
            Metric("p99_ms", "p99 ms"),
            Metric("cpu_us_per_request", "client CPU µs/req"),
        ],
    ),
    "scale-streams": (
        "Scaling streams: the same {total:,} chunks in {seconds:g} s over more and more streams",
        [
            Metric("wall_s", "wall s"),
            Metric("wall_vs_ideal", "wall / ideal", ratio=False),
            Metric("rss_growth_mb", "RSS growth MB"),
            Metric("kb_per_stream", "KB per stream"),
            Metric("cpu_us_per_chunk", "client CPU µs/chunk"),
        ],
    ),
    "scale-batch": (
        "Scaling batch: S5 by number of items, concurrency {concurrency}",
        [
            Metric("wall_s", "wall s"),
            Metric("wall_us_per_item", "wall µs/item"),
            Metric("cpu_us_per_request", "client CPU µs/item"),
            Metric("rss_peak_mb", "peak RSS MB"),
            Metric("kb_per_item", "RSS growth KB/item"),
        ],
    ),
}

#: (scenario, metric, label) of the growth summary: the figure at the largest size / smallest.
GROWTH: list[tuple[str, str, str]] = [
    ("S1", "rps", "req/s"),
    ("S1", "cpu_us_per_request", "client CPU µs/req"),
    ("scale-streams", "kb_per_stream", "RSS growth KB per stream"),
    ("scale-streams", "cpu_us_per_chunk", "client CPU µs/chunk"),
    ("scale-streams", "wall_vs_ideal", "wall / ideal"),
    ("scale-batch", "cpu_us_per_request", "client CPU µs/item"),
    ("scale-batch", "wall_us_per_item", "wall µs/item"),
    ("scale-batch", "kb_per_item", "RSS growth KB/item"),
]


def _median_of(records: list[Record], scenario: str, case: str, row: str, metric: str) -> float:
    values = sorted(
        float(r["metrics"][metric])
        for r in records
        if (r["scenario"], r["case"], r["row"]) == (scenario, case, row)
    )
    return values[len(values) // 2] if values else float("nan")


def growth_table(records: list[Record]) -> list[str]:
    """Each client's figure at the smallest and the largest size, and the factor between."""
    lines = [
        "### How cost grows (median at the largest size / median at the smallest)",
        "",
        "| figure | client | smallest | largest | growth |",
        "|---|---|---|---|---|",
    ]
    for scenario, metric, label in GROWTH:
        mine = [r for r in records if r["scenario"] == scenario]
        cases = list(dict.fromkeys(r["case"] for r in mine))
        if len(cases) < 2:
            continue
        first, last = cases[0], cases[-1]
        for row in dict.fromkeys(r["row"] for r in mine):
            low = _median_of(mine, scenario, first, row, metric)
            high = _median_of(mine, scenario, last, row, metric)
            if math.isnan(low) or math.isnan(high) or not low:
                continue  # a size not measured: listed under "Not measured"
            lines.append(
                f"| {label} | {row} | {spread([low])} at {first} | {spread([high])} at {last} "
                f"| {TIMES}{high / low:.2f} |"
            )
    return [*lines, ""]


def scaling_markdown(results: dict[str, Any]) -> str:
    """The scaling document: header, the three tables, the growth summary."""
    config, records = results["config"], results["runs"]
    lines = [
        *header(results, "Scaling results"),
        f"- S1: {config['repeat']} repetition(s) of {config['s1_duration']:g} s per case; "
        f"streams and batch: {config['fresh_repeat']} run(s) each in a fresh process; clients "
        f"interleaved, order rotated; cells are median (min{DASH}max); `{TIMES} floor` is the "
        "ratio to the floor of the same repetition",
    ]
    if config["quick"]:
        lines.append("- **--quick**: reduced sizes, a smoke test; not the figures to quote")
    lines.append("")
    table_params = {
        "scale-streams": {"total": round(config["stream_rate"] * config["stream_seconds"]),
                          "seconds": config["stream_seconds"]},
        "scale-batch": {"concurrency": config["batch_concurrency"]},
    }  # fmt: skip
    for scenario, spec in SPECS.items():
        lines += scenario_table(records, scenario, table_params.get(scenario, {}), spec)
    lines += growth_table(records)
    if results.get("notes"):
        lines += ["Not measured:", "", *(f"- {note}" for note in results["notes"]), ""]
    return "\n".join(lines)
