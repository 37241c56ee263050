"""Fetching the vendor's next page while the database writes the current one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

_ITEM, _END, _ERROR = "item", "end", "error"
# How long leaving the block waits for a fetch in flight; the thread is a daemon and drops
# whatever it fetches after the block is left.
_JOIN_SECONDS = 1.0


class Prefetch[Item]:
    """Iterate ``items`` in a background thread, at most ``ahead`` items ahead.

    Items come out in order; an exception raised while producing them is raised here, after
    the items before it. Leaving the ``with`` block stops the producer. The producer must not
    use the database: its thread has no connection of the caller's transaction.
    """

    def __init__(self, items: Iterator[Item], *, ahead: int = 1):
        self._items = items
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=ahead)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="prefetch", daemon=True)

    def __enter__(self) -> Prefetch[Item]:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        while True:  # unblock a producer waiting for room
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(_JOIN_SECONDS)

    def __iter__(self) -> Iterator[Item]:
        while True:
            kind, value = self._queue.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put(_ITEM, item):
                    return
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(_ERROR, error)
        else:
            self._put(_END, None)

    def _put(self, kind: str, value: object) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False
