"""A person's name and age, computed from plain values.

`Person` and the allocation's `Child` (a pool row read as values, without a model instance) both
answer these questions; they compute them here so that both give the same answer.
"""

from __future__ import annotations

import datetime


def full_name(first_name: str, last_name: str) -> str:
    """ "Vorname Name"; without a first name just the name."""
    return f"{first_name} {last_name}".strip()


def age_on(date_of_birth: datetime.date | None, day: datetime.date) -> int | None:
    """Completed years on `day`; None without a date of birth."""
    if date_of_birth is None:
        return None
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))
