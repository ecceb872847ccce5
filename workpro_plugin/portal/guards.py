"""Rules every portal view obeys, applied to the portal's URL patterns themselves (urls.py), so they
hold whatever middleware the host site lists.

An issued password (sent by SMS or mail, valid 72 hours) is only good for choosing an own one:
every other portal view redirects there. ``IssuedPasswordMiddleware`` does the same for requests
that reach it; this guard makes a missing middleware harmless.
"""

from __future__ import annotations

from functools import wraps

from django.shortcuts import redirect

# Portal views an account holder with an issued password may still reach.
# Public pages (help, and sitemap.xml and robots.txt for crawlers) and the way to an own password.
ALLOWED_WITH_ISSUED_PASSWORD = frozenset({"set_password", "logout", "help", "login", "sitemap", "robots"})


def must_set_password(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    person = getattr(user, "workpro_person", None)
    return bool(person is not None and person.must_set_password)


def own_password_required(view):
    """Redirects a user still holding an issued password to "Passwort ändern"."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if must_set_password(getattr(request, "user", None)):
            return redirect("workpro:set_password")
        return view(request, *args, **kwargs)

    guarded.workpro_own_password_required = True
    return guarded


def guard_patterns(patterns: list) -> list:
    """The portal's URL patterns with every view but ALLOWED_WITH_ISSUED_PASSWORD guarded."""
    for pattern in patterns:
        if pattern.name not in ALLOWED_WITH_ISSUED_PASSWORD and \
                not getattr(pattern.callback, "workpro_own_password_required", False):
            pattern.callback = own_password_required(pattern.callback)
    return patterns
