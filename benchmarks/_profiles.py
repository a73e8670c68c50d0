"""``run.py --profile``: one client, one scenario, under a profiler, written to a file.

The scenario runs untimed in a fresh ``_scenarios.py profile`` process against the
benchmark server. The profile goes to ``benchmarks/results/profile-<scenario>-<client>-
<loop>-<UTC timestamp>`` with the profiler's own suffix:

- ``cprofile`` (default): ``.prof``, the ``pstats`` format: ``python -m pstats FILE`` or
  ``snakeviz FILE``; the hot spots (by own time, then cumulative) are printed too;
- ``pyinstrument``: ``.html`` (open it in a browser), its call tree printed;
- ``py-spy``: ``.speedscope.json`` (drop it on https://www.speedscope.app), sampled from
  outside the process at 1 kHz, so without cProfile's per-call overhead (which inflates
  small, frequently called functions); its top frames printed. py-spy starts the profiled
  process itself (``py-spy record -- python ...``): a child may be traced where attaching to
  a running pid is refused. If it cannot sample at all (ptrace denied), this says so and
  falls back to cProfile.
"""

from __future__ import annotations

import collections
import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SUFFIXES = {"cprofile": ".prof", "pyinstrument": ".html", "py-spy": ".speedscope.json"}
VIEW = {
    "cprofile": "python -m pstats {path}   (or: pip install snakeviz; snakeviz {path})",
    "pyinstrument": "open {path} in a browser",
    "py-spy": "drop {path} on https://www.speedscope.app (Left Heavy view)",
}
PY_SPY_RATE = 1000  # samples per second
RUN_FRAME = ("profiled_run", "_scenarios.py")  # the profiled run, after a warm-up run


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def profile_params(scenario: str, config: dict[str, Any]) -> dict[str, Any]:
    """Sizes for a profile: long enough for a few seconds of samples."""
    return {
        "S1": {"concurrency": max(config["s1_concurrency"]), "duration": 3.0},
        "S2": {"chunks": config["s2_chunks"] * 5},
        "S4": {"requests": config["s4_requests"] * 10},
        "S5": {"requests": config["s5_requests"], "concurrency": config["s5_concurrency"],
               "mode": "batch"},
    }[scenario]  # fmt: skip


def profile_path(scenario: str, client: str, loop: str, profiler: str) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    (HERE / "results").mkdir(exist_ok=True)
    name = f"profile-{scenario}-{client}-{loop}-{stamp}{SUFFIXES[profiler]}"
    return HERE / "results" / name


def run_profile(
    command: list[str], env: dict[str, str], profiler: str, path: Path
) -> tuple[str, Path]:
    """Run ``command`` (``_scenarios.py profile KEY URL SCENARIO PARAMS``) under ``profiler``.

    Returns the profiler that produced the file and the file (py-spy may fall back).
    """
    if profiler == "py-spy":
        if _py_spy(command, env, path):
            return profiler, path
        profiler, path = "cprofile", path.with_name(path.name.replace(SUFFIXES["py-spy"], ".prof"))
        log("falling back to cProfile")
    subprocess.run([*command, profiler, str(path)], env=env, check=True)
    return profiler, path


def _py_spy_executable() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def _py_spy(command: list[str], env: dict[str, str], path: Path) -> bool:
    """Sample the profile process with py-spy; False (said why) when it cannot."""
    executable = _py_spy_executable()
    if executable is None:
        log("--profiler py-spy: py-spy is not installed (pip install py-spy)")
        return False
    record = [executable, "record", "--rate", str(PY_SPY_RATE), "--function"]
    record += ["--format", "speedscope"]
    record += ["-o", str(path), "--", *command, "none", "-"]
    done = subprocess.run(record, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not path.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        log(
            f"py-spy could not sample the profile process (exit code {done.returncode}; in a "
            "container, ptrace is usually denied: it needs CAP_SYS_PTRACE, e.g. docker run "
            "--cap-add SYS_PTRACE): " + (" | ".join(tail) or "no output")
        )
        return False
    print(speedscope_summary(path))
    return True


def speedscope_summary(path: Path, top: int = 25) -> str:
    """The functions with the most samples, own (leaf) and total, from a py-spy speedscope
    file: only samples of the profiled run (under ``profiled_run``), not of start-up and the
    warm-up run."""
    data = json.loads(path.read_text())
    names = [(f["name"], Path(f.get("file") or "?").name) for f in data["shared"]["frames"]]
    own: collections.Counter[tuple[str, str]] = collections.Counter()
    total: collections.Counter[tuple[str, str]] = collections.Counter()
    seconds = 0.0
    for profile in data["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            functions = [names[index] for index in stack]
            if RUN_FRAME not in functions:
                continue  # start-up: imports, the interpreter
            seconds += weight
            own[functions[-1]] += weight
            for function in set(functions):
                total[function] += weight
    lines = [f"py-spy: {seconds:.2f} s of samples in the profiled run (warm-up left out)"]
    for title, counter in (("own time (leaf frame)", own), ("total time (on the stack)", total)):
        lines += ["", f"top {top} by {title}:", "   %  function (file)"]
        shown = [(f, w) for f, w in counter.most_common() if counter is own or w < seconds * 0.995]
        for (name, where), weight in shown[:top]:  # not the wrappers on every sample's stack
            lines.append(f"{weight / max(seconds, 1e-9) * 100:5.1f}  {name} ({where})")
    return "\n".join(lines)


def how_to_view(profiler: str, path: Path) -> str:
    return VIEW[profiler].format(path=path)
