"""Offer index with 5,000 offers (WORKPRO_BENCH_OFFERS) and an offer detail page, next to a bare page of the same site."""

import os
import uuid

from django.db import transaction
from django.db.models.sql import InsertQuery
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from bench.util import load_average, measure_against, report_pair


def offer_count() -> int:
    return int(os.environ.get("WORKPRO_BENCH_OFFERS", "5000"))


def build_offers(index, count: int, *, institution, category) -> None:
    """`count` live offers below `index` in a few bulk inserts (treebeard's add_child takes a query and a
    tree update per page: minutes for 5,000).

    The tree stays what add_child would leave: each page row gets the next materialised path of the
    index's children (treebeard's own path encoding), depth and url_path, the index's numchild is set,
    the OfferPage rows point at their page rows, and the search index gets the new pages. Every fifth
    offer has a ratified enrollment (a taken place).
    """
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Locale, Page
    from wagtail.search.backends import get_search_backend

    from workpro_plugin.models import Enrollment, EnrollmentStatus, OfferPage

    existing = OfferPage.objects.child_of(index).count()
    if existing >= count:
        return
    index.refresh_from_db()
    last = index.get_last_child()
    step = (Page._str2int(last.path[-Page.steplen:]) if last else 0) + 1
    content_type = ContentType.objects.get_for_model(OfferPage)
    locale = Locale.get_default()
    now = timezone.now()
    depth = index.depth + 1
    with transaction.atomic():
        pages = []
        for i in range(existing, count):
            slug = f"bench-angebot-{i:05d}"
            title = f"Bench-Angebot {i:05d}"
            pages.append(Page(
                path=Page._get_path(index.path, depth, step), depth=depth, numchild=0, title=title,
                draft_title=title, slug=slug, url_path=f"{index.url_path}{slug}/", content_type=content_type,
                live=True, has_unpublished_changes=False, first_published_at=now, last_published_at=now,
                locale=locale, translation_key=uuid.uuid4()))
            step += 1
        Page.objects.bulk_create(pages, batch_size=500)
        created = list(Page.objects.filter(path__startswith=index.path, depth=depth, slug__startswith="bench-angebot-")
                       .exclude(pk__in=OfferPage.objects.child_of(index).values("pk")).order_by("path"))
        offers = []
        for page in created:
            offer = OfferPage(page_ptr_id=page.pk, category=category, teaser="Kurzbeschreibung", capacity=20,
                              age_min=1, age_max=6)
            offer.__dict__.update({f.attname: getattr(page, f.attname) for f in Page._meta.concrete_fields})
            offers.append(offer)
        fields = OfferPage._meta.local_concrete_fields  # the OfferPage table only (bulk_create refuses a child model)
        for start in range(0, len(offers), 200):
            query = InsertQuery(OfferPage)
            query.insert_values(fields, offers[start:start + 200])
            query.get_compiler(using="default").execute_sql(returning_fields=None)
        Page.objects.filter(pk=index.pk).update(numchild=OfferPage.objects.child_of(index).count()
                                                + Page.objects.child_of(index).exclude(
                                                    content_type=content_type).count())
        Enrollment.objects.bulk_create(
            [Enrollment(offer_id=offer.pk, institution=institution, status=EnrollmentStatus.RATIFIZIERT)
             for n, offer in enumerate(offers, start=existing) if n % 5 == 0], batch_size=500)
    get_search_backend().add_bulk(OfferPage, list(OfferPage.objects.filter(pk__in=[o.pk for o in offers])))
    index.refresh_from_db()
    assert Page.find_problems() == ([], [], [], [], []), Page.find_problems()


