"""The offer index right after a change (#22): its site's content generation bumped, listing and header
rebuilt. The cost must not grow with the number of offers, and the faster queries must list the same."""

import datetime

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workpro_plugin.lib.content_cache import invalidate_public_content
from workpro_plugin.models import Enrollment, EnrollmentStatus, OfferIndexPage, OfferPage

pytestmark = pytest.mark.django_db

COLD_URLS = ["", "?q=Angebot&freie_plaetze=on&alter=3-6", "?seite=3", "?kategorie=betreuung&offen=on&seite=2"]


def _index(institution):
    return OfferIndexPage.objects.descendant_of(institution.site.root_page).get()


def _get(client, institution, query=""):
    response = client.get(_index(institution).relative_url(institution.site) + query,
                          HTTP_HOST=institution.site.hostname)
    assert response.status_code == 200
    return response


def _cold_queries(client, institution, query) -> list[str]:
    _get(client, institution, query)  # Wagtail's site root paths and the like, as on any warm server
    invalidate_public_content(institution.site_id)  # as signals.py does after an edit at this institution
    with CaptureQueriesContext(connection) as queries:
        _get(client, institution, query)
    return [q["sql"] for q in queries.captured_queries]


def _add_offers(institution, make_offer, start, stop):
    for i in range(start, stop):
        offer = make_offer(institution, f"Angebot {i:02d}", capacity=3, age_min=1, age_max=6)
        if i % 3 == 0:
            Enrollment.objects.create(offer=offer, institution=institution, status=EnrollmentStatus.RATIFIZIERT)


def _cards(response) -> list[dict]:
    soup = BeautifulSoup(response.content, "html.parser")
    return [{"title": card.select_one(".wp-offer-card__title a").get_text(strip=True),
             "facts": {dt.get_text(strip=True): dd.get_text(strip=True)
                       for dt, dd in zip(card.select("dt"), card.select("dd"), strict=True)},
             "badge": card.select_one(".wp-badge").get_text(strip=True)}
            for card in soup.select(".wp-offer-card")]


def test_cold_index_costs_the_same_queries_with_n_and_3n_offers(make_institution, make_offer, client):
    kita = make_institution("kita")
    OfferIndexPage.objects.filter(pk=_index(kita).pk).update(per_page=2)  # several pages with few offers
    _add_offers(kita, make_offer, 0, 7)
    with_n = {query: _cold_queries(client, kita, query) for query in COLD_URLS}
    _add_offers(kita, make_offer, 7, 21)
    for query in COLD_URLS:
        with_3n = _cold_queries(client, kita, query)
        assert len(with_3n) == len(with_n[query]), query
        # No query joins every offer with its enrollments: the shown page's offers are counted by id.
        assert not any('JOIN "workpro_plugin_enrollment"' in sql for sql in with_3n), query
        if "freie_plaetze" in query:  # the places of the index's offers, one count grouped by offer
            assert any('FROM "workpro_plugin_enrollment"' in sql and "GROUP BY" in sql for sql in with_3n), query
        else:  # the places of the shown page's offers, by id
            assert any('FROM "workpro_plugin_enrollment"' in sql and '"offer_id" IN (' in sql for sql in with_3n), query


