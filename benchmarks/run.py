"""Side-by-side benchmark of dosai-async against the clients users would pick instead.

Run: ``python benchmarks/run.py`` (about 3 minutes; ``--quick`` for a smoke run of about 30
seconds, ``--scenarios S1,S2`` for a subset). It starts a local OpenAI-compatible server in
a separate process on 127.0.0.1, runs every scenario with every client interleaved (order
rotated each repetition), prints a Markdown table, and writes it to
``benchmarks/RESULTS.md`` and the raw figures to ``benchmarks/results/<timestamp>.json``.
See ``benchmarks/README.md`` for what each scenario measures and how to read the ratios.

Other modes: ``--uvloop`` (the client processes on uvloop), ``--loops default,uvloop`` (both,
interleaved, with each client's gain from uvloop), ``--profile S2`` (a profile file of one
client, ``_profiles.py``) and ``--scaling`` (cost by concurrency, streams and batch size,
``_scaling.py``).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
from _clients import CLIENTS
from _profiles import how_to_view, profile_params, profile_path, run_profile
from _report import Record, markdown
from _scaling import SCALING, SCALING_QUICK, FreshStep, derived, fresh_plan, scaling_markdown
from _scenarios import LOOP_ENV, LOOPS, Metrics, Worker, import_time_ms, run_fresh
from _server import ServerGroup, raise_fd_limit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ALL_SCENARIOS = ("S1", "S2", "S3", "S4", "S5", "import")

DEFAULTS: dict[str, Any] = {
    "repeat": 5,
    "s3_repeat": 1,
    "s1_concurrency": [1, 64, 256],
    "s1_duration": 0.6,
    "s2_chunks": 20_000,
    "s3_streams": 1_000,
    "s3_chunks": 200,
    "s3_interval": 0.05,
    "s4_requests": 300,
    "s5_requests": 10_000,
    "s5_concurrency": 64,
    "import_runs": 5,
}
QUICK: dict[str, Any] = {
    "repeat": 1,
    "s1_duration": 0.3,
    "s2_chunks": 5_000,
    "s3_streams": 200,
    "s3_chunks": 40,
    "s4_requests": 100,
    "s5_requests": 2_000,
    "import_runs": 3,
}
IMPORT_ROWS = {
    "import-floor": ("aiohttp", "orjson"),
    "import-dosai": ("dosai_async",),
    # The front door loads names on first use: what a program pays to get the client.
    "import-dosai-client": ("dosai_async", "dosai_async._client"),
    "import-openai": ("openai",),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- what to run -----------------------------------------------------------------------------


Step = tuple[str, str, str, dict[str, Any]]  # (case, row, client key, scenario params)


def plan(scenario: str, config: dict[str, Any], clients: list[str]) -> list[list[Step]]:
    """The scenario's cases, each a list of one step per row (rotated by the caller)."""
    if scenario == "S1":
        options = config.get("client_options", {})  # the scaling mode's (_clients.Options)
        return [
            [(f"c={c}", key, key, options | {"concurrency": c, "duration": config["s1_duration"]})
             for key in clients]
            for c in config["s1_concurrency"]
        ]  # fmt: skip
    if scenario == "S2":
        return [[("", key, key, {"chunks": config["s2_chunks"]}) for key in clients]]
    if scenario == "S4":
        return [[("", key, key, {"requests": config["s4_requests"]}) for key in clients]]
    if scenario == "S5":
        size = {"requests": config["s5_requests"], "concurrency": config["s5_concurrency"]}
        rows = [("floor-gather", "floor", "gather"), ("dosai-batch", "dosai", "batch"),
                ("dosai-gather", "dosai", "gather")]  # fmt: skip
        return [[("", row, key, size | {"mode": mode}) for row, key, mode in rows]]
    raise ValueError(scenario)


def rotated(steps: list[Any], rep: int) -> list[Any]:
    """The same steps, starting one further along each repetition."""
    shift = rep % len(steps)
    return steps[shift:] + steps[:shift]


