"""Staff enrollment list with 50,000 enrollments (unfiltered, filtered) and the inspect view, beside a bare admin page."""

import os

from django.contrib.auth import get_user_model
from django.test import Client

from bench.util import load_average, measure_against, report_pair

# BENCH_ADMIN_ENROLLMENTS scales the list down (default 50,000, the figure).
ENROLLMENTS = int(os.environ.get("BENCH_ADMIN_ENROLLMENTS", "50000"))


def run() -> None:
    from workpro_plugin.models import Enrollment, Institution, OfferPage, Person
    from workpro_site.demo import load_demo

    load_demo(port=8000)
    kita = Institution.objects.get(slug="kita-sonnenschein")
    # An offer of its own without a place limit: 50,000 enrollments must not fill the demo's Krippenplatz,
    # which the other bench modules (same database) still enroll on.
    krippe = OfferPage.objects.get(slug="krippenplatz")
    offer = OfferPage.objects.filter(slug="bench-massenangebot").first()
    if offer is None:
        offer = OfferPage(title="Bench-Massenangebot", slug="bench-massenangebot", category=krippe.category,
                          teaser="Bench", capacity=None, age_min=krippe.age_min, age_max=krippe.age_max)
        krippe.get_parent().add_child(instance=offer)
    parent = get_user_model().objects.get(username="eltern@example.org")
    people = Person.objects.bulk_create([Person(last_name=f"Nachname{i}", first_name="Kind") for i in range(1000)])
    statuses = [s for s in Enrollment.Status.values]
    existing = Enrollment.objects.count()
    batch = [Enrollment(offer=offer, institution=kita, account_holder=parent, participant=people[i % 1000],
                        status=statuses[i % len(statuses)], contract_number=f"BENCH-{i:06d}")
             for i in range(ENROLLMENTS - existing)]
    Enrollment.objects.bulk_create(batch, batch_size=2000)
    print(f"   {Enrollment.objects.count()} enrollments")
    client = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    client.force_login(get_user_model().objects.get(username="leitung@kita-sonnenschein.example"))
    print(f"   {load_average()}")
    bare = "bare admin page (/admin/account/)"
    sample = Enrollment.objects.order_by("pk").first()
    for label, url in [
        ("enrollment list, unfiltered", "/admin/workpro_plugin/enrollment/"),
        ("enrollment list, status + search", "/admin/workpro_plugin/enrollment/?status__exact=bewerber&q=Nachname7"),
        ("enrollment list, deadline overdue", "/admin/workpro_plugin/enrollment/?frist=ueberfaellig"),
        ("enrollment inspect view", f"/admin/workpro_plugin/enrollment/inspect/{sample.pk}/"),
    ]:
        assert client.get(url).status_code == 200, url
        report_pair(label, bare, measure_against(lambda: client.get("/admin/account/"),
                                                 lambda u=url: client.get(u), repeat=30, warmup=1))
