"""The daily clean-up of expired sessions (what `manage.py clearsessions` does): without it the
session table keeps every expired login (user id, and whatever a view put into the session)."""

from django.db import migrations

SCHEDULE_NAME = "workpro-clear-sessions"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "workpro_plugin.tasks.clear_expired_sessions_task", "schedule_type": "D",
                  "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("workpro_plugin", "0015_otp_enrolment_links"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
