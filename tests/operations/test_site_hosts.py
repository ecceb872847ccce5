"""ALLOWED_HOSTS from the Wagtail Sites: a new institution's host works at once, unknown hosts stay refused."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, Site

from workpro_plugin.lib.hosts import SiteHosts

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_hosts(settings):
    settings.ALLOWED_HOSTS = SiteHosts(["probe.internal"])
    return settings.ALLOWED_HOSTS


def _status(client, host):
    return client.get("/-/health/tasks/?format=json", HTTP_HOST=host).status_code


def test_hosts_come_from_sites_and_follow_their_changes(client, site_hosts):
    assert _status(client, "kita-neu.example.org") == 400  # unknown: DisallowedHost
    site = Site.objects.create(hostname="Kita-Neu.example.org", port=443,
                               root_page=Page.objects.get(depth=1).get_children().first())
    assert _status(client, "kita-neu.example.org") != 400  # known at once, no redeploy
    assert _status(client, "kita-neu.example.org:443") != 400
    assert _status(client, "evil.example.org") == 400
    assert _status(client, "probe.internal") != 400  # the fixed names stay

    site.hostname = "kita-umbenannt.example.org"
    site.save()
    assert _status(client, "kita-neu.example.org") == 400
    assert _status(client, "kita-umbenannt.example.org") != 400
    site.delete()
    assert _status(client, "kita-umbenannt.example.org") == 400


def test_host_names_are_read_once_and_then_cached(client, site_hosts):
    Site.objects.create(hostname="kita-a.example.org", root_page=Page.objects.get(depth=1).get_children().first())
    assert "kita-a.example.org" in list(site_hosts)
    with CaptureQueriesContext(connection) as queries:
        list(site_hosts)
        list(site_hosts)
    assert not [q for q in queries.captured_queries if "wagtailcore_site" in q["sql"]]


def test_no_wildcard_sneaks_in(site_hosts):
    assert "*" not in list(site_hosts)
    assert bool(site_hosts)  # Django's "ALLOWED_HOSTS is empty" check must not fire