# -- measuring -------------------------------------------------------------------------------


class ServerCPU:
    """CPU % of the server process(es) (of one core) over one measurement."""

    def __init__(self, pids: list[int]) -> None:
        self._processes = [psutil.Process(pid) for pid in pids]

    def _seconds(self) -> float:
        return sum(sum(p.cpu_times()[:2]) for p in self._processes)  # user + system

    def measure(self, run: Callable[[], Metrics]) -> tuple[Metrics, float]:
        cpu, wall = self._seconds(), time.perf_counter()
        metrics = run()
        return metrics, (self._seconds() - cpu) / (time.perf_counter() - wall) * 100


def _headline(metrics: Metrics) -> str:
    return ", ".join(f"{key}={value:,.3g}" for key, value in metrics.items())


def run_in_workers(
    config: dict[str, Any],
    scenarios: list[str],
    clients: list[str],
    server: ServerGroup,
    notes: list[str],
) -> Iterator[Record]:
    """S1, S2, S4, S5: each client in its own long-lived worker, interleaved.

    With two loops, each client has a worker per loop, and a client's runs on the two loops
    follow each other (so that its gain from uvloop is measured minutes apart at most).
    """
    loops: list[str] = config["loops"]
    needed = set(clients) | ({"floor", "dosai"} if "S5" in scenarios else set())
    workers: dict[tuple[str, str], Worker] = {}
    for key in (key for key in CLIENTS if key in needed):
        for loop in loops:
            try:
                workers[key, loop] = Worker(key, server.base_url, child_env(loop))
            except RuntimeError as exc:  # e.g. openai not installed: the others still run
                notes.append(f"{key} ({loop} loop): not measured ({exc})")
                log(f"{key} ({loop} loop): worker failed to start: {exc}")
    cpu = ServerCPU([p.pid for p in server.processes if p.pid is not None])
    failed: set[tuple[str, str, str]] = set()
    try:
        for rep in range(config["repeat"]):
            for scenario in scenarios:
                for steps in plan(scenario, config, clients):
                    looped = [(*step, loop) for step in steps for loop in loops]
                    for case, row, key, params, loop in rotated(looped, rep):
                        if (scenario, row, loop) in failed or (key, loop) not in workers:
                            continue
                        where = f"[{scenario} {case} rep {rep + 1}/{config['repeat']}] {row}"
                        where += f" [{loop}]" if len(loops) > 1 else ""
                        try:
                            run = functools.partial(workers[key, loop].run, scenario, **params)
                            metrics, server_pct = cpu.measure(run)
                        except RuntimeError as exc:
                            failed.add((scenario, row, loop))
                            notes.append(f"{scenario} {row} ({loop} loop): not measured ({exc})")
                            log(f"{where}: FAILED {exc}")
                            continue
                        log(f"{where}: {_headline(metrics)}, server {server_pct:.0f}%")
                        yield _record(scenario, case, row, key, rep, params, metrics, server_pct,
                                      loop)  # fmt: skip
    finally:
        for worker in workers.values():
            worker.close()


def run_fresh_steps(
    cases: list[list[FreshStep]],
    repeat: int,
    loops: list[str],
    server: ServerGroup,
    notes: list[str],
    limit: float = 900.0,
) -> Iterator[Record]:
    """Each step in a fresh process (so its peak RSS is its own), clients rotated per case;
    a run still going after ``limit`` seconds is stopped and noted."""
    cpu = ServerCPU([p.pid for p in server.processes if p.pid is not None])
    failed: set[tuple[str, str, str, str]] = set()
    for rep in range(repeat):
        for steps in cases:
            for step, loop in rotated([(step, loop) for step in steps for loop in loops], rep):
                if (step.scenario, step.case, step.row, loop) in failed:
                    continue
                where = f"[{step.scenario} {step.case} rep {rep + 1}/{repeat}] {step.row}"
                where += f" [{loop}]" if len(loops) > 1 else ""
                env = child_env(loop)
                run = functools.partial(run_fresh, step.key, server.base_url, env, step.runs,
                                        step.params, limit)  # fmt: skip
                try:
                    metrics, server_pct = cpu.measure(run)
                except RuntimeError as exc:
                    failed.add((step.scenario, step.case, step.row, loop))
                    notes.append(f"{step.scenario} {step.case} {step.row}: not measured ({exc})")
                    log(f"{where}: FAILED {exc}")
                    continue
                if step.scenario.startswith("scale-"):
                    metrics = derived(step, metrics)
                log(f"{where}: {_headline(metrics)}, server {server_pct:.0f}%")
                yield _record(step.scenario, step.case, step.row, step.key, rep, step.params,
                              metrics, server_pct, loop)  # fmt: skip