def test_free_places_filter_and_badge_count_place_holding_enrollments_only(make_institution, make_offer, client):
    kita = make_institution("kita")
    full = make_offer(kita, "Voll", capacity=2)
    one_left = make_offer(kita, "Ein Platz frei", capacity=2)
    make_offer(kita, "Unbegrenzt")
    for status in (EnrollmentStatus.RATIFIZIERT, EnrollmentStatus.ANGENOMMEN):
        Enrollment.objects.create(offer=full, institution=kita, status=status)
    Enrollment.objects.create(offer=one_left, institution=kita, status=EnrollmentStatus.RATIFIZIERT)
    Enrollment.objects.create(offer=one_left, institution=kita, status=EnrollmentStatus.INTERESSENT)  # no place
    ended = Enrollment.objects.create(offer=one_left, institution=kita, status=EnrollmentStatus.RATIFIZIERT)
    Enrollment.objects.filter(pk=ended.pk).update(contract_ended_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    invalidate_public_content(kita.site_id)

    cards = {card["title"]: card for card in _cards(_get(client, kita))}
    assert cards["Voll"]["facts"]["Freie Plätze"] == "0" and cards["Voll"]["badge"] == "Warteliste"
    assert cards["Ein Platz frei"]["facts"]["Freie Plätze"] == "1"
    assert cards["Ein Platz frei"]["badge"] == "Anmeldung offen"
    assert cards["Unbegrenzt"]["facts"]["Freie Plätze"] == "ausreichend"
    assert [c["title"] for c in _cards(_get(client, kita, "?freie_plaetze=on"))] == ["Ein Platz frei", "Unbegrenzt"]
    make_offer(kita, "Ohne Plätze", capacity=0)  # full without any enrollment: listed, never with free places
    assert "Ohne Plätze" in [c["title"] for c in _cards(_get(client, kita))]
    assert [c["title"] for c in _cards(_get(client, kita, "?freie_plaetze=on"))] == ["Ein Platz frei", "Unbegrenzt"]


def test_the_free_places_pages_list_what_the_database_rule_lists(make_institution, make_offer, client):
    """The listing decides which candidates are full from the kept count and pages without a list of the
    free ones (`_FreeOffers`): every page, the count and the last page agree with `with_free_places`, with
    full offers before, between and after the free ones."""
    kita = make_institution("kita")
    index = _index(kita)
    OfferIndexPage.objects.filter(pk=index.pk).update(per_page=2)
    for i, (capacity, taken) in enumerate([(1, 1), (None, 4), (2, 1), (0, 0), (1, 1), (2, 2), (3, 0), (1, 0),
                                           (2, 3), (None, 0), (1, 1)]):
        offer = make_offer(kita, f"Angebot {i:02d}", capacity=capacity)
        for _ in range(taken):
            Enrollment.objects.create(offer=offer, institution=kita, status=EnrollmentStatus.RATIFIZIERT)
    invalidate_public_content(kita.site_id)
    expected = list(OfferPage.objects.child_of(index).with_free_places().order_by("title")
                    .values_list("title", flat=True))
    assert expected == ["Angebot 01", "Angebot 02", "Angebot 06", "Angebot 07", "Angebot 09"]
    seen = []
    for number in (1, 2, 3):
        response = _get(client, kita, f"?freie_plaetze=on&seite={number}")
        seen += [c["title"] for c in _cards(response)]
        soup = BeautifulSoup(response.content, "html.parser")
        assert soup.select_one(".wp-results-count").get_text(strip=True) == "5 Angebote"
    assert seen == expected
    assert [c["title"] for c in _cards(_get(client, kita, "?freie_plaetze=on&seite=9"))] == ["Angebot 09"]


def test_search_lists_matching_live_offers_with_other_filters(make_institution, make_offer, client):
    kita = make_institution("kita")
    make_offer(kita, "Krippenplatz", teaser="Betreuung für die Kleinsten", age_min=1, age_max=3)
    make_offer(kita, "Hortplatz", teaser="Hausaufgabenhilfe und Betreuung", age_min=6, age_max=10)
    hidden = make_offer(kita, "Krippe Entwurf", teaser="Betreuung im Entwurf")
    hidden.unpublish()
    other = make_institution("andere")
    make_offer(other, "Fremde Betreuung", teaser="Betreuung anderswo")

    def titles(query):
        return sorted(card["title"] for card in _cards(_get(client, kita, query)))

    assert titles("?q=Betreuung") == ["Hortplatz", "Krippenplatz"]
    assert titles("?q=Hausaufgabenhilfe") == ["Hortplatz"]
    assert titles("?q=Betreuung&alter=u3") == ["Krippenplatz"]
    assert titles("?q=Raumfahrt") == []
    soup = BeautifulSoup(_get(client, kita, "?q=Betreuung").content, "html.parser")
    assert soup.select_one(".wp-results-count").get_text(strip=True) == "2 Angebote"


@pytest.mark.parametrize("filters", ["", "kategorie=betreuung&"])  # a filtered listing pages through ids
def test_pages_are_disjoint_and_ordered_by_start_then_title(make_institution, make_offer, client, filters):
    kita = make_institution("kita")
    OfferIndexPage.objects.filter(pk=_index(kita).pk).update(per_page=2)
    make_offer(kita, "B später", starts_on=datetime.date(2030, 1, 1))
    make_offer(kita, "A früher", starts_on=datetime.date(2029, 1, 1))
    for i in range(3):  # the same title and start: the order must still be total
        make_offer(kita, "Ohne Beginn", slug=f"ohne-beginn-{i}")
    seen = []
    for number in (1, 2, 3):
        soup = BeautifulSoup(_get(client, kita, f"?{filters}seite={number}").content, "html.parser")
        seen += [(a["href"], a.get_text(strip=True)) for a in soup.select(".wp-offer-card__title a")]
        assert f"Seite {number} von 3" in soup.select_one(".wp-pagination").get_text()
    assert len({href for href, _ in seen}) == 5
    assert [title for _, title in seen] == ["Ohne Beginn"] * 3 + ["A früher", "B später"]
    first_three = [href for href, _ in seen[:3]]
    assert first_three == sorted(first_three, key=lambda href: OfferPage.objects.get(slug=href.strip("/").split("/")[-1]).pk)
    # A page beyond the end shows the last one; its cards come from the same query.
    assert [c["title"] for c in _cards(_get(client, kita, f"?{filters}seite=99"))] == ["B später"]


def test_listing_loads_only_card_columns_and_no_query_per_offer(make_institution, make_offer, client):
    kita = make_institution("kita")
    for i in range(5):
        make_offer(kita, f"Angebot {i}", capacity=4)
    queries = _cold_queries(client, kita, "")
    cards = [sql for sql in queries if '"workpro_plugin_offerpage"."teaser"' in sql]
    assert len(cards) == 1  # the page's cards, read by id
    assert '"body"' not in cards[0] and '"questions"' not in cards[0]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the one-MATCH subquery is SQLite's backend only")
def test_sqlite_search_takes_the_one_match_subquery(make_institution, make_offer):
    """`_sqlite_fts_matches` reads modelsearch internals; should an upgrade rename them it falls back to the
    backend's own query (slow with many offers): this test notices the fallback."""
    from workpro_plugin.models.page_forms import _sqlite_fts_matches

    kita = make_institution("kita")
    offer = make_offer(kita, "Krippenplatz", teaser="Betreuung für die Kleinsten")
    matches = _sqlite_fts_matches(OfferPage.objects.live().search("Betreuung", order_by_relevance=False))
    assert matches is not None
    assert [int(match["object_id"]) for match in matches] == [offer.pk]
