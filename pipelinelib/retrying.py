"""Retries of HTTP calls: urllib3's :class:`~urllib3.util.retry.Retry`, mounted on a
``requests`` session, with the schedule and reporting the pipelinelib clients promise.

urllib3 counts the attempts, tells connection, read and status errors apart and decides what
may be retried; :class:`BackoffRetry` only adds what urllib3 does not offer:

* the wait before retry ``n`` (1-based) is ``backoff_factor * 2 ** (n - 1)`` seconds, capped at
  ``backoff_max`` (urllib3 2.x waits 0 s before the first retry);
* the waits go through an injectable ``sleep`` (tests follow the schedule without waiting);
* each retry is reported to ``on_retry(url, retry_number, delay_seconds, reason)``;
* the retried statuses may depend on the method (``statuses_for``): Jenkins retries a 500 on
  reads only;
* ``retry_read_timeouts=False`` gives up on a read timeout (the call stays bounded by its
  timeout) while a connection reset is still retried.

Imported only by the HTTP clients (requests and urllib3 are heavy for the CLI's start-up).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

RetryReport = Callable[[str, int, float, str], None]


class BackoffRetry(Retry):
    """See the module docstring; every other argument is urllib3's ``Retry``'s."""

    def __init__(
        self,
        *args: Any,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: RetryReport | None = None,
        statuses_for: Callable[[str], Collection[int]] | None = None,
        retry_read_timeouts: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sleep_function = sleep
        self.on_retry = on_retry
        self.statuses_for = statuses_for
        self.retry_read_timeouts = retry_read_timeouts

    def new(self, **kwargs: Any) -> BackoffRetry:
        new = super().new(**kwargs)
        new.sleep_function = self.sleep_function
        new.on_retry = self.on_retry
        new.statuses_for = self.statuses_for
        new.retry_read_timeouts = self.retry_read_timeouts
        return new

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if self.statuses_for is None:
            return super().is_retry(method, status_code, has_retry_after)
        if not self._is_method_retryable(method):
            return False
        return bool(self.total) and status_code in self.statuses_for(method.upper())

    def increment(self, *args: Any, **kwargs: Any) -> BackoffRetry:
        error = kwargs.get("error")
        if not self.retry_read_timeouts and isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(*args, **kwargs)

    def get_backoff_time(self) -> float:
        retries = len(self.history)
        if retries == 0 or self.backoff_factor <= 0:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (retries - 1)))

    def sleep(self, response: Any = None) -> None:
        delay = self.get_backoff_time()
        if self.on_retry is not None and self.history:
            last = self.history[-1]
            reason = f"HTTP {last.status}" if last.status else type(last.error).__name__
            self.on_retry(last.url or "", len(self.history), delay, reason)
        if delay > 0:
            self.sleep_function(delay)