def run_s3_all(
    config: dict[str, Any], clients: list[str], server: ServerGroup, notes: list[str]
) -> Iterator[Record]:
    """S3: each client in a fresh process per run (so its peak RSS is its own)."""
    params = {k: config[f"s3_{k}"] for k in ("streams", "chunks", "interval")}
    steps = [FreshStep("S3", "", key, key, "S3", params) for key in clients]
    yield from run_fresh_steps([steps], config["s3_repeat"], config["loops"], server, notes)


def run_imports(config: dict[str, Any]) -> Iterator[Record]:
    """Import time of each package in fresh interpreters (one unrecorded warm-up each).

    Bytecode is cached for every package alike, in a temporary ``PYTHONPYCACHEPREFIX``
    (nothing written into the checkout), even where ``PYTHONDONTWRITEBYTECODE`` is set: a
    package compiled from source on every run would be measured at its compile time.
    """
    rows = list(IMPORT_ROWS.items())
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        env = child_env() | {"PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for _, modules in rows:
            import_time_ms(modules, env)  # bytecode compiled, the files in the page cache
        for rep in range(config["import_runs"]):
            for row, modules in rotated(rows, rep):
                ms = import_time_ms(modules, env)
                log(f"[import rep {rep + 1}/{config['import_runs']}] {row}: {ms:.1f} ms")
                # No event loop runs here: filed under the first loop's tables.
                yield _record("import", "", row, row, rep, {"modules": modules}, {"ms": ms}, None,
                              config["loops"][0])  # fmt: skip


def _record(
    scenario: str,
    case: str,
    row: str,
    client: str,
    rep: int,
    params: dict[str, Any],
    metrics: Metrics,
    server_pct: float | None,
    loop: str,
) -> Record:
    record: Record = {
        "scenario": scenario,
        "case": case,
        "row": row,
        "client": client,
        "loop": loop,
        "rep": rep,
        "params": params,
        "metrics": metrics,
    }
    if server_pct is not None:
        record["server_cpu_pct"] = server_pct
    return record


# -- environment -----------------------------------------------------------------------------


def child_env(loop: str = "default") -> dict[str, str]:
    """Children import ``dosai_async`` from this checkout, installed or not, and run their
    event loops on ``loop`` (``_scenarios.run_async`` reads ``BENCH_LOOP``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env[LOOP_ENV] = loop
    return env


def machine() -> dict[str, Any]:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": psutil.virtual_memory().total / 2**30,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": _versions(),
        "commit": _commit(),
        "load_start": os.getloadavg()[0],
    }


def _versions() -> dict[str, str]:
    versions = {"dosai-async": _checkout_version()}
    names = ("openai", "httpx2", "httpx", "aiohttp", "orjson", "pydantic", "attrs", "cattrs",
             "uvloop")  # fmt: skip
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _checkout_version() -> str:
    """``dosai_async.__version__`` of this checkout (the public attribute, in a child: the
    package may not be installed, and its private modules may move)."""
    statement = "import dosai_async; print(dosai_async.__version__)"
    done = subprocess.run([sys.executable, "-c", statement], env=child_env(), capture_output=True,
                          text=True, check=False)  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else "?"


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" + uncommitted changes" if git("status", "--porcelain") else "")


# -- command line ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced sizes, 1 repetition")
    parser.add_argument(
        "--scenarios",
        default=",".join(ALL_SCENARIOS),
        help="comma-separated subset of " + ",".join(ALL_SCENARIOS),
    )
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help="comma-separated subset of " + ",".join(CLIENTS),
    )
    parser.add_argument("--repeat", type=int, help="repetitions (default 5; --scaling: 3, of S1)")
    parser.add_argument(
        "--s3-repeat",
        type=int,
        help="S3 repetitions (default 1: 10 s each); --scaling: runs of each streams/batch case",
    )
    parser.add_argument(
        "--server-procs",
        type=int,
        default=1,
        help="server processes sharing the port (SO_REUSEPORT)",
    )
    loop = parser.add_mutually_exclusive_group()
    loop.add_argument(
        "--uvloop", action="store_true", help="run the client processes on uvloop (not the server)"
    )
    loop.add_argument(
        "--loops",
        metavar="default,uvloop",
        help="run on each of these loops, interleaved, and report each client's gain from uvloop",
    )
    parser.add_argument(
        "--update-readme", action="store_true", help="also put the table into benchmarks/README.md"
    )
    parser.add_argument("--no-write", action="store_true", help="print only, write no files")
    parser.add_argument(
        "--profile",
        metavar="SCENARIO",
        choices=("S1", "S2", "S4", "S5"),
        help="instead of the suite: profile one client on S1 (c=256), S2, S4 or S5, "
        "written to benchmarks/results/profile-*",
    )
    parser.add_argument("--profile-client", default="dosai", help="client to profile")
    parser.add_argument(
        "--profiler",
        choices=("cprofile", "pyinstrument", "py-spy"),
        default="cprofile",
        help="pyinstrument and py-spy must be installed separately",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="instead of the suite: S1 by concurrency, streams by count, batch by size",
    )
    return parser.parse_args(argv)  # fmt: skip


def configure(args: argparse.Namespace) -> dict[str, Any]:
    if args.scaling:
        config = SCALING | (SCALING_QUICK if args.quick else {})
        if args.s3_repeat:
            config["fresh_repeat"] = args.s3_repeat
    else:
        config = DEFAULTS | (QUICK if args.quick else {})
        if args.s3_repeat:
            config["s3_repeat"] = args.s3_repeat
    if args.repeat:
        config["repeat"] = args.repeat
    loops = _selection(args.loops, LOOPS, "loop") if args.loops else []
    loops = loops or (["uvloop"] if args.uvloop else ["default"])
    if "uvloop" in loops and importlib.util.find_spec("uvloop") is None:
        raise SystemExit("uvloop is not installed: pip install 'uvloop>=0.19' (or drop --uvloop)")
    return config | {"quick": args.quick, "server_procs": args.server_procs, "loops": loops}


def _selection(raw: str, allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    chosen = [item.strip() for item in raw.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return [item for item in allowed if item in chosen]


def profile(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Run one scenario for one client under a profiler (untimed): hot spots and a file."""
    if len(config["loops"]) > 1:
        raise SystemExit("--profile runs on one loop: --uvloop or neither, not --loops")
    loop = config["loops"][0]
    params = profile_params(args.profile, config)
    path = profile_path(args.profile, args.profile_client, loop, args.profiler)
    with ServerGroup(args.server_procs) as server:
        command = [sys.executable, str(HERE / "_scenarios.py"), "profile", args.profile_client]
        command += [server.base_url, args.profile, json.dumps(params)]
        profiler, path = run_profile(command, child_env(loop), args.profiler, path)
    log(f"wrote {path.relative_to(ROOT)} ({profiler}, {loop} loop); to explore it:")
    log("  " + how_to_view(profiler, path.relative_to(ROOT)))


def run_scaling(config: dict[str, Any], server: ServerGroup, notes: list[str]) -> list[Record]:
    """The scaling mode: S1 in workers by concurrency, then streams and batches fresh."""
    records = list(run_in_workers(config, ["S1"], config["s1_clients"], server, notes))
    cases = fresh_plan(config)
    records += run_fresh_steps(cases, config["fresh_repeat"], config["loops"], server, notes,
                               config["fresh_limit"])  # fmt: skip
    return records


def run_suite(
    config: dict[str, Any], scenarios: list[str], clients: list[str], server: ServerGroup,
    notes: list[str],
) -> list[Record]:  # fmt: skip
    records: list[Record] = []
    in_workers = [s for s in scenarios if s in ("S1", "S2", "S4", "S5")]
    if in_workers:
        records += run_in_workers(config, in_workers, clients, server, notes)
    if "S3" in scenarios:
        records += run_s3_all(config, clients, server, notes)
    return records


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = configure(args)
    if args.profile:
        profile(args, config)
        return
    if args.scaling and len(config["loops"]) > 1:
        raise SystemExit("--scaling runs on one loop (--uvloop or not): run it once per loop")
    scenarios = _selection(args.scenarios, ALL_SCENARIOS, "scenario")
    clients = _selection(args.clients, list(CLIENTS), "client")
    if "floor" not in clients:
        raise SystemExit("the floor client is needed: every ratio is taken against it")
    raise_fd_limit()
    meta = machine()
    if meta["load_start"] > 0.5 * (meta["cores"] or 1):
        log(f"note: load average {meta['load_start']:.2f}; ratios hold, absolute figures drift")
    started = time.perf_counter()
    notes: list[str] = []
    with ServerGroup(args.server_procs) as server:
        if args.scaling:
            records = run_scaling(config, server, notes)
        else:
            records = run_suite(config, scenarios, clients, server, notes)
    if "import" in scenarios and not args.scaling:
        records += run_imports(config)
    meta["load_end"] = os.getloadavg()[0]
    meta["seconds"] = time.perf_counter() - started
    results = {"meta": meta, "config": config, "runs": records, "notes": notes}
    table = scaling_markdown(results) if args.scaling else markdown(results)
    print(table)
    if args.no_write:
        pass
    elif args.scaling:
        _write_scaling(results, table)
    else:
        # RESULTS.md (and the README) only ever hold a full run on the default loop: a
        # quick, partial or uvloop run leaves them alone and only writes its JSON.
        full = not args.quick and scenarios == list(ALL_SCENARIOS) and clients == list(CLIENTS)
        full = full and config["loops"] == ["default"]
        _write(results, table, full=full, update_readme=args.update_readme and full)
    log(f"done in {meta['seconds']:.0f} s")


def _stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _write_scaling(results: dict[str, Any], table: str) -> None:
    """``results/scaling-<stamp>.md`` and ``.json`` (both gitignored)."""
    (HERE / "results").mkdir(exist_ok=True)
    base = HERE / "results" / f"scaling-{_stamp()}"
    base.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    base.with_suffix(".md").write_text(table + "\n")
    log(f"wrote {base.relative_to(ROOT)}.md and .json")


def _write(results: dict[str, Any], table: str, *, full: bool, update_readme: bool) -> None:
    (HERE / "results").mkdir(exist_ok=True)
    json_path = HERE / "results" / f"{_stamp()}.json"
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    log(f"wrote {json_path.relative_to(ROOT)}")
    if not full:
        log("not a full run on the default loop (--quick, a subset, or uvloop): RESULTS.md and "
            "the README left as they are")  # fmt: skip
        return
    (HERE / "RESULTS.md").write_text(table + "\n")
    log("wrote benchmarks/RESULTS.md")
    if update_readme:
        readme = HERE / "README.md"
        text = readme.read_text()
        demoted = re.sub(r"^(#+) ", r"#\1 ", table, flags=re.M)  # under "## Latest results"
        block = f"<!-- results:start -->\n{demoted}\n<!-- results:end -->"
        updated = re.sub(r"<!-- results:start -->.*<!-- results:end -->", lambda _: block, text,
                         flags=re.S)  # fmt: skip
        readme.write_text(updated)
        log("updated benchmarks/README.md")


if __name__ == "__main__":
    main()
