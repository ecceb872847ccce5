"""Conditions on Wagtail's page tree (materialised paths)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Substr


def below_any(queryset: QuerySet, paths, field: str = "path") -> QuerySet:
    """The rows of `queryset` whose `field` (a page path, or e.g. "offer__path") starts with one of `paths`
    (the pages themselves and everything below them): one IN per length of the paths, not an OR of a LIKE per
    path (400 institutions' sites were 400 ORs, 61 kB of SQL). No path: no row."""
    by_length: dict[int, list[str]] = {}
    for path in paths:
        by_length.setdefault(len(path), []).append(path)
    below = Q(pk__in=[])
    names = {length: f"_path_prefix_{length}" for length in by_length}
    for length, same in by_length.items():
        below |= Q(**{f"{names[length]}__in": same})
    return queryset.annotate(**{names[length]: Substr(field, 1, length) for length in by_length}).filter(below)
