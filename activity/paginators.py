"""A paginator for huge tables: it never counts more than a capped number of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from activity.selectors import within_budget

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most ``COUNT_CAP + 1`` rows, so page numbers past the cap are not offered.

    ``count_is_capped`` tells the template to say "more than N" instead of a number.
    """

    @cached_property
    def count(self) -> int:
        # A filter that matches few rows can make even a capped count read the whole table;
        # past the budget, say "more than the cap".
        count = within_budget(lambda: self.object_list[: COUNT_CAP + 1].count())
        return COUNT_CAP + 1 if count is None else count

    @property
    def count_is_capped(self) -> bool:
        return self.count > COUNT_CAP
