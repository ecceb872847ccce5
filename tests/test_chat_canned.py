"""Textbausteine (canned replies): the admin, scoped to the institution's chat staff."""

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import enrollment_in, make_user
from workpro_plugin.models import (
    CannedReply,
    Enrollment,
    Person,
)
from workpro_plugin.services import chat as svc

pytestmark = pytest.mark.django_db
S = Enrollment.Status
VALUES = {"vorname": "Erika", "name": "Mustermann", "angebot": "Krippenplatz", "einrichtung": "Kita"}


@pytest.fixture
def canned(world, make_offer):
    """An enrollment thread at the KiTa (holder Erika Mustermann), replies for all offers, for the thread's
    offer, for another offer of the KiTa, an inactive one, and one of the other institution."""
    Person.objects.filter(user=world.holder).update(first_name="Erika", last_name="Mustermann")
    world.enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    world.conversation = svc.conversation_for_enrollment(enrollment=world.enrollment, by=world.holder)
    svc.message_post(conversation=world.conversation, by=world.holder, body="Wann ist das Gespräch?",
                     as_staff=False)
    world.second_offer = make_offer(world.kita, "Hortplatz")
    world.other_offer = make_offer(world.other, "Ausbildung")
    reply = CannedReply.objects.create
    world.general = reply(institution=world.kita, title="Allgemein", body="Hallo {vorname} {name}, danke!")
    world.scoped = reply(institution=world.kita, offer=world.offer, title="Krippe",
                         body="Zum {angebot} der {einrichtung}: {unbekannt} bleibt, {{angebot}} und { } auch.")
    world.elsewhere = reply(institution=world.kita, offer=world.second_offer, title="Hort", body="Nur Hort")
    world.inactive = reply(institution=world.kita, title="Alt", body="Veraltet", is_active=False)
    world.foreign = reply(institution=world.other, title="BBZ-Gruß", body="Geheim beim BBZ")
    return world


def thread_url(conversation):
    return reverse("workpro_chat:thread", args=[conversation.pk])


def inspect_url(enrollment):
    return reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment.pk])


def reply_url(enrollment):
    return reverse("workpro_chat:enrollment_reply", args=[enrollment.pk])


def admin_url(action, reply=None):
    name = f"workpro_plugin_cannedreply_modeladmin_{action}"
    return reverse(name, kwargs={"instance_pk": reply.pk}) if reply is not None else reverse(name)


# --- the admin: Textbausteine -----------------------------------------------------------------------

def listed(client) -> set[str]:
    response = client.get(admin_url("index"))
    assert response.status_code == 200
    return {reply.title for reply in response.context["object_list"]}


def test_staff_manage_only_their_institutions_replies(canned, client):
    client.force_login(canned.caseworker)
    assert listed(client) == {"Allgemein", "Krippe", "Hort", "Alt"}
    assert "BBZ-Gruß" not in client.get(admin_url("index")).content.decode()
    assert client.get(admin_url("edit", canned.general)).status_code == 200
    for action in ("edit", "delete", "history"):
        assert client.get(admin_url(action, canned.foreign)).status_code == 404, action
    missing = reverse("workpro_plugin_cannedreply_modeladmin_edit", kwargs={"instance_pk": canned.foreign.pk + 100})
    assert client.get(missing).status_code == 404

    client.force_login(canned.other_staff)
    assert listed(client) == {"BBZ-Gruß"}
    assert "Allgemein" not in client.get(admin_url("index")).content.decode()
    for action in ("edit", "delete", "history"):
        assert client.get(admin_url(action, canned.general)).status_code == 404, action
    edit = client.post(admin_url("edit", canned.general), {
        "institution": canned.other.pk, "title": "Gekapert", "body": "x", "is_active": "on"})
    assert edit.status_code == 404
    assert client.post(admin_url("delete", canned.general)).status_code == 404
    canned.general.refresh_from_db()
    assert canned.general.title == "Allgemein" and canned.general.institution == canned.kita


def test_create_offers_own_institution_and_its_offers_only(canned, client):
    client.force_login(canned.caseworker)
    page = BeautifulSoup(client.get(admin_url("create")).content, "html.parser")
    institutions = {o["value"] for o in page.select("select[name=institution] option") if o["value"]}
    offers = {o["value"] for o in page.select("select[name=offer] option") if o["value"]}
    assert institutions == {str(canned.kita.pk)}
    assert offers == {str(canned.offer.pk), str(canned.second_offer.pk)}
    before = CannedReply.objects.count()
    for data in ({"institution": canned.other.pk},
                 {"institution": canned.kita.pk, "offer": canned.other_offer.pk}):
        refused = client.post(admin_url("create"), {"title": "Neu", "body": "Text", "is_active": "on", **data})
        assert refused.status_code == 200 and CannedReply.objects.count() == before, data
    created = client.post(admin_url("create"), {"institution": canned.kita.pk, "offer": canned.offer.pk,
                                                "title": "Neu", "body": "Hallo {vorname}", "is_active": "on"})
    assert created.status_code == 302
    assert CannedReply.objects.get(title="Neu").institution == canned.kita


def test_people_without_chat_rights_do_not_manage_replies(canned, client):
    from django.contrib.auth.models import Group, Permission

    editor = make_user("redaktion@kita.test", person=False)
    editors = Group.objects.create(name="Redaktion")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    editor.groups.add(editors)
    client.force_login(editor)
    assert client.get(admin_url("index"))["Location"] == "/admin/"  # Wagtail's answer to PermissionDenied
    assert client.get(admin_url("create"))["Location"] == "/admin/"
    assert client.get(admin_url("edit", canned.general)).status_code == 404
    client.force_login(canned.holder)
    assert client.get(admin_url("index"))["Location"].startswith("/admin/login/")


def test_an_offer_of_another_institution_is_refused_by_the_model(canned):
    reply = CannedReply(institution=canned.kita, offer=canned.other_offer, title="Falsch", body="x")
    with pytest.raises(ValidationError) as error:
        reply.full_clean()
    assert "offer" in error.value.message_dict
    CannedReply(institution=canned.other, offer=canned.other_offer, title="Richtig", body="x").full_clean()
