"""The page chooser in the Wagtail admin, scoped like every other WorkPro list."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from wagtail.models import Page

from ..selectors.institutions import staff_institutions


def own_pages_only(pages, request):
    """The construct_page_chooser_queryset hook: staff of an institution choose among the pages of their
    institutions' sites only; Wagtail's chooser otherwise lists every homepage below the root, with the
    names of all other institutions. Browsing into another institution's page (a typed id) is a 404: the
    chooser would show its title. Superusers and editors without an institution keep the whole tree."""
    user = request.user
    if user.is_superuser:
        return pages
    roots = list(staff_institutions(user).filter(site__isnull=False).values_list("site__root_page__path", flat=True))
    if not roots:
        return pages
    parent_id = (request.resolver_match.kwargs.get("parent_page_id") if request.resolver_match else None)
    if parent_id is not None:
        parent = Page.objects.filter(pk=parent_id).values_list("path", flat=True).first() or ""
        if not any(parent.startswith(root) or root.startswith(parent) for root in roots):
            raise Http404
    # An OR of prefixes, not lib.tree.below_any: the chooser's search hands this queryset to the search
    # backend, which takes field lookups only (no annotations).
    where = Q(pk__in=[])
    for root in roots:
        where |= Q(path__startswith=root)
    return pages.filter(where)
