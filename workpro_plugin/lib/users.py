"""The host's user model: every WorkPro account logs in with its email address, whatever the
model's login field is called (`username` in Django's User, often `email` in a custom user model
with `USERNAME_FIELD = "email"`). Code never names `username` itself; it asks here."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q


def login_field() -> str:
    return get_user_model().USERNAME_FIELD


def by_login(email: str) -> Q:
    """The account that logs in with `email`."""
    return Q(**{login_field(): email})


def login_fields(email: str) -> dict:
    """Field values of an account that logs in with `email` and has it as its address."""
    return {login_field(): email, "email": email}


def set_login(user, email: str) -> list[str]:
    """Make `email` the login and the address of `user`; returns the fields to save."""
    user.email = email
    setattr(user, login_field(), email)
    return sorted({"email", login_field()})


def remembered(user, key: str, compute):
    """`compute()`, once per user object and `key`. `request.user` is read anew for every request, so this
    lasts one request, as Django's own permission cache on the user object (`_perm_cache`) does: the admin
    asks "is this user staff of any institution?" for each of its menu entries (21 identical queries a page)."""
    memo = user.__dict__.setdefault("_workpro_remembered", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]
