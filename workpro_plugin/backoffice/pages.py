"""The page chooser in the Wagtail admin, scoped like every other WorkPro list."""

from __future__ import annotations

from django.db.models import Q

from ..selectors.institutions import staff_institutions


def own_pages_only(pages, request):
    """The construct_page_chooser_queryset hook: staff of an institution choose among the pages of their
    institutions' sites only; Wagtail's chooser otherwise lists every homepage below the root, with the
    names of all other institutions. Superusers and editors without an institution keep the whole tree."""
    user = request.user
    if user.is_superuser:
        return pages
    roots = [institution.site.root_page for institution in staff_institutions(user).select_related("site__root_page")]
    if not roots:
        return pages
    where = Q(pk__in=[])
    for root in roots:
        where |= Q(path__startswith=root.path)
    return pages.filter(where)
