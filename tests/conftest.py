import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_wagtail_site_cache():
    """Wagtail caches site root paths; a test that creates Sites would break the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(db):
    from workpro_site.demo import load_demo

    return load_demo(port=8000)


@pytest.fixture
def kita_client(client):
    client.defaults.update(HTTP_HOST="127.0.0.1:8000", SERVER_PORT="8000")
    return client


@pytest.fixture
def sms_outbox():
    from workpro_plugin.sms.backends import locmem

    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()
