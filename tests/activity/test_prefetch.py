"""The page prefetcher: order kept, errors raised in their place, the producer stopped."""

from __future__ import annotations

import threading

import pytest

from activity.sync.prefetch import Prefetch


def test_items_come_out_in_order_and_an_error_after_the_items_before_it():
    def produce():
        yield from range(5)
        raise ValueError("vendor went away")

    seen = []
    with Prefetch(produce()) as items, pytest.raises(ValueError, match="vendor went away"):
        for item in items:
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_leaving_early_stops_the_producer_at_most_a_few_items_ahead():
    produced = []

    def produce():
        for number in range(1000):
            produced.append(number)
            yield number

    with Prefetch(produce(), ahead=1) as items:
        for item in items:
            if item == 3:
                break
    assert len(produced) <= 3 + 3  # the one handed out, one queued, one being made


def test_the_producer_runs_in_another_thread():
    threads = []

    def produce():
        threads.append(threading.current_thread())
        yield 1

    with Prefetch(produce()) as items:
        assert list(items) == [1]
    assert threads[0] is not threading.current_thread()
