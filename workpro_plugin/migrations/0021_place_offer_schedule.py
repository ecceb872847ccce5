"""The daily Nachrücken step: a place offered from a waiting list and not accepted by its deadline
goes to the next child (services.allocation.expire_place_offers)."""

from django.db import migrations

SCHEDULE_NAME = "workpro-expire-place-offers"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "workpro_plugin.tasks.expire_place_offers_task", "schedule_type": "D", "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("workpro_plugin", "0020_allocation"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
