"""Identity changes need proof (issue #15): the account takeover with name, birth date and customer
number, Wagtail's password reset, single-use e-mail confirmation links, the current password when
setting a new one, and every URL that can change a password or a login address.

Identity here is what logs a person in or reaches them: username, e-mail address and password
hash of every account, and the e-mail address of every person record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import make_child, make_user
from tests.helpers import HOST, walk_urls
from tests.security_figures import note
from workpro_plugin import checks as security
from workpro_plugin.models import LoginChange, OutboxMessage, Person
from workpro_plugin.services import accounts

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD_RE = re.compile(r"\b([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\b")
OWN_PASSWORD = "Eigenes-Passwort-2026"
VICTIM = "eltern@example.org"
ATTACKER = "angreifer@evil.example"


def identities() -> dict:
    """Everything that logs somebody in or reaches them."""
    return {
        "users": {u.pk: (u.username, u.email, u.password, u.is_active)
                  for u in User.objects.order_by("pk")},
        "people": {p.pk: (p.email, p.user_id) for p in Person.objects.order_by("pk")},
    }


@pytest.fixture
def victim(world):
    """The family: its name, birth date and customer number are printed on every letter."""
    world.holder.set_password(OWN_PASSWORD)
    world.holder.save()
    person = world.holder.workpro_person
    person.first_name, person.last_name, person.date_of_birth = "Erika", "Muster", date(1985, 4, 12)
    person.mobile, person.customer_number = "+4915123456789", "K-000042"
    person.save()
    return world.holder


def _password_request(client, run_on_commit, email, **overrides):
    data = {"last_name": "Muster", "first_name": "Erika", "date_of_birth": "1985-04-12", "mobile": "",
            "customer_number": "K-000042", "email": email}
    data.update(overrides)
    with run_on_commit():
        return client.post(reverse("workpro:password_request"), data, **HOST)


def _login(client, email, password, url="/workpro/konto/anmelden/"):
    return client.post(url, {"username": email, "password": password}, **HOST)


# --- the takeover scenario and the legitimate path ----------------------------------------------

def test_takeover_with_name_birth_date_and_customer_number_changes_nothing(
        client, victim, run_on_commit, sms_outbox):
    before = identities()
    mail.outbox.clear()
    response = _password_request(client, run_on_commit, ATTACKER)
    assert response.status_code == 302
    assert len(sms_outbox) == 1 and sms_outbox[0].to == "+4915123456789"  # the phone is the proof

    assert identities() == before  # login address and password as they were
    assert not User.objects.filter(email=ATTACKER).exists()
    # The old address is told that a change was requested (German, through the outbox).
    notice = OutboxMessage.objects.get(template="login_change_requested")
    assert notice.recipient == VICTIM and notice.channel == OutboxMessage.Channel.MAIL
    assert [m.to for m in mail.outbox] == [[VICTIM]]
    assert ATTACKER in mail.outbox[0].body and "Geändert ist noch nichts" in mail.outbox[0].body

    # Wagtail's password reset sends nothing to the attacker: it is off …
    with run_on_commit():
        assert client.post("/admin/password_reset/", {"email": ATTACKER}, **HOST).status_code == 404
    # … and were it on, the attacker's address still belongs to no account.
    with override_settings(WAGTAIL_PASSWORD_RESET_ENABLED=True), run_on_commit():
        assert client.post("/admin/password_reset/", {"email": ATTACKER}, **HOST).status_code == 302
    assert [m.to for m in mail.outbox] == [[VICTIM]]

    # The attacker cannot log in with his address; the family still logs in as before.
    assert _login(client, ATTACKER, "k7mq-4rtp-9wx2").status_code == 400
    assert _login(client, VICTIM, OWN_PASSWORD).status_code == 302
    assert identities() == before
    # The SMS password is good only with the address it was requested for: the family typing their
    # own address with it does not hand the account to the attacker's address.
    client.logout()
    sms_password = PASSWORD_RE.search(sms_outbox[0].body).group(1)
    assert _login(client, VICTIM, sms_password).status_code == 400
    assert identities() == before


def test_the_sms_password_makes_the_new_address_the_login(client, victim, run_on_commit, sms_outbox):
    _password_request(client, run_on_commit, "erika@neu.example")
    sms_password = PASSWORD_RE.search(sms_outbox[0].body).group(1)
    assert "erika@neu.example" in sms_outbox[0].body
    assert _login(client, "erika@neu.example", "falsch-falsch").status_code == 400
    assert User.objects.get(pk=victim.pk).email == VICTIM

    mail.outbox.clear()
    with run_on_commit():
        assert _login(client, "erika@neu.example", sms_password).status_code == 302
    user = User.objects.get(pk=victim.pk)
    assert user.username == user.email == user.workpro_person.email == "erika@neu.example"
    assert user.workpro_person.must_set_password  # an issued password is only for choosing an own one
    assert [m.to for m in mail.outbox] == [[VICTIM]]  # the old address learns of the change
    change = LoginChange.objects.get(user=user)
    assert change.used_at is not None and change.secret == ""

    # The issued password is the current one when choosing an own password.
    assert client.get("/workpro/konto/", **HOST)["Location"] == "/workpro/konto/passwort/"
    assert client.post("/workpro/konto/passwort/", {"old_password": sms_password, "new_password1": "Neu-und-lang-2026",
                                                    "new_password2": "Neu-und-lang-2026"}, **HOST).status_code == 302
    client.logout()
    assert _login(client, VICTIM, OWN_PASSWORD).status_code == 400  # the old address is no login any more
    assert _login(client, "erika@neu.example", sms_password).status_code == 400  # used once
    assert _login(client, "erika@neu.example", "Neu-und-lang-2026").status_code == 302


@pytest.mark.parametrize("login_url", ["/admin/login/", "/_util/login/"])
def test_the_sms_password_works_on_every_login_form(client, victim, run_on_commit, sms_outbox, login_url):
    _password_request(client, run_on_commit, "erika@neu.example")
    sms_password = PASSWORD_RE.search(sms_outbox[0].body).group(1)
    assert _login(client, "erika@neu.example", sms_password, url=login_url).status_code == 302
    assert User.objects.get(pk=victim.pk).email == "erika@neu.example"


def test_a_newer_request_replaces_the_sms_password_and_it_expires(client, victim, run_on_commit, sms_outbox):
    _password_request(client, run_on_commit, VICTIM)
    first = PASSWORD_RE.search(sms_outbox[0].body).group(1)
    _password_request(client, run_on_commit, VICTIM)
    second = PASSWORD_RE.search(sms_outbox[1].body).group(1)
    assert _login(client, VICTIM, first).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        assert _login(client, VICTIM, second).status_code == 400
    assert _login(client, VICTIM, OWN_PASSWORD).status_code == 302  # the own password never stopped working
    client.logout()
    assert _login(client, VICTIM, second).status_code == 302


# --- Wagtail's password reset is off ----------------------------------------------------------

@pytest.mark.parametrize("path", ["/admin/password_reset/", "/admin/password_reset/done/",
                                  "/admin/password_reset/complete/"])
def test_wagtail_password_reset_is_off(client, world, path):
    assert client.get(path, **HOST).status_code == 404
    assert client.post(path, {"email": world.staff.email}, **HOST).status_code == 404
    assert mail.outbox == []
    assert "password_reset" not in client.get("/admin/login/", **HOST).content.decode()


def test_system_checks_refuse_identity_paths_without_proof():
    assert security.check_identity_paths() == []
    with override_settings(WAGTAIL_PASSWORD_RESET_ENABLED=True, WAGTAIL_EMAIL_MANAGEMENT_ENABLED=True,
                           AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend"]):
        ids = {problem.id for problem in security.check_identity_paths()}
    assert ids == {"workpro.E015", "workpro.E016", "workpro.E017"}


# --- e-mail change links: confirmed by POST, once ---------------------------------------------

def test_email_change_link_is_confirmed_by_post_and_works_once(client, victim, run_on_commit):
    client.force_login(victim)
    with run_on_commit():
        token = accounts.account_request_email_change(user=victim, new_email="neu@example.org")
    url = reverse("workpro:email_confirm", args=[token])
    page = client.get(url, **HOST)  # a link scanner or a prefetching mail client changes nothing
    assert page.status_code == 200 and "neu@example.org" in page.content.decode()
    assert User.objects.get(pk=victim.pk).email == VICTIM

    assert client.post(url, **HOST).status_code == 302
    assert User.objects.get(pk=victim.pk).email == "neu@example.org"
    # Back to the old address by a second link; the first link must not switch it again.
    with run_on_commit():
        back = accounts.account_request_email_change(user=victim, new_email=VICTIM)
    client.post(reverse("workpro:email_confirm", args=[back]), **HOST)
    assert User.objects.get(pk=victim.pk).email == VICTIM
    for method in (client.get, client.post):
        replay = method(url, **HOST)
        assert replay.status_code == 400
        assert "bereits verwendet" in replay.content.decode()
    assert User.objects.get(pk=victim.pk).email == VICTIM


def test_email_change_link_replaced_expired_or_foreign_is_refused(client, victim, world, run_on_commit):
    with run_on_commit():
        old = accounts.account_request_email_change(user=victim, new_email="erst@example.org")
        newest = accounts.account_request_email_change(user=victim, new_email="dann@example.org")
    client.force_login(victim)
    replaced = client.post(reverse("workpro:email_confirm", args=[old]), **HOST)
    assert replaced.status_code == 400 and "neuesten Link" in replaced.content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        client.force_login(victim)
        expired = client.post(reverse("workpro:email_confirm", args=[newest]), **HOST)
    assert expired.status_code == 400 and "abgelaufen" in expired.content.decode()
    client.force_login(world.stranger)
    foreign = client.post(reverse("workpro:email_confirm", args=[newest]), **HOST)
    assert foreign.status_code == 400 and "anderen Konto" in foreign.content.decode()
    assert User.objects.get(pk=victim.pk).email == VICTIM


# --- every URL that can reset or change a password or a login address -------------------------

IDENTITY_URL = re.compile(r"pass(word|wort)|e-?mail|mail-|account|konto/(daten/)?$|zugang|login|anmelden|abmelden"
                          r"|users?/", re.I)


def identity_urls() -> dict[str, str]:
    """URL name → route of every URL whose name or route speaks of passwords, addresses, accounts, logins."""
    return {url.name: url.route for url in walk_urls() if url.name and IDENTITY_URL.search(f"{url.name} {url.route}")}


@dataclass
class Attempt:
    actor: str | None            # None: an anonymous attacker; else a key of the world
    method: str
    kwargs: Callable[[Any], dict] | None = None
    data: Callable[[Any], dict] | None = None
    before: Callable[[Any, Any], None] | None = None  # (client, world): e.g. open a link first, as a browser would


@dataclass
class Path:
    proof: str                   # what it takes to change an identity there
    attempts: list[Attempt]


def _pending_token(w):
    return w.link_token


def _reset_token(w):
    return {"uidb64": urlsafe_base64_encode(force_bytes(w.holder.pk)),
            "token": default_token_generator.make_token(w.holder)}


def _open_reset_link(client, w):
    """Django's reset view trades the mailed token for a session token and asks on ".../set-password/"."""
    client.get(reverse("wagtailadmin_password_reset_confirm", kwargs=_reset_token(w)), **HOST)


