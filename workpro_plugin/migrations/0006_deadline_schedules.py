"""Daily deadline schedules; each task is safe to run twice."""

from django.db import migrations

SCHEDULES = {
    "workpro-expire-overdue-offers": "workpro_plugin.tasks.expire_overdue_offers_task",
    "workpro-apply-overdue-proofs": "workpro_plugin.tasks.apply_overdue_proofs_task",
    "workpro-deadline-reminders": "workpro_plugin.tasks.send_deadline_reminders_task",
}


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES.items():
        # Hourly, so a missed run (machine down at night) catches up the same day.
        Schedule.objects.update_or_create(name=name, defaults={"func": func, "schedule_type": "H", "repeats": -1})


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=SCHEDULES).delete()


class Migration(migrations.Migration):
    dependencies = [("workpro_plugin", "0005_enrollment_lifecycle")]
    operations = [migrations.RunPython(create, remove)]
