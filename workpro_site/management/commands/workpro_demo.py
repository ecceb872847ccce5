from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workpro_plugin.models import Person
from workpro_site.demo import DEMO_PARENT, demo_login, load_demo


class Command(BaseCommand):
    help = "Creates or updates the WorkPro demo data (idempotent). Never run in production."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port of the demo sites.")
        parser.add_argument(
            "--force", action="store_true", help="Run even though DEBUG is off (not for production)."
        )
        parser.add_argument("--quiet", action="store_true", help="Do not print URLs and logins.")

    def handle(self, *args, port, force, quiet, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Demo data creates users with published passwords; refusing to run with DEBUG off. "
                "Use --force only on a throw-away installation."
            )
        def progress(step: str) -> None:
            if not quiet:
                self.stdout.write(f"  … {step}")
                self.stdout.flush()

        progress("Demo-Daten anlegen oder aktualisieren")
        result = load_demo(port=port, progress=progress)
        if quiet:
            return
        line = "=" * 72
        self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("WorkPro demo is ready."))
        for spec in result.institutions:
            self.stdout.write(f"  {spec.name}:  http://{spec.hostname}:{port}/")
            self.stdout.write(f"      Sachbearbeitung: {spec.staff_email} / {spec.staff_password}")
            self.stdout.write(f"      Leitung:         {spec.lead_email} / {spec.staff_password}")
        self.stdout.write(f"  Wagtail admin:  http://127.0.0.1:{port}/admin/")
        self.stdout.write(f"      Superuser:   {result.superuser[0]} / {result.superuser[1]}")
        login = demo_login(DEMO_PARENT["email"])
        person = Person.objects.filter(user__username=login).first()
        born = person.date_of_birth if person and person.date_of_birth else DEMO_PARENT["date_of_birth"]
        mobile = person.mobile if person and person.mobile else DEMO_PARENT["mobile"]
        self.stdout.write(f"  Mein Konto (Eltern): {login} / {DEMO_PARENT['password']}"
                          f"  (geb. {born:%d.%m.%Y}, Handy {mobile})")
        self.stdout.write("  Mails and SMS are printed as text on this console (attachments by name and size).")
        self.stdout.write(line)
