"""Cached offer listings go cold per institution (#22): a change at B leaves A's listing cached; an
enrollment sends only the taken places cold, not the header or the listing's order and count."""

import pytest
from bs4 import BeautifulSoup

from tests.helpers import get_offer_index
from workpro_plugin.lib.content_cache import (
    content_generation,
    invalidate_public_content,
    nav_generation,
    structure_generation,
)
from workpro_plugin.models import Enrollment, EnrollmentStatus, OfferIndexPage

pytestmark = pytest.mark.django_db
HEADER = 'FROM "workpro_plugin_institution"'  # the header's own query (the filter form only joins it)


def _listing_queried(client, institution) -> bool:
    """Whether the index page of `institution` had to query its offers or their places (its listing was
    not cached)."""
    _response, sql = get_offer_index(client, institution)
    return any("workpro_plugin_offerpage" in q or "workpro_plugin_enrollment" in q for q in sql)


def _free_places(response) -> dict[str, str]:
    cards = BeautifulSoup(response.content, "html.parser").select(".wp-offer-card")
    return {card.select_one("h3").get_text(strip=True): card.select("dd")[-1].get_text(strip=True) for card in cards}


@pytest.fixture
def two_sites(make_institution, make_offer, client):
    a, b = make_institution("kita-a"), make_institution("kita-b")
    offer_a, offer_b = make_offer(a, "Krippe A", capacity=5), make_offer(b, "Krippe B", capacity=5)
    for institution in (a, b):
        _listing_queried(client, institution)  # warm: listing and header cached
        assert not _listing_queried(client, institution)
    return a, b, offer_a, offer_b


def test_an_enrollment_at_b_leaves_as_listing_cached_and_one_at_a_does_not(two_sites, client):
    a, b, offer_a, offer_b = two_sites
    Enrollment.objects.create(offer=offer_b, institution=b, status=EnrollmentStatus.RATIFIZIERT)
    assert not _listing_queried(client, a)
    assert _listing_queried(client, b)
    Enrollment.objects.create(offer=offer_a, institution=a, status=EnrollmentStatus.RATIFIZIERT)
    assert _listing_queried(client, a)


def test_a_page_published_at_b_leaves_as_listing_cached_and_one_at_a_does_not(two_sites, client, make_offer):
    a, b, offer_a, offer_b = two_sites
    offer_b.title = "Krippe B neu"
    offer_b.save_revision().publish()
    assert not _listing_queried(client, a)
    assert _listing_queried(client, b)
    make_offer(a, "Hort A")
    assert _listing_queried(client, a)


def test_a_change_not_pinned_to_a_site_invalidates_every_site(two_sites, client):
    a, b, *_ = two_sites
    invalidate_public_content()
    assert _listing_queried(client, a) and _listing_queried(client, b)


def test_generations_are_per_site():
    before_1, before_2 = content_generation(1), content_generation(2)
    invalidate_public_content(1)
    assert content_generation(1) != before_1 and content_generation(2) == before_2
    invalidate_public_content()
    assert content_generation(2) != before_2


def test_an_enrollment_costs_the_listing_one_query_for_the_places_and_shows_them(two_sites, client):
    """After an enrollment the header and the listing's count and order stay cached: the index reads only
    the taken places of its page's offers (one query more than warm), and shows the new number."""
    a, *_rest, offer_a, _offer_b = two_sites
    _warm_response, warm = get_offer_index(client, a)
    structure, content = structure_generation(a.site_id), content_generation(a.site_id)
    Enrollment.objects.create(offer=offer_a, institution=a, status=EnrollmentStatus.RATIFIZIERT)
    assert structure_generation(a.site_id) == structure and content_generation(a.site_id) != content
    response, sql = get_offer_index(client, a)
    assert len(sql) == len(warm) + 1, sql
    assert "workpro_plugin_enrollment" in sql[-1] and not any("workpro_plugin_offerpage" in q for q in sql)
    assert _free_places(response) == {"Krippe A": "4"}


def test_a_page_edit_rebuilds_the_header_and_the_listing(two_sites, client):
    a, *_rest = two_sites
    _response, warm = get_offer_index(client, a)
    structure = structure_generation(a.site_id)
    invalidate_public_content(a.site_id)
    assert structure_generation(a.site_id) != structure
    _response, sql = get_offer_index(client, a)
    assert any("workpro_plugin_offerpage" in q for q in sql)  # the listing
    assert any(HEADER in q for q in sql)  # the header
    assert len(sql) > len(warm) + 1


def test_the_free_places_filter_follows_an_enrollment_at_once(two_sites, client, make_offer):
    """Which offers pass "nur mit freien Plätzen" depends on the places: that listing is keyed by them."""
    a, *_rest = two_sites
    last_place = make_offer(a, "Hort A", capacity=1)
    response, _sql = get_offer_index(client, a, "?freie_plaetze=on")
    assert _free_places(response) == {"Hort A": "1", "Krippe A": "5"}
    Enrollment.objects.create(offer=last_place, institution=a, status=EnrollmentStatus.RATIFIZIERT)
    response, _sql = get_offer_index(client, a, "?freie_plaetze=on")
    assert _free_places(response) == {"Krippe A": "5"}
    assert "1 Angebot" in response.content.decode()
    response, _sql = get_offer_index(client, a)  # unfiltered: still listed, now full
    assert _free_places(response) == {"Hort A": "0", "Krippe A": "5"}


