"""Mein Konto in a real browser after the Leitung reopened an expired offer and extended the deadlines."""

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from tests.factories import enrollment_in, make_child
from workpro_plugin.models import Enrollment
from workpro_plugin.services import enrollments as svc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
S = Enrollment.Status


@pytest.fixture
def browser_context(browser):
    """A browser context from tests/browser/conftest.py (skips without Chromium)."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def test_parent_sees_the_reopened_and_extended_enrollment(world, client, live_server, browser_context):
    today = timezone.localdate()
    child = make_child(world.holder, first_name="Mia")
    enrollment = enrollment_in(S.ABGELAUFEN, offer=world.offer, institution=world.kita, holder=world.holder,
                               participant=child)
    Enrollment.objects.filter(pk=enrollment.pk).update(contract_number="KITA-2026-00007",
                                                       contract_start=today + timedelta(days=5),
                                                       signed_copy_deadline=today - timedelta(days=2))
    offer_deadline, care_deadline = today + timedelta(days=10), today + timedelta(days=40)
    svc.enrollment_reopen(enrollment=enrollment, by=world.staff, reason="Die Post kam zu spät",
                          deadline=offer_deadline)
    svc.enrollment_extend_deadline(enrollment=enrollment, by=world.staff, which="care", deadline=care_deadline,
                                   reason="Passfoto folgt")

    client.force_login(world.holder)
    browser_context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                                  "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                                  "url": live_server.url}])
    page = browser_context.new_page()
    page.goto(live_server.url + reverse("workpro:enrollment_detail", args=[enrollment.pk]))
    assert page.locator(".wp-status").first.inner_text().strip() == "Angebot"
    facts = page.locator(".wp-facts-list").inner_text()
    assert date_format(offer_deadline, "DATE_FORMAT") in facts
    body = page.locator("body").inner_text()
    assert f"bis {date_format(care_deadline, 'DATE_FORMAT')} eintragen" in body
    assert "Wieder geöffnet" in body and "Frist für Notfallkontakt und Abholberechtigte verlängert" in body
    if os.environ.get("STAFF_SCREENSHOT"):
        page.screenshot(path=os.environ["STAFF_SCREENSHOT"], full_page=True)
