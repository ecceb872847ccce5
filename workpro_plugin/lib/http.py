"""Request facts every layer may need: the client's address behind our proxies, the admin prefix."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.urls import NoReverseMatch, reverse

from .. import conf


@lru_cache(maxsize=1)
def _admin_prefix() -> str:
    try:
        return reverse("wagtailadmin_home")
    except NoReverseMatch:  # a host site without the Wagtail admin
        return "\0"


def is_admin_path(path: str) -> bool:
    """True for every URL of the Wagtail admin (wherever the project mounted it)."""
    return path.startswith(_admin_prefix())


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _parse_ip(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address of the client behind our own reverse proxies, or None.

    X-Forwarded-For is believed only as far as the hops are ours: starting at the socket
    peer (REMOTE_ADDR), every address inside WORKPRO_TRUSTED_PROXIES is a proxy of this
    deployment and the hop before it (to its left in the header) is read next; the first
    address that is not one of ours is the client. With no trusted proxies (the default)
    the header is ignored, so nobody can pick the address that login throttling, the
    password-request limit and the audit log see. Used by django-axes through
    AXES_CLIENT_IP_CALLABLE, so lockouts and the audit log agree.
    """
    if request is None:
        return None
    meta = getattr(request, "META", {})
    peer = _parse_ip(meta.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    trusted = _trusted_networks(tuple(conf.get("TRUSTED_PROXIES") or ()))
    if not trusted:
        return str(peer)
    hops = [hop for hop in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
    current = peer
    while any(current in network for network in trusted) and hops:
        previous = _parse_ip(hops.pop())
        if previous is None:  # a forged or broken entry: stop at the last address we can vouch for
            break
        current = previous
    return str(current)