def run() -> None:
    from workpro_plugin.middleware import AuditMiddleware
    from workpro_plugin.models import (
        Enrollment,
        HelpPage,
        Institution,
        OfferCategory,
        OfferIndexPage,
        OfferPage,
    )
    from workpro_site.demo import load_demo

    load_demo(port=8000)
    kita = Institution.objects.get(slug="kita-sonnenschein")
    index = OfferIndexPage.objects.descendant_of(kita.site.root_page).get()
    count = offer_count()
    build_offers(index, count, institution=kita,
                 category=OfferCategory.objects.get(institution=None, slug="betreuung"))
    client = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    bare = HelpPage.objects.descendant_of(kita.site.root_page).get().relative_url(kita.site)
    detail = OfferPage.objects.get(slug="krippenplatz").relative_url(kita.site)
    index_url = index.relative_url(kita.site)
    last_offer = OfferPage.objects.child_of(index).order_by("-path").first()
    assert client.get(last_offer.relative_url(kita.site)).status_code == 200  # a bulk-built offer is routable
    print(f"   {OfferPage.objects.child_of(index).count()} offers below the index; {load_average()}")

    offer = OfferPage.objects.get(slug="bench-angebot-00042")
    other = HelpPage.objects.descendant_of(kita.site.root_page).get()
    edits = {"offer": 0, "page": 0}

    def publish(page, kind):
        # An editor's change as Wagtail's "Veröffentlichen" does it, in a request: a revision published
        # (post_save and page_published reach signals.py, which bumps the site's generation; WorkPro's
        # middleware warms the site's listings when the view is done).
        edits[kind] += 1

        def view(request):
            draft = page.get_latest_revision_as_object()
            draft.seo_title = f"Bearbeitung {edits[kind]}"
            draft.save_revision().publish()
            return HttpResponse()

        AuditMiddleware(view)(RequestFactory().post("/admin/pages/"))

    held = Enrollment.objects.filter(institution=kita, offer__in=OfferPage.objects.child_of(index)).first()

    def enrollment():
        # An enrollment at this KiTa saved, as a status change saves it: signals.py moves the site's places
        # on and, after the commit, the writer counts the taken places of the indexes visitors filter by
        # free places (services.offers.offer_places_warm); the next visitor reads the cards' places.
        held.save(update_fields=["status"])

    for label, url in [
        (f"offer index, {count} offers, page 1", index_url),
        ("offer index, filtered + search", index_url + "?q=Bench&freie_plaetze=on&alter=3-6"),
        ("offer index, page 20", index_url + "?seite=20"),
        ("offer detail (fee table, FAQ)", detail),
    ]:
        assert client.get(url).status_code == 200
        variants = [("", None)]
        if "angebote/?" in url or url == index_url:
            # The first visitor after a change (the change itself untimed, before each timed request).
            variants = [(" [cached]", None), (" [after an enrollment]", enrollment),
                        (" [after an offer edit]", lambda: publish(offer, "offer")),
                        (" [after another page's edit]", lambda: publish(other, "page"))]
        for suffix, before in variants:
            report_pair(label + suffix, "bare page (help page)",
                        measure_against(lambda: client.get(bare), lambda u=url: client.get(u), repeat=100,
                                        before=before))

    # What the warm costs the editor: a publish with it beside one without it (the next visitors' gain above).
    from workpro_plugin.services import offers as offer_services

    def publish_without_warm():
        warm = offer_services.offer_listings_warm
        offer_services.offer_listings_warm = lambda *, site_id: 0
        try:
            publish(offer, "offer")
        finally:
            offer_services.offer_listings_warm = warm

    report_pair("an offer published (revision), listings warmed", "the same publish without the warm",
                measure_against(publish_without_warm, lambda: publish(offer, "offer"), repeat=20))

    def enrollment_without_count():
        warm = offer_services.offer_places_warm
        offer_services.offer_places_warm = lambda *, site_id: 0
        try:
            enrollment()
        finally:
            offer_services.offer_places_warm = warm

    enrollment()
    client.get(index_url + "?q=Bench&freie_plaetze=on&alter=3-6")  # a visitor who counted: the index noted
    report_pair("an enrollment saved, taken places counted", "the same save without the count",
                measure_against(enrollment_without_count, enrollment, repeat=50))
