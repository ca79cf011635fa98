"""Log a recurring problem once per interval instead of once per dispatch.

A broken provider or sink fails on every call; logging each failure would flood the logs
(and the logging sink itself) exactly when the service is already in trouble.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class ThrottledLog:
    """Emit at most one log line per key and interval, counting what was suppressed."""

    __slots__ = ("_clock", "_interval", "_lock", "_logger", "_max_keys", "_next_at", "_suppressed")

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1024,
    ) -> None:
        """``max_keys`` bounds the memory: past it, keys whose interval is over are forgotten
        (they would log anyway), then the oldest."""
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._next_at: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def log(
        self,
        key: str,
        level: int,
        message: str,
        *args: object,
        exc_info: BaseException | None = None,
    ) -> bool:
        """Log ``message`` unless ``key`` was logged less than ``interval`` ago; True if logged."""
        now = self._clock()
        with self._lock:
            if now < self._next_at.get(key, float("-inf")):
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            if key not in self._next_at and len(self._next_at) >= self._max_keys:
                self._forget_some(now)
            self._next_at[key] = now + self._interval
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            message += " (%d similar events suppressed in the last interval)"
            args = (*args, suppressed)
        self._logger.log(level, message, *args, exc_info=exc_info)
        return True

    def _forget_some(self, now: float) -> None:
        expired = [k for k, at in self._next_at.items() if at <= now]
        for k in expired or list(self._next_at)[: max(1, self._max_keys // 4)]:
            del self._next_at[k]
            self._suppressed.pop(k, None)

    def reset(self, key: str) -> None:
        """Forget ``key`` so the next occurrence is logged at once (used when a problem clears)."""
        with self._lock:
            self._next_at.pop(key, None)
            self._suppressed.pop(key, None)
