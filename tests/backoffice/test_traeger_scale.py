"""A Träger with many KiTas (#22): the admin pages a Träger and a superuser open (enrollment list with and without
the offer filter, institution list, any page's menu) ask the database the same number of times for 3 and for 30
institutions, and the menu reads no row per institution."""

import pytest
from django.contrib.admin import SimpleListFilter
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models.signals import post_init
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail_modeladmin.templatetags.modeladmin_tags import admin_list_filter

from tests.factories import enrollment_in, make_institution, make_offer, make_user
from tests.helpers import modeladmin_table
from workpro_plugin.access import is_chat_staff, may_edit_texts
from workpro_plugin.backoffice.enrollments import OfferFilter
from workpro_plugin.models import Enrollment, Institution, OfferPage
from workpro_plugin.selectors.chat import chat_staff_institutions
from workpro_plugin.selectors.texts import text_institutions

pytestmark = pytest.mark.django_db
S = Enrollment.Status
LIST = "/admin/workpro_plugin/enrollment/"
INSTITUTIONS = "/admin/workpro_plugin/institution/"
TRIVIAL = "/admin/workpro_plugin/cannedreply/"


@pytest.fixture
def traeger(world):
    """The operator's group ("Träger …") of the world's institutions, and a member."""
    world.kita.refresh_from_db()
    return make_user("traeger@example.org", person=False, groups=[world.kita.operator.lead_group])


def _grow(world, total):
    """More KiTas of the world's operator up to `total`, each with an offer and an enrollment (so each shows up
    in the offer and institution filters)."""
    have = Institution.objects.filter(slug__startswith="t-").count()
    for i in range(have, total):
        kita = make_institution(f"t-{i:02d}", operator=world.kita.operator.name)
        enrollment_in(S.BEWERBER, offer=make_offer(kita, f"Platz {i:02d}"), institution=kita, holder=world.holder)


def _counted(client, url):
    """Queries of the second request (the first warms caches), and the institutions it instantiated."""
    assert client.get(url).status_code == 200
    made = []

    def count(sender, instance, **kwargs):
        made.append(instance)

    post_init.connect(count, sender=Institution)
    try:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
    finally:
        post_init.disconnect(count, sender=Institution)
    return len(captured), len(made)


@pytest.mark.parametrize("who", ["superuser", "traeger", "staff"])
def test_admin_pages_ask_the_same_for_3_and_30_institutions(client, world, traeger, who):
    client.force_login(traeger if who == "traeger" else getattr(world, who))
    urls = [TRIVIAL, LIST, f"{LIST}?angebot={world.offer.pk}", reverse("workpro_admin:texts_index")]
    if who == "superuser":
        urls.append(INSTITUTIONS)
    _grow(world, 3)
    few = {url: _counted(client, url)[0] for url in urls}
    _grow(world, 30)
    assert {url: _counted(client, url)[0] for url in urls} == few


@pytest.mark.parametrize("who", ["superuser", "traeger"])
def test_the_menu_reads_no_row_per_institution(client, world, traeger, who):
    """Every admin page asks whether to show "Mail- und SMS-Texte": whether there is such an institution,
    not all of a Träger's institutions read and checked one by one."""
    client.force_login(traeger if who == "traeger" else getattr(world, who))
    _grow(world, 3)
    _queries, few = _counted(client, TRIVIAL)
    _grow(world, 12)
    assert _counted(client, TRIVIAL)[1] == few


@pytest.mark.parametrize(("selector", "rule", "codename"), [
    (text_institutions, may_edit_texts, "edit_texts"),
    (chat_staff_institutions, is_chat_staff, "process_enrollment"),
])
def test_one_query_selectors_decide_as_the_per_institution_rule(world, traeger, selector, rule, codename):
    """text_institutions and chat_staff_institutions (one query each) decide as access.may_edit_texts and
    access.is_chat_staff do, institution by institution: Leitung and the Träger's group lead, staff need the
    permission, an inactive Leitung and other institutions' staff get nothing."""
    _grow(world, 2)
    holder_of = make_user(f"{codename}@kita.test", person=False, groups=[world.kita.staff_group])
    holder_of.user_permissions.add(Permission.objects.get(codename=codename))
    plain = make_user("ohne@kita.test", person=False, groups=[world.kita.staff_group])
    inactive = make_user("alt@kita.test", person=False, groups=[world.kita.lead_group])
    inactive.is_active = False
    inactive.save()
    everyone = list(Institution.objects.all())
    for user in (world.staff, world.caseworker, world.other_staff, world.stranger, world.holder, world.superuser,
                 traeger, holder_of, plain, inactive):
        expected = {i.pk for i in everyone if rule(user, i)}
        assert set(selector(user).values_list("pk", flat=True)) == expected, user
    assert set(selector(world.staff).values_list("pk", flat=True)) == {world.kita.pk}
    assert selector(traeger).count() == Institution.objects.filter(operator=world.kita.operator).count() > 3
    assert not selector(inactive).exists()


@pytest.mark.parametrize("query", ["", "?o=0", "?o=-2", "?p=2", "?q=T-0", "?kind__exact=sonstige"])
def test_institution_rows_are_the_html_modeladmin_writes(client, world, query):
    """The institution list (100 a page) writes its rows without modeladmin's per-cell templates, as the same
    HTML."""
    _grow(world, 3)
    Institution.objects.filter(slug="t-01").update(name='<b>"A&B"</b>', city="O'Neil & Co")
    client.force_login(world.superuser)
    view = client.get(INSTITUTIONS).context["view"]
    view.model_admin.list_per_page, before = 2, view.model_admin.list_per_page  # a second page with 5 rows
    try:
        response = client.get(INSTITUTIONS + query)
    finally:
        view.model_admin.list_per_page = before
    assert response.status_code == 200
    table = response.context["rows_table"]
    assert table == modeladmin_table(response)
    assert table in response.content.decode() and "<tr" in table


@pytest.mark.parametrize("query", ["", "?angebot={offer}", "?status__exact=bewerber&q=Mü&o=1",
                                   "?frist=ueberfaellig&angebot={offer}&o=-2", "?p=1&angebot={offer}"])
def test_offer_filter_is_the_html_modeladmin_writes(client, world, query):
    """The offer filter writes its choices itself (a Träger's 400 offers): the HTML of modeladmin's filter
    template over Django's SimpleListFilter.choices, also with the list's other parameters and a selected
    offer, and a title that needs escaping."""
    _grow(world, 3)
    OfferPage.objects.filter(title="Platz 01").update(title='<b>"A&B"</b> Müller')
    client.force_login(world.superuser)
    response = client.get(LIST + query.format(offer=world.offer.pk))
    assert response.status_code == 200
    view = response.context["view"]
    spec = next(spec for spec in view.filter_specs if isinstance(spec, OfferFilter))
    html = admin_list_filter(view, spec)
    expected = get_template("modeladmin/includes/filter.html").render(
        {"title": spec.title, "choices": list(SimpleListFilter.choices(spec, view)), "spec": spec})
    assert html == expected
    assert html in response.content.decode() and "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt; Müller" in html
    assert html.count("<li") == OfferPage.objects.count() + 1
