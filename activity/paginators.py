"""A paginator for huge tables: it never counts more than a capped number of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from activity.selectors import within_budget

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most ``COUNT_CAP + 1`` rows, so page numbers past the cap are not offered.

    Past the cap, or past the time budget, ``count`` is ``COUNT_CAP + 1`` for paging only:
    ``count_is_capped`` and ``count_is_known`` tell the admin's templates
    (``templates/admin/activity/``) to say "more than 10,000" or "not counted" instead."""

    cap = COUNT_CAP

    @cached_property
    def _counted(self) -> int | None:
        # A filter that matches few rows can make even a capped count read the whole table;
        # past the budget, it is not counted.
        return within_budget(lambda: self.object_list[: self.cap + 1].count())

    @cached_property
    def count(self) -> int:
        return self.cap + 1 if self._counted is None else self._counted

    @property
    def count_is_known(self) -> bool:
        return self._counted is not None

    @property
    def count_is_capped(self) -> bool:
        return self.count_is_known and self.count > self.cap

    def get_elided_page_range(self, number=1, *, on_each_side=3, on_ends=2):
        """Django's page links, without the last pages when the total is not known: those
        would be the cap's last pages, not the list's."""
        pages = list(
            super().get_elided_page_range(number, on_each_side=on_each_side, on_ends=on_ends)
        )
        if self.count_is_known and not self.count_is_capped:
            return pages
        number = self.validate_number(number)
        kept = [page for page in pages if page == self.ELLIPSIS or page <= number + on_each_side]
        while kept and kept[-1] == self.ELLIPSIS:
            kept.pop()
        return [*kept, self.ELLIPSIS] if kept[-1] < self.num_pages else kept
