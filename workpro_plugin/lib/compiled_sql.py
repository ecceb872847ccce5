"""A queryset compiled to SQL once per shape, then run with new values.

For a hot read whose ORM building costs far more than its SQL: Mein Konto's two unread counts took about
2 ms of Python to build and compile, and 0.03 ms in the database. The ORM stays the one definition of the
query. `build` is called once per shape (per database and per length of each id list: what changes the
SQL's text) with stand-in values, its SQL compiled, and the position of each stand-in among the parameters
noted. A later call puts its own values in those positions and runs the same SQL. A stand-in that does not
come back as a parameter (the ORM wrote it into the SQL) is an error at once, never a wrong count.

    unread = CompiledQuery(lambda user_id, ward_ids: Document.objects.filter(...).values(...))
    unread.row(user_id=7, ward_ids=[3, 4])      # the one row, as a tuple
    unread.rows(user_id=7, ward_ids=[3, 4])     # all rows
    contracts.objects((0, 11), user_id=7)       # model instances, as the queryset[0:11] returns them

`objects` runs the queryset's own row-to-instance steps (Django's ModelIterable: the model's from_db, the
select_related populators, the annotations, the fields' converters) with what the compiler noted when it
compiled; tests/unit/test_compiled_sql.py compares the instances with the queryset's, field by field.

The values are integers (ids) or lists of integers; a list's duplicates are dropped before it is bound, as
the ORM's IN lookup drops them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

# Stand-ins outside any primary key (negative) and inside a 32-bit integer column's range (the ORM turns a
# lookup beyond the column's range into "no rows" before compiling), one per value and list element.
_STAND_IN_BASE = -2_000_000_000
# Shapes kept per CompiledQuery; a slice is part of the shape (the ORM writes LIMIT and OFFSET into the SQL),
# so pages requested far apart cannot grow the cache without bound.
_MAX_SHAPES = 256


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._compiled: dict[tuple, tuple[str, list]] = {}

    def row(self, using: str = "default", **values) -> tuple | None:
        """The first row, as a tuple (None when there is none)."""
        sql, params = self.sql(using, **values)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def rows(self, window: tuple[int, int] | None = None, using: str = "default", **values) -> list[tuple]:
        """The rows of `build(**values)[window[0]:window[1]]` (all without `window`), as tuples of what the
        database returns (no field's from_db_value applies: read ids, numbers, text and dates)."""
        sql, params, _compiler = self._prepared(using, window, values)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def objects(self, window: tuple[int, int] | None = None, using: str = "default", **values) -> list:
        """The model instances `build(**values)[window[0]:window[1]]` returns (all of them without `window`).
        Not for a queryset with prefetch_related (it would not run)."""
        sql, params, compiler = self._prepared(using, window, values)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return compiler.instances(rows, using)

    def sql(self, using: str = "default", **values) -> tuple[str, list]:
        """The SQL and parameters the queryset `build(**values)` would run on `using`."""
        sql, params, _compiler = self._prepared(using, None, values)
        return sql, params

    def _prepared(self, using: str, window, values: dict):
        values = {name: _distinct(value) if _is_list(value) else value for name, value in values.items()}
        shape = (using, window, tuple(sorted((name, len(value) if _is_list(value) else None)
                                           for name, value in values.items())))
        compiled = self._compiled.get(shape)
        if compiled is None:
            if len(self._compiled) >= _MAX_SHAPES:
                self._compiled.clear()
            compiled = self._compiled[shape] = self._compile(using, window, values)
        sql, slots, compiler = compiled
        return sql, [_bound(slot, values) for slot in slots], compiler

    def _compile(self, using: str, window, values: dict):
        numbers = count()
        stand_ins, where = {}, {}
        for name, value in values.items():
            if _is_list(value):
                stand_ins[name] = [_STAND_IN_BASE - next(numbers) for _ in value]
                where.update({stand_in: (name, i) for i, stand_in in enumerate(stand_ins[name])})
            else:
                stand_ins[name] = _STAND_IN_BASE - next(numbers)
                where[stand_ins[name]] = (name, None)
        queryset = self.build(**stand_ins)
        if window is not None:
            queryset = queryset[window[0]:window[1]]
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        slots = [_Slot(*where[param]) if _is_stand_in(param) and param in where else _Constant(param)
                 for param in params]
        missing = set(where) - {param for param in params if _is_stand_in(param)}
        if missing or any(_is_stand_in(param) and param not in where for param in params):
            raise ValueError(f"CompiledQuery: {sorted(where[m] for m in missing)} not bound as parameters")
        return sql, slots, _Instances(compiler)


class _Instances:
    """Rows to model instances as Django's ModelIterable makes them, from what a compiler noted."""

    def __init__(self, compiler):
        self.compiler = compiler
        self.klass_info = compiler.klass_info
        if self.klass_info is None:  # values() or values_list(): rows, not instances
            return
        select = compiler.select
        fields = self.klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start:self.end]]
        self.converters = compiler.get_converters([column[0] for column in select[0:compiler.col_count]])
        self.annotations = tuple(compiler.annotation_col_map.items())

    def instances(self, rows: list, using: str) -> list:
        if self.klass_info is None:
            raise TypeError("CompiledQuery.objects needs a queryset of model instances; use rows()")
        if self.converters:
            self.compiler.connection = connections[using]
            rows = self.compiler.apply_converters(rows, self.converters)
        model = self.klass_info["model"]
        populators = get_related_populators(self.klass_info, self.compiler.select, using)
        objects = []
        for row in rows:
            obj = model.from_db(using, self.init_list, row[self.start:self.end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class _Slot:
    __slots__ = ("name", "index")

    def __init__(self, name: str, index: int | None):
        self.name, self.index = name, index


class _Constant:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _bound(slot, values: dict):
    if isinstance(slot, _Constant):
        return slot.value
    value = values[slot.name]
    return value if slot.index is None else value[slot.index]


def _is_list(value) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _is_stand_in(param) -> bool:
    return type(param) is int and -(2**31) <= param <= _STAND_IN_BASE


def _distinct(values) -> tuple:
    return tuple(dict.fromkeys(values))
