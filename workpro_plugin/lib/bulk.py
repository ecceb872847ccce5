"""Insert many rows fast: PostgreSQL's COPY where the caller needs no ids back, else bulk_create.

Django's bulk_create on psycopg 3 quotes every parameter in Python (client-side binding); for the
hundreds of thousands of rows a city's Vergaberunde writes (results, enrollment log, audit events)
that quoting was about a third of the confirmation's CPU. COPY sends the values in psycopg's own
dumpers instead. Same rules as bulk_create: no save(), no signals; each field's pre_save (auto_now)
and get_db_prep_save (JSON, time zones) still apply.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections, router


def insert_rows(model, objects: Iterable, *, set_ids: bool = False, batch_size: int = 2000) -> int:
    """Insert `objects` (unsaved instances of `model`). With `set_ids` each gets its primary key (on
    PostgreSQL drawn from the table's sequence in one query first); without, they stay unset. Returns
    the count."""
    objects = list(objects)
    if not objects:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=batch_size)
        return len(objects)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and f.db_returning)]
    table = connection.ops.quote_name(meta.db_table)
    if set_ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [meta.db_table, meta.pk.column, len(objects)])
            for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding, obj._state.db = False, connection.alias  # as bulk_create leaves them
        fields = [meta.pk, *fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for obj in objects:
            copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
    return len(objects)
