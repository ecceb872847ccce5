"""The client address behind reverse proxies: lockouts, rate limits and the audit log."""

import pytest
from django.core import mail
from django.test import RequestFactory

from tests.helpers import password_from_mail, portal_login, register_on_offer
from tests.security_figures import add
from workpro_plugin.lib.http import client_ip
from workpro_plugin.models import AuditAction, AuditEvent, Consent

PROXIES = ["10.0.0.0/8", "127.0.0.1"]


def _ip(remote_addr, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **extra))


@pytest.mark.parametrize("remote_addr, forwarded, trusted, expected", [
    # Without trusted proxies the header is never read: a client cannot choose its address.
    ("198.51.100.4", "203.0.113.9", [], "198.51.100.4"),
    # A peer that is not one of our proxies cannot vouch for anybody either.
    ("198.51.100.4", "203.0.113.9", PROXIES, "198.51.100.4"),
    # Behind our proxy: the hop it reports.
    ("10.1.2.3", "203.0.113.9", PROXIES, "203.0.113.9"),
    # Two of our proxies in a row; whatever the client forged further left is not believed.
    ("127.0.0.1", "1.2.3.4, 203.0.113.9, 10.9.9.9", PROXIES, "203.0.113.9"),
    # IPv6 client behind the proxy, spaces around the entries.
    ("10.0.0.1", "  2001:db8::7 ", PROXIES, "2001:db8::7"),
    # Garbage in the header: stop at the last address we can vouch for (our proxy).
    ("10.0.0.1", "203.0.113.9, nonsense", PROXIES, "10.0.0.1"),
    # Only proxies in the chain (a health check from inside): the innermost one.
    ("10.0.0.1", "10.0.0.2", PROXIES, "10.0.0.2"),
    ("10.0.0.1", "", PROXIES, "10.0.0.1"),
])
def test_client_ip_believes_forwarded_for_only_through_trusted_proxies(settings, remote_addr, forwarded,
                                                                       trusted, expected):
    settings.WORKPRO_TRUSTED_PROXIES = trusted
    assert _ip(remote_addr, forwarded) == expected
    add("client address cases behind proxies checked")


def test_client_ip_without_a_usable_peer_is_none(settings):
    settings.WORKPRO_TRUSTED_PROXIES = PROXIES
    assert _ip("not-an-address", "203.0.113.9") is None
    assert client_ip(None) is None


def test_a_broken_trusted_proxy_entry_stops_the_start(settings):
    from workpro_plugin.checks import check_trusted_proxies

    settings.WORKPRO_TRUSTED_PROXIES = ["10.0.0.0/8", "proxy.local"]
    assert [problem.id for problem in check_trusted_proxies()] == ["workpro.E001"]
    settings.WORKPRO_TRUSTED_PROXIES = PROXIES
    assert check_trusted_proxies() == []


@pytest.fixture
def behind_proxy(settings):
    settings.WORKPRO_TRUSTED_PROXIES = PROXIES


def _login_from(client, email, password, address):
    return client.post("/workpro/konto/anmelden/", {"username": email, "password": password},
                       HTTP_HOST="kita.test", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=address)


@pytest.fixture
def kita(make_institution):
    return make_institution("kita", hostname="kita.test")


@pytest.fixture
def offer(kita, make_offer):
    return make_offer(kita, "Krippenplatz", capacity=10)


@pytest.fixture
def account(client, kita, offer, run_on_commit):
    register_on_offer(client, kita, offer, run_on_commit)
    client.cookies.clear()
    return "erika.muster@example.org", password_from_mail(mail.outbox[-1])


def test_lockout_behind_the_proxy_hits_the_attacker_not_everybody(client, behind_proxy, account):
    """All visitors share the proxy's socket address; the lockout must follow the real client."""
    email, password = account
    for _ in range(5):
        assert _login_from(client, email, "falsch", "203.0.113.66").status_code in (400, 429)
    assert _login_from(client, email, password, "203.0.113.66").status_code == 429
    # The account holder at home, through the same proxy, can still log in.
    assert _login_from(client, email, password, "198.51.100.20").status_code == 302
    add("lockouts that follow the client behind the proxy")


def test_forged_forwarded_for_does_not_escape_the_lockout(client, settings, account):
    settings.WORKPRO_TRUSTED_PROXIES = []
    email, password = account
    for attempt in range(5):
        client.post("/workpro/konto/anmelden/", {"username": email, "password": "falsch"}, HTTP_HOST="kita.test",
                    REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}")
    response = client.post("/workpro/konto/anmelden/", {"username": email, "password": password},
                           HTTP_HOST="kita.test", REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert response.status_code == 429


def test_audit_log_records_the_client_behind_the_proxy(client, behind_proxy, account):
    email, _password = account
    _login_from(client, email, "falsch", "203.0.113.66")
    event = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).latest("at")
    assert event.ip == "203.0.113.66"


def test_registration_consent_records_the_client_behind_the_proxy(client, behind_proxy, kita, offer,
                                                                             run_on_commit):
    with run_on_commit():
        client.post(offer.relative_url(kita.site),
                    {"last_name": "Muster", "first_name": "Erika", "email": "erika@example.org", "privacy": "on"},
                    HTTP_HOST="kita.test", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.77")
    consents = Consent.objects.filter(person__user__email="erika@example.org")
    assert consents.exists()
    assert {consent.ip for consent in consents} == {"203.0.113.77"}


def test_login_page_still_works_plainly(client, account):
    email, password = account
    assert portal_login(client, email, password).status_code == 302
