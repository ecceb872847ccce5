"""A generation moves on at a change and again when its transaction commits: a visitor who read between
the change and the commit cached the old rows under the new generation; the commit moves past them."""

import pytest
from django.db import connection, transaction

from workpro_plugin.lib.content_cache import (
    content_generation,
    invalidate_offers,
    invalidate_places,
)

pytestmark = pytest.mark.django_db


def test_a_generation_moves_at_the_change_and_again_at_the_commit(django_capture_on_commit_callbacks):
    start = content_generation(7)
    with django_capture_on_commit_callbacks(execute=True):
        invalidate_places(7)
        during = content_generation(7)  # what a visitor between change and commit would key by
        assert during != start
    assert content_generation(7) not in (start, during)


def test_one_callback_per_transaction_bumps_each_key_once(django_capture_on_commit_callbacks):
    connection.run_on_commit.clear()  # the test's transaction as committed so far
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(50):
            invalidate_places(7)
        invalidate_offers(7)
    assert len(callbacks) == 1
    during = content_generation(7)
    callbacks[0]()
    after = content_generation(7).split(".")
    assert [int(a) - int(d) for a, d in zip(after, during.split("."))] == [0, 0, 1, 1]


def test_a_rolled_back_savepoint_drops_its_keys_and_later_ones_register_anew(django_capture_on_commit_callbacks):
    connection.run_on_commit.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                invalidate_places(7)
                raise RuntimeError
        except RuntimeError:
            pass
        invalidate_offers(7)
    assert len(callbacks) == 1 and list(callbacks[0].keys) == ["workpro:content-generation:offers:7"]
