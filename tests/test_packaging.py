"""What the wheel and sdist are built from: the license, the project links, the sdist's files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def project() -> dict[str, Any]:
    """pyproject.toml as data."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


def test_the_license_is_mit_and_declared() -> None:
    """LICENSE is the MIT text for the contributors, and pyproject ships it (wheel and sdist)."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 dosai-async contributors\n")
    data = project()
    assert (data["project"]["license"], data["project"]["license-files"]) == ("MIT", ["LICENSE"])
    assert "LICENSE" in data["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_the_project_links_to_its_docs_source_issues_and_changelog() -> None:
    """PyPI's sidebar links: the docs site, and the repository's source, issues and changelog."""
    urls = project()["project"]["urls"]
    assert urls["Homepage"] == "https://docs.dos.ai"
    repo = "https://github.com/dosai/dosai-async"
    assert (urls["Source"], urls["Issues"]) == (repo, f"{repo}/issues")
    assert urls["Changelog"] == f"{repo}/blob/main/CHANGELOG.md"


def test_the_sdist_carries_the_tests_and_their_data() -> None:
    """The suite runs from an unpacked sdist: tests/ (with tests/data) and .ci/ are in it."""
    include = project()["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    assert {"dosai_async", "tests", "examples", "README.md", ".ci"} <= set(include)
    assert (ROOT / "tests" / "data" / "ORIGIN.md").is_file()


def test_every_runtime_dependency_has_a_floor() -> None:
    """Each runtime dependency says `>=`, so CI can install and test its lowest version."""
    for requirement in project()["project"]["dependencies"]:
        assert ">=" in requirement, requirement
