"""WorkPro's password hasher: argon2id with OWASP's minimum parameters (m = 19 MiB, t = 2, p = 1).

Django's default Argon2 parameters (m = 100 MiB, p = 8) make one login take both cores of a small
machine and 100 MiB each: a city's registration day needs more logins per second than that allows.
OWASP's minimum for argon2id is m = 19456 KiB, t = 2, p = 1 (Password Storage Cheat Sheet).

The algorithm name stays "argon2", so the stored format is Django's: hashes with other parameters
(Django's default) verify and are rehashed on the next login (``must_update`` compares the
parameters), and a host without WorkPro can still read WorkPro's hashes.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher

# OWASP's minimum for argon2id; the system check workpro.W023 warns when the first hasher is weaker.
MIN_MEMORY_COST = 19456  # KiB = 19 MiB
MIN_TIME_COST = 2
MIN_PARALLELISM = 1


class WorkProArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id, m = 19 MiB, t = 2, p = 1: about a fifth of Django's memory and work per hash, one core."""

    memory_cost = MIN_MEMORY_COST
    time_cost = MIN_TIME_COST
    parallelism = MIN_PARALLELISM


def is_weaker_than_minimum(hasher) -> bool:
    """Whether an argon2 hasher's parameters fall below OWASP's minimum (other hashers: False)."""
    if getattr(hasher, "algorithm", "") != "argon2":
        return False
    return hasher.memory_cost < MIN_MEMORY_COST or hasher.time_cost < MIN_TIME_COST