def _set_password_url(w):
    return {**_reset_token(w), "token": "set-password"}


def _account_page(client, w):
    """/admin/account/ saves nothing unless every panel's form is valid: start from what the page shows."""
    soup = BeautifulSoup(client.get(reverse("wagtailadmin_account"), **HOST).content, "html.parser")
    values = {}
    for field in soup.select("form input[name], form select[name], form textarea[name]"):
        if field.get("type") in ("checkbox", "radio") and not field.has_attr("checked"):
            continue
        if field.name == "select":
            option = field.find("option", selected=True) or field.find("option")
            values[field["name"]] = option.get("value", "") if option else ""
        elif field.get("type") != "file":
            values[field["name"]] = field.get("value", field.text if field.name == "textarea" else "")
    w.account_form = {**values, "name_email-first_name": "Lea", "name_email-last_name": "Leitung"}


NEW_PASSWORD = {"new_password1": "Uebernommen-2026!", "new_password2": "Uebernommen-2026!"}
STEAL_LOGIN = [Attempt(None, "post", data=lambda w: {"username": ATTACKER, "password": "k7mq-4rtp-9wx2"}),
               Attempt(None, "post", data=lambda w: {"username": VICTIM, "password": "k7mq-4rtp-9wx2"})]
USER_ADMIN = "superuser only (auth.change_user); staff recover through their Leitung or a superuser"
USER_FORM = lambda w: {"username": ATTACKER, "email": ATTACKER, "first_name": "A", "last_name": "B",  # noqa: E731
                       "password1": "Uebernommen-2026!", "password2": "Uebernommen-2026!", "is_active": "on"}
