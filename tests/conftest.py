import pytest
from django.core.cache import cache


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    """The form world (tests/form_world.py) built once per test module; the holder logs in with
    form_world.PASSWORD. Used by the bad-input and the CSRF/redirect tests."""
    from tests import form_world

    with form_world.shared(django_db_blocker) as w:
        w.holder.set_password(form_world.PASSWORD)
        w.holder.save()
        yield w


@pytest.fixture(autouse=True)
def _today_is_today():
    """A module's TODAY is the code's today, also in a run that crosses midnight (tests/clock.py)."""
    from tests.clock import refresh_today

    refresh_today()


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


@pytest.fixture
def make_institution(db):
    """Builds a small institution tree: operator, homepage, site, offer index."""
    from tests.factories import make_institution

    return make_institution


@pytest.fixture
def make_offer():
    from tests.factories import make_offer

    return make_offer


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (outbox delivery) of the wrapped block, as a real commit would."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner


@pytest.fixture
def world(make_institution, make_offer):
    """Two institutions, an offer, its staff, a holder, a stranger and a superuser."""
    from tests.factories import make_world

    return make_world()
