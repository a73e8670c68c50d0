"""Results -> Markdown: medians (min-max) over repetitions, and ratios to the floor.

A ratio is always taken within one repetition (client figure / floor figure of the same
repetition, measured minutes apart at most), and only then summarised over repetitions: the
machine is shared, so absolute figures drift while ratios hold.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any, NamedTuple

from _clients import LABELS

Record = dict[str, Any]

FLOOR = "floor"
TIMES = "\u00d7"  # the multiplication sign of ratios
DASH = "\u2013"  # the en dash of min-max ranges

ROW_LABELS: dict[str, str] = {
    **LABELS,
    "dosai-batch": "dosai-async `chat.completions.batch()`",
    "dosai-gather": "dosai-async `create()` + gather + semaphore",
    "floor-gather": "raw aiohttp + orjson, gather + semaphore (baseline)",
    "import-floor": "`import aiohttp, orjson` (what the raw clients import)",
    "import-dosai": "`import dosai_async` (names load on first use)",
    "import-dosai-client": "`import dosai_async` + first use of `AsyncDosAI` (loads the client)",
    "import-openai": "`import openai`",
}


class Metric(NamedTuple):
    key: str
    header: str
    ratio: bool = True  # also show the ratio to the floor


TABLES: dict[str, tuple[str, list[Metric]]] = {
    "S1": (
        "S1: non-streaming requests, closed loop at fixed concurrency",
        [
            Metric("rps", "req/s"),
            Metric("p50_ms", "p50 ms"),
            Metric("p99_ms", "p99 ms"),
            Metric("cpu_us_per_request", "client CPU µs/req"),
        ],
    ),
    "S2": (
        "S2: one stream of {chunks:,} chunks, as fast as the client reads",
        [
            Metric("chunks_per_s", "chunks/s"),
            Metric("cpu_ms_per_1000", "client CPU ms per 1,000 chunks (= µs/chunk)"),
        ],
    ),
    "S3": (
        "S3: {streams:,} concurrent streams, one chunk every {interval_ms:g} ms for {ideal:g} s",
        [
            Metric("wall_s", "wall s"),
            Metric("wall_vs_ideal", "wall / ideal", ratio=False),
            Metric("rss_peak_mb", "peak RSS MB"),
            Metric("rss_growth_mb", "RSS growth MB"),
            Metric("cpu_pct", "client CPU %"),
        ],
    ),
    "S4": (
        "S4: time from the call to the first parsed content delta ({requests} sequential)",
        [Metric("p50_us", "p50 µs"), Metric("p99_us", "p99 µs")],
    ),
    "S5": (
        "S5: {requests:,}-request batch at concurrency {concurrency}",
        [Metric("rps", "req/s"), Metric("cpu_us_per_request", "client CPU µs/req")],
    ),
    "import": (
        "Import time: `python -X importtime`, cumulative, fresh process each run",
        [Metric("ms", "ms")],
    ),
}


# -- numbers ---------------------------------------------------------------------------------


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def spread(values: list[float], prefix: str = "") -> str:
    """``median (min-max)``, or just the value when there is one repetition."""
    if not values:
        return "n/a"
    median = prefix + _number(statistics.median(values))
    if len(values) == 1:
        return median
    return f"{median} ({_number(min(values))}{DASH}{_number(max(values))})"


# -- grouping --------------------------------------------------------------------------------


def _rows(records: Iterable[Record], scenario: str, case: str) -> dict[str, dict[int, Record]]:
    """``{row: {rep: record}}`` for one scenario case, rows in first-seen order."""
    rows: dict[str, dict[int, Record]] = {}
    for record in records:
        if record["scenario"] == scenario and record["case"] == case:
            rows.setdefault(record["row"], {})[record["rep"]] = record
    return rows


def ratios(
    records: list[Record], scenario: str, case: str, row: str, metric: str, base: str
) -> list[float]:
    """``row``'s ``metric`` over ``base``'s, per repetition where both were measured."""
    rows = _rows(records, scenario, case)
    mine, theirs = rows.get(row, {}), rows.get(base, {})
    return [
        mine[rep]["metrics"][metric] / theirs[rep]["metrics"][metric]
        for rep in sorted(mine.keys() & theirs.keys())
        if theirs[rep]["metrics"][metric]
    ]


def _values(rows: dict[str, dict[int, Record]], row: str, metric: str) -> list[float]:
    return [float(record["metrics"][metric]) for _, record in sorted(rows[row].items())]


def _cases(records: list[Record], scenario: str) -> list[str]:
    return list(dict.fromkeys(r["case"] for r in records if r["scenario"] == scenario))


def _base_row(rows: dict[str, dict[int, Record]]) -> str:
    return next(row for row in rows if row.startswith(FLOOR) or row == "import-floor")


# -- tables ----------------------------------------------------------------------------------


def scenario_table(
    records: list[Record],
    scenario: str,
    params: dict[str, Any],
    spec: tuple[str, list[Metric]] | None = None,
) -> list[str]:
    """The Markdown lines of one scenario's table (all its cases); ``spec``: (title, metrics)
    for a scenario not in ``TABLES`` (the scaling mode's)."""
    title, metrics = spec or TABLES[scenario]
    cases = _cases(records, scenario)
    if not cases:
        return []
    multi = len(cases) > 1
    header = ["client"] + (["case"] if multi else [])
    for metric in metrics:
        header.append(metric.header)
        if metric.ratio:
            header.append(f"{TIMES} floor")
    with_server = any("server_cpu_pct" in r for r in records if r["scenario"] == scenario)
    if with_server:
        header.append("server CPU % (median)")
    lines = [f"### {title.format(**params)}", "", _line(header), _line(["---"] * len(header))]
    for case in cases:
        rows = _rows(records, scenario, case)
        base = _base_row(rows)
        for row in rows:
            cells = [ROW_LABELS.get(row, row)] + ([case] if multi else [])
            for metric in metrics:
                cells.append(spread(_values(rows, row, metric.key)))
                if metric.ratio and row == base:
                    cells.append(f"{TIMES}1")
                elif metric.ratio:
                    found = ratios(records, scenario, case, row, metric.key, base)
                    cells.append(spread(found, TIMES))
            if with_server:
                server = [r.get("server_cpu_pct", 0.0) for r in rows[row].values()]
                cells.append(f"{statistics.median(server):.0f}")
            lines.append(_line(cells))
    return [*lines, ""]


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


# -- targets ---------------------------------------------------------------------------------


class Target(NamedTuple):
    label: str
    scenario: str
    case: str
    row: str
    metric: str
    base: str
    limit: float
    at_least: bool  # True: ratio >= limit is met; False: ratio <= limit is met


def targets(s1_cases: list[str]) -> list[Target]:
    """Issue #15's targets for this SDK, as ratios measured by this suite.

    S3 wall time is held to the floor's within 5% (the issue says x1.0; a single S3
    repetition of 10 s per client cannot resolve finer than that).
    """
    s1 = [
        Target(f"S1 req/s at {case} vs floor", "S1", case, "dosai", "rps", FLOOR, 0.85, True)
        for case in s1_cases
    ]
    top = s1_cases[-1] if s1_cases else ""
    return [
        *s1,
        Target(f"S1 req/s at {top} vs default openai", "S1", top, "dosai", "rps", "openai",
               5.0, True),
        Target("S2 client CPU per chunk vs floor", "S2", "", "dosai", "cpu_ms_per_1000", FLOOR,
               2.0, False),
        Target("S3 wall vs ideal", "S3", "", "dosai", "wall_vs_ideal", "", 1.05, False),
        Target("S3 wall vs raw aiohttp (floor)", "S3", "", "dosai", "wall_s", FLOOR, 1.05,
               False),
        Target("S3 RSS growth vs raw aiohttp (floor)", "S3", "", "dosai", "rss_growth_mb", FLOOR,
               1.2, False),
        Target("S4 p50 first delta vs floor", "S4", "", "dosai", "p50_us", FLOOR, 1.15, False),
        Target("S5 batch req/s vs raw baseline", "S5", "", "dosai-batch", "rps", "floor-gather",
               0.85, True),
        Target("import time vs `import openai`", "import", "", "import-dosai-client", "ms",
               "import-openai", 0.5, False),
    ]  # fmt: skip


def target_table(records: list[Record], s1_cases: list[str]) -> list[str]:
    """Each target with the measured median ratio (min-max) and whether it is met."""
    lines = [
        "### Targets (this SDK, medians of per-repetition ratios)",
        "",
        "| target | limit | measured | met |",
        "|---|---|---|---|",
    ]
    for target in targets(s1_cases):
        if target.base:
            found = ratios(
                records, target.scenario, target.case, target.row, target.metric, target.base
            )
        else:
            rows = _rows(records, target.scenario, target.case)
            found = _values(rows, target.row, target.metric) if target.row in rows else []
        if not found:
            continue
        median = statistics.median(found)
        met = median >= target.limit if target.at_least else median <= target.limit
        sign = "≥" if target.at_least else "≤"
        lines.append(
            f"| {target.label} | {sign} {TIMES}{target.limit:g} | {spread(found, TIMES)} "
            f"| {'yes' if met else '**no**'} |"
        )
    return [*lines, ""]


# -- uvloop against the default loop ---------------------------------------------------------

#: Per scenario, the figures compared between loops: (metric, higher is better).
GAINS: dict[str, list[tuple[str, bool]]] = {
    "S1": [("rps", True), ("cpu_us_per_request", False)],
    "S2": [("chunks_per_s", True), ("cpu_ms_per_1000", False)],
    "S3": [("cpu_pct", False)],
    "S4": [("p50_us", False)],
    "S5": [("rps", True), ("cpu_us_per_request", False)],
}
SDK_ROWS = ("dosai", "dosai-batch", "dosai-gather")
GAIN_SHARE = 0.5  # the target: the SDK gains at least half of what the floor gains
NO_GAIN = 0.02  # a floor gain under 2% is noise: no share is computed against it


def record_loop(record: Record) -> str:
    return str(record.get("loop", "default"))


def gains(records: list[Record], scenario: str, case: str, row: str, metric: str,
          higher: bool) -> list[float]:  # fmt: skip
    """Per repetition, how much better ``row`` does under uvloop than under the default loop
    (``x1.2``: 20% more throughput, or 1/1.2 of the cost)."""
    by_loop = {
        loop: {
            r["rep"]: float(r["metrics"][metric])
            for r in records
            if (r["scenario"], r["case"], r["row"]) == (scenario, case, row)
            and record_loop(r) == loop
        }
        for loop in ("default", "uvloop")
    }
    default, uvloop = by_loop["default"], by_loop["uvloop"]
    pairs = [(default[rep], uvloop[rep]) for rep in sorted(default.keys() & uvloop.keys())]
    return [(b / a if higher else a / b) for a, b in pairs if a and b]


def loop_table(records: list[Record]) -> list[str]:
    """Per scenario case and figure: the floor's and the SDK's gain from uvloop, and the
    SDK's gain as a share of the floor's (target: at least half)."""
    lines = [
        "### uvloop against asyncio's default loop (client processes; the server stays on the "
        "default loop)",
        "",
        f"Gain = uvloop figure / default figure per repetition, oriented so that {TIMES}1.25 "
        "means 25% better (more throughput or less cost). Share = (SDK gain - 1) / (floor "
        f"gain - 1): the issue's target is a share ≥ {GAIN_SHARE:g}.",
        "",
        "| scenario | case | figure | floor gain | SDK row | SDK gain | share | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for scenario, figures in GAINS.items():
        for case in _cases(records, scenario):
            rows = _rows(records, scenario, case)
            base = _base_row(rows)
            for metric, higher in figures:
                floor = gains(records, scenario, case, base, metric, higher)
                for row in (r for r in SDK_ROWS if r in rows):
                    sdk = gains(records, scenario, case, row, metric, higher)
                    if floor and sdk:
                        lines.append(_gain_line(scenario, case, metric, row, floor, sdk))
    return [*lines, ""]


def _gain_line(
    scenario: str, case: str, metric: str, row: str, floor: list[float], sdk: list[float]
) -> str:
    floor_gain, sdk_gain = statistics.median(floor), statistics.median(sdk)
    if floor_gain - 1 < NO_GAIN:
        share, met = "n/a", "n/a (no floor gain)"
    else:
        ratio = (sdk_gain - 1) / (floor_gain - 1)
        share, met = f"{ratio:.2f}", "yes" if ratio >= GAIN_SHARE else "**no**"
    figure = next(m.header for m in TABLES[scenario][1] if m.key == metric)
    return _line([scenario, case, figure, spread(floor, TIMES), ROW_LABELS.get(row, row),
                  spread(sdk, TIMES), share, met])  # fmt: skip


# -- the whole document ----------------------------------------------------------------------


def header(results: dict[str, Any], title: str = "Benchmark results") -> list[str]:
    """The heading and the machine, versions, load and loop lines of one run."""
    meta, config = results["meta"], results["config"]
    loops = config.get("loops", ["default"])
    return [
        f"## {title}, {meta['date']}",
        "",
        f"- Machine: {meta['cpu']}, {meta['cores']} cores, {meta['memory_gb']:.0f} GB; "
        f"{meta['platform']}",
        f"- Python {meta['python']}; " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        f"- dosai-async checkout: {meta['commit']}",
        f"- Load average (1 min) at start {meta['load_start']:.2f}, at end {meta['load_end']:.2f}"
        f"; server: {config['server_procs']} process(es) on the same cores as the client; "
        f"the run took {meta['seconds']:.0f} s",
        f"- Event loop of the client processes: {' and '.join(loops)}"
        + (" (interleaved, run by run)" if len(loops) > 1 else "")
        + "; the server always runs on asyncio's default loop",
    ]


def markdown(results: dict[str, Any]) -> str:
    """The Markdown document of one run: header, machine, one table per scenario, targets;
    with two loops, those tables once per loop, then the uvloop gains."""
    config, records = results["config"], results["runs"]
    loops = config.get("loops", ["default"])
    lines = [
        *header(results),
        f"- {config['repeat']} repetition(s) (S3: {config['s3_repeat']}), clients interleaved "
        f"with the order rotated each repetition; cells are median (min{DASH}max); "
        f"`{TIMES} floor` is the ratio to raw aiohttp + orjson in the same repetition",
    ]
    if config["quick"]:
        lines.append("- **--quick**: reduced sizes, a smoke test; not the suite's figures")
    lines.append("")
    for loop in loops:
        if len(loops) > 1:
            lines += [f"## Event loop: {loop}", ""]
        lines += _tables([r for r in records if record_loop(r) == loop], config)
    if len(loops) > 1:
        lines += loop_table(records)
    if results.get("notes"):
        lines += ["Not measured:", "", *(f"- {note}" for note in results["notes"]), ""]
    return "\n".join(lines)


def _tables(records: list[Record], config: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    params = _table_params(config)
    for scenario in TABLES:
        lines += scenario_table(records, scenario, params.get(scenario, {}))
    s1_cases = [f"c={c}" for c in sorted(config["s1_concurrency"])]
    return lines + target_table(records, s1_cases)


def _table_params(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "S2": {"chunks": config["s2_chunks"]},
        "S3": {
            "streams": config["s3_streams"],
            "interval_ms": config["s3_interval"] * 1e3,
            "ideal": config["s3_chunks"] * config["s3_interval"],
        },
        "S4": {"requests": config["s4_requests"]},
        "S5": {"requests": config["s5_requests"], "concurrency": config["s5_concurrency"]},
    }
