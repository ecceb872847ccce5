"""After a change the writer rebuilds the offer index's first page and its header (#22): the next visitor
pays what a visitor pays after an enrollment, not a read of every offer; and every page of the
unfiltered listing pages through one cached order of the offers."""

import logging

import pytest
from bs4 import BeautifulSoup
from django.db import connection, transaction

from tests.helpers import get_offer_index
from workpro_plugin.lib.content_cache import invalidate_offers
from workpro_plugin.models import OfferIndexPage, OfferPage
from workpro_plugin.services import offers as offer_services

pytestmark = pytest.mark.django_db
OFFERS = '"workpro_plugin_offerpage"'


def _titles(response) -> list[str]:
    return [h.get_text(strip=True) for h in BeautifulSoup(response.content, "html.parser")
            .select(".wp-offer-card h3")]


def _publish(offer, **changes):
    page = offer.get_latest_revision_as_object()
    for name, value in changes.items():
        setattr(page, name, value)
    page.save_revision().publish()


@pytest.fixture
def kita(make_institution, make_offer, client):
    kita = make_institution("kita")
    for i in range(5):
        make_offer(kita, f"Angebot {i}", capacity=5)
    OfferIndexPage.objects.descendant_of(kita.site.root_page).update(per_page=2)
    # The setup as committed: its warm callbacks, pending in the test's transaction, would otherwise stand
    # for the test's own changes (a transaction registers one per site).
    connection.run_on_commit.clear()
    get_offer_index(client, kita)  # Wagtail's site root paths and the like, as on any warm server
    return kita


def test_after_an_offer_is_published_the_first_visitor_reads_only_the_places(
        kita, client, django_capture_on_commit_callbacks):
    warm, warm_sql = get_offer_index(client, kita)
    offer = OfferPage.objects.get(title="Angebot 0")
    with django_capture_on_commit_callbacks(execute=True):
        _publish(offer, title="Angebot 0 neu")
    response, sql = get_offer_index(client, kita)
    assert _titles(response) == ["Angebot 0 neu", "Angebot 1"]
    extra = [q for q in sql if q not in warm_sql]
    # Only the places of the page's offers: no offer read, no filter choices, no header.
    assert len(sql) == len(warm_sql) + 1, extra
    assert all(OFFERS not in q for q in sql)
    assert 'FROM "workpro_plugin_enrollment"' in extra[0]


def test_without_the_warm_the_first_visitor_rebuilds(kita, client, django_capture_on_commit_callbacks):
    """The guard of the test above: a change that does not reach the writer's warm (as before it, or a
    bump without a change) costs the visitor the offers' read."""
    _, warm_sql = get_offer_index(client, kita)
    invalidate_offers(kita.site_id)
    _, sql = get_offer_index(client, kita)
    assert any(OFFERS in q for q in sql)
    assert len(sql) > len(warm_sql) + 1


