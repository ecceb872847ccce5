"""`_FreeOffers` pages the ordered candidates of a free-places listing without the full ones, as a
Paginator over the list of the free ones would, without building that list (#22)."""

import random
from array import array

from django.core.paginator import Paginator

from workpro_plugin.models.offers import _FreeOffers


def test_pages_and_count_equal_a_paginator_over_the_free_ones():
    rng = random.Random(22)
    for _ in range(300):
        candidates = array("q", rng.sample(range(1, 500), rng.randint(0, 60)))
        full = frozenset(rng.sample(range(1, 500), rng.randint(0, 80)))  # some of them are no candidates
        per_page = rng.randint(1, 7)
        free = [pk for pk in candidates if pk not in full]
        expected, lazy = Paginator(free, per_page), Paginator(_FreeOffers(candidates, full), per_page)
        assert lazy.count == expected.count and lazy.num_pages == expected.num_pages
        for number in expected.page_range:
            assert list(lazy.page(number).object_list) == list(expected.page(number).object_list)


def test_without_a_full_offer_a_page_is_a_slice_of_the_candidates():
    candidates = array("q", [5, 3, 9, 1])
    assert _FreeOffers(candidates, frozenset())[1:3] == [3, 9]
    assert len(_FreeOffers(candidates, frozenset({7}))) == 4  # full, but not a candidate
    assert _FreeOffers(candidates, frozenset({3}))[0:2] == [5, 9]
