"""Offer index with 500 offers and an offer detail page, next to a bare page of the same site."""

from django.test import Client

from bench.util import load_average, measure_against, report_pair


def run() -> None:
    from workpro_plugin.lib.content_cache import invalidate_public_content
    from workpro_plugin.models import (
        Enrollment,
        EnrollmentStatus,
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
    existing = OfferPage.objects.child_of(index).count()
    for i in range(existing, 500):
        offer = OfferPage(title=f"Bench-Angebot {i:03d}", category=OfferCategory.objects.get(institution=None, slug="betreuung"), teaser="Kurzbeschreibung",
                          capacity=20, age_min=1, age_max=6)
        index.add_child(instance=offer)
        if i % 5 == 0:
            Enrollment.objects.create(offer=offer, institution=kita, status=EnrollmentStatus.RATIFIZIERT)
    client = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    bare = HelpPage.objects.descendant_of(kita.site.root_page).get().relative_url(kita.site)
    detail = OfferPage.objects.get(slug="krippenplatz").relative_url(kita.site)
    index_url = index.relative_url(kita.site)
    print(f"   {load_average()}")
    def cold(url):
        invalidate_public_content()  # as after an edit: header and listing are rebuilt
        return client.get(url)

    for label, url in [
        ("offer index, 500 offers, page 1", index_url),
        ("offer index, filtered + search", index_url + "?q=Bench&freie_plaetze=on&alter=3-6"),
        ("offer index, page 20", index_url + "?seite=20"),
        ("offer detail (fee table, FAQ)", detail),
    ]:
        assert client.get(url).status_code == 200
        variants = [("", lambda u=url: client.get(u))]
        if "angebote/?" in url or url == index_url:
            variants = [(" [cached]", variants[0][1]), (" [cold]", lambda u=url: cold(u))]
        for suffix, fn in variants:
            report_pair(label + suffix, "bare page (help page)",
                        measure_against(lambda: client.get(bare), fn, repeat=100))
