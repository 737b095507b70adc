"""Admin changelists that stay fast on tables of millions of rows.

`EstimatedCountPaginator`: the changelist's count is `bounded_count` (exact up to 10,000 rows, else the planner's
estimate: the page then says "about"), never `COUNT(*)` over the table. `OrganizationScopedAdmin` uses it with
`show_full_result_count = False` (no second count of the unfiltered table).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from apps.core.counting import Count, bounded_count


class EstimatedCountPaginator(Paginator):
    @cached_property
    def counted(self) -> Count:
        if isinstance(self.object_list, QuerySet):
            return bounded_count(self.object_list)
        return Count(len(self.object_list), True)

    @cached_property
    def count(self) -> int:
        return self.counted.value

    @property
    def count_exact(self) -> bool:
        return self.counted.exact

    def validate_number(self, number: Any) -> int:
        """An estimated count may overshoot: a page past the real end is then empty rather than a 404."""
        if self.counted.exact:
            return super().validate_number(number)
        try:
            value = int(number)
        except (TypeError, ValueError):
            return 1
        return max(1, value)