HOLDER_PK = lambda w: {"pk": w.holder.pk}  # noqa: E731
READ_ONLY = "changes no identity"

IDENTITY_PATHS: dict[str, Path] = {
    # The portal.
    "workpro:login": Path("the own password, or the SMS password with the address it was requested for",
                          STEAL_LOGIN),
    "workpro:logout": Path(READ_ONLY, [Attempt("holder", "post")]),
    "workpro:account": Path(READ_ONLY, [Attempt("holder", "post")]),
    "workpro:set_password": Path("the current password (the issued one after an issued-password login)", [
        Attempt("holder", "post", data=lambda w: NEW_PASSWORD),
        Attempt("holder", "post", data=lambda w: {"old_password": "geraten-geraten", **NEW_PASSWORD}),
        Attempt(None, "post", data=lambda w: NEW_PASSWORD)]),
    "workpro:password_request": Path("the phone: the SMS password, used to log in", [
        Attempt(None, "post", data=lambda w: {"last_name": "Muster", "first_name": "Erika",
                                              "date_of_birth": "1985-04-12", "mobile": "",
                                              "customer_number": "K-000042", "email": ATTACKER})]),
    "workpro:password_request_done": Path(READ_ONLY, [Attempt(None, "post")]),
    "workpro:contact_data": Path("the new mailbox: a single-use link, confirmed by POST", [
        Attempt("holder", "post", data=lambda w: {"email": ATTACKER, "street": "", "postcode": "", "city": "",
                                                  "mobile": "+4915123456789", "language": "de"})]),
    "workpro:account_delete": Path("the current password (closes the login, moves it nowhere)", [
        Attempt("holder", "post", data=lambda w: {"password": "geraten-geraten", "confirm": "on"}),
        Attempt(None, "post", data=lambda w: {"password": OWN_PASSWORD, "confirm": "on"}),
        Attempt("holder", "get")]),
    "workpro:email_confirm": Path("the new mailbox: the link's token, once, by its account", [
        Attempt(None, "post", kwargs=lambda w: {"token": w.link_token}),
        Attempt("stranger", "post", kwargs=lambda w: {"token": w.link_token}),
        Attempt("holder", "post", kwargs=lambda w: {"token": "gefaelscht-" + w.link_token[:20]}),
        Attempt("holder", "get", kwargs=lambda w: {"token": w.link_token})]),
    "workpro:participant_login": Path("PSB1 of a ward without a login (creates one, changes none)", [
        Attempt("holder", "post", kwargs=lambda w: {"person_id": w.ward_with_login.pk},
                data=lambda w: {"email": ATTACKER}),
        Attempt("stranger", "post", kwargs=lambda w: {"person_id": w.ward.pk}, data=lambda w: {"email": ATTACKER}),
        Attempt(None, "post", kwargs=lambda w: {"person_id": w.ward.pk}, data=lambda w: {"email": ATTACKER})]),
    "workpro:offer_enroll": Path(READ_ONLY, [Attempt(None, "post", kwargs=lambda w: {"offer_id": w.offer.pk}),
                                             Attempt("holder", "post", kwargs=lambda w: {"offer_id": w.offer.pk})]),
    # Wagtail's own.
    "wagtailadmin_login": Path("the own password, or the SMS password with its address", STEAL_LOGIN),
    "wagtailcore_login": Path("the own password, or the SMS password with its address", STEAL_LOGIN),
    "wagtailadmin_account": Path("the current password; no address change (WAGTAIL_EMAIL_MANAGEMENT_ENABLED off)", [
        Attempt("staff", "post", data=lambda w: {**w.account_form, "name_email-email": ATTACKER},
                before=_account_page),
        Attempt("staff", "post", before=_account_page, data=lambda w: {
            **w.account_form, **{f"password-{k}": v for k, v in NEW_PASSWORD.items()}}),
        Attempt("holder", "post", data=lambda w: {"name_email-email": ATTACKER,
                                                  **{f"password-{k}": v for k, v in NEW_PASSWORD.items()}})]),
    "wagtailadmin_password_reset": Path("off (WAGTAIL_PASSWORD_RESET_ENABLED)", [
        Attempt(None, "post", data=lambda w: {"email": VICTIM}),
        Attempt(None, "post", data=lambda w: {"email": w.staff.email})]),
    "wagtailadmin_password_reset_done": Path("off", [Attempt(None, "post")]),
    "wagtailadmin_password_reset_confirm": Path("off: even a well-formed token is refused", [
        Attempt(None, "post", kwargs=_reset_token, data=lambda w: NEW_PASSWORD),
        Attempt(None, "post", kwargs=_set_password_url, data=lambda w: NEW_PASSWORD, before=_open_reset_link),
        Attempt(None, "get", kwargs=_reset_token)]),
    "wagtailadmin_password_reset_complete": Path("off", [Attempt(None, "post")]),
    "wagtailusers_users:index": Path(USER_ADMIN, [Attempt("staff", "get")]),
    "wagtailusers_users:index_results": Path(USER_ADMIN, [Attempt("staff", "get")]),
    "wagtailusers_users:add": Path(USER_ADMIN, [Attempt("staff", "post", data=USER_FORM),
                                                Attempt("holder", "post", data=USER_FORM)]),
    "wagtailusers_users:edit": Path(USER_ADMIN, [Attempt("staff", "post", kwargs=HOLDER_PK, data=USER_FORM),
                                                 Attempt("holder", "post", kwargs=HOLDER_PK, data=USER_FORM),
                                                 Attempt(None, "post", kwargs=HOLDER_PK, data=USER_FORM)]),
    "wagtailusers_users:copy": Path(USER_ADMIN, [Attempt("staff", "post", kwargs=HOLDER_PK, data=USER_FORM)]),
    "wagtailusers_users:delete": Path(USER_ADMIN, [Attempt("staff", "post", kwargs=HOLDER_PK)]),
    "wagtailusers_users:history": Path(READ_ONLY, [Attempt("staff", "get", kwargs=HOLDER_PK)]),
    "wagtailusers_users:history_results": Path(READ_ONLY, [Attempt("staff", "get", kwargs=HOLDER_PK)]),
    "wagtailusers_users:usage": Path(READ_ONLY, [Attempt("staff", "get", kwargs=HOLDER_PK)]),
    # Help a person (#21): the password goes only to the stored mobile or mail, never to an address typed here.
    "workpro_admin:person_password": Path(
        "staff of the person's institution, identity checked in person or by phone, a reason; stored channels only", [
            Attempt("other_staff", "post", kwargs=lambda w: {"pk": w.holder.workpro_person.pk},
                    data=lambda w: {"channel": "mail", "identity_check": "telefon", "reason": "x", "email": ATTACKER}),
            Attempt("staff", "post", kwargs=lambda w: {"pk": w.holder.workpro_person.pk},
                    data=lambda w: {"channel": "mail", "reason": "x", "email": ATTACKER}),
            Attempt("holder", "post", kwargs=lambda w: {"pk": w.holder.workpro_person.pk},
                    data=lambda w: {"channel": "sms", "identity_check": "telefon", "reason": "x"}),
            Attempt(None, "post", kwargs=lambda w: {"pk": w.holder.workpro_person.pk},
                    data=lambda w: {"channel": "sms", "identity_check": "telefon", "reason": "x"})]),
    "wagtailadmin_choose_page_email_link": Path("a chooser for mailto links", [Attempt("staff", "post")]),
    "wagtaildocs_authenticate_with_password": Path("a document's view password, no account", [
        Attempt(None, "post", kwargs=lambda w: {"restriction_id": 1}, data=lambda w: {"password": "x"})]),
    "wagtailcore_authenticate_with_password": Path("a page's view password, no account", [
        Attempt(None, "post", kwargs=lambda w: {"page_view_restriction_id": 1, "page_id": w.offer.pk},
                data=lambda w: {"password": "x"})]),
}


