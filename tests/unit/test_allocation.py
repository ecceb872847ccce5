"""The pure allocation (deferred acceptance): its guarantees as properties, a few hand examples.

Properties are checked on random instances with hypothesis: stability, capacities, acceptability,
child-optimality against brute force over every matching, strategy-proofness for children,
determinism and the explanations. A second implementation (the `matching` package's
hospital/resident solver) must agree on larger random instances.
"""

import itertools
import random
import sys
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matching.games import HospitalResident

from workpro_plugin.allocation import Allocation, Rejection, allocate, allocate_explained


class Name:
    """A hashable without an order: the allocation must never compare children or offers."""

    def __init__(self, label):
        self.label = label

    def __repr__(self):
        return self.label


@st.composite
def instances(draw, max_children=5, max_offers=3, max_capacity=2):
    """(preferences, priorities, capacities) with missing entries, capacity 0 and ineligibility."""
    children = [Name(f"c{i}") for i in range(draw(st.integers(0, max_children)))]
    offers = [Name(f"o{j}") for j in range(draw(st.integers(0, max_offers)))]
    some_offers = st.lists(st.sampled_from(offers), unique=True) if offers else st.just([])
    some_children = st.lists(st.sampled_from(children), unique=True) if children else st.just([])
    preferences = {child: draw(some_offers) for child in children}
    priorities = {offer: draw(some_children) for offer in offers if draw(st.integers(0, 5))}
    capacities = {offer: draw(st.integers(-1, max_capacity)) for offer in offers if draw(st.integers(0, 5))}
    return preferences, priorities, capacities


def _acceptable(child, offer, priorities, capacities):
    return child in priorities.get(offer, ()) and capacities.get(offer, 0) >= 1


def _position(wishes, offer):
    """How a child values a result: index of the wish, then None, then anything it did not wish."""
    if offer is None:
        return len(wishes)
    return wishes.index(offer) if offer in wishes else len(wishes) + 1


def _blocking_pairs(preferences, priorities, capacities, matching):
    found = []
    for child, wishes in preferences.items():
        for offer in wishes[: _position(wishes, matching[child])]:
            if not _acceptable(child, offer, priorities, capacities):
                continue
            admitted = [other for other, got in matching.items() if got is offer]
            ranking = priorities[offer]
            if len(admitted) < capacities[offer] or any(
                ranking.index(other) > ranking.index(child) for other in admitted
            ):
                found.append((child, offer))
    return found


def _feasible(preferences, priorities, capacities, matching):
    """Only acceptable pairs, each a wish of the child, and no offer over capacity."""
    for child, offer in matching.items():
        if offer is not None and (offer not in preferences[child]
                                  or not _acceptable(child, offer, priorities, capacities)):
            return False
    loads = {}
    for offer in matching.values():
        if offer is not None:
            loads[offer] = loads.get(offer, 0) + 1
    return all(load <= capacities.get(offer, 0) for offer, load in loads.items())


def _stable_matchings(preferences, priorities, capacities):
    children = list(preferences)
    options = [[None] + [o for o in preferences[c] if _acceptable(c, o, priorities, capacities)] for c in children]
    for choice in itertools.product(*options):
        candidate = dict(zip(children, choice))
        if _feasible(preferences, priorities, capacities, candidate) and not _blocking_pairs(
            preferences, priorities, capacities, candidate
        ):
            yield candidate


@settings(max_examples=300, deadline=None)
@given(instances())
def test_the_result_is_feasible_and_stable(instance):
    preferences, priorities, capacities = instance
    matching = allocate(*instance)
    assert list(matching) == list(preferences)
    assert _feasible(preferences, priorities, capacities, matching)
    assert _blocking_pairs(preferences, priorities, capacities, matching) == []


@settings(max_examples=300, deadline=None)
@given(instances(max_children=5, max_offers=3, max_capacity=2))
def test_the_result_is_the_child_optimal_stable_matching_of_brute_force(instance):
    preferences = instance[0]
    matching = allocate(*instance)
    stable = list(_stable_matchings(*instance))
    assert matching in stable
    for other in stable:
        for child, wishes in preferences.items():
            assert _position(wishes, matching[child]) <= _position(wishes, other[child])


@settings(max_examples=300, deadline=None)
@given(instances(max_children=7, max_offers=4, max_capacity=3), st.data())
def test_no_child_gains_by_misreporting_its_wishes(instance, data):
    preferences, priorities, capacities = instance
    if not preferences:
        return
    child = data.draw(st.sampled_from(list(preferences)))
    truth = preferences[child]
    offers = sorted({*priorities, *capacities, *truth}, key=repr)
    if offers:
        lie = data.draw(st.one_of(
            st.permutations(truth).flatmap(lambda p: st.integers(0, len(p)).map(lambda k: list(p[:k]))),
            st.lists(st.sampled_from(offers), unique=True),  # also wishes it does not want
        ))
    else:
        lie = []
    honest = allocate(preferences, priorities, capacities)[child]
    lying = allocate({**preferences, child: lie}, priorities, capacities)[child]
    assert _position(truth, lying) >= _position(truth, honest)


