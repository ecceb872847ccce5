"""Figures the security tests measure; `make check-security` prints them at the end.

Each test stores what it counted with `note(...)` *and* asserts it, so a figure in the
summary is one a failing test would have stopped.
"""

FIGURES: dict[str, object] = {}


def note(key: str, value) -> None:
    FIGURES[key] = value
    print(f"[security] {key}: {value}")


def add(key: str, amount: int = 1) -> None:
    FIGURES[key] = int(FIGURES.get(key, 0)) + amount