def test_every_identity_url_is_classified():
    found = identity_urls()
    assert sorted(set(found) - set(IDENTITY_PATHS)) == [], "classify the new URL in IDENTITY_PATHS"
    assert sorted(set(IDENTITY_PATHS) - set(found)) == [], "a classified URL is gone: remove its row"


def test_no_identity_url_changes_an_identity_without_proof(client, victim, world, run_on_commit, sms_outbox):
    w = world
    # A pending change of each kind waits in the world: an attacker-triggered SMS request and a
    # confirmation link of the holder's; no attempt below may bring either into effect.
    _password_request(client, run_on_commit, ATTACKER)
    with run_on_commit():
        w.link_token = accounts.account_request_email_change(user=victim, new_email="neu-holder@example.org")
    w.ward = make_child(victim, first_name="Lena")
    w.ward_with_login = make_child(victim, first_name="Tom")
    w.ward_with_login.user = make_user("tom@example.org", person=False)
    w.ward_with_login.save()
    w.staff.set_password("Leitung-Passwort-1")
    w.staff.save()
    mail.outbox.clear()
    before = identities()

    checked = attempts = 0
    for name, path in sorted(IDENTITY_PATHS.items()):
        for attempt in path.attempts:
            client.logout()
            if attempt.actor:
                client.force_login(getattr(w, attempt.actor))
            if attempt.before:
                attempt.before(client, w)
            url = reverse(name, kwargs=attempt.kwargs(w) if attempt.kwargs else None)
            with run_on_commit():
                response = getattr(client, attempt.method)(url, attempt.data(w) if attempt.data else {}, **HOST)
            assert response.status_code < 500, (name, attempt)
            assert identities() == before, f"{name} changed an identity: {attempt}"
            attempts += 1
        checked += 1
    # Nothing was mailed that could serve as a proof: no reset link, no confirmation to the attacker.
    assert all(ATTACKER not in message.to for message in mail.outbox)
    assert not [m for m in mail.outbox if "password_reset" in m.body or "mail-bestaetigen" in m.body]
    assert not LoginChange.objects.filter(used_at__isnull=False).exists()

    note("identity-change paths checked", checked)
    note("identity-change attempts without proof refused", attempts)
    assert checked == len(identity_urls()) == len(IDENTITY_PATHS)
    assert attempts >= checked


