"""``client.messages.batches.wait()`` for the synchronous client (hand-written).

The async ``Batches.wait`` bounds its loop with a cancel scope; a blocking loop cannot be
cancelled from outside, so here the remaining time is checked between retrieves, passed
to each retrieve as its ``deadline``, and the sleeps are cut short at the end. The rest of
``Batches`` is generated from the async code (see ``sluice._sync``).
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Protocol, Unpack

from .._core._exceptions import BatchWaitTimeoutError, DeadlineExceededError
from .._http._requester import RequesterBase, RequestExtras, RequestOptions
from .._resources._batches import MessageBatch, ProgressCallback

__all__ = ["BatchWaiting"]


class _Retrieves(Protocol):
    _requester: RequesterBase[Any]

    def retrieve(self, batch_id: str, **options: Unpack[RequestOptions]) -> MessageBatch: ...


class BatchWaiting:
    """Mixin of the sync ``Batches``: :meth:`wait`."""

    def wait(
        self: _Retrieves,
        batch_id: str,
        *,
        poll_interval: float = 10.0,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        **options: Unpack[RequestExtras],
    ) -> MessageBatch:
        """Poll the batch until its ``processing_status`` is ``"ended"``; return it then.

        Args:
            batch_id: the batch to wait for.
            poll_interval: seconds between two retrieves.
            timeout: give up after this many seconds (``None``: wait as long as it takes;
                the API ends every batch within 24 hours). Each retrieve still has the
                client's request timeout.
            on_progress: called with the batch after every retrieve, the last (ended)
                one included; a plain function.
            options: per-request options for each retrieve (``betas``, ``extra_headers``...).

        Raises:
            BatchWaitTimeoutError: ``timeout`` expired first; ``.batch`` is the last
                batch retrieved. The batch goes on processing.
            TypeError: ``on_progress`` is an async function.
        """
        if poll_interval < 0:
            raise ValueError(f"poll_interval must be >= 0, got {poll_interval}")
        if inspect.iscoroutinefunction(on_progress):
            raise TypeError("on_progress of sluice.Client must be a plain function")
        expires = None if timeout is None else time.monotonic() + timeout
        client_deadline = self._requester.deadline
        last: MessageBatch | None = None
        while True:
            left = None if expires is None else expires - time.monotonic()
            if left is not None and left <= 0:
                break
            # The wait's own end bounds each retrieve, unless the client's deadline is shorter.
            bounds = [d for d in (left, client_deadline) if d is not None]
            try:
                last = self.retrieve(batch_id, **options, deadline=min(bounds, default=None))
            except DeadlineExceededError:
                if expires is None or time.monotonic() < expires:
                    raise  # the client's deadline, not the wait's
                break
            if on_progress is not None:
                on_progress(last)
            if last.processing_status == "ended":
                return last
            left = None if expires is None else expires - time.monotonic()
            if left is not None and left <= poll_interval:
                time.sleep(max(left, 0.0))
                break
            time.sleep(poll_interval)
        assert timeout is not None
        status = "no retrieve completed" if last is None else last.processing_status
        raise BatchWaitTimeoutError(
            f"batch {batch_id} did not end within {timeout} seconds (last status: {status}); "
            f"it keeps processing: wait again or cancel it",
            batch=last,
            timeout=timeout,
        )
