"""Place allocation: child-proposing deferred acceptance (Gale–Shapley, many-to-one).

Pure functions on plain data, standard library only: no Django and no WorkPro import, so a round can
be computed, tested and replayed anywhere. The callers (services of the Vergaberunde) turn
enrollments, the Kriterienkatalog and offer capacities into the three inputs below:

    preferences = {child: [offer, ...]}   a child's wishes, best first (1. Wunsch, 2. Wunsch, ...)
    priorities  = {offer: [child, ...]}   an offer's ranking of the children it may admit, best first
                                          (points of the Kriterienkatalog, ties broken by lottery)
    capacities  = {offer: int}            free places per offer

Children and offers are any hashable values (ids, say); they are never compared with each other.

Rules of the inputs:
- A child missing from an offer's priority list is not acceptable to that offer (ineligible: age
  group, start date, ...) and is never admitted there.
- An offer missing from `capacities`, or with a capacity below 1, has no places.
- If a child or offer appears twice in one list, its first occurrence counts.
- Children that appear only in priority lists (no wishes) are not part of the result.

Guarantees of `allocate` (Roth & Sotomayor, "Two-Sided Matching", 1990, ch. 5):
- stable: no child prefers an offer to what it got while that offer has a free place or admitted a
  child it ranks lower (no justified envy), and nobody is placed where it is not acceptable;
- child-optimal: among all stable allocations every child gets its best one; the result is unique,
  so it does not depend on the order of the inputs;
- strategy-proof for children: no child (no parent) gets a better place by ranking its wishes in
  any other order than its true one, or by leaving wishes out;
- deterministic: the same inputs always give the same result (a round can be replayed).

Each child proposes at most once to each wish; an offer keeps its admitted children in a heap keyed
by priority rank, so a round costs O(P + W log C) for P entries in all priority lists, W wishes in
total and the largest capacity C. Give each offer the ranking of the children who wished it, not of
every child: 400 offers ranking all of 10,000 children are 4 million entries to read.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = ["INELIGIBLE", "NO_PLACES", "OUTRANKED", "Allocation", "Rejection", "allocate", "allocate_explained"]

Child = Hashable
Offer = Hashable

INELIGIBLE = "ineligible"
OUTRANKED = "outranked"
NO_PLACES = "no_places"
_NOBODY: Mapping = MappingProxyType({})


def _ranks(priorities: Mapping[Offer, Sequence[Child]]) -> dict[Offer, dict[Child, int]]:
    """Per offer {child: index in its priority list}; the first occurrence of a child counts."""
    # Filled from the end so that the first occurrence is written last; zip keeps it in C.
    return {
        offer: dict(zip(reversed(children), range(len(children) - 1, -1, -1)))
        for offer, children in priorities.items()
    }


def _deferred_acceptance(preferences, ranks, capacities) -> tuple[dict, dict]:
    """The matching {child: offer | None} and per offer the heap of (-rank, child) it admitted.

    A child's ranks in one offer are distinct, so heap entries never compare the children themselves.
    """
    held: dict[Offer, list[tuple[int, Child]]] = {}
    next_wish = dict.fromkeys(preferences, 0)
    matching: dict[Child, Offer | None] = dict.fromkeys(preferences)
    free = deque(preferences)
    while free:
        child = free.popleft()
        wishes = preferences[child]
        i = next_wish[child]
        while i < len(wishes):
            offer = wishes[i]
            i += 1
            rank = ranks.get(offer, _NOBODY).get(child)
            if rank is None:
                continue
            capacity = capacities.get(offer, 0)
            if capacity < 1:
                continue
            heap = held.setdefault(offer, [])
            if len(heap) < capacity:
                heapq.heappush(heap, (-rank, child))
                matching[child] = offer
                break
            if rank < -heap[0][0]:  # better than the lowest-priority child admitted so far
                _, displaced = heapq.heapreplace(heap, (-rank, child))
                matching[child] = offer
                matching[displaced] = None
                free.append(displaced)
                break
        next_wish[child] = i
    return matching, held


def allocate(
    preferences: Mapping[Child, Sequence[Offer]],
    priorities: Mapping[Offer, Sequence[Child]],
    capacities: Mapping[Offer, int],
) -> dict[Child, Offer | None]:
    """The child-optimal stable allocation: {child: offer or None} for every child in `preferences`.

    Stable, child-optimal, strategy-proof for children and deterministic (see the module docstring);
    the keys keep the order of `preferences`.
    """
    matching, _held = _deferred_acceptance(preferences, _ranks(priorities), capacities)
    return matching


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a child did not get a wish it ranked above the place it got (or any wish, if unplaced).

    reason:
      "ineligible"  the offer does not admit the child at all (not in its priority list);
      "no_places"   the offer has no places in this round (capacity missing or below 1);
      "outranked"   every place went to a child with higher priority: `cutoff_rank` is the rank of
                    the lowest-priority child admitted, `child_rank` this child's rank (0-based
                    indexes into the offer's priority list, so cutoff_rank < child_rank), and
                    `waiting_rank` the 1-based place on the offer's waiting list.
    """

    offer: Offer
    reason: Literal["ineligible", "no_places", "outranked"]
    cutoff_rank: int | None = None
    child_rank: int | None = None
    waiting_rank: int | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    """The result of `allocate_explained`; read-only mappings.

    matching      {child: offer | None}, the same as `allocate` returns.
    cutoffs       {offer: rank of the lowest-priority admitted child, or None if the offer still has
                   free places (or none at all)}, for every offer named in any input.
    rejections    {child: {offer: Rejection}} for each wish ranked above the child's result, in wish
                   order; a wish that appears twice in a child's list is explained once.
    waiting_lists {offer: (child, ...)} the children who ranked the offer above their result and are
                   eligible there, ordered by the offer's priority: the order in which places that
                   free up later are offered (Nachrücken).
    """

    matching: Mapping[Child, Offer | None]
    cutoffs: Mapping[Offer, int | None]
    rejections: Mapping[Child, Mapping[Offer, Rejection]]
    waiting_lists: Mapping[Offer, tuple[Child, ...]]
    _waiting_index: Mapping[tuple[Child, Offer], int] = field(repr=False, compare=False)

    def waiting_rank(self, child: Child, offer: Offer) -> int | None:
        """1-based place of `child` on the waiting list of `offer` ("Platz 3 auf der Warteliste"),
        or None if the child is not waiting there (placed there, placed higher, or ineligible)."""
        return self._waiting_index.get((child, offer))


