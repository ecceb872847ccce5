"""Staff enrollment list at 1,000 / 10,000 / 50,000 enrollments (any page, filters, search), the inspect view,
and a Träger's view over 400 institutions, each beside a trivial modeladmin list measured interleaved."""

import os

from django.contrib.auth import get_user_model
from django.test import Client

from bench.util import load_average, measure_against, report_pair, settle_database

# BENCH_ADMIN_ENROLLMENTS caps the largest list (default 50,000, the figure).
ENROLLMENTS = int(os.environ.get("BENCH_ADMIN_ENROLLMENTS", "50000"))
SIZES = sorted({min(n, ENROLLMENTS) for n in (1000, 10000, 50000)})
INSTITUTIONS = int(os.environ.get("BENCH_ADMIN_INSTITUTIONS", "400"))
LIST = "/admin/workpro_plugin/enrollment/"
# The baseline: a trivial modeladmin list (Textbausteine, a handful of rows) of the same user.
TRIVIAL = "/admin/workpro_plugin/cannedreply/"
# BENCH_ADMIN_ONLY=traeger measures only the Träger section (skips the enrollment-size loop and inspect view).
ONLY = os.environ.get("BENCH_ADMIN_ONLY", "")


def _top_up(size, *, offer, kita, parent, people):
    from workpro_plugin.models import Enrollment

    statuses = list(Enrollment.Status.values)
    existing = Enrollment.objects.count()
    batch = [Enrollment(offer=offer, institution=kita, account_holder=parent, participant=people[i % len(people)],
                        status=statuses[i % len(statuses)], contract_number=f"BENCH-{i:06d}")
             for i in range(existing, size)]
    Enrollment.objects.bulk_create(batch, batch_size=2000)
    return Enrollment.objects.count()


def _pair(client, label, url, repeat):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    report_pair(label, "trivial modeladmin list", measure_against(
        lambda: client.get(TRIVIAL), lambda: client.get(url), repeat=repeat, warmup=1))


def _many_institutions(count):
    """A Träger with `count` KiTas, each with its site and one offer (for the offer and institution filters)."""
    from tests.factories import make_institution, make_offer
    from workpro_plugin.models import Institution

    existing = Institution.objects.filter(slug__startswith="bench-kita-").count()
    for i in range(existing, count):
        institution = make_institution(slug=f"bench-kita-{i:03d}", name=f"Bench-KiTa {i:03d}",
                                       operator="Bench-Träger")
        make_offer(institution, title=f"Krippe Bench-KiTa {i:03d}")


def run() -> None:
    from workpro_plugin.models import Enrollment, Institution, OfferPage, Person
    from workpro_site.demo import SUPERUSER, load_demo

    load_demo(port=8000)
    User = get_user_model()
    kita = Institution.objects.get(slug="kita-sonnenschein")
    # An offer of its own without a place limit: 50,000 enrollments must not fill the demo's Krippenplatz,
    # which the other bench modules (same database) still enroll on.
    krippe = OfferPage.objects.get(slug="krippenplatz")
    offer = OfferPage.objects.filter(slug="bench-massenangebot").first()
    if offer is None:
        offer = OfferPage(title="Bench-Massenangebot", slug="bench-massenangebot", category=krippe.category,
                          teaser="Bench", capacity=None, age_min=krippe.age_min, age_max=krippe.age_max)
        krippe.get_parent().add_child(instance=offer)
    parent = User.objects.get(username="eltern@example.org")
    people = Person.objects.bulk_create([Person(last_name=f"Nachname{i}", first_name="Kind") for i in range(1000)])
    lead = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    lead.force_login(User.objects.get(username="leitung@kita-sonnenschein.example"))
    sample = Enrollment.objects.order_by("pk").first()
    if ONLY == "traeger":  # the same database as a full run reaches the Träger section with, unmeasured
        _top_up(SIZES[-1], offer=offer, kita=kita, parent=parent, people=people)
    for size in ([] if ONLY == "traeger" else SIZES):
        total = _top_up(size, offer=offer, kita=kita, parent=parent, people=people)
        settled = settle_database()
        repeat = 30 if size <= 10000 else 15
        print(f"   --- {total} enrollments; {load_average()}" + (f"; {settled}" if settled else ""))
        last_page = min(50, max(1, size // 50))
        for label, url in [
            ("enrollment list, unfiltered", LIST),
            (f"enrollment list, page {last_page} (?p={last_page})", f"{LIST}?p={last_page}"),
            ("enrollment list, status + search", f"{LIST}?status__exact=bewerber&q=Nachname7"),
            ("enrollment list, deadline overdue", f"{LIST}?frist=ueberfaellig"),
            ("enrollment list, offer filter", f"{LIST}?angebot={offer.pk}"),
            ("enrollment list, Notfalldaten fehlt", f"{LIST}?notfall=fehlt"),
            ("enrollment list, sorted by participant", f"{LIST}?o=1"),
        ]:
            _pair(lead, f"{label} [{size // 1000}k]", url, repeat)
    if ONLY != "traeger":
        _pair(lead, "enrollment inspect view", f"{LIST}inspect/{sample.pk}/", 30)

    _many_institutions(INSTITUTIONS)
    settled = settle_database()
    print(f"   --- a Träger with {INSTITUTIONS} KiTas (superuser); {load_average()}" + (f"; {settled}" if settled else ""))
    admin = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    admin.force_login(User.objects.get(username=SUPERUSER[0]))
    for label, url in [
        (f"enrollment list, {INSTITUTIONS} institutions", LIST),
        ("enrollment list, offer filter", f"{LIST}?angebot={offer.pk}"),
        (f"institution list, {INSTITUTIONS} institutions", "/admin/workpro_plugin/institution/"),
    ]:
        _pair(admin, label, url, 15)