def test_requested_login_changes_are_exported_and_erased(client, victim, run_on_commit, sms_outbox):
    from workpro_plugin.services import privacy

    _password_request(client, run_on_commit, ATTACKER)
    with run_on_commit():
        accounts.account_request_email_change(user=victim, new_email="neu@example.org")
    person = victim.workpro_person
    exported = privacy.person_export_data(person)["login_changes"]
    assert sorted(row["new_email"] for row in exported) == [ATTACKER, "neu@example.org"]
    assert "secret" not in str(exported)
    privacy.person_anonymise(person=person)
    assert not LoginChange.objects.filter(user=victim).exists()


# --- staff accounts recover through their Leitung or a superuser ---------------------------------

@override_settings(WORKPRO_REQUIRE_STAFF_2FA=True)
def test_the_sms_request_changes_no_staff_account(client, victim, world, run_on_commit, sms_outbox):
    """A staff account with a person record (a parent who also works at the KiTa): the phone alone
    would move its login to the attacker's address, where the 2FA enrolment link is mailed next."""
    victim.groups.add(world.kita.staff_group)
    before = identities()
    assert _password_request(client, run_on_commit, ATTACKER).status_code == 302  # the same page as ever
    assert sms_outbox == [] and not LoginChange.objects.exists()
    assert identities() == before
    assert accounts.password_request(data=accounts.PasswordRequest(
        last_name="Muster", first_name="Erika", date_of_birth=date(1985, 4, 12), email=VICTIM,
        customer_number="K-000042"), site_institution=None) == "staff"


