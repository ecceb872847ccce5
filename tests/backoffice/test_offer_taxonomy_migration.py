"""Migrations 0028–0030 (#23): the former category keys of offer pages and of their stored revisions become
foreign keys to shared categories, and back again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from workpro_plugin.models import AgeGroup, OfferCategory, OfferPage

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
BEFORE = [("workpro_plugin", "0032_operations")]
AFTER = [("workpro_plugin", "0035_offer_category_fk")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.fixture(autouse=True)
def _back_to_the_latest_migrations():
    """The later tests of this worker need every migration, also those after AFTER (0036 …)."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _keys() -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT page_ptr_id, category FROM workpro_plugin_offerpage")
        return dict(cursor.fetchall())


def test_old_keys_become_shared_categories_and_back(make_institution, make_offer):
    kita = make_institution("kita", hostname="kita.test")
    krippe = make_offer(kita, "Krippe", category="betreuung")
    kurs = make_offer(kita, "Deutschkurs", category="sprachkurs")
    kurs.title = "Deutschkurs (Entwurf)"
    kurs.save_revision()  # a draft revision stores the category too
    odd = make_offer(kita, "Sonderfall", category="wohnen")

    _migrate(BEFORE)
    assert _keys() == {krippe.pk: "betreuung", kurs.pk: "sprachkurs", odd.pk: "wohnen"}
    with connection.cursor() as cursor:  # a key the old choices never had (written around the form)
        cursor.execute("UPDATE workpro_plugin_offerpage SET category = 'sonstiges' WHERE page_ptr_id = %s", [odd.pk])

    _migrate(AFTER)
    shared = {c.slug: c for c in OfferCategory.objects.filter(institution=None)}
    assert {"ausbildung", "umschulung", "weiterbildung", "sprachkurs", "betreuung", "wohnen",
            "zusatzleistung", "sonstiges"} <= set(shared)
    assert shared["sprachkurs"].schema_type == "Course" and shared["betreuung"].schema_type == "Service"
    assert (shared["betreuung"].name, shared["betreuung"].name_en) == ("Betreuung", "Childcare")
    assert OfferPage.objects.get(pk=krippe.pk).category == shared["betreuung"]
    assert OfferPage.objects.get(pk=kurs.pk).category == shared["sprachkurs"]
    assert OfferPage.objects.get(pk=odd.pk).category == shared["sonstiges"]
    draft = OfferPage.objects.get(pk=kurs.pk).get_latest_revision_as_object()
    assert draft.title == "Deutschkurs (Entwurf)" and draft.category == shared["sprachkurs"]
    groups = {g.slug: (g.min_age, g.max_age) for g in AgeGroup.objects.filter(institution=None)}
    assert groups == {"u3": (0, 2), "3-6": (3, 6), "6-12": (6, 12), "12-17": (12, 17), "18+": (18, None)}
