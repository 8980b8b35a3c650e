"""One instance of an expensive object per process, created on first use (thread-safe)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """`Lazy(factory)()` builds the value once, under a lock, and returns it afterwards.

    gunicorn serves a function with several threads, so two first requests may race; and gRPC
    clients must be created after any fork, which "on first use" guarantees.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
                value = self._value
        return value

    def reset(self) -> None:
        with self._lock:
            self._value = None

    @property
    def created(self) -> bool:
        return self._value is not None
