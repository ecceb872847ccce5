"""Mein Konto of an account holder with 1 / 10 / 50 contracts, beside a bare page of the same site (interleaved)."""

from django.contrib.auth import get_user_model
from django.test import Client

from bench.util import load_average, measure_against, report_pair


def run() -> None:
    from workpro_plugin.models import Enrollment, Guardian, HelpPage, Institution, OfferPage, Person
    from workpro_site.demo import load_demo

    load_demo(port=8000)
    kita = Institution.objects.get(slug="kita-sonnenschein")
    krippe = OfferPage.objects.get(slug="krippenplatz")
    offer = OfferPage.objects.filter(slug="bench-konto").first()
    if offer is None:  # an offer of its own without a place limit (the demo's Krippenplatz stays free)
        offer = OfferPage(title="Bench-Konto", slug="bench-konto", category=krippe.category, teaser="Bench",
                          capacity=None, age_min=krippe.age_min, age_max=krippe.age_max)
        krippe.get_parent().add_child(instance=offer)
    bare = HelpPage.objects.descendant_of(kita.site.root_page).get().relative_url(kita.site)
    statuses = [Enrollment.Status.BEWERBER, Enrollment.Status.ANGEBOT, Enrollment.Status.RATIFIZIERT,
                Enrollment.Status.EINGELADEN, Enrollment.Status.ABGELEHNT]
    User = get_user_model()
    print(f"   {load_average()}")
    for contracts in (1, 10, 50):
        email = f"bench-konto-{contracts}@example.org"
        user = User.objects.filter(username=email).first() or User.objects.create_user(email, email, "x")
        holder = Person.objects.get_or_create(user=user, defaults={"last_name": "Bench", "first_name": "Eltern",
                                                                   "email": email})[0]
        have = Enrollment.objects.filter(account_holder=user).count()
        for i in range(have, contracts):
            child = Person.objects.create(last_name="Bench", first_name=f"Kind {i}")
            Guardian.objects.create(participant=child, guardian=holder, is_primary=True, relation="mutter")
            Enrollment.objects.create(offer=offer, institution=kita, account_holder=user, participant=child,
                                      status=statuses[i % len(statuses)], contract_number=f"KONTO-{contracts}-{i}")
        client = Client(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
        client.force_login(user)
        assert client.get("/workpro/konto/").status_code == 200
        report_pair(f"Mein Konto, {contracts} contracts", "bare page (help page)",
                    measure_against(lambda c=client: c.get(bare), lambda c=client: c.get("/workpro/konto/"),
                                    repeat=60))
