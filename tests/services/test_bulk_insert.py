"""lib.bulk.insert_rows: COPY on PostgreSQL, bulk_create elsewhere; the stored rows are the same."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from workpro_plugin.lib.bulk import insert_rows
from workpro_plugin.models import AuditEvent, OutboxMessage
from workpro_plugin.services import notify

pytestmark = pytest.mark.django_db


def test_rows_arrive_with_json_time_and_null_values():
    at = timezone.now()
    events = [AuditEvent(action="workpro.status_changed", actor=None, actor_label=f"Bench {i}",
                         object_type="workpro_plugin.enrollment", object_id=str(i), at=at,
                         detail={"step": "allocation_placed", "from": "bewerber", "n": i, "ä": ["ö", None]})
              for i in range(5)]
    before = AuditEvent.objects.count()
    assert insert_rows(AuditEvent, events) == 5
    stored = list(AuditEvent.objects.filter(actor_label__startswith="Bench ").order_by("object_id"))
    assert AuditEvent.objects.count() == before + 5
    assert [e.detail for e in stored] == [e.detail for e in events]
    assert {e.at for e in stored} == {at} and all(e.actor_id is None for e in stored)


def test_one_statement_for_many_rows_and_nothing_for_none():
    events = [AuditEvent(action="workpro.status_changed", actor_label="Viele", object_type="x", object_id=str(i))
              for i in range(300)]
    with CaptureQueriesContext(connection) as captured:
        insert_rows(AuditEvent, events)
    inserts = [q for q in captured if q["sql"].startswith("INSERT")]
    # PostgreSQL: through psycopg's COPY (below Django's query log), no INSERT; elsewhere bulk_create's INSERTs.
    assert (len(inserts) == 0) if connection.vendor == "postgresql" else inserts
    assert AuditEvent.objects.filter(actor_label="Viele").count() == 300
    assert insert_rows(AuditEvent, []) == 0


def test_with_ids_each_object_gets_its_row_and_the_sequence_moves_on():
    events = [AuditEvent(action="workpro.status_changed", actor_label="Mit Nummer", object_type="x", object_id=str(i))
              for i in range(4)]
    insert_rows(AuditEvent, events, set_ids=True)
    assert all(e.pk for e in events) and len({e.pk for e in events}) == 4
    assert {e.pk: e.object_id for e in AuditEvent.objects.filter(actor_label="Mit Nummer")} == {
        e.pk: e.object_id for e in events}
    later = AuditEvent.objects.create(action="workpro.status_changed", actor_label="Danach", object_type="x")
    assert later.pk > max(e.pk for e in events)  # a normal insert after them takes a fresh number


def test_queued_mails_of_a_group_have_ids_for_their_delivery(django_capture_on_commit_callbacks):
    rows = [{"to": f"familie{i}@example.org", "template": "enrollment_event", "context": {"n": i},
             "institution_id": None, "person_id": None} for i in range(3)]
    with mock.patch.object(notify, "_enqueue_delivery") as enqueued, django_capture_on_commit_callbacks(execute=True):
        messages = notify.queue_mails(rows)
    assert [c.args[0] for c in enqueued.call_args_list] == [m.pk for m in messages]
    assert list(OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).order_by("pk")
                .values_list("recipient", "context")) == [(r["to"], r["context"]) for r in rows]
