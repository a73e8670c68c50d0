"""The pytest plugin as users get it: a separate pytest run that uses its fixtures.

The plugin is loaded by the `pytest11` entry point once the package is installed, or with
`-p dosai_async.testing.pytest_plugin` before that (never both: pluggy refuses to register
one module under two names).
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import dosai_async.testing

ROOT = Path(dosai_async.testing.__file__).resolve().parents[2]

USER_TESTS = '''
import json
import urllib.request

import aiohttp
import pytest


@pytest.mark.asyncio
async def test_async_fixture(dosai_emulator):
    """The async fixture yields a started emulator."""
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {dosai_emulator.api_key}"}
        async with http.get(dosai_emulator.base_url + "/models", headers=headers) as r:
            assert r.status == 200


@pytest.mark.dosai_emulator(api_key="dos_sk_marked")
def test_marker_configures_the_thread_fixture(dosai_emulator_thread):
    """The marker passes constructor arguments; the thread fixture serves sync code."""
    assert dosai_emulator_thread.api_key == "dos_sk_marked"
    headers = {"Authorization": "Bearer dos_sk_marked"}
    request = urllib.request.Request(dosai_emulator_thread.base_url + "/models", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)["object"] == "list"
'''


def _installed() -> bool:
    """True when the entry point already loads the plugin."""
    return any(
        ep.name == "dosai_emulator" for ep in importlib.metadata.entry_points(group="pytest11")
    )


def test_plugin_fixtures_and_marker_work_in_a_user_test_run(tmp_path: Path) -> None:
    """Both fixtures and the marker work under --strict-markers and warnings as errors."""
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    plugin = [] if _installed() else ["-p", "dosai_async.testing.pytest_plugin"]
    options = ["-o", "asyncio_default_fixture_loop_scope=function", "--strict-markers"]
    command = [sys.executable, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [*command, *plugin, *options, "test_user.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
