"""Cached offer listings go cold per institution (#22): a change at B leaves A's listing cached."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workpro_plugin.lib.content_cache import content_generation, invalidate_public_content
from workpro_plugin.models import Enrollment, EnrollmentStatus, OfferIndexPage

pytestmark = pytest.mark.django_db


def _listing_queried(client, institution) -> bool:
    """Whether the index page of `institution` had to query its offers (its listing was not cached)."""
    url = OfferIndexPage.objects.descendant_of(institution.site.root_page).get().relative_url(institution.site)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_HOST=institution.site.hostname)
    assert response.status_code == 200
    return any("workpro_plugin_offerpage" in q["sql"] for q in queries.captured_queries)


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