def test_an_offer_edit_rebuilds_the_listing_but_not_the_header(two_sites, client):
    a, _b, offer_a, _offer_b = two_sites
    nav, structure = nav_generation(a.site_id), structure_generation(a.site_id)
    offer_a.title = "Krippe A (neu)"
    offer_a.save_revision().publish()
    assert nav_generation(a.site_id) == nav and structure_generation(a.site_id) != structure
    response, sql = get_offer_index(client, a)
    assert _free_places(response) == {"Krippe A (neu)": "5"}
    assert any("workpro_plugin_offerpage" in q for q in sql)
    assert not any(HEADER in q for q in sql)  # the header stayed cached


def test_an_institution_or_other_page_change_rebuilds_the_header(two_sites, client):
    a, *_rest = two_sites
    a.name = "Kita A am Park"
    a.save()
    response, sql = get_offer_index(client, a)
    assert "Kita A am Park" in response.content.decode()
    index = OfferIndexPage.objects.descendant_of(a.site.root_page).get()
    nav = nav_generation(a.site_id)
    index.title = "Unsere Angebote"
    index.save_revision().publish()
    assert nav_generation(a.site_id) != nav
    response, sql = get_offer_index(client, a)
    assert any(HEADER in q for q in sql)


def test_an_offer_made_private_leaves_the_cached_listing_at_once(two_sites, client, make_offer):
    """Wagtail's "Privatsphäre" saves only a PageViewRestriction, no page: the listing must still drop the
    offer's title and teaser at once, and show it again when the restriction goes."""
    from wagtail.models import PageViewRestriction

    a, *_rest = two_sites
    secret = make_offer(a, "Geheim A", capacity=5)
    response, _sql = get_offer_index(client, a)
    assert "Geheim A" in _free_places(response)
    restriction = PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    response, _sql = get_offer_index(client, a)
    assert _free_places(response) == {"Krippe A": "5"}
    restriction.delete()
    response, _sql = get_offer_index(client, a)
    assert "Geheim A" in _free_places(response)


def test_the_free_places_listing_pages_through_the_offers_with_a_place_now(two_sites, client, make_offer):
    """Filtered by free places, the listing keeps the candidates of its other filters and decides per
    request which have a place: after an enrollment (without the writer's count) it reads the index's taken
    places with the limits of the offers counted, and the page's cards, two queries, and its pages and count
    follow at once."""
    a, _b, offer_a, _offer_b = two_sites
    OfferIndexPage.objects.filter(pk=OfferIndexPage.objects.descendant_of(a.site.root_page).get().pk).update(
        per_page=2)
    invalidate_public_content(a.site_id)
    full = make_offer(a, "A voll", capacity=1)
    make_offer(a, "C ohne Grenze", capacity=None)
    last = make_offer(a, "E zwei Plätze", capacity=2)
    Enrollment.objects.create(offer=full, institution=a, status=EnrollmentStatus.RATIFIZIERT)

    def titles(page):
        response, sql = get_offer_index(client, a, f"?freie_plaetze=on&seite={page}")
        return list(_free_places(response)), response.content.decode(), sql

    first, text, _sql = titles(1)
    assert first == ["C ohne Grenze", "E zwei Plätze"] and "3 Angebote" in text
    second, _text, _sql = titles(2)
    assert second == ["Krippe A"]
    _second, _text, warm = titles(2)  # cached
    Enrollment.objects.create(offer=last, institution=a, status=EnrollmentStatus.RATIFIZIERT)
    Enrollment.objects.create(offer=last, institution=a, status=EnrollmentStatus.RATIFIZIERT)
    second, text, sql = titles(2)  # now only two: page 2 is beyond the end and shows the last page
    assert second == ["C ohne Grenze", "Krippe A"] and "2 Angebote" in text
    assert len(sql) == len(warm) + 2, sql
    taken, cards = sql[-2:]  # no search, no ordering of every offer: the index's taken places, the page by id
    assert "workpro_plugin_enrollment" in taken and "GROUP BY" in taken
    assert '"page_ptr_id" IN (' in cards and "ORDER BY" not in cards


def test_a_many_to_many_change_off_the_public_pages_leaves_every_site_warm(two_sites, make_offer):
    """A user's groups or a Vergaberunde's offers show on no public page; an add-on's offers do."""
    from django.contrib.auth.models import Group

    from tests.factories import make_user
    from workpro_plugin.models import OfferPage

    a, b, offer_a, offer_b = two_sites
    before = structure_generation(a.site_id), structure_generation(b.site_id)
    make_user("neu@example.org", person=False).groups.add(Group.objects.create(name="Irgendwer"))
    assert (structure_generation(a.site_id), structure_generation(b.site_id)) == before
    addon = make_offer(a, "Mittagessen", is_addon=True)
    before = structure_generation(a.site_id), structure_generation(b.site_id)
    addon = OfferPage.objects.get(pk=addon.pk)
    addon.addon_for.add(offer_a)  # modelcluster writes the relation on save
    addon.save()
    assert structure_generation(a.site_id) != before[0] and structure_generation(b.site_id) == before[1]
