"""Sent outbox rows are deleted after WORKPRO_OUTBOX_RETENTION_DAYS; pending and failed rows stay."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from workpro_plugin import tasks
from workpro_plugin.models import OutboxMessage

pytestmark = pytest.mark.django_db
State = OutboxMessage.State


def _row(state, *, sent_days_ago=None, created_days_ago=0):
    now = timezone.now()
    row = OutboxMessage.objects.create(channel="mail", recipient="a@example.org", template="t", state=state,
                                       sent_at=None if sent_days_ago is None else now - timedelta(days=sent_days_ago))
    OutboxMessage.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=created_days_ago))
    return row.pk


def test_purge_deletes_only_sent_rows_past_the_retention():
    old_sent = _row(State.SENT, sent_days_ago=91, created_days_ago=91)
    young_sent = _row(State.SENT, sent_days_ago=89, created_days_ago=200)
    old_failed = _row(State.FAILED, created_days_ago=400)
    old_pending = _row(State.PENDING, created_days_ago=400)

    assert tasks.purge_outbox_task() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {young_sent, old_failed, old_pending}
    assert not OutboxMessage.objects.filter(pk=old_sent).exists()


def test_retention_is_a_setting():
    _row(State.SENT, sent_days_ago=10)
    with override_settings(WORKPRO_OUTBOX_RETENTION_DAYS=30):
        assert tasks.purge_outbox_task() == 0
    with override_settings(WORKPRO_OUTBOX_RETENTION_DAYS=7):
        assert tasks.purge_outbox_task() == 1
    assert not OutboxMessage.objects.exists()
