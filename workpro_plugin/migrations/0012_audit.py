"""The audit log and its daily retention sweep (WORKPRO_AUDIT_RETENTION_DAYS)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

SCHEDULE_NAME = "workpro-audit-retention"


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "workpro_plugin.tasks.purge_audit_events_task", "schedule_type": "D", "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('workpro_plugin', '0011_chat'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='Zeitpunkt')),
                ('actor_label', models.CharField(blank=True, max_length=254, verbose_name='Benutzername')),
                ('action', models.CharField(choices=[('auth.login', 'Erfolgreiche Anmeldung'), ('auth.login_failed', 'Fehlgeschlagene Anmeldung'), ('auth.locked_out', 'Zugang gesperrt'), ('auth.logout', 'Abmeldung'), ('auth.2fa_enabled', 'Zwei-Faktor-Authentifizierung eingerichtet'), ('auth.2fa_disabled', 'Zwei-Faktor-Authentifizierung entfernt'), ('auth.2fa_verified', 'Zweiter Faktor bestätigt'), ('auth.2fa_failed', 'Falscher Code (zweiter Faktor)'), ('access.denied', 'Zugriff verweigert'), ('person.viewed', 'Personendaten angesehen'), ('person.changed', 'Personendaten geändert'), ('person.email_changed', 'Mailadresse geändert'), ('enrollment.data_changed', 'Angaben der Anmeldung geändert'), ('enrollment.status', 'Status oder Schritt der Anmeldung'), ('document.viewed', 'Dokument geöffnet'), ('document.deposited', 'Dokument hinterlegt'), ('data.exported', 'Liste exportiert')], db_index=True, max_length=40, verbose_name='Aktion')),
                ('object_type', models.CharField(blank=True, max_length=80, verbose_name='Objektart')),
                ('object_id', models.CharField(blank=True, max_length=64, verbose_name='Objekt-ID')),
                ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP-Adresse')),
                ('detail', models.JSONField(blank=True, default=dict, verbose_name='Details')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='Benutzer')),
                ('person', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='workpro_plugin.person', verbose_name='betroffene Person')),
            ],
            options={
                'verbose_name': 'Audit-Ereignis',
                'verbose_name_plural': 'Protokoll (Audit)',
                'ordering': ['-at', '-pk'],
                'indexes': [models.Index(fields=['object_type', 'object_id'], name='workpro_audit_object')],
            },
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
