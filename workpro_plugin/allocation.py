"""Placeholder until the alloc-core branch lands: child-proposing deferred acceptance."""

from __future__ import annotations

from collections import deque


def allocate(preferences, priorities, capacities):
    rank = {o: {c: i for i, c in enumerate(cs)} for o, cs in priorities.items()}
    nxt = {c: 0 for c in preferences}
    held = {o: [] for o in priorities}
    free = deque(preferences)
    while free:
        c = free.popleft()
        prefs = preferences[c]
        while nxt[c] < len(prefs):
            o = prefs[nxt[c]]
            nxt[c] += 1
            if c not in rank.get(o, {}) or capacities.get(o, 0) <= 0:
                continue
            held[o].append(c)
            if len(held[o]) <= capacities[o]:
                break
            held[o].sort(key=rank[o].__getitem__)
            worst = held[o].pop()
            if worst == c:
                continue
            free.append(worst)
            break
    result = {c: None for c in preferences}
    for o, cs in held.items():
        for c in cs:
            result[c] = o
    return result
