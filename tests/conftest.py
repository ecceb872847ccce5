import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_wagtail_site_cache():
    """Wagtail caches site root paths; a test that creates Sites would break the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(db):
    from workpro_site.demo import load_demo

    return load_demo(port=8000)


@pytest.fixture
def kita_client(client):
    client.defaults.update(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    return client


@pytest.fixture
def sms_outbox():
    from workpro_plugin.sms.backends import locmem

    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def make_institution(db):
    """Builds a small institution tree: operator, homepage, site, offer index."""
    from wagtail.models import Page, Site

    from home.models import HomePage
    from workpro_plugin.models import Institution, OfferIndexPage, Operator

    def make(slug="kita", hostname=None, name=None):
        operator, _ = Operator.objects.get_or_create(name="Träger GmbH")
        root = Page.get_first_root_node()
        home = HomePage(title=name or slug.title(), slug=slug)
        root.add_child(instance=home)
        site = Site.objects.create(
            hostname=hostname or f"{slug}.test", port=80, root_page=home,
            is_default_site=not Site.objects.filter(is_default_site=True).exists(),
        )
        index = OfferIndexPage(title="Angebote", slug="angebote")
        home.add_child(instance=index)
        from workpro_plugin.services.institutions import ensure_staff_groups

        institution = Institution.objects.create(operator=operator, site=site, name=name or slug.title(), slug=slug)
        return ensure_staff_groups(institution)

    return make


@pytest.fixture
def make_offer():
    from workpro_plugin.models import OfferIndexPage, OfferPage

    def make(institution, title="Krippenplatz", **fields):
        index = OfferIndexPage.objects.descendant_of(institution.site.root_page).get()
        fields.setdefault("category", "betreuung")
        fields.setdefault("teaser", f"Kurzbeschreibung {title}")
        offer = OfferPage(title=title, **fields)
        index.add_child(instance=offer)
        return offer

    return make


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (outbox delivery) of the wrapped block, as a real commit would."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner


@pytest.fixture
def world(make_institution, make_offer):
    """Two institutions, an offer, its staff, a holder, a stranger and a superuser."""
    from types import SimpleNamespace

    from tests.factories import make_user, require_sections

    kita = make_institution("kita", hostname="kita.test")
    other = make_institution("bbz", hostname="bbz.test")
    offer = make_offer(kita, "Krippenplatz", capacity=10)
    require_sections(offer)
    return SimpleNamespace(
        kita=kita, other=other, offer=offer,
        holder=make_user("eltern@example.org"),
        staff=make_user("leitung@kita.test", person=False, groups=[kita.lead_group]),
        caseworker=make_user("sachbearbeitung@kita.test", person=False, groups=[kita.staff_group]),
        other_staff=make_user("leitung@bbz.test", person=False, groups=[other.lead_group]),
        stranger=make_user("fremd@example.org"),
        superuser=make_user("admin@example.org", person=False, superuser=True),
    )
