"""Textbausteine (canned replies): scoping, placeholders, inserting with and without JavaScript, admin, queries."""

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import enrollment_in, make_user
from workpro_plugin.models import (
    CannedReply,
    Conversation,
    Enrollment,
    Message,
    OutboxMessage,
    Person,
)
from workpro_plugin.selectors.chat import fill_placeholders
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


def options(response) -> dict[str, str]:
    """The Textbaustein select of the reply form: option title -> the text it inserts."""
    page = BeautifulSoup(response.content, "html.parser")
    select = page.select_one("form.wp-chat-composer select[name=textbaustein]")
    assert select is not None, "no Textbaustein select"
    return {o.get_text(): o["data-text"] for o in select.find_all("option") if o.get("value")}


def textarea(response) -> str:
    # Django writes a newline after <textarea> which the browser (and html.parser) drop
    page = BeautifulSoup(response.content, "html.parser")
    text = page.select_one("form.wp-chat-composer textarea[name=body]").string
    return (text or "").removeprefix("\n")


# --- which Textbausteine are offered ---------------------------------------------------------------

def test_select_offers_the_institutions_active_replies_for_the_offer_or_all_offers(canned, client):
    client.force_login(canned.caseworker)
    for response in (client.get(thread_url(canned.conversation)), client.get(inspect_url(canned.enrollment))):
        assert response.status_code == 200
        assert list(options(response)) == ["Allgemein", "Krippe"]  # ordered by title
        page = response.content.decode()
        assert "Veraltet" not in page and "Nur Hort" not in page and "Geheim beim BBZ" not in page


def test_offer_question_sees_the_replies_of_its_offer_and_the_asker_is_addressed(canned, client):
    Person.objects.filter(user=canned.stranger).update(first_name="Frieda", last_name="Fragt")
    question = svc.conversation_start_for_offer(offer=canned.second_offer, by=canned.stranger,
                                                body="Gibt es Plätze?").conversation
    client.force_login(canned.staff)
    shown = options(client.get(thread_url(question)))
    assert list(shown) == ["Allgemein", "Hort"]
    assert shown["Allgemein"] == "Hallo Frieda Fragt, danke!"


def test_staff_of_another_institution_never_see_these_replies(canned, client):
    bbz_enrollment = enrollment_in(S.BEWERBER, offer=canned.other_offer, institution=canned.other,
                                   holder=canned.stranger)
    conversation = svc.conversation_for_enrollment(enrollment=bbz_enrollment, by=canned.stranger)
    svc.message_post(conversation=conversation, by=canned.stranger, body="Frage", as_staff=False)
    client.force_login(canned.other_staff)
    assert list(options(client.get(thread_url(conversation)))) == ["BBZ-Gruß"]
    assert client.get(thread_url(canned.conversation)).status_code == 404
    # Posting the KiTa's reply into their own thread inserts nothing and tells them so.
    response = client.post(thread_url(conversation), {"body": "Hallo", "textbaustein": canned.general.pk,
                                                      "einfuegen": "1"})
    assert response.status_code == 400
    assert textarea(response) == "Hallo"
    assert "Dieser Textbaustein ist nicht verfügbar." in response.content.decode()
    assert "danke!" not in response.content.decode()


def test_without_replies_there_is_no_select(canned, client):
    CannedReply.objects.filter(institution=canned.kita).update(is_active=False)
    client.force_login(canned.caseworker)
    page = BeautifulSoup(client.get(thread_url(canned.conversation)).content, "html.parser")
    assert page.select_one("form.wp-chat-composer textarea[name=body]") is not None
    assert page.select_one("select[name=textbaustein]") is None
    assert page.select_one('script[src$="chat-canned.js"]') is None


# --- placeholders ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Hallo {vorname} {name}!", "Hallo Erika Mustermann!"),
    ("{angebot} bei {einrichtung}", "Krippenplatz bei Kita"),
    ("{unbekannt} und {Vorname} bleiben", "{unbekannt} und {Vorname} bleiben"),
    ("Klammern { } {} {{ }} {0} {name!r} {vorname", "Klammern { } {} {{ }} {0} {name!r} {vorname"),
    ("{{vorname}}", "{Erika}"),
    ("%(vorname)s $vorname {{", "%(vorname)s $vorname {{"),
])
def test_placeholders_are_replaced_explicitly(text, expected):
    assert fill_placeholders(text, VALUES) == expected


def test_filled_values_are_not_expanded_again_and_missing_ones_stay_visible():
    values = {**VALUES, "vorname": "{name}", "angebot": ""}
    assert fill_placeholders("{vorname} / {angebot}", values) == "{name} / {angebot}"


def test_the_select_carries_the_filled_text_escaped(canned, client):
    CannedReply.objects.create(institution=canned.kita, title="Heikel",
                               body='<script>alert("{vorname}")</script> & \'{einrichtung}\'\nZeile 2')
    client.force_login(canned.caseworker)
    response = client.get(thread_url(canned.conversation))
    shown = options(response)
    assert shown["Krippe"] == "Zum Krippenplatz der Kita: {unbekannt} bleibt, {Krippenplatz} und { } auch."
    assert shown["Allgemein"] == "Hallo Erika Mustermann, danke!"
    assert shown["Heikel"] == '<script>alert("Erika")</script> & \'Kita\'\nZeile 2'
    page = response.content.decode()
    assert "<script>alert(" not in page
    assert 'data-text="&lt;script&gt;alert(&quot;Erika&quot;)&lt;/script&gt; &amp; &#x27;Kita&#x27;' in page


