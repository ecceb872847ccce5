"""The periodic sweep that re-queues unsent outbox rows (the row is the source of truth)."""

from django.db import migrations

SCHEDULE_NAME = "workpro-outbox-sweep"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "workpro_plugin.tasks.sweep_outbox_task", "schedule_type": "I", "minutes": 1,
                  "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workpro_plugin", "0003_accounts_outbox"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
