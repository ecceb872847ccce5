"""CSRF on every POST, no open redirect through `next`, no header injection through mail fields.

- CSRF: every URL pattern of the namespaces workpro, workpro_admin and workpro_chat, and the
  WorkPro modeladmin views, collected from the resolver (a new view without kwargs below fails
  the test), is posted without a token by a user who could act there: 403 with Django's CSRF
  page, no row changed. The same post with a token is not refused for CSRF, so the token was
  the only thing missing. No view anywhere is csrf_exempt unless whitelisted with a reason.
- Open redirect: the portal login (posting and already logged in), logout, the Wagtail admin
  login, the 2FA pages and the language switch never send the browser off the site, whatever
  `next` (or Referer) says.
- Mail headers: names and addresses with CR/LF, %0d%0a or "Bcc:" in the registration, Meine
  Daten, the password request, the participant's own login, and an institution's name and
  address (From, Reply-To): refused with a German message, or sent without any extra header.
"""

from __future__ import annotations

import hashlib
from email import message_from_bytes
from email.utils import getaddresses
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils.html import escape
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import form_world
from tests.form_table import FORMS, PASSWORD
from tests.helpers import HOST, totp
from tests.security_figures import add, note
from workpro_plugin.backoffice.views.enrollments import ACTIONS
from workpro_plugin.models import AuditEvent, Enrollment, OutboxMessage, Person

pytestmark = pytest.mark.django_db
User = get_user_model()
NAMESPACES = {"workpro", "workpro_admin", "workpro_chat"}
SECRET = "Vq3nQ8sLr2TzW7yB4dKf9hJm1cXp6gAe"  # a CSRF secret: 32 letters and digits

# csrf_exempt views anywhere in the URL conf, with the reason they are safe.
CSRF_EXEMPT_WHITELIST = {
    "wagtailadmin_api": "Wagtail's admin API (Django REST framework): DRF exempts the view from Django's "
                        "middleware and checks the token itself for session-authenticated unsafe requests "
                        "(test_wagtail_admin_api_still_checks_csrf).",
}


