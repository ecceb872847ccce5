"""The thread in a real browser: new messages appear without reloading (chat.js)."""

import os

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import enrollment_in
from workpro_plugin.models import Enrollment
from workpro_plugin.services import chat as svc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

@pytest.fixture
def browser_page(browser):
    """A browser context from tests/browser/conftest.py (skips without Chromium)."""
    context = browser.new_context(locale="de-DE")
    yield context
    context.close()


def _login(context, client, user, live_server):
    client.force_login(user)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])


@pytest.fixture(autouse=True)
def _fast_polling(settings):
    settings.WORKPRO_CHAT_POLL_SECONDS = 1


def _shot(page, name):
    if os.environ.get("CHAT_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["CHAT_SCREENSHOTS"], name), full_page=True)


def test_reply_appears_in_the_open_thread_without_reloading(world, client, live_server, browser_page):
    enrollment = enrollment_in(Enrollment.Status.BEWERBER, offer=world.offer, institution=world.kita,
                               holder=world.holder)
    conversation = svc.conversation_for_enrollment(enrollment=enrollment, by=world.holder)
    svc.message_post(conversation=conversation, by=world.holder, body="Wann ist das Gespräch?", as_staff=False)
    _login(browser_page, client, world.holder, live_server)
    page = browser_page.new_page()
    page.goto(live_server.url + reverse("workpro:chat_thread", args=[conversation.pk]))
    assert page.locator(".wp-chat__message").count() == 1
    svc.message_post(conversation=conversation, by=world.caseworker, body="Am Montag um 9 Uhr.", as_staff=True)
    page.locator("text=Am Montag um 9 Uhr.").wait_for(timeout=20_000)
    assert page.locator(".wp-chat__message").count() == 2
    _shot(page, "portal_thread.png")


def test_staff_see_a_new_message_in_the_admin_thread_without_reloading(world, client, live_server, browser_page):
    enrollment = enrollment_in(Enrollment.Status.BEWERBER, offer=world.offer, institution=world.kita,
                               holder=world.holder)
    conversation = svc.conversation_for_enrollment(enrollment=enrollment, by=world.holder)
    svc.message_post(conversation=conversation, by=world.holder, body="Wann ist das Gespräch?", as_staff=False)
    _login(browser_page, client, world.caseworker, live_server)
    page = browser_page.new_page()
    page.goto(live_server.url + reverse("workpro_chat:thread", args=[conversation.pk]))
    svc.message_post(conversation=conversation, by=world.holder, body="Hallo, noch jemand da?", as_staff=False)
    page.locator("text=Hallo, noch jemand da?").wait_for(timeout=20_000)
    assert page.locator(".wp-chat__message").count() == 2
    _shot(page, "admin_thread.png")
    page.goto(live_server.url + reverse("workpro_chat:inbox"))
    _shot(page, "admin_inbox.png")
    page.goto(live_server.url + reverse("workpro_plugin_enrollment_modeladmin_inspect", args=[enrollment.pk]))
    panel = page.locator("#nachrichten")
    panel.scroll_into_view_if_needed()
    assert panel.is_visible() and "Hallo, noch jemand da?" in panel.inner_text()
    if os.environ.get("CHAT_SCREENSHOTS"):
        panel.screenshot(path=os.path.join(os.environ["CHAT_SCREENSHOTS"], "admin_inspect.png"))


def test_staff_insert_a_textbaustein_and_send_it(world, client, live_server, browser_page):
    """chat-canned.js: choosing a Textbaustein puts its filled text after what staff typed; Senden sends it."""
    from workpro_plugin.models import CannedReply, Message

    enrollment = enrollment_in(Enrollment.Status.BEWERBER, offer=world.offer, institution=world.kita,
                               holder=world.holder)
    conversation = svc.conversation_for_enrollment(enrollment=enrollment, by=world.holder)
    svc.message_post(conversation=conversation, by=world.holder, body="Wann ist das Gespräch?", as_staff=False)
    CannedReply.objects.create(institution=world.kita, title="Termin",
                               body="Hallo {vorname}, wir melden uns zum {angebot} bald mit einem Termin.")
    _login(browser_page, client, world.caseworker, live_server)
    page = browser_page.new_page()
    page.goto(live_server.url + reverse("workpro_chat:thread", args=[conversation.pk]))
    assert not page.get_by_role("button", name="Einfügen").is_visible()  # the way without JavaScript
    page.get_by_label("Ihre Nachricht").fill("Guten Tag!")
    page.get_by_label("Textbaustein einfügen").select_option(label="Termin")
    expected = (f"Guten Tag!\n\nHallo {world.holder.workpro_person.first_name}, wir melden uns zum "
                f"{world.offer.title} bald mit einem Termin.")
    assert page.get_by_label("Ihre Nachricht").input_value() == expected
    page.get_by_role("button", name="Senden").click()
    page.locator(".wp-chat__message", has_text="bald mit einem Termin").wait_for()
    assert list(Message.objects.filter(conversation=conversation, body__contains="Termin").values_list("body", flat=True)) == [expected]
