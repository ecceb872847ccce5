"""Issue #15: personal data that was neither exported nor erased.

(a) django-axes' login records (address, IP, browser) are purged after
    WORKPRO_ACCESS_LOG_RETENTION_DAYS by the daily retention run, are in the person's own
    export and go when the person is anonymised;
(b) mails to the institution about a person (name, customer number, requested address) are
    scrubbed when the person is anonymised;
(c) expired sessions are cleared by a daily django-q2 schedule.
"""

from datetime import date, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.factories import make_user
from tests.security_figures import note
from workpro_plugin import tasks
from workpro_plugin.models import LoginChange, OutboxMessage, Person
from workpro_plugin.services import access_logs, accounts, notify, privacy

pytestmark = pytest.mark.django_db


def _axes_rows(username: str, *, days_old: int, ip: str = "198.51.100.20"):
    common = {"username": username, "ip_address": ip, "user_agent": "Firefox", "http_accept": "*/*",
              "path_info": "/workpro/konto/anmelden/"}
    rows = [AccessLog.objects.create(**common), AccessFailureLog.objects.create(**common, locked_out=True),
            AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=3)]
    when = timezone.now() - timedelta(days=days_old)
    for row in rows:  # attempt_time is auto_now_add
        type(row).objects.filter(pk=row.pk).update(attempt_time=when)
    return rows


def _axes_count() -> int:
    return AccessLog.objects.count() + AccessFailureLog.objects.count() + AccessAttempt.objects.count()


# --- (a) django-axes -------------------------------------------------------------------------------

def test_axes_records_are_purged_by_the_daily_retention_run(world):
    _axes_rows("alt@example.org", days_old=91)
    _axes_rows("grenze@example.org", days_old=89)
    _axes_rows("neu@example.org", days_old=0)
    assert _axes_count() == 9
    figures = tasks.apply_retention_task()  # what the schedule workpro-privacy-retention runs
    assert figures["access_log_deleted"] == 3
    assert not AccessLog.objects.filter(username="alt@example.org").exists()
    assert not AccessFailureLog.objects.filter(username="alt@example.org").exists()
    assert not AccessAttempt.objects.filter(username="alt@example.org").exists()
    assert _axes_count() == 6
    note("retention: axes rows purged past 90 days / kept", f"3/{_axes_count()}")


def test_axes_retention_comes_from_the_setting(world, settings):
    assert access_logs.DEFAULT_RETENTION_DAYS == 90
    settings.WORKPRO_ACCESS_LOG_RETENTION_DAYS = 7
    _axes_rows("acht@example.org", days_old=8)
    _axes_rows("sechs@example.org", days_old=6)
    assert access_logs.purge() == 3
    assert set(AccessLog.objects.values_list("username", flat=True)) == {"sechs@example.org"}


def test_a_running_lockout_is_never_lifted_by_the_purge(world, settings):
    settings.WORKPRO_ACCESS_LOG_RETENTION_DAYS = 1
    settings.AXES_COOLOFF_TIME = timedelta(days=3)
    _axes_rows("gesperrt@example.org", days_old=2)
    access_logs.purge()
    assert AccessAttempt.objects.filter(username="gesperrt@example.org").exists()  # still counting
    assert not AccessLog.objects.filter(username="gesperrt@example.org").exists()


def test_axes_records_are_in_the_own_export_and_go_with_anonymisation(world):
    person = world.holder.workpro_person
    _axes_rows("ELTERN@example.org", days_old=1, ip="198.51.100.30")
    _axes_rows("fremd@example.org", days_old=1, ip="198.51.100.31")
    data = privacy.person_export_data(person)["access_log"]
    assert [(e["ip"], e["browser"]) for e in data["logins"]] == [("198.51.100.30", "Firefox")]
    assert [e["locked_out"] for e in data["failed_logins"]] == [True]
    assert [e["failures"] for e in data["lockout_counters"]] == [3]
    figures = privacy.person_anonymise(person=person)
    assert figures["access_log"] == 3
    assert not AccessLog.objects.filter(username__iexact="eltern@example.org").exists()
    assert AccessLog.objects.filter(username="fremd@example.org").exists()


# --- (b) mails to the institution ------------------------------------------------------------------

def test_the_institution_s_mail_about_a_password_request_is_scrubbed_on_anonymisation(world):
    world.kita.email = "info@kita.test"
    world.kita.save()
    user = make_user("ohne-handy@example.org", last_name="Sommer", first_name="Ida",
                     date_of_birth=date(1990, 5, 6), customer_number="K-123456")
    person = user.workpro_person
    request = accounts.PasswordRequest(last_name="Sommer", first_name="Ida", date_of_birth=date(1990, 5, 6),
                                       email="neue-adresse@example.org", customer_number="K-123456")
    assert accounts.password_request(data=request, site_institution=world.kita) == "no_mobile"
    row = OutboxMessage.objects.get(template="password_request_no_mobile")
    assert row.recipient == "info@kita.test" and row.person == person
    assert row.context["customer_number"] == "K-123456" and row.context["requested_email"] == "neue-adresse@example.org"

    privacy.person_anonymise(person=person)
    row.refresh_from_db()
    assert (row.recipient, row.context, row.subject) == ("", {}, "")