def test_the_warm_follows_an_offer_that_moves_or_goes(kita, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _publish(OfferPage.objects.get(title="Angebot 3"), title="Aaa zuerst")
    assert _titles(get_offer_index(client, kita)[0]) == ["Aaa zuerst", "Angebot 0"]
    with django_capture_on_commit_callbacks(execute=True):
        OfferPage.objects.get(title="Aaa zuerst").unpublish()
    assert _titles(get_offer_index(client, kita)[0]) == ["Angebot 0", "Angebot 1"]
    assert _titles(get_offer_index(client, kita, "?seite=2")[0]) == ["Angebot 2", "Angebot 4"]


def test_deep_pages_after_a_change_read_their_cards_by_id_without_ordering_every_offer(
        kita, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _publish(OfferPage.objects.get(title="Angebot 1"), teaser="Neu")
    response, sql = get_offer_index(client, kita, "?seite=3")
    assert _titles(response) == ["Angebot 4"]
    offer_reads = [q for q in sql if OFFERS in q]
    assert len(offer_reads) == 1 and "ORDER BY" not in offer_reads[0], offer_reads  # the cards, by id


def test_many_rows_saved_in_one_transaction_warm_once(kita, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for offer in OfferPage.objects.all():
            offer.teaser = "Sammeländerung"
            offer.save()
    assert [c for c in callbacks if isinstance(c, offer_services._Warm)] != []
    assert len([c for c in callbacks if isinstance(c, offer_services._Warm)]) == 1


def test_a_rolled_back_change_leaves_no_warm_behind_and_the_next_one_warms(
        kita, django_capture_on_commit_callbacks):
    offer = OfferPage.objects.get(title="Angebot 2")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        try:
            with transaction.atomic():
                offer.teaser = "verworfen"
                offer.save()
                raise RuntimeError
        except RuntimeError:
            pass
        offer.teaser = "gilt"
        offer.save()
    assert len([c for c in callbacks if isinstance(c, offer_services._Warm)]) == 1


def test_a_failing_warm_is_logged_and_never_breaks_the_committed_change(kita, monkeypatch, caplog):
    def broken(*, site_id):
        raise RuntimeError("cache down")

    monkeypatch.setattr(offer_services, "offer_listings_warm", broken)
    with caplog.at_level(logging.ERROR, logger="workpro_plugin.services.offers"):
        offer_services._Warm(kita.site_id)()
    assert "warming the offer listings" in caplog.text


def test_the_warm_builds_every_language_and_skips_what_is_cached(kita):
    invalidate_offers(kita.site_id)
    assert offer_services.offer_listings_warm(site_id=kita.site_id) == 2  # de and en
    assert offer_services.offer_listings_warm(site_id=kita.site_id) == 0
    assert offer_services.offer_listings_warm(site_id=10**6) == 0  # a deleted site


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the flush must leave the migrations' rows
def test_in_a_request_the_autocommitted_saves_of_a_publish_warm_once_when_the_view_is_done(kita, monkeypatch):
    """Wagtail's publish (not atomic) saves the page, its revision and the live page one by one; warming
    after each would rebuild the listing three or four times in the editor's request."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from workpro_plugin.middleware import AuditMiddleware

    calls = []
    warm = offer_services.offer_listings_warm
    monkeypatch.setattr(offer_services, "offer_listings_warm",
                        lambda *, site_id: calls.append(site_id) or warm(site_id=site_id))
    offer = OfferPage.objects.get(title="Angebot 0")

    def view(request):
        _publish(offer, title="Angebot 0 neu")
        assert calls == []  # not yet: the view may change more
        return HttpResponse()

    AuditMiddleware(view)(RequestFactory().post("/admin/pages/"))
    assert calls == [kita.site_id]
    _publish(offer, title="Angebot 0 wieder")  # outside a request: each autocommitted change warms at once
    assert len(calls) > 2


def test_a_saved_draft_leaves_the_public_listing_cached(kita, client):
    _, warm_sql = get_offer_index(client, kita)
    offer = OfferPage.objects.get(title="Angebot 1")
    offer.title = "Entwurf"
    offer.save_revision()  # not published
    response, sql = get_offer_index(client, kita)
    assert sql == warm_sql and "Entwurf" not in response.content.decode()


def test_a_listing_visitors_built_is_rebuilt_by_the_writer(kita, client, django_capture_on_commit_callbacks):
    """A filtered, searched or deep listing a visitor built is noted; after the next change the writer
    builds it too, and its next visitor reads only the places, as on the first page."""
    searched, free = "?q=Angebot&seite=2", "?freie_plaetze=on&seite=2"
    for query in (searched, free):
        get_offer_index(client, kita, query)  # a visitor builds it (and it is noted)
    warm_sql = {query: get_offer_index(client, kita, query)[1] for query in (searched, free)}
    with django_capture_on_commit_callbacks(execute=True):
        _publish(OfferPage.objects.get(title="Angebot 3"), teaser="Neu")
    response, sql = get_offer_index(client, kita, searched)
    assert _titles(response) == ["Angebot 2", "Angebot 3"]
    assert all(OFFERS not in q for q in sql), [q for q in sql if OFFERS in q]
    extra = [q for q in sql if q not in warm_sql[searched]]
    assert len(sql) == len(warm_sql[searched]) + 1 and 'FROM "workpro_plugin_enrollment"' in extra[0]  # the places
    # By free places: only the page's cards read by id; no search, and the taken places of the index the
    # writer counted after the change.
    response, sql = get_offer_index(client, kita, free)
    assert _titles(response) == ["Angebot 2", "Angebot 3"]
    extra = [q for q in sql if q not in warm_sql[free]]
    assert len(extra) == 1 and OFFERS in extra[0] and "ORDER BY" not in extra[0], extra
    assert not any('FROM "workpro_plugin_enrollment"' in q for q in sql)


def test_a_listing_nobody_asked_for_is_left_to_its_visitor(kita, client, django_capture_on_commit_callbacks):
    get_offer_index(client, kita, "?seite=2")
    with django_capture_on_commit_callbacks(execute=True):
        _publish(OfferPage.objects.get(title="Angebot 3"), teaser="Neu")
    _, sql = get_offer_index(client, kita, "?seite=3")
    assert any(OFFERS in q for q in sql)


def test_the_writer_rebuilds_the_last_listings_asked_in_their_language(kita, client):
    from django.utils import translation

    from workpro_plugin.models.offers import ASKED_LISTINGS

    for number in range(ASKED_LISTINGS + 3):
        get_offer_index(client, kita, f"?q=Angebot+{number}")
    invalidate_offers(kita.site_id)
    index = OfferIndexPage.objects.descendant_of(kita.site.root_page).get()
    with translation.override("en"):
        assert index.warm_listing(kita.site) == 1  # the first page only: nothing asked in English
    with translation.override("de"):
        assert index.warm_listing(kita.site) == 1 + ASKED_LISTINGS
        assert index.warm_listing(kita.site) == 0  # all cached now
    invalidate_offers(kita.site_id)
    get_offer_index(client, kita, "?q=Angebot+0")  # the oldest, dropped: built by its visitor again
    with translation.override("de"):
        assert index.warm_listing(kita.site) == ASKED_LISTINGS  # the first page and 7 of the 8 kept are not cached; 0 is


# --- a listing filtered by free places after an enrollment ---------------------------------------------

ENROLLMENTS = 'FROM "workpro_plugin_enrollment"'
FREE = "?freie_plaetze=on"


def _fill(offer, kita, n=5):
    from workpro_plugin.models import Enrollment

    return [Enrollment.objects.create(offer=offer, institution=kita, status=Enrollment.Status.RATIFIZIERT)
            for _ in range(n)]


def test_after_an_enrollment_the_writer_counts_the_taken_places_for_the_free_places_listing(
        kita, client, django_capture_on_commit_callbacks):
    assert _titles(get_offer_index(client, kita, FREE)[0]) == ["Angebot 0", "Angebot 1"]  # a visitor asks
    offer = OfferPage.objects.get(title="Angebot 0")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        taken = _fill(offer, kita)  # five enrollments in one transaction: the offer is full
    assert sum(type(c).__name__ == "_WarmPlaces" for c in callbacks) == 1
    response, sql = get_offer_index(client, kita, FREE)
    assert _titles(response) == ["Angebot 1", "Angebot 2"]
    assert not any(ENROLLMENTS in q for q in sql), sql  # counted by the writer, not by this visitor

    connection.run_on_commit.clear()  # the transaction above committed (the capture leaves its callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        taken[0].delete()  # a place is free again
    response, sql = get_offer_index(client, kita, FREE)
    assert _titles(response) == ["Angebot 0", "Angebot 1"]
    assert not any(ENROLLMENTS in q for q in sql), sql


def test_without_the_writers_count_the_free_places_visitor_counts(kita, client):
    """The guard of the test above: a change that does not reach the writer's count (a bump without a
    change) costs the visitor the count of the taken places."""
    from workpro_plugin.lib.content_cache import invalidate_places

    get_offer_index(client, kita, FREE)
    invalidate_places(kita.site_id)
    _, sql = get_offer_index(client, kita, FREE)
    assert sum(ENROLLMENTS in q for q in sql) == 1


def test_where_nobody_filters_by_free_places_an_enrollment_counts_nothing(
        kita, client, django_capture_on_commit_callbacks):
    from django.test.utils import CaptureQueriesContext

    get_offer_index(client, kita)  # the unfiltered listing only
    with django_capture_on_commit_callbacks() as callbacks:
        _fill(OfferPage.objects.get(title="Angebot 0"), kita, n=1)
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    assert len(queries) == 0
    assert offer_services.offer_places_warm(site_id=kita.site_id) == 0


def test_a_failing_count_leaves_the_enrollment_and_the_visitor_counts(
        kita, client, django_capture_on_commit_callbacks, monkeypatch, caplog):
    get_offer_index(client, kita, FREE)

    def broken(self):
        raise RuntimeError("cache down")

    monkeypatch.setattr(OfferIndexPage, "warm_taken_places", broken)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        _fill(OfferPage.objects.get(title="Angebot 0"), kita)
    assert "warming the offer listings of site" in caplog.text
    monkeypatch.undo()
    response, sql = get_offer_index(client, kita, FREE)
    assert _titles(response) == ["Angebot 1", "Angebot 2"]
    assert sum(ENROLLMENTS in q for q in sql) == 1


def test_a_lost_note_heals_with_the_next_visitor_who_counts(kita, client, django_capture_on_commit_callbacks):
    """The note of the indexes filtered by free places lives in the cache, which may cull it: then the
    writer counts nothing, the next visitor counts and notes the index again."""
    from django.core.cache import cache

    from workpro_plugin.models.offers import free_places_asked_key

    get_offer_index(client, kita, FREE)
    cache.delete(free_places_asked_key(kita.site_id))
    with django_capture_on_commit_callbacks(execute=True):
        _fill(OfferPage.objects.get(title="Angebot 0"), kita, n=1)
    assert sum(ENROLLMENTS in q for q in get_offer_index(client, kita, FREE)[1]) == 1
    connection.run_on_commit.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _fill(OfferPage.objects.get(title="Angebot 1"), kita, n=1)
    assert not any(ENROLLMENTS in q for q in get_offer_index(client, kita, FREE)[1])


def test_after_an_offer_is_published_the_free_places_visitor_reads_the_writers_count(
        kita, client, django_capture_on_commit_callbacks):
    get_offer_index(client, kita, FREE)
    with django_capture_on_commit_callbacks(execute=True):
        _publish(OfferPage.objects.get(title="Angebot 0"), title="Angebot 0 neu")
    response, sql = get_offer_index(client, kita, FREE)
    assert _titles(response) == ["Angebot 0 neu", "Angebot 1"]
    assert not any(ENROLLMENTS in q for q in sql), sql
