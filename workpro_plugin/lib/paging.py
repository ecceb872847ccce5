"""A page of a list that is counted only when the list has more than one page."""

from __future__ import annotations

from django.core.paginator import Page, Paginator


class Rows:
    """A list that reads itself a slice at a time, for page_of: `read(start, stop)` returns the rows
    [start:stop], `count()` how many there are (e.g. a query compiled once per shape, lib.compiled_sql)."""

    def __init__(self, read, count):
        self.read, self._count = read, count

    def __getitem__(self, index: slice) -> list:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("Rows reads slices")
        start = index.start or 0
        return [] if index.stop is not None and index.stop <= start else self.read(start, index.stop)

    def count(self) -> int:
        return self._count()


def page_of(queryset, number, per_page: int) -> Page:
    """Django's `Paginator(queryset, per_page).get_page(number)`, with `object_list` a list.

    The page is read with one row more than it shows: a first page that has no next one knows the
    count from its rows, so a list that fits on one page costs one query, not a COUNT and a SELECT.
    Anything but a plain page number (and a page beyond the end) takes get_page's own way. `queryset` may
    also be Rows, a list that reads itself a slice at a time (and counts itself as it likes).
    """
    paginator = Paginator(queryset, per_page)
    text = "" if number is None else str(number)
    if text and not (text.isascii() and text.isdigit() and int(text) >= 1):
        page = paginator.get_page(number)
        page.object_list = list(page.object_list)
        return page
    current = int(text) if text else 1
    bottom = (current - 1) * per_page
    rows = list(queryset[bottom:bottom + per_page + 1])
    if not rows and current > 1:
        page = paginator.get_page(current)
        page.object_list = list(page.object_list)
        return page
    if len(rows) <= per_page:
        paginator.count = bottom + len(rows)  # the last page: the count is known without counting
    paginator.validate_number(current)
    return Page(rows[:per_page], current, paginator)  # paginator.page(current) would slice the list again


def with_links(page: Page, query, param: str = "seite", fragment: str = "") -> Page:
    """`page` with `previous_url` and `next_url` ("?<param>=<n>" plus the request's other parameters, e.g.
    the page of a second list on the same screen), for includes/pagination.html."""

    def url(number: int) -> str:
        params = query.copy()
        params[param] = str(number)
        return f"?{params.urlencode()}{fragment}"

    page.previous_url = url(page.previous_page_number()) if page.has_previous() else ""
    page.next_url = url(page.next_page_number()) if page.has_next() else ""
    return page