def test_older_institution_mails_without_the_person_are_found_by_customer_number(world):
    person = Person.objects.create(last_name="Winter", first_name="Max", customer_number="K-777777")
    other = Person.objects.create(last_name="Winter", first_name="Max", customer_number="K-888888")
    rows = {}
    for number, template in (("K-777777", "coming_of_age_no_login"), ("K-777777", "password_request_no_mobile"),
                             ("K-888888", "coming_of_age_no_login")):
        rows[(number, template)] = notify.queue_mail(
            to="info@kita.test", template=template, institution=world.kita,
            context={"participant": "Max Winter", "person_name": "Max Winter", "customer_number": number})
    figures = privacy.person_anonymise(person=person)
    assert figures["messages_scrubbed"] == 2
    for (number, _template), row in rows.items():
        row.refresh_from_db()
        assert (row.context == {}) is (number == "K-777777")
    assert Person.objects.get(pk=other.pk).customer_number == "K-888888"


def test_the_coming_of_age_mail_to_the_institution_is_scrubbed_on_anonymisation(world):
    """A participant without a login turns 18: the institution is told (name, customer number);
    that mail goes with the participant's data."""
    from datetime import datetime

    from tests.factories import enrollment_in, make_child
    from workpro_plugin.models import Enrollment
    from workpro_plugin.services import minors

    world.kita.email = "info@kita.test"
    world.kita.save()
    today = timezone.localdate()
    birthday = today + timedelta(days=1)
    teen = make_child(world.holder, first_name="Tom", date_of_birth=birthday.replace(year=birthday.year - 18),
                      customer_number="K-181818")
    enrollment_in(Enrollment.Status.RATIFIZIERT, offer=world.offer, institution=world.kita, holder=world.holder,
                  participant=teen)
    with time_machine.travel(timezone.make_aware(datetime.combine(birthday, datetime.min.time())).replace(hour=6)):
        minors.coming_of_age()
    row = OutboxMessage.objects.get(template="coming_of_age_no_login")
    assert row.person == teen and row.context["customer_number"] == "K-181818"
    privacy.person_anonymise(person=teen)
    row.refresh_from_db()
    assert (row.recipient, row.context) == ("", {})


# --- (c) sessions ----------------------------------------------------------------------------------

def test_expired_sessions_are_cleared_by_a_daily_schedule(world):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="workpro-clear-sessions")
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "workpro_plugin.tasks.clear_expired_sessions_task", "D", -1)

    for age in (1, 2, 3):
        store = SessionStore()
        store["_auth_user_id"] = str(world.holder.pk)
        store.set_expiry(60)
        store.create()
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=timezone.now() - timedelta(days=age))
    alive = SessionStore()
    alive["_auth_user_id"] = str(world.holder.pk)
    alive.create()
    assert Session.objects.count() == 4
    assert tasks.clear_expired_sessions_task() == 3
    assert list(Session.objects.values_list("session_key", flat=True)) == [alive.session_key]
    note("retention: expired sessions cleared by workpro-clear-sessions", 3)


def test_a_session_that_expires_later_is_cleared_later(world):
    store = SessionStore()
    store.set_expiry(3600)
    store.create()
    assert tasks.clear_expired_sessions_task() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert tasks.clear_expired_sessions_task() == 1
    assert not Session.objects.exists()


# --- requested login changes (LoginChange) ------------------------------------------------------------

def test_requested_login_changes_go_with_the_daily_retention_run(world):
    old = LoginChange.objects.create(user=world.holder, kind=LoginChange.Kind.SMS, new_email="alt@example.org")
    recent = LoginChange.objects.create(user=world.holder, kind=LoginChange.Kind.LINK, new_email="neu@example.org")
    LoginChange.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    figures = tasks.apply_retention_task()
    assert figures["login_changes_deleted"] == 1
    assert list(LoginChange.objects.values_list("pk", flat=True)) == [recent.pk]
    note("retention: requested login changes purged past 30 days / kept", "1/1")


def test_axes_records_under_a_former_address_are_the_person_s_until_it_changed(world):
    """After "Meine Daten" or the SMS password moved the login to a new address, the logins under the
    old one are still the person's (export, anonymisation); what that address logs later is not."""
    person = world.holder.workpro_person
    _axes_rows("eltern@example.org", days_old=2, ip="198.51.100.40")
    token = accounts.account_request_email_change(user=world.holder, new_email="neu@example.org")
    accounts.account_confirm_email_change(user=world.holder, token=token)
    person.refresh_from_db()
    _axes_rows("neu@example.org", days_old=0, ip="198.51.100.41")
    make_user("eltern@example.org")  # someone else registers the freed address and logs in with it
    _axes_rows("eltern@example.org", days_old=0, ip="203.0.113.99")
    from workpro_plugin.lib.choices import AuditAction
    from workpro_plugin.models import AuditEvent

    for days, ip in ((2, "198.51.100.40"), (0, "203.0.113.99")):  # failed logins under the old address
        AuditEvent.objects.create(action=AuditAction.LOGIN_FAILED, actor_label="eltern@example.org", ip=ip,
                                  at=timezone.now() - timedelta(days=days))
    assert [e["at"].date() for e in privacy.person_export_data(person)["audit"]
            if e["action"] == AuditAction.LOGIN_FAILED] == [(timezone.now() - timedelta(days=2)).date()]

    data = privacy.person_export_data(person)["access_log"]
    assert sorted(e["ip"] for e in data["logins"]) == ["198.51.100.40", "198.51.100.41"]
    assert len(data["failed_logins"]) == 2 and len(data["lockout_counters"]) == 2
    figures = privacy.person_anonymise(person=person)
    assert figures["access_log"] == 6
    assert set(AccessLog.objects.values_list("ip_address", flat=True)) == {"203.0.113.99"}
    assert set(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).values_list("actor_label", "ip")) == {
        ("", None), ("eltern@example.org", "203.0.113.99")}