def test_the_composer_has_no_inline_script(canned, client):
    client.force_login(canned.caseworker)
    page = BeautifulSoup(client.get(thread_url(canned.conversation)).content, "html.parser")
    composer = page.select_one("form.wp-chat-composer")
    assert not [(tag.name, attr) for tag in composer.find_all(True) for attr in tag.attrs if attr.startswith("on")]
    script = page.select_one('script[src$="workpro_plugin/js/chat-canned.js"]')
    assert script is not None and not script.string


# --- Einfügen without JavaScript ----------------------------------------------------------------------

def test_insert_without_javascript_keeps_the_typed_text_and_sends_nothing(canned, client, run_on_commit):
    client.force_login(canned.caseworker)
    messages_before, mails_before = Message.objects.count(), OutboxMessage.objects.count()
    typed = "Guten Tag,\n\nzu Ihrer Frage:  \n"
    with run_on_commit():
        response = client.post(thread_url(canned.conversation),
                               {"body": typed, "textbaustein": canned.scoped.pk, "einfuegen": "1"})
    assert response.status_code == 200
    filled = "Zum Krippenplatz der Kita: {unbekannt} bleibt, {Krippenplatz} und { } auch."
    assert textarea(response) == "Guten Tag,\n\nzu Ihrer Frage:\n\n" + filled
    assert Message.objects.count() == messages_before and OutboxMessage.objects.count() == mails_before
    # With nothing typed, the text alone.
    response = client.post(thread_url(canned.conversation),
                           {"body": "", "textbaustein": canned.general.pk, "einfuegen": "1"})
    assert textarea(response) == "Hallo Erika Mustermann, danke!"
    assert Message.objects.count() == messages_before


def test_insert_refuses_inactive_and_missing_choices_and_keeps_the_text(canned, client):
    client.force_login(canned.caseworker)
    for choice in (canned.inactive.pk, canned.elsewhere.pk, "", "x"):
        response = client.post(thread_url(canned.conversation),
                               {"body": "Mein Entwurf", "textbaustein": choice, "einfuegen": "1"})
        assert response.status_code == 400, choice
        assert textarea(response) == "Mein Entwurf"
        assert "Veraltet" not in textarea(response) and "Nur Hort" not in textarea(response)
    assert not Message.objects.filter(from_staff=True).exists()


def test_reply_sent_after_inserting(canned, client):
    client.force_login(canned.caseworker)
    response = client.post(thread_url(canned.conversation),
                           {"body": "Liebe Familie,", "textbaustein": canned.general.pk, "einfuegen": "1"})
    body = textarea(response)
    sent = client.post(thread_url(canned.conversation), {"body": body, "textbaustein": canned.general.pk})
    assert sent.status_code == 302
    message = Message.objects.get(from_staff=True)
    assert message.body == "Liebe Familie,\n\nHallo Erika Mustermann, danke!"
    assert message.author == canned.caseworker and message.conversation == canned.conversation


def test_insert_from_the_enrollment_inspect_view_starts_no_conversation(canned, client):
    enrollment = enrollment_in(S.BEWERBER, offer=canned.offer, institution=canned.kita, holder=canned.holder,
                               participant=Person.objects.create(last_name="Klein", first_name="Kai"))
    client.force_login(canned.caseworker)
    form = BeautifulSoup(client.get(inspect_url(enrollment)).content, "html.parser").select_one("#nachrichten form")
    assert form["action"] == reply_url(enrollment)
    assert {o.get_text() for o in form.select("select[name=textbaustein] option") if o.get("value")} == {
        "Allgemein", "Krippe"}
    response = client.post(form["action"], {"body": "Hallo", "textbaustein": canned.general.pk, "einfuegen": "1"})
    assert response.status_code == 200
    assert textarea(response) == "Hallo\n\nHallo Erika Mustermann, danke!"
    assert not Conversation.objects.filter(enrollment=enrollment).exists()
    # The reply page posts to itself: sending from there works.
    page = BeautifulSoup(response.content, "html.parser")
    assert page.select_one("form.wp-chat-composer")["action"] == reply_url(enrollment)
    assert client.post(reply_url(enrollment), {"body": textarea(response)}).status_code == 302
    assert Conversation.objects.get(enrollment=enrollment).messages.get().body.endswith("danke!")


def test_attachment_must_be_chosen_again_after_inserting(canned, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import pdf_bytes

    client.force_login(canned.caseworker)
    response = client.post(thread_url(canned.conversation), {
        "body": "", "textbaustein": canned.general.pk, "einfuegen": "1",
        "attachment": SimpleUploadedFile("brief.pdf", pdf_bytes(), content_type="application/pdf")})
    assert response.status_code == 200
    assert "Der Anhang wurde nicht übernommen." in response.content.decode()
    assert not Message.objects.filter(from_staff=True).exists()


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
                 {"institution": canned.kita.pk, "offer": canned.other_offer.pk},
                 {"institution": "9" * 40},  # ids no key can hold: a refusal, not an OverflowError
                 {"institution": canned.kita.pk, "offer": "9" * 40}):
        refused = client.post(admin_url("create"), {"title": "Neu", "body": "Text", "is_active": "on", **data})
        assert refused.status_code == 400 and CannedReply.objects.count() == before, data
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


# --- queries --------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["thread", "inspect"])
def test_query_count_does_not_grow_with_replies(canned, client, page):
    CannedReply.objects.all().delete()
    client.force_login(canned.caseworker)
    url = thread_url(canned.conversation) if page == "thread" else inspect_url(canned.enrollment)
    counts = []
    for total in (3, 30):
        CannedReply.objects.bulk_create([
            CannedReply(institution=canned.kita, title=f"Baustein {i:02d}", body="Hallo {vorname}, {angebot}")
            for i in range(CannedReply.objects.count(), total)])
        client.get(url)  # warm caches and the read marker
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert len(options(response)) == total
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
