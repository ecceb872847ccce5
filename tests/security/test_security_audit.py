"""Audit log: every action code is written by the event it names, visible to superusers only,
free of the personal data it protects, and deleted after the retention period."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q.models import Schedule

from tests.factories import enrollment_in, make_user, pdf_bytes, two_factor_link
from tests.helpers import HOST
from tests.security_figures import add, note
from workpro_plugin.models import AllocationRound, AuditAction, AuditEvent, Document, Enrollment
from workpro_plugin.services import audit
from workpro_plugin.services import documents as documents_svc
from workpro_plugin.services import enrollments as enrollments_svc
from workpro_plugin.services.accounts import account_request_email_change

pytestmark = pytest.mark.django_db
S = Enrollment.Status
REQUEST = {**HOST, "REMOTE_ADDR": "203.0.113.7"}  # the test host, and the address the log records
PASSWORD = "Ein-gutes-Passwort-42"


def _events(action, **filters):
    return AuditEvent.objects.filter(action=action, **filters)


def _login(client, username, password, url="/workpro/konto/anmelden/"):
    return client.post(url, {"username": username, "password": password}, **REQUEST)


@pytest.fixture
def holder_with_password(world):
    world.holder.set_password(PASSWORD)
    world.holder.save()
    return world.holder


def test_logins_failed_logins_logouts_and_lockouts(world, holder_with_password, client):
    assert _login(client, world.holder.email, PASSWORD).status_code == 302
    login = _events("auth.login").get()
    assert login.actor == world.holder and login.actor_label == world.holder.email
    assert str(login.ip) == "203.0.113.7" and login.detail["area"] == "portal"
    client.post("/workpro/konto/abmelden/", **REQUEST)
    assert _events("auth.logout", actor=world.holder).count() == 1

    for _ in range(5):
        _login(client, " Eltern@Example.org ", "falsch")
    failed = _events("auth.login_failed")
    assert failed.count() >= 4
    assert set(failed.values_list("actor_label", flat=True)) == {"eltern@example.org"}
    assert "falsch" not in json.dumps(list(failed.values_list("detail", flat=True)))
    assert _events("auth.locked_out", actor_label="eltern@example.org").exists()

    _login(client, "niemand@example.org", "x", url="/admin/login/")
    admin_failure = _events("auth.login_failed", actor_label="niemand@example.org").get()
    assert admin_failure.detail["area"] == "admin" and admin_failure.actor is None


def test_foreign_enrollments_and_documents_are_audited_as_failed_authorisation(world, client):
    own = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    document = Document.objects.filter(enrollment=own).first()
    client.force_login(world.stranger)
    for url in (f"/workpro/konto/anmeldung/{own.pk}/", f"/workpro/konto/anmeldung/{own.pk}/angebot-annehmen/",
                f"/workpro/konto/dokumente/{document.pk}/", "/workpro/konto/dokumente/999999/"):
        assert client.get(url, **REQUEST).status_code == 404, url
    denied = _events("access.denied", actor=world.stranger)
    assert sorted(denied.values_list("object_type", "object_id")) == sorted([
        ("workpro_plugin.document", "999999"), ("workpro_plugin.document", str(document.pk)),
        ("workpro_plugin.enrollment", str(own.pk)), ("workpro_plugin.enrollment", str(own.pk))])
    assert all(str(e.ip) == "203.0.113.7" for e in denied)

    # Staff of another institution in the admin (404), and a caseworker without signing rights (403).
    client.force_login(world.other_staff)
    assert client.get(f"/admin/workpro/anmeldung/{own.pk}/einladen/", **REQUEST).status_code == 404
    assert _events("access.denied", actor=world.other_staff, object_id=str(own.pk)).exists()
    client.force_login(world.caseworker)  # Wagtail answers a 403 with a redirect to the dashboard
    assert client.get(f"/admin/workpro/anmeldung/{own.pk}/ratifizieren/", **REQUEST)["Location"] == "/admin/"
    forbidden = _events("access.denied", actor=world.caseworker).get()
    assert forbidden.detail["reason"] == "permission_denied"
    assert (forbidden.object_type, forbidden.object_id) == ("workpro_admin:enrollment_action", str(own.pk))
    # Staff of another institution opening an enrollment's inspect view (modeladmin: 403 → redirect).
    client.force_login(world.other_staff)
    client.get(f"/admin/workpro_plugin/enrollment/inspect/{own.pk}/", **REQUEST)
    assert _events("access.denied", actor=world.other_staff, object_id=str(own.pk),
                   detail__reason="permission_denied").exists()
    # A portal user knocking at the admin.
    client.force_login(world.holder)
    assert client.get("/admin/pages/", **REQUEST).status_code == 302
    assert _events("access.denied", actor=world.holder, detail__reason="no_admin_access").count() == 1


def test_who_opened_which_document(world, client):
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    document = Document.objects.filter(enrollment=enrollment).first()
    for user in (world.holder, world.staff):
        client.force_login(user)
        assert client.get(f"/workpro/konto/dokumente/{document.pk}/?download=1", **REQUEST).status_code == 200
    viewed = _events("document.viewed", object_id=str(document.pk))
    assert sorted(viewed.values_list("actor__email", flat=True)) == sorted([world.holder.email, world.staff.email])
    assert {e.person for e in viewed} == {enrollment.participant}


def test_documents_deposited_are_audited(world):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    document = documents_svc.deposit(kind=Document.Kind.UPLOAD, title="Impfnachweis", content=pdf_bytes(),
                                     enrollment=enrollment, by=world.holder)
    event = _events("document.deposited").get()
    assert (event.object_id, event.actor, event.person) == (str(document.pk), world.holder, enrollment.participant)


def test_meine_daten_changes_record_field_names_not_values(world, holder_with_password, client, run_on_commit):
    client.force_login(world.holder)
    with run_on_commit():
        response = client.post("/workpro/konto/daten/", {
            "email": world.holder.email, "street": "Geheimweg 7", "postcode": "04109", "city": "Leipzig",
            "mobile": "0151 98765432", "date_of_birth": "1985-01-01", "language": "de",
            "current_password": PASSWORD}, **REQUEST)
    assert response.status_code == 302
    event = _events("person.changed").get()
    assert event.person == world.holder.workpro_person and event.actor == world.holder
    assert sorted(event.detail["fields"]) == ["city", "mobile", "postcode", "street"]
    assert "Geheimweg" not in json.dumps(event.detail) and "98765432" not in json.dumps(event.detail)

    token = account_request_email_change(user=world.holder, new_email="neu@example.org")
    client.post(f"/workpro/konto/daten/mail-bestaetigen/{token}/", **REQUEST)
    assert _events("person.email_changed", actor=world.holder).count() == 1


def test_status_transitions_and_application_data_are_audited(world, client):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    enrollments_svc.enrollment_withdraw(enrollment=enrollment, by=world.holder, reason="Umzug")
    event = _events("enrollment.status", object_id=str(enrollment.pk)).get()
    assert (event.detail["from"], event.detail["to"]) == (S.BEWERBER, S.ZURUECKGEZOGEN)
    assert event.detail["step"] == enrollment.log_entries.get().action.removeprefix("workpro.enrollment.")
    assert event.person == enrollment.participant

    interest = Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=world.holder,
                                         status=S.INTERESSENT, participant=world.holder.workpro_person)
    client.force_login(world.holder)
    client.post(f"/workpro/konto/anmeldung/{interest.pk}/angaben/personal/", {"last_name": ""}, **REQUEST)
    changed = _events("enrollment.data_changed", object_id=str(interest.pk)).get()
    assert changed.detail == {"section": "personal", "complete": False}
    assert str(changed.ip) == "203.0.113.7"  # the service learnt the address from the request


def test_staff_viewing_personal_data_is_audited(world, client):
    enrollment = enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    assert client.get(f"/admin/workpro_plugin/enrollment/inspect/{enrollment.pk}/", **REQUEST).status_code == 200
    person = world.holder.workpro_person
    assert client.get(f"/admin/workpro_plugin/person/inspect/{person.pk}/", **REQUEST).status_code == 200
    viewed = _events("person.viewed", actor=world.staff)
    assert sorted(viewed.values_list("object_type", flat=True)) == ["workpro_plugin.enrollment",
                                                                   "workpro_plugin.person"]
    assert {e.person for e in viewed} == {person}


def test_list_exports_are_audited(world, client):
    enrollment_in(S.BEWERBER, offer=world.offer, institution=world.kita, holder=world.holder)
    client.force_login(world.staff)
    response = client.get("/admin/workpro_plugin/enrollment/?export=csv&status__exact=bewerber", **REQUEST)
    assert response.status_code == 200
    event = _events("data.exported", actor=world.staff).get()
    assert event.detail == {"format": "csv", "rows": 1, "filters": {"status__exact": "bewerber"}}


def test_the_log_is_for_superusers_only(world, client):
    audit.record(AuditAction.LOGIN, actor=world.holder)
    client.force_login(world.superuser)
    index = client.get("/admin/workpro_plugin/auditevent/", **REQUEST)
    assert index.status_code == 200
    assert world.holder.email in index.content.decode()
    event = AuditEvent.objects.get(action="auth.login", actor=world.holder)
    assert client.get(f"/admin/workpro_plugin/auditevent/inspect/{event.pk}/", **REQUEST).status_code == 200
    assert client.get("/admin/workpro_plugin/auditevent/?action__exact=auth.login", **REQUEST).status_code == 200
    assert "Protokoll (Audit)" in client.get("/admin/", **REQUEST).content.decode()
    for path in ("create/", f"edit/{event.pk}/", f"delete/{event.pk}/"):
        assert client.get(f"/admin/workpro_plugin/auditevent/{path}", **REQUEST).status_code in (302, 403, 404)
    for staff in (world.staff, world.caseworker):
        client.force_login(staff)
        assert client.get("/admin/workpro_plugin/auditevent/", **REQUEST).status_code in (302, 403)
        assert client.get(f"/admin/workpro_plugin/auditevent/inspect/{event.pk}/", **REQUEST).status_code in (302, 403)
        assert "Protokoll (Audit)" not in client.get("/admin/", **REQUEST).content.decode()


def test_retention_deletes_old_events_daily(world, settings):
    from workpro_plugin.tasks import purge_audit_events_task

    settings.WORKPRO_AUDIT_RETENTION_DAYS = 730
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=731), tick=False):
        old = audit.record(AuditAction.LOGIN, actor=world.holder)
    with time_machine.travel(start - timedelta(days=729), tick=False):
        kept = audit.record(AuditAction.LOGIN, actor=world.holder)
    with time_machine.travel(start, tick=False):
        assert purge_audit_events_task() == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert purge_audit_events_task() == 1
    assert not AuditEvent.objects.exists()
    schedule = Schedule.objects.get(name="workpro-audit-retention")
    assert (schedule.func, schedule.schedule_type) == ("workpro_plugin.tasks.purge_audit_events_task", "D")


def test_every_audit_action_is_written_by_its_event(world, holder_with_password, client, run_on_commit):
    """One walk through all audited events; fails when an action code is never written."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _login(client, world.holder.email, "falsch")
    _login(client, world.holder.email, PASSWORD)
    client.get("/workpro/konto/daten/", **REQUEST)
    with run_on_commit():
        client.post("/workpro/konto/daten/", {"email": world.holder.email, "street": "Neu 1", "postcode": "04109",
                                              "city": "Leipzig", "mobile": "", "language": "de",
                                              "date_of_birth": "1985-01-01"}, **REQUEST)
    token = account_request_email_change(user=world.holder, new_email="neu@example.org")
    client.post(f"/workpro/konto/daten/mail-bestaetigen/{token}/", **REQUEST)
    enrollment = enrollment_in(S.ANGEBOT, offer=world.offer, institution=world.kita, holder=world.holder)
    document = documents_svc.deposit(kind=Document.Kind.UPLOAD, title="Scan", content=pdf_bytes(),
                                     enrollment=enrollment, by=world.holder)
    client.get(f"/workpro/konto/dokumente/{document.pk}/", **REQUEST)
    interest = Enrollment.objects.create(offer=world.offer, institution=world.kita, account_holder=world.holder,
                                         status=S.INTERESSENT, participant=world.holder.workpro_person)
    client.post(f"/workpro/konto/anmeldung/{interest.pk}/angaben/personal/", {"last_name": ""}, **REQUEST)
    client.post(f"/workpro/konto/anmeldung/{enrollment.pk}/zurueckziehen/", {"reason": "Umzug"}, **REQUEST)
    client.post("/workpro/konto/abmelden/", **REQUEST)
    client.force_login(world.stranger)
    client.get(f"/workpro/konto/anmeldung/{enrollment.pk}/", **REQUEST)

    client.force_login(world.staff)
    client.get(f"/admin/workpro_plugin/person/inspect/{world.holder.workpro_person.pk}/", **REQUEST)
    client.get("/admin/workpro_plugin/enrollment/?export=csv", **REQUEST)
    helped = world.holder.workpro_person
    helped.refresh_from_db()
    with run_on_commit():  # help a person (#21): contact data corrected, a new password sent
        client.post(f"/admin/workpro/person/{helped.pk}/kontaktdaten/", {
            "street": "Neu 2", "postcode": "04109", "city": "Leipzig", "mobile": "", "email": helped.user.email,
            "reason": "Umzug"}, **REQUEST)
        client.post(f"/admin/workpro/person/{helped.pk}/neues-passwort/", {
            "channel": "mail", "identity_check": "telefon", "reason": "Passwort vergessen"}, **REQUEST)
    client.post("/admin/workpro/vergabe/neu/", {  # Platzvergabe (#18): a round created and confirmed
        "title": "Krippe", "stichtag": timezone.localdate().isoformat(), "offers": [world.offer.pk]}, **REQUEST)
    client.post(f"/admin/workpro/vergabe/{AllocationRound.objects.get().pk}/bestaetigen/", **REQUEST)
    client.post(f"/admin/workpro/texte/{world.kita.pk}/invited/",  # an institution's mail text (#23)
                {"subject_de": "Einladung für {{ vorname }}"}, **REQUEST)
    client.post("/admin/workpro/zwei-faktor/link-anfordern/", **REQUEST)
    client.post(two_factor_link(world.staff), **REQUEST)
    device = TOTPDevice.objects.get(user=world.staff, confirmed=False)
    client.post("/admin/workpro/zwei-faktor/einrichten/", {"token": "000000"}, **REQUEST)
    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=False):
        device.refresh_from_db()
        current = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        done = client.post("/admin/workpro/zwei-faktor/einrichten/", {"token": current}, **REQUEST)
        codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4})</code>", client.get(done["Location"], **REQUEST).content.decode())
        client.logout()
        client.force_login(world.staff)
        client.post("/admin/workpro/zwei-faktor/code/", {"token": codes[0]}, **REQUEST)
        client.logout()
        client.force_login(world.staff)
        with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
            device.refresh_from_db()
            current = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
            client.post("/admin/workpro/zwei-faktor/code/", {"token": current}, **REQUEST)
            with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
                device.refresh_from_db()
                current = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
                client.post("/admin/workpro/zwei-faktor/", {"token": current}, **REQUEST)
    client.logout()
    for _ in range(5):
        _login(client, "gesperrt@example.org", "falsch")

    written = set(AuditEvent.objects.values_list("action", flat=True))
    defined = set(AuditAction.values)
    note("audit actions defined", len(defined))
    note("audit actions covered by the walk-through", f"{len(written & defined)}/{len(defined)}")
    add("audit events written in the walk-through", AuditEvent.objects.count())
    assert defined - written == set()
    assert written <= defined


def test_a_user_deleted_later_stays_named_in_the_log(world):
    user = make_user("weg@example.org", person=False)
    audit.record(AuditAction.LOGIN, actor=user)
    user.delete()
    event = AuditEvent.objects.get(actor_label="weg@example.org")
    assert event.actor is None