def allocate_explained(
    preferences: Mapping[Child, Sequence[Offer]],
    priorities: Mapping[Offer, Sequence[Child]],
    capacities: Mapping[Offer, int],
) -> Allocation:
    """`allocate` with the reasons: cutoffs per offer, a reason per rejected wish, waiting lists.

    Because the allocation is stable, every wish above a child's result was refused for a reason that
    can be told: the child is ineligible there, the offer has no places, or the offer is full with
    children all of higher priority (the child is then on its waiting list).
    """
    ranks = _ranks(priorities)
    matching, held = _deferred_acceptance(preferences, ranks, capacities)

    offers = dict.fromkeys(priorities)
    offers.update(dict.fromkeys(capacities))
    for wishes in preferences.values():
        offers.update(dict.fromkeys(wishes))
    cutoffs = {}
    for offer in offers:
        heap = held.get(offer, ())
        capacity = capacities.get(offer, 0)
        cutoffs[offer] = -heap[0][0] if capacity >= 1 and len(heap) >= capacity else None

    waiting: dict[Offer, list[tuple[int, Child]]] = {}
    refused: dict[Child, list[tuple[Offer, str, int | None]]] = {}
    for child, wishes in preferences.items():
        result = matching[child]
        entries: list[tuple[Offer, str, int | None]] = []
        seen = set()
        for offer in wishes:
            if offer == result:
                break
            if offer in seen:
                continue
            seen.add(offer)
            rank = ranks.get(offer, _NOBODY).get(child)
            if rank is None:
                entries.append((offer, INELIGIBLE, None))
            elif capacities.get(offer, 0) < 1:
                entries.append((offer, NO_PLACES, rank))
            else:
                cutoff = cutoffs[offer]
                if cutoff is None or cutoff > rank:  # cannot happen: the result would not be stable
                    raise AssertionError(f"unstable allocation at offer {offer!r} for child {child!r}")
                entries.append((offer, OUTRANKED, rank))
                waiting.setdefault(offer, []).append((rank, child))
        refused[child] = entries

    waiting_lists = {}
    waiting_index = {}
    for offer, queue in waiting.items():
        queue.sort()  # by rank; ranks in one offer are distinct, children are never compared
        waiting_lists[offer] = tuple(child for _rank, child in queue)
        for position, (_rank, child) in enumerate(queue, start=1):
            waiting_index[(child, offer)] = position

    rejections = {}
    for child, entries in refused.items():
        explained = {}
        for offer, reason, rank in entries:
            if reason == OUTRANKED:
                explained[offer] = Rejection(offer, OUTRANKED, cutoffs[offer], rank, waiting_index[(child, offer)])
            else:
                explained[offer] = Rejection(offer, reason, None, rank)
        rejections[child] = MappingProxyType(explained)

    return Allocation(
        matching=MappingProxyType(matching),
        cutoffs=MappingProxyType(cutoffs),
        rejections=MappingProxyType(rejections),
        waiting_lists=MappingProxyType(waiting_lists),
        _waiting_index=MappingProxyType(waiting_index),
    )