@settings(max_examples=100, deadline=None)
@given(instances(max_children=8, max_offers=4))
def test_the_result_does_not_depend_on_the_order_of_the_inputs(instance):
    preferences, priorities, capacities = instance
    first = allocate(preferences, priorities, capacities)
    reordered = allocate(dict(reversed(preferences.items())), dict(reversed(priorities.items())),
                         dict(reversed(capacities.items())))
    assert first == allocate(preferences, priorities, capacities) == reordered
    assert allocate_explained(*instance) == allocate_explained(*instance)


@settings(max_examples=300, deadline=None)
@given(instances(max_children=8, max_offers=4, max_capacity=3))
def test_every_rejected_wish_has_its_true_reason_and_waiting_lists_have_no_gaps(instance):
    preferences, priorities, capacities = instance
    result = allocate_explained(*instance)
    assert dict(result.matching) == allocate(*instance)
    for offer in {*priorities, *capacities}:
        admitted = [priorities[offer].index(c) for c, got in result.matching.items() if got is offer]
        full = capacities.get(offer, 0) >= 1 and len(admitted) == capacities[offer]
        assert result.cutoffs[offer] == (max(admitted) if full else None)
    expected_waiting = {}
    for child, wishes in preferences.items():
        above = wishes[: _position(wishes, result.matching[child])]
        assert list(result.rejections[child]) == above
        for offer, rejection in result.rejections[child].items():
            assert rejection.offer is offer
            if child not in priorities.get(offer, ()):
                assert rejection.reason == "ineligible"
            elif capacities.get(offer, 0) < 1:
                assert rejection.reason == "no_places"
            else:
                assert rejection.reason == "outranked"
                assert rejection.child_rank == priorities[offer].index(child)
                assert rejection.cutoff_rank == result.cutoffs[offer] < rejection.child_rank
                assert rejection.waiting_rank == result.waiting_rank(child, offer)
                expected_waiting.setdefault(offer, set()).add(child)
            if rejection.reason != "outranked":
                assert result.waiting_rank(child, offer) is None
                assert rejection.waiting_rank is None
        if result.matching[child] is not None:
            assert result.waiting_rank(child, result.matching[child]) is None
    assert {offer: set(children) for offer, children in result.waiting_lists.items()} == expected_waiting
    for offer, children in result.waiting_lists.items():
        assert [result.waiting_rank(c, offer) for c in children] == list(range(1, len(children) + 1))
        ranks = [priorities[offer].index(c) for c in children]
        assert ranks == sorted(ranks)


