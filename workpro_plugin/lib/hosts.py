"""ALLOWED_HOSTS from the institutions' Wagtail Sites: a new KiTa needs a Site, not a redeploy.

    ALLOWED_HOSTS = SiteHosts(["health.internal"])   # fixed names besides the Sites' host names

``SiteHosts`` is a sequence Django's host validation iterates on each request: the fixed patterns
first, then the host name of every Wagtail ``Site`` (read from the database once and kept in the
default cache, shared by all processes in production, and for a second in the process). Saving or
deleting a Site clears it (``invalidate``, connected in ``signals``). A Host header that is neither a
fixed pattern nor a Site's host name is still refused with 400 (``DisallowedHost``).

CSRF needs no list per institution: a form posted to the site it came from passes Django's
same-origin check (Origin equals the request's scheme and host).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator

from django.apps import apps
from django.core.cache import cache
from django.db import DatabaseError, transaction

CACHE_KEY = "workpro:site-hosts"
CACHE_SECONDS = 300
LOCAL_SECONDS = 1.0

_local = threading.local()


def site_hostnames() -> tuple[str, ...]:
    """Every Site's host name, lower case; from the cache when it is there."""
    memo = getattr(_local, "memo", None)
    now = time.monotonic()
    if memo and memo[0] > now:
        return memo[1]
    hosts = cache.get(CACHE_KEY)
    if hosts is None:
        try:
            names = apps.get_model("wagtailcore", "Site").objects.values_list("hostname", flat=True)
            hosts = tuple(sorted({name.strip().lower() for name in names if name and name.strip()}))
        except DatabaseError:  # not migrated yet: only the fixed patterns
            return ()
        cache.set(CACHE_KEY, hosts, CACHE_SECONDS)
    _local.memo = (now + LOCAL_SECONDS, hosts)
    return hosts


def invalidate(**kwargs) -> None:
    """A Site was saved or deleted: read the host names again (now, and after the commit, so a request
    in between cannot keep the old list for CACHE_SECONDS)."""
    def clear():
        cache.delete(CACHE_KEY)
        _local.memo = None

    clear()
    transaction.on_commit(clear)


class SiteHosts(list):
    """A list (Django requires ALLOWED_HOSTS to be one) holding the fixed patterns; iterating it also
    yields the Sites' host names."""

    def __init__(self, fixed: Iterable[str] = ()):
        super().__init__(host for host in fixed if host)

    def _all(self) -> list[str]:
        fixed = list(super().__iter__())
        if not apps.ready:
            return fixed
        return [*fixed, *site_hostnames()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __contains__(self, host) -> bool:
        return host in self._all()

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __bool__(self) -> bool:
        return True  # hosts come from the Sites; Django's "ALLOWED_HOSTS is empty" check does not apply

    def __repr__(self) -> str:
        return f"SiteHosts({list(super().__iter__())!r} + Wagtail Site host names)"