def test_an_sms_password_requested_before_becoming_staff_is_refused(client, victim, world, run_on_commit,
                                                                     sms_outbox):
    _password_request(client, run_on_commit, ATTACKER)
    sms_password = PASSWORD_RE.search(sms_outbox[0].body).group(1)
    victim.groups.add(world.kita.staff_group)
    before = identities()
    for url in ("/workpro/konto/anmelden/", "/admin/login/", "/_util/login/"):
        client.logout()
        assert _login(client, ATTACKER, sms_password, url=url).status_code in (200, 400), url
        assert identities() == before, url
    assert not LoginChange.objects.filter(used_at__isnull=False).exists()


def test_no_login_moves_to_the_address_of_an_account_with_another_username(client, victim, run_on_commit,
                                                                            sms_outbox):
    """An account whose username is not its address (a superuser made by createsuperuser): its address
    is taken all the same, for the SMS request and for the confirmation link."""
    User.objects.create(username="chef", email="Chef@Example.org", is_superuser=True, is_staff=True)
    _password_request(client, run_on_commit, "chef@example.org")
    assert "chef@example.org" not in sms_outbox[0].body and VICTIM in sms_outbox[0].body
    assert LoginChange.objects.get(kind=LoginChange.Kind.SMS).new_email == VICTIM

    with run_on_commit():
        token = accounts.account_request_email_change(user=victim, new_email="chef@example.org")
    with pytest.raises(accounts.EmailChangeError):
        accounts.account_confirm_email_change(user=victim, token=token)
    assert User.objects.filter(email__iexact="chef@example.org").count() == 1
