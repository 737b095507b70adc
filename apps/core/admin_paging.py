"""Admin changelists that stay fast on tables of millions of rows.

`EstimatedCountPaginator`: the changelist's count is `bounded_count` (exact up to 10,000 rows, else the planner's
estimate: the page then says "about"), never `COUNT(*)` over the table. `OrganizationScopedAdmin` uses it with
`show_full_result_count = False` (no second count of the unfiltered table) and `KeysetChangeList` ("Next" pages
by keyset, not OFFSET).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.dateparse import parse_datetime
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

    @property
    def count_text(self) -> str:
        """ "1,234" or, for an estimate, "about 2.1 million"."""
        return str(self.counted)

    def validate_number(self, number: Any) -> int:
        """An estimated count may overshoot: a page past the real end is then empty rather than a 404."""
        if self.counted.exact:
            return super().validate_number(number)
        try:
            value = int(number)
        except (TypeError, ValueError):
            return 1
        return max(1, value)


AFTER_VAR = "after"
KEYSET_ORDERING = ["-created_at", "-pk"]


class KeysetChangeList(ChangeList):
    """A changelist that pages by keyset when it shows the default newest-first order: `?after=<created_at>|<id>`
    lists the rows after that one (`created_at <= t AND NOT (created_at = t AND id >= id)`, newest first: the
    `(…, created_at, id)` index from that point), so the "Next" link of a page a million rows deep costs what the
    first page does. Numbered page links (OFFSET) stay for the first pages; another sort order pages by number."""

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.after = request.GET.get(AFTER_VAR, "")
        self.next_url = ""
        self.first_url = ""
        if self.after:  # not a filter of the list: keep it out of the admin's lookup parameters
            query = request.GET.copy()
            query.pop(AFTER_VAR)
            request.GET = query  # type: ignore[assignment]
        super().__init__(request, *args, **kwargs)

    def _keyset_applies(self) -> bool:
        names = {f.name for f in self.lookup_opts.fields}
        return "created_at" in names and not self.params.get(ORDER_VAR) and not self.show_all

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        if not self._keyset_applies() or list(self.queryset.query.order_by) != KEYSET_ORDERING:
            return
        rows = self.queryset
        if self.after:
            moment_text, _, pk = self.after.partition("|")
            moment = parse_datetime(moment_text)
            if moment is None or not pk:
                raise IncorrectLookupParameters
            try:
                rows = rows.filter(created_at__lte=moment).exclude(created_at=moment, pk__gte=pk)
                page = list(rows[: self.list_per_page + 1])
            except (ValidationError, ValueError) as exc:
                raise IncorrectLookupParameters from exc
            self.result_list = page[: self.list_per_page]  # type: ignore[assignment]
            self.first_url = self.get_query_string(remove=[PAGE_VAR]) or "?"
            more = len(page) > self.list_per_page
        else:
            page = list(self.result_list)
            more = self.multi_page and len(page) == self.list_per_page
        if more and page:
            last = page[self.list_per_page - 1] if len(page) > self.list_per_page else page[-1]
            cursor = f"{last.created_at.isoformat()}|{last.pk}"
            self.next_url = self.get_query_string({AFTER_VAR: cursor}, remove=[PAGE_VAR])