def walk(patterns, namespaces=(), route=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            yield from walk(pattern.url_patterns, inner, route + str(pattern.pattern))
        else:
            yield ":".join(namespaces), pattern, route + str(pattern.pattern)


def workpro_patterns():
    for namespace, pattern, route in walk(get_resolver().url_patterns):
        name = pattern.name or ""
        if namespace.split(":")[-1] in NAMESPACES or (name.startswith("workpro_plugin_") and "modeladmin" in name):
            yield (f"{namespace}:{name}" if namespace.split(":")[-1] in NAMESPACES else name), pattern


def _criterion(w):
    from workpro_plugin.models import Criterion

    return Criterion.objects.get_or_create(institution=w.kita, kind="hardship",
                                           defaults={"label": "Härtefall", "points": 30})[0]


def _category(w):
    from workpro_plugin.models import OfferCategory

    return OfferCategory.objects.get_or_create(institution=w.kita, slug="csrf", defaults={"name": "CSRF"})[0]


def _age_group(w):
    from workpro_plugin.models import AgeGroup

    return AgeGroup.objects.get_or_create(institution=w.kita, slug="csrf", defaults={"name": "CSRF", "min_age": 1})[0]


def _round(w):
    from django.utils import timezone

    from workpro_plugin.models import AllocationRound

    round_, created = AllocationRound.objects.get_or_create(title="CSRF-Runde", defaults={
        "stichtag": timezone.localdate()})
    if created:
        round_.offers.set([w.offer])
    return round_


# URL name -> (user, [kwargs, ...]); every variant is posted.
def _kwargs(w) -> dict:
    e, conv = w.e_rat, w.conversation
    modeladmin = {"enrollment": e.pk, "person": w.me.pk, "institution": w.kita.pk, "operator": w.kita.operator_id,
                  "outboxmessage": OutboxMessage.objects.first().pk, "addonbooking": w.booking.pk, "app": w.app.pk,
                  "cannedreply": w.canned.pk, "criterion": _criterion(w).pk,
                  "offercategory": _category(w).pk, "agegroup": _age_group(w).pk,
                  "auditevent": AuditEvent.objects.first().pk if AuditEvent.objects.exists() else 1}
    table = {
        "workpro:account": ("holder", [{}]), "workpro:login": (None, [{}]), "workpro:logout": ("holder", [{}]),
        "workpro:set_password": ("holder", [{}]), "workpro:password_request": (None, [{}]),
        "workpro:password_request_done": (None, [{}]), "workpro:contact_data": ("holder", [{}]),
        "workpro:email_confirm": ("holder", [{"token": "abc"}]),
        "workpro:enrollment_detail": ("holder", [{"pk": e.pk}]),
        "workpro:enrollment_withdraw": ("applicant", [{"pk": w.e_bew.pk}]),
        "workpro:enrollment_participant": ("holder", [{"pk": w.e_new.pk}]),
        "workpro:enrollment_section": ("holder", [{"pk": w.e_int.pk, "section": s}
                                                  for s in ("personal", "education", "health", "guardians")]
                                       + [{"pk": w.e_kand.pk, "section": s} for s in ("income", "uploads")]),
        "workpro:enrollment_print": ("holder", [{"pk": w.e_int.pk}]),
        "workpro:enrollment_submit": ("holder", [{"pk": w.e_int.pk}]),
        "workpro:enrollment_accept": ("holder", [{"pk": w.e_angebot.pk}]),
        "workpro:documents": ("holder", [{}]),
        "workpro:participant_login": ("holder", [{"person_id": w.child.pk}]),
        "workpro:participant_view": ("holder", [{"person_id": w.child.pk}]),
        "workpro:account_delete": ("holder", [{}]),
        "workpro:enrollment_proof": ("holder", [{"pk": e.pk}]),
        "workpro:care": ("holder", [{"pk": e.pk}]),
        "workpro:care_edit": ("holder", [{"pk": e.pk, "kind": "notfallkontakt", "contact_id": w.emergency.pk},
                                         {"pk": e.pk, "kind": "abholberechtigt", "contact_id": w.pickup.pk}]),
        "workpro:care_remove": ("holder", [{"pk": e.pk, "kind": "notfallkontakt", "contact_id": w.emergency.pk},
                                           {"pk": e.pk, "kind": "abholberechtigt", "contact_id": w.pickup.pk}]),
        "workpro:pickup_photo": ("holder", [{"pk": e.pk, "contact_id": w.pickup.pk}]),
        "workpro:document": ("holder", [{"pk": w.e_angebot.documents.first().pk}]),
        "workpro:offer_enroll": ("stranger", [{"offer_id": w.offer.pk}]),
        "workpro:registration_done": (None, [{}]), "workpro:help": (None, [{}]),
        "workpro:sitemap": (None, [{}]), "workpro:robots": (None, [{}]),
        "workpro:data_export": ("holder", [{}]), "workpro:chat_list": ("holder", [{}]),
        "workpro:chat_thread": ("holder", [{"pk": conv.pk}]), "workpro:chat_poll": ("holder", [{"pk": conv.pk}]),
        "workpro:chat_edit": ("holder", [{"pk": conv.pk, "message_pk": w.message.pk}]),
        "workpro:chat_attachment": ("holder", [{"pk": conv.pk, "message_pk": w.message.pk}]),
        "workpro:chat_offer": ("holder", [{"offer_id": w.offer.pk}]),
        "workpro:chat_enrollment": ("holder", [{"pk": w.e_kand.pk}]),
        "workpro:enrollment_addons": ("holder", [{"pk": e.pk}]),
        "workpro:addon_book": ("holder", [{"pk": e.pk, "addon_id": w.addon.pk}]),
        "workpro:addon_cancel": ("holder", [{"pk": w.booking.pk}]),
        "workpro:apps": ("holder", [{}]),
        "workpro:app_accept": ("holder", [{"app_id": w.app.pk, "person_id": w.child.pk}]),
        "workpro:app_open": ("holder", [{"app_id": w.app.pk, "person_id": w.child.pk}]),
        "workpro_admin:offer_preview": ("staff", [{"pk": w.e_eing.pk}]),
        "workpro_admin:enrollment_action": ("staff", [{"pk": w.e_bew.pk, "action": slug} for slug in ACTIONS]),
        "workpro_admin:bulk_invite": ("staff", [{}]), "workpro_admin:bulk_decide": ("staff", [{}]),
        "workpro_admin:addon_confirm": ("staff", [{"pk": w.booking.pk}]),
        "workpro_admin:addon_decline": ("staff", [{"pk": w.booking.pk}]),
        "workpro_admin:app_assign": ("staff", [{"pk": w.app_other.pk}]),
        "workpro_admin:app_revoke": ("staff", [{"pk": w.assignment.pk}]),
        "workpro_admin:two_factor": ("admin_2fa", [{}]), "workpro_admin:two_factor_setup": ("admin_new", [{}]),
        "workpro_admin:two_factor_verify": ("admin_2fa", [{}]),
        "workpro_admin:two_factor_link_request": ("admin_new", [{}]),
        "workpro_admin:two_factor_link": ("admin_new", [{"token": w.link_token}]),
        "workpro_admin:two_factor_recovery": ("admin_2fa", [{}]),
        "workpro_admin:two_factor_staff": ("staff", [{}]),
        "workpro_admin:two_factor_staff_link": ("staff", [{"pk": w.admin_new.pk}]),
        "workpro_admin:person_export": ("staff", [{"pk": w.me.pk}]),
        "workpro_admin:texts_index": ("staff", [{}]),
        "workpro_admin:text_edit": ("staff", [{"pk": w.kita.pk, "event": "invited"}]),
        "workpro_admin:terms_edit": ("staff", [{"pk": w.kita.pk}]),
        "workpro_admin:person_contact": ("staff", [{"pk": w.me.pk}]),
        "workpro_admin:person_password": ("staff", [{"pk": w.me.pk}]),
        "workpro_chat:broadcast": ("staff", [{}]),
        "workpro:wishlist": ("holder", [{"person_id": w.child.pk}]),
        "workpro:place_accept": ("applicant", [{"pk": w.e_bew.pk}]),
        "workpro:place_decline": ("applicant", [{"pk": w.e_bew.pk}]),
        "workpro_admin:allocation_index": ("staff", [{}]), "workpro_admin:allocation_create": ("staff", [{}]),
        "workpro_admin:allocation_round": ("staff", [{"pk": _round(w).pk}]),
        "workpro_admin:allocation_confirm": ("staff", [{"pk": _round(w).pk}]),
        "workpro_admin:allocation_export": ("staff", [{"pk": _round(w).pk}]),
        "workpro_admin:allocation_waiting": ("staff", [{"offer_pk": w.offer.pk}]),
        "workpro_admin:allocation_place_offer": ("staff", [{"pk": w.e_bew.pk}]),
        "workpro_admin:allocation_confirm_criterion": ("staff", [{"pk": w.e_bew.pk}]),
        "workpro_chat:inbox": ("staff", [{}]), "workpro_chat:thread": ("staff", [{"pk": conv.pk}]),
        "workpro_chat:poll": ("staff", [{"pk": conv.pk}]), "workpro_chat:assign": ("staff", [{"pk": conv.pk}]),
        "workpro_chat:hide": ("staff", [{"pk": conv.pk, "message_pk": w.message.pk}]),
        "workpro_chat:unhide": ("staff", [{"pk": conv.pk, "message_pk": w.message.pk}]),
        "workpro_chat:edit": ("staff", [{"pk": conv.pk, "message_pk": w.staff_message.pk}]),
        "workpro_chat:enrollment_reply": ("staff", [{"pk": w.e_kand.pk}]),
    }
    for name, pattern in workpro_patterns():
        if name.startswith("workpro_plugin_"):
            model = name.removeprefix("workpro_plugin_").split("_modeladmin_")[0]
            kwargs = {"instance_pk": modeladmin[model]} if "instance_pk" in str(pattern.pattern) else {}
            table[name] = ("superuser", [kwargs])
    return table


def fingerprint() -> str:
    """Every row of every WorkPro table, the users, groups and 2FA devices (the audit log aside:
    a refused request may well be logged)."""
    models = [m for m in apps.get_app_config("workpro_plugin").get_models() if m is not AuditEvent]
    digest = hashlib.sha256()
    for model in [*models, User, Group, TOTPDevice, StaticDevice, StaticToken]:
        digest.update(repr(list(model.objects.order_by("pk").values_list())).encode())
    return digest.hexdigest()


VALID = {}  # URL name -> a valid payload, from the bad-input table, so that only the token is missing


def _valid_payloads(w) -> dict:
    payloads = {}
    for form in FORMS:
        try:
            match = get_resolver().resolve(form.url(w))
        except Exception:  # noqa: BLE001 - the offer page is a Wagtail page, not a URL pattern
            continue
        payloads.setdefault(match.view_name, form.payload(w))
    return payloads


def _csrf_client(w, user) -> Client:
    client = Client(enforce_csrf_checks=True, HTTP_HOST="kita.test")
    if user:
        client.force_login(getattr(w, user))
    return client


def _is_csrf_failure(response) -> bool:
    return response.status_code == 403 and b"CSRF" in response.content


def test_every_post_needs_the_csrf_token(module_world):
    w = module_world
    table = _kwargs(w)
    payloads = _valid_payloads(w)
    names = [name for name, _pattern in workpro_patterns()]
    missing = sorted(set(names) - set(table))
    assert not missing, f"new views: add them with a user and kwargs to _kwargs(): {missing}"
    posted = 0
    for name in names:
        user, variants = table[name]
        for kwargs in variants:
            url = reverse(name, kwargs=kwargs)
            client = _csrf_client(w, user)
            before = fingerprint()
            response = client.post(url, payloads.get(name, {}))
            assert _is_csrf_failure(response), (name, kwargs, response.status_code)
            assert "CSRF" in response.content.decode() and "Verifizierung" in response.content.decode(), name
            assert fingerprint() == before, f"{name}: a post without token changed data"
            # With the token the same post is not refused for CSRF: the token was all that was missing.
            # (In a savepoint rolled back at once: the control may well withdraw or ratify.)
            client.cookies["csrftoken"] = SECRET
            with transaction.atomic():
                control = client.post(url, {**payloads.get(name, {}), "csrfmiddlewaretoken": SECRET})
                transaction.set_rollback(True)
            assert not _is_csrf_failure(control), (name, kwargs)
            posted += 1
    assert posted >= len(names)
    note("POST endpoints refused without CSRF token", posted)


def test_registration_on_the_offer_page_needs_the_csrf_token(module_world):
    w = module_world
    client = _csrf_client(w, None)
    before = fingerprint()
    response = client.post(w.offer.relative_url(w.kita.site), {
        "last_name": "Muster", "first_name": "Maria", "email": "maria@example.org", "privacy": "on"})
    assert _is_csrf_failure(response)
    assert fingerprint() == before and not User.objects.filter(email="maria@example.org").exists()
    add("POST endpoints refused without CSRF token")


@pytest.mark.parametrize("url", ["/admin/login/", "/i18n/setlang/", "/workpro/konto/anmelden/"])
def test_login_and_language_need_the_csrf_token(module_world, url):
    client = _csrf_client(module_world, None)
    response = client.post(url, {"username": module_world.holder.email, "password": PASSWORD, "language": "en"})
    assert _is_csrf_failure(response)
    assert "_auth_user_id" not in client.session
    add("POST endpoints refused without CSRF token")


def test_wagtail_admin_api_still_checks_csrf(module_world):
    client = _csrf_client(module_world, "superuser")
    page = module_world.offer
    before = fingerprint()
    response = client.post(f"/admin/api/main/pages/{page.pk}/action/unpublish/", {}, content_type="application/json")
    assert response.status_code == 403 and b"CSRF" in response.content
    assert fingerprint() == before
    page.refresh_from_db()
    assert page.live


def test_no_view_is_csrf_exempt_unless_whitelisted():
    exempt = {}
    for namespace, pattern, route in walk(get_resolver().url_patterns):
        if getattr(pattern.callback, "csrf_exempt", False):
            exempt.setdefault(namespace.split(":")[0] or pattern.name, []).append(route)
    unexpected = {key: routes for key, routes in exempt.items() if key not in CSRF_EXEMPT_WHITELIST}
    assert not unexpected, f"csrf_exempt views without a reason in CSRF_EXEMPT_WHITELIST: {unexpected}"
    note("csrf_exempt views (all whitelisted with a reason)", sum(len(r) for r in exempt.values()))


# --- open redirects -------------------------------------------------------------------------

EVIL = ["https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
        "http:evil.example", "https:/evil.example", "///evil.example", "/\t/evil.example", " //evil.example",
        "\\/evil.example", "http://kita.test@evil.example/", "https://kita.test.evil.example/",
        "//evil.example/%2e%2e", "data:text/html,<script>alert(1)</script>", "/%2F%2Fevil.example",
        "/\r\n/evil.example", "evil.example", "0"]


def assert_stays_on_site(response, value, *, path_only: bool = True):
    """Off-site is what a browser would leave the site for. Our views also insist on a path;
    Django's and Wagtail's may answer with a relative URL ("evil.example" = /admin/login/evil.example)."""
    assert response.status_code in (301, 302), (value, response.status_code)
    location = response["Location"]
    # What a browser makes of it: backslash is a slash, tabs and line breaks are dropped.
    seen = location.replace("\\", "/").replace("\t", "").replace("\r", "").replace("\n", "").strip()
    parts = urlsplit(seen)
    assert not parts.scheme and not parts.netloc and not seen.startswith("//"), f"{value!r} -> {location!r}"
    if path_only:
        assert seen.startswith("/"), f"next={value!r} -> Location {location!r}"
    add("open-redirect attempts refused")


@pytest.mark.parametrize("value", EVIL)
def test_portal_login_next(module_world, client, value):
    w = module_world
    response = client.post(f"{reverse('workpro:login')}?next={value}", {
        "username": w.holder.email, "password": PASSWORD, "next": value}, **HOST)
    assert_stays_on_site(response, value)
    assert client.session.get("_auth_user_id") == str(w.holder.pk)
    # Already logged in: the login page forwards at once, to the same place.
    assert_stays_on_site(client.get(reverse("workpro:login"), {"next": value}, **HOST), value)


@pytest.mark.parametrize("value", EVIL)
def test_portal_logout_next(module_world, client, value):
    client.force_login(module_world.holder)
    response = client.post(reverse("workpro:logout"), {"next": value}, **HOST)
    assert_stays_on_site(response, value)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("value", EVIL)
def test_wagtail_admin_login_next(module_world, client, value):
    w = module_world
    w.staff.set_password(PASSWORD)
    w.staff.save()
    response = client.post(f"/admin/login/?next={value}", {
        "username": w.staff.username, "password": PASSWORD, "next": value}, **HOST)
    assert_stays_on_site(response, value, path_only=False)  # Wagtail's view
    assert client.session.get("_auth_user_id") == str(w.staff.pk)


@pytest.mark.parametrize("value", EVIL)
def test_two_factor_next(module_world, client, value):
    w = module_world
    client.force_login(w.admin_2fa)
    response = client.post(reverse("workpro_admin:two_factor_verify"), {"token": totp(w.device), "next": value},
                           **HOST)
    assert_stays_on_site(response, value)
    client.force_login(w.admin_new)
    form_world.open_enrolment(client, w)
    response = client.post(reverse("workpro_admin:two_factor_setup"),
                           {"token": totp(w.new_device), "next": value}, **HOST)
    assert_stays_on_site(response, value)


@pytest.mark.parametrize("value", EVIL)
def test_language_switch_next_and_referer(client, value):
    response = client.post("/i18n/setlang/", {"language": "en", "next": value}, **HOST)
    assert_stays_on_site(response, value, path_only=False)  # Django's view
    response = client.post("/i18n/setlang/", {"language": "de"}, HTTP_REFERER=value, **HOST)
    assert_stays_on_site(response, value, path_only=False)


# --- header injection in mail fields -----------------------------------------------------------

INJECTIONS = ["Max\r\nBcc: evil@example.org", "Max\nBcc: evil@example.org", "Max%0d%0aBcc:%20evil@example.org",
              "Max\rBcc: evil@example.org", "=?utf-8?q?Max=0D=0ABcc:_evil@example.org?=", "Max\u2028Bcc: evil"]
BAD_EMAILS = ["neu@example.org\r\nBcc: evil@example.org", "neu@example.org%0d%0aBcc:evil@example.org",
              "neu@example.org\nBcc: evil@example.org", "\"neu\r\nBcc: evil@example.org\"@example.org",
              "neu@example.org, evil@example.org", "neu@example.org>\r\nBcc: <evil@example.org"]


def assert_clean_mails(outbox) -> None:
    """No mail has a header that was not meant: one From and one To, no Cc/Bcc, and no address of
    the attacker in any address header (their text may stay in a display name, on one line)."""
    for sent in outbox:
        assert "evil@example.org" not in sent.recipients(), sent.recipients()
        raw = sent.message().as_bytes()
        head = raw.split(b"\n\n", 1)[0]
        parsed = message_from_bytes(raw)
        assert parsed.get_all("Bcc") is None and parsed.get_all("Cc") is None, head
        assert len(parsed.get_all("To")) == 1 and len(parsed.get_all("From")) == 1, head
        assert len(parsed.get_all("Reply-To") or []) <= 1, head
        for header in ("From", "To", "Reply-To"):
            addresses = [address for _name, address in getaddresses(parsed.get_all(header) or [])]
            assert "evil@example.org" not in addresses, (header, addresses)
        for line in head.split(b"\n"):
            assert not line.lower().startswith((b"bcc", b"cc:")), head
        add("mails checked for injected headers")


def _refused_in_german(response, field_message: str) -> None:
    assert response.status_code == 400
    assert escape(field_message) in response.content.decode()


@pytest.mark.parametrize("name", INJECTIONS)
def test_registration_names(module_world, client, run_on_commit, name):
    w = module_world
    mail.outbox.clear()
    with run_on_commit():
        response = client.post(w.offer.relative_url(w.kita.site), {
            "last_name": name, "first_name": name, "email": "maria@example.org", "privacy": "on"}, **HOST)
    if response.status_code == 400:
        _refused_in_german(response, "Namen dürfen keine Ziffern oder Sonderzeichen")
        assert not mail.outbox and not Person.objects.filter(email="maria@example.org").exists()
    else:
        assert response.status_code == 302 and len(mail.outbox) == 1
        person = Person.objects.get(email="maria@example.org")
        assert "\r" not in person.last_name and "\n" not in person.first_name
    assert_clean_mails(mail.outbox)


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_registration_email(module_world, client, run_on_commit, email):
    w = module_world
    mail.outbox.clear()
    with run_on_commit():
        response = client.post(w.offer.relative_url(w.kita.site), {
            "last_name": "Muster", "first_name": "Maria", "email": email, "privacy": "on"}, **HOST)
    _refused_in_german(response, "Bitte eine gültige Mailadresse eingeben.")
    assert not mail.outbox and not OutboxMessage.objects.filter(recipient__contains="evil").exists()


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_contact_data_email(module_world, client, run_on_commit, email):
    w = module_world
    client.force_login(w.holder)
    mail.outbox.clear()
    with run_on_commit():
        response = client.post(reverse("workpro:contact_data"), {
            "email": email, "street": "", "postcode": "", "city": "", "mobile": "", "language": "de"}, **HOST)
    _refused_in_german(response, "Bitte eine gültige Mailadresse eingeben.")
    assert not mail.outbox


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_password_request_and_participant_login_email(module_world, client, run_on_commit, email):
    w = module_world
    mail.outbox.clear()
    with run_on_commit():
        response = client.post(reverse("workpro:password_request"), {
            "last_name": "Muster", "first_name": "Eltern", "date_of_birth": "1985-01-01", "customer_number": "K1",
            "email": email}, **HOST)
    _refused_in_german(response, "Bitte eine gültige Mailadresse eingeben.")
    client.force_login(w.holder)
    with run_on_commit():
        response = client.post(reverse("workpro:participant_login", args=[w.child.pk]), {"email": email}, **HOST)
    _refused_in_german(response, "Bitte eine gültige Mailadresse eingeben.")
    assert not mail.outbox


@pytest.mark.parametrize("name", INJECTIONS)
def test_institution_name_and_address_in_from_and_reply_to(module_world, run_on_commit, name):
    """Staff edit the institution; its name is the From display name, its address the Reply-To."""
    from workpro_plugin.services.notify import queue_mail

    w = module_world
    type(w.kita).objects.filter(pk=w.kita.pk).update(name=name, email="kita@example.org\r\nBcc: evil@example.org")
    w.kita.refresh_from_db()
    mail.outbox.clear()
    with run_on_commit():
        message = queue_mail(to="eltern@example.org", template="mobile_changed", institution=w.kita,
                             context={"first_name": "Erika", "old_mobile": "1234", "new_mobile": "5678"})
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.SENT, message.last_error
    assert len(mail.outbox) == 1
    assert_clean_mails(mail.outbox)
    assert "Max" in mail.outbox[0].from_email


def test_contact_names_go_into_mails_on_one_line(module_world, client, run_on_commit):
    """A participant's name typed with line breaks (guardians section draft etc.) never reaches a header:
    subjects are rendered on one line."""
    from workpro_plugin.services.notify import queue_mail

    mail.outbox.clear()
    with run_on_commit():
        queue_mail(to="eltern@example.org", template="mobile_changed", institution=module_world.kita,
                   context={"first_name": "Erika\r\nBcc: evil@example.org", "old_mobile": "1", "new_mobile": "2"})
    assert len(mail.outbox) == 1
    assert "\n" not in mail.outbox[0].subject and "\r" not in mail.outbox[0].subject
    assert_clean_mails(mail.outbox)


def test_the_shared_world_is_as_built_after_the_other_tests(module_world):
    # The module world is shared; each test's own transaction must leave it as built.
    assert Enrollment.objects.filter(pk=module_world.e_bew.pk, status=Enrollment.Status.BEWERBER).exists()
