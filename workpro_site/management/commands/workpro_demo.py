from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workpro_site.demo import load_demo


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
        result = load_demo(port=port)
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
        from workpro_site.demo import DEMO_PARENT

        self.stdout.write(f"  Mein Konto (Eltern): {DEMO_PARENT['email']} / {DEMO_PARENT['password']}"
                          f"  (geb. {DEMO_PARENT['date_of_birth']:%d.%m.%Y}, Handy {DEMO_PARENT['mobile']})")
        self.stdout.write("  Mails and SMS are printed on the console of the task cluster.")
        self.stdout.write(line)
