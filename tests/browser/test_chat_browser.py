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
