"""Print a pip constraints file pinning each runtime dependency to its ``>=`` floor.

``aiohttp>=3.11`` becomes ``aiohttp==3.11`` (pip reads it as 3.11.0). A runtime dependency
without a ``>=`` floor is an error: CI could not test its lowest version.
"""

from __future__ import annotations

import re
import sys
import tomllib

FLOOR = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,.*)?$")


def main(path: str) -> int:
    with open(path, "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    for requirement in dependencies:
        found = FLOOR.match(requirement.split(";")[0].strip())
        if found is None:
            print(f"floors.py: {requirement!r} has no >= floor", file=sys.stderr)
            return 1
        print(f"{found[1]}=={found[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
