"""`python -m realtime`: the realtime service (Cloud Run sets PORT).

The event loop is uvloop when it is installed (the container installs it: about twice the frames per
CPU-second of asyncio's own loop in bench/realtime.py); REALTIME_LOOP=asyncio picks the standard loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from realtime.config import ConfigError, Settings


def event_loop_runner(name: str | None = None) -> tuple[str, Callable[[Coroutine[Any, Any, None]], None]]:
    """("uvloop", uvloop.run) when wanted and installed, else ("asyncio", asyncio.run)."""
    if (name or os.environ.get("REALTIME_LOOP", "uvloop")) == "uvloop":
        try:
            import uvloop

            return "uvloop", uvloop.run
        except ImportError:
            pass
    return "asyncio", asyncio.run


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"realtime: configuration error: {exc}", file=sys.stderr)
        return 2
    from realtime.app import run

    loop_name, runner = event_loop_runner()
    runner(run(settings, loop_name=loop_name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
