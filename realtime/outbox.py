"""A connection's bounded send queue and its per-connection rate limits.

Two lanes: motion frames, where only the newest matter, so a full lane drops its oldest frame; and
everything else (chat, room events, errors), which is never dropped: when that lane is full the
client is not reading, and the connection is closed as too slow. The writer sends the other lane
first, so a chat line or a `left` is not stuck behind a backlog of motion.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class Overflow(Exception):
    """The never-dropped lane is full: the client is too slow."""


class Outbox:
    def __init__(self, motion_max: int, other_max: int) -> None:
        self.motion: deque[str] = deque()
        self.other: deque[str | None] = deque()  # None: close after what is queued before it
        self.motion_max = motion_max
        self.other_max = other_max
        self.dropped = 0
        self._ready = asyncio.Event()

    def put_motion(self, data: str) -> None:
        if len(self.motion) >= self.motion_max:
            self.motion.popleft()
            self.dropped += 1
        self.motion.append(data)
        self._ready.set()

    def put(self, data: str) -> None:
        if len(self.other) >= self.other_max:
            raise Overflow
        self.other.append(data)
        self._ready.set()

    def put_close(self) -> None:
        """Ask the writer to stop after sending what is queued on the other lane."""
        self.other.append(None)
        self._ready.set()

    async def wait(self) -> None:
        while not (self.other or self.motion):
            self._ready.clear()
            await self._ready.wait()

    def take(self) -> tuple[list[str | None], list[str]]:
        """Everything queued, other lane first (one wake-up of the writer sends a whole batch)."""
        other, motion = list(self.other), list(self.motion)
        self.other.clear()
        self.motion.clear()
        return other, motion

    def __len__(self) -> int:
        return len(self.other) + len(self.motion)


class TokenBucket:
    """`rate` tokens per second up to `burst`; `take()` is False when the bucket is empty."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.clock = clock
        self.stamp = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