def _random_instance(rng, n_children, n_offers, wishes):
    offers = [f"o{j}" for j in range(n_offers)]
    preferences = {f"c{i}": rng.sample(offers, min(wishes, n_offers)) for i in range(n_children)}
    priorities = {}
    for offer in offers:
        applicants = [c for c, w in preferences.items() if offer in w and rng.random() > 0.1]
        rng.shuffle(applicants)
        priorities[offer] = applicants
    capacities = {offer: rng.randint(1, max(1, n_children // n_offers)) for offer in offers}
    return preferences, priorities, capacities


def _hospital_resident(preferences, priorities, capacities):
    """The `matching` package's resident-optimal solution: residents are children, hospitals offers."""
    # Both sides must list each other: drop wishes the offer does not rank (as `clean=True` would).
    # It starts with every resident free, also those with nothing left to wish: leave them out.
    residents = {c: [o for o in w if c in priorities[o]] for c, w in preferences.items()}
    residents = {c: wishes for c, wishes in residents.items() if wishes}
    hospitals = {o: [c for c in ranked if o in residents.get(c, ())] for o, ranked in priorities.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns about empty preference lists
        game = HospitalResident.create_from_dictionaries(residents, hospitals, capacities)
        game.solve(optimal="resident")
    found = {r.name: (r.matching.name if r.matching else None) for r in game.residents}
    return {child: found.get(child) for child in preferences}


@pytest.mark.parametrize("seed", range(12))
def test_the_matching_package_finds_the_same_allocation(seed):
    rng = random.Random(seed)
    instance = _random_instance(rng, n_children=rng.randint(1, 300), n_offers=rng.randint(1, 30),
                                wishes=rng.randint(1, 5))
    assert allocate(*instance) == _hospital_resident(*instance)


def test_the_matching_package_agrees_on_a_large_instance():
    instance = _random_instance(random.Random(18), n_children=2000, n_offers=80, wishes=5)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # the package deep-copies its players recursively
    try:
        expected = _hospital_resident(*instance)
    finally:
        sys.setrecursionlimit(limit)
    assert allocate(*instance) == expected


def test_the_textbook_instance_gives_every_child_its_first_wish_not_the_offers_first_choice():
    # Gale & Shapley (1962): three one-place offers where the child-optimal and the offer-optimal
    # stable matchings differ; children proposing, each child gets its first wish.
    preferences = {"Anna": ["Sonne", "Mond", "Stern"], "Ben": ["Mond", "Stern", "Sonne"],
                   "Cem": ["Stern", "Sonne", "Mond"]}
    priorities = {"Sonne": ["Ben", "Cem", "Anna"], "Mond": ["Cem", "Anna", "Ben"],
                  "Stern": ["Anna", "Ben", "Cem"]}
    capacities = {"Sonne": 1, "Mond": 1, "Stern": 1}
    assert allocate(preferences, priorities, capacities) == {"Anna": "Sonne", "Ben": "Mond", "Cem": "Stern"}


def test_a_chain_of_displacements_ends_in_the_child_optimal_result():
    preferences = {"a": ["X", "Y"], "b": ["X", "Y"], "c": ["X", "Z"], "d": ["Y"]}
    priorities = {"X": ["c", "b", "a"], "Y": ["a", "d", "b"], "Z": ["c"]}
    capacities = {"X": 1, "Y": 1, "Z": 2}
    # c takes X from a, a takes Y from d (or b), b and d end without a place
    assert allocate(preferences, priorities, capacities) == {"a": "Y", "b": None, "c": "X", "d": None}
    result = allocate_explained(preferences, priorities, capacities)
    assert result.cutoffs == {"X": 0, "Y": 0, "Z": None}
    assert result.rejections["b"] == {
        "X": Rejection("X", "outranked", cutoff_rank=0, child_rank=1, waiting_rank=1),
        "Y": Rejection("Y", "outranked", cutoff_rank=0, child_rank=2, waiting_rank=2),
    }
    assert result.waiting_lists == {"X": ("b", "a"), "Y": ("d", "b")}
    assert result.waiting_rank("d", "Y") == 1
    assert result.waiting_rank("a", "Y") is None  # has the place


def test_the_empty_instance_and_children_without_wishes():
    assert allocate({}, {}, {}) == {}
    empty = allocate_explained({}, {}, {})
    assert (dict(empty.matching), dict(empty.cutoffs), dict(empty.rejections), dict(empty.waiting_lists)) == (
        {}, {}, {}, {})
    assert allocate({"a": []}, {"X": ["a"]}, {"X": 1}) == {"a": None}


def test_ineligible_children_and_offers_without_places_are_explained():
    preferences = {"a": ["Krippe", "Hort", "Kita"], "b": ["Kita"]}
    priorities = {"Krippe": ["b"], "Hort": ["a"], "Kita": ["b", "a"]}
    capacities = {"Hort": 0, "Kita": 2}  # Krippe has no capacity entry
    result = allocate_explained(preferences, priorities, capacities)
    assert dict(result.matching) == {"a": "Kita", "b": "Kita"}
    assert result.rejections["a"] == {
        "Krippe": Rejection("Krippe", "ineligible"),
        "Hort": Rejection("Hort", "no_places", child_rank=0),
    }
    assert result.cutoffs == {"Krippe": None, "Hort": None, "Kita": 1}
    assert result.waiting_lists == {}


def test_repeated_entries_count_at_their_first_place():
    preferences = {"a": ["X", "X", "Y"], "b": ["X"]}
    priorities = {"X": ["b", "a", "b"], "Y": ["a", "a"]}
    result = allocate_explained(preferences, priorities, {"X": 1, "Y": 1})
    assert dict(result.matching) == {"a": "Y", "b": "X"}
    assert list(result.rejections["a"]) == ["X"]
    assert result.rejections["a"]["X"].child_rank == 1


def test_the_waiting_rank_a_parent_reads():
    """Five children wish the one-place Krippe first; the fourth by priority is 3rd on its waiting list."""
    children = ["k1", "k2", "k3", "k4", "k5"]
    preferences = {c: ["Krippe", "Kita"] for c in children}
    priorities = {"Krippe": children, "Kita": ["k5", "k4", "k3", "k2", "k1"]}
    result = allocate_explained(preferences, priorities, {"Krippe": 1, "Kita": 1})
    assert dict(result.matching) == {"k1": "Krippe", "k2": None, "k3": None, "k4": None, "k5": "Kita"}
    assert result.waiting_lists["Krippe"] == ("k2", "k3", "k4", "k5")
    assert result.waiting_rank("k4", "Krippe") == 3
    rejection = result.rejections["k4"]["Krippe"]
    assert (rejection.reason, rejection.cutoff_rank, rejection.child_rank) == ("outranked", 0, 3)


def test_the_result_is_read_only():
    result = allocate_explained({"a": ["X"]}, {"X": ["a"]}, {"X": 1})
    assert isinstance(result, Allocation)
    with pytest.raises(TypeError):
        result.matching["a"] = None
    with pytest.raises(AttributeError):
        result.cutoffs = {}
