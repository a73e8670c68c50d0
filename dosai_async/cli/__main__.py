"""``python -m dosai_async.cli``: the ``dosai`` command."""

from . import main

if __name__ == "__main__":
    raise SystemExit(main())
